package directory

import (
	"context"
	"slices"
	"strconv"

	"hop/audit"
)

// Batch is what [Acting.CreateBatch] creates in one transaction, in this
// order: the groups, the accounts, the memberships, then the accounts'
// delegation settings — so that each step may name what an earlier one
// created.
type Batch struct {
	Groups   []BatchGroup
	Accounts []BatchAccount
	Members  []BatchMember
}

// BatchGroup is a new group, as [Acting.CreateGroup] takes it.
type BatchGroup struct {
	Name, Description string
}

// BatchAccount is a new account, as [Acting.CreateAccount] takes it, with
// delegation settings to give it once the batch's objects exist, as
// [Acting.SetDelegation] takes them.
type BatchAccount struct {
	Account    *Account
	Keys       []Key
	Delegation DelegationChange
}

// BatchMember adds the account or group named Member to the group named
// Group, as [Acting.AddMember] does.
type BatchMember struct {
	Group, Member string
}

// MaxBatch bounds the groups, accounts and memberships of one Batch: a
// transaction holds them in memory until it commits.
const MaxBatch = 200_000

// CreateBatch creates b's groups and accounts, adds its memberships and
// gives its accounts their delegation settings, all in one transaction:
// every object or none. Each goes through the checks and indexes of
// CreateGroup, CreateAccount, AddMember and SetDelegation (names, SPNs and
// UPNs unique, look-alike names refused, RIDs allocated, each account
// listed in its primary group), but the batch is one change, audited as
// one event ("directory.batch.create", counting what it made), and each
// group is written once however many members it gains. It is for
// populating a directory (hop domain populate): Domain Admins only.
func (x *Acting) CreateBatch(ctx context.Context, b *Batch) error {
	if n := len(b.Groups) + len(b.Accounts) + len(b.Members); n > MaxBatch {
		return invalid("a batch of %d objects; at most %d are allowed", n, MaxBatch)
	} else if n == 0 {
		return nil
	}
	for _, g := range b.Groups {
		if err := validateGroupName(g.Name); err != nil {
			return err
		}
		if err := validateDescription("the description of group "+g.Name, g.Description); err != nil {
			return err
		}
	}
	accounts := make([]*Account, len(b.Accounts))
	for i, ba := range b.Accounts {
		a, err := x.d.newAccount(ba.Account, ba.Keys)
		if err != nil {
			return err
		}
		if err := ba.Delegation.check(); err != nil {
			return err
		}
		accounts[i] = a
	}
	return x.do(ctx, "batch.create", "", func(z *authz, ev *event) error {
		ev.target = string(z.dom.Realm)
		if err := z.needAdmin("create accounts and groups in a batch"); err != nil {
			return err
		}
		for _, bg := range b.Groups {
			if _, err := z.insertGroup(bg.Name, bg.Description); err != nil {
				return err
			}
		}
		// The accounts, then their primary groups, each written once.
		known := make(map[string]string, len(accounts))
		primary := map[uint32][]string{}
		for _, c := range accounts {
			if err := z.insertAccountRecord(c, z.actorSID()); err != nil {
				return err
			}
			known[fold(c.Name)] = c.Name
			primary[c.PrimaryGroupRID] = append(primary[c.PrimaryGroupRID], c.Name)
		}
		for _, rid := range sortedKeys(primary) {
			if err := z.t.addToPrimaryGroup(rid, primary[rid]); err != nil {
				return err
			}
		}
		// The memberships, group by group in the order first named.
		var order []string
		adds := map[string][]string{}
		for _, m := range b.Members {
			k := fold(m.Group)
			if _, ok := adds[k]; !ok {
				order = append(order, k)
			}
			adds[k] = append(adds[k], m.Member)
		}
		for _, k := range order {
			g, err := z.t.group(k)
			if err != nil {
				return err
			}
			if err := z.mayManageGroup(g, "add members to group "+g.Name); err != nil {
				return err
			}
			if err := z.t.addMembers(g, adds[k], known); err != nil {
				return err
			}
			if err := z.t.putGroup(g); err != nil {
				return err
			}
		}
		delegated := 0
		for i, ba := range b.Accounts {
			if ba.Delegation.IsZero() {
				continue
			}
			old, err := z.t.account(accounts[i].Name)
			if err != nil {
				return err
			}
			if err := z.mayChangeDelegation(old, ba.Delegation); err != nil {
				return err
			}
			a := old.clone()
			if err := z.t.applyDelegation(a, ba.Delegation); err != nil {
				return err
			}
			if err := a.validate(); err != nil {
				return err
			}
			// Still the account's first revision: the batch creates it so.
			if err := z.t.putBookkeeping(a, old); err != nil {
				return err
			}
			delegated++
		}
		for _, c := range []struct {
			field string
			n     int
			names func(i int) string
		}{
			{"groups", len(b.Groups), func(i int) string { return b.Groups[i].Name }},
			{"accounts", len(accounts), func(i int) string { return accounts[i].Name }},
			{"members", len(b.Members), nil},
			{"delegation", delegated, nil},
		} {
			if c.n == 0 {
				continue
			}
			v := strconv.Itoa(c.n)
			if c.names != nil {
				v += " (" + c.names(0)
				if c.n > 1 {
					v += " … " + c.names(c.n-1)
				}
				v += ")"
			}
			ev.changes = append(ev.changes, audit.Change{Field: c.field, New: v})
		}
		return nil
	})
}

func sortedKeys[V any](m map[uint32]V) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
