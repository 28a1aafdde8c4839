package directory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"hop/sid"
)

// CreateAccount adds an account. The directory allocates its RID
// (spec.RID is ignored), sets KVNO 1 and stores keys as its first
// generation; spec.Keys, spec.OldKeys, spec.KVNO, spec.Revision,
// spec.CreatorSID and the lockout fields are ignored. It checks the name
// (AD's sAMAccountName rules; computer names end in "$"), the SPNs (syntax
// and uniqueness in the domain) and the UPN, and adds the account to its
// primary group: spec.PrimaryGroupRID, or when 0 Domain Users for users and
// services and Domain Computers for computers (Domain Controllers, 516, for
// a domain controller's computer account). The delegation settings must be
// zero: they change only through SetDelegation, which checks who asks.
//
// Domain Admins create any account; any enabled account may create
// a computer account while it has created fewer than the domain's
// Policy.MachineAccountQuota (default 0: none), giving it only a name, a
// DNS host name whose first label is the name, SPNs, a description and
// SSH host keys. The account records its creator (CreatorSID), and the
// creator of a computer account manages it (ManagedBy), as AD's creator
// owner does.
func (x *Acting) CreateAccount(ctx context.Context, spec *Account, keys []Key) (*Account, error) {
	base, err := x.d.newAccount(spec, keys)
	if err != nil {
		return nil, err
	}
	var out *Account
	err = x.do(ctx, "account.create", base.Name, func(z *authz, ev *event) error {
		c := base.clone()
		if err := z.mayCreate(c); err != nil {
			return err
		}
		if err := z.insertAccount(c, z.actorSID()); err != nil {
			return err
		}
		out = c
		ev.target = c.Name
		ev.changes, err = z.accountChanges(nil, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.withoutSecrets(), nil
}

// newAccount checks spec and returns the account to create, with keys as
// its first generation.
func (d *Directory) newAccount(spec *Account, keys []Key) (*Account, error) {
	if spec == nil {
		return nil, invalid("no account given")
	}
	if spec.hasDelegation() {
		return nil, invalid("create account %q first, then set its delegation settings (hop account set; SetDelegation checks who may)", spec.Name)
	}
	now := d.now()
	c := spec.clone()
	if c.PrimaryGroupRID == 0 {
		c.PrimaryGroupRID = defaultPrimaryGroup(c.Kind, 0)
	}
	c.RID, c.KVNO, c.Keys, c.OldKeys = 0, 1, nil, nil
	c.BadPwdCount, c.BadPwdTime, c.LockedUntil = 0, time.Time{}, time.Time{}
	c.CreatorSID, c.Revision, c.history = sid.SID{}, 0, nil
	c.Created, c.Modified = now, now
	hk, err := normalizeHostKeys(c.SSHHostKeys)
	if err != nil {
		return nil, err
	}
	c.SSHHostKeys = hk
	if err := c.validate(); err != nil {
		return nil, err
	}
	ks, err := newGeneration(c, keys, 1)
	if err != nil {
		return nil, err
	}
	c.Keys = ks
	c.PasswordLastSet = time.Time{}
	if len(ks) > 0 {
		c.PasswordLastSet = now
	}
	return c, nil
}

// insertAccount stores the new account c: it allocates its RID, records
// its creator (zero: the local domain administrator) and makes the creator
// a manager of a computer, starts its password history and adds it to its
// primary group.
func (z *authz) insertAccount(c *Account, creator sid.SID) error {
	if err := z.insertAccountRecord(c, creator); err != nil {
		return err
	}
	return z.t.addToPrimaryGroup(c.PrimaryGroupRID, []string{c.Name})
}

// insertAccountRecord is insertAccount without the primary group: it
// checks the name against the existing ones (and the domain's scripts),
// allocates the RID and writes the record and its index entries.
func (z *authz) insertAccountRecord(c *Account, creator sid.SID) error {
	t := z.t
	if err := checkScripts("account", c.Name, z.dom.Policy.NameScripts); err != nil {
		return err
	}
	if what, err := t.nameTaken(c.Name); err != nil {
		return err
	} else if what != "" {
		return exists("%s named %q already exists (names are unique regardless of case, across accounts and groups)", what, c.Name)
	}
	if other, err := t.lookAlike(c.Name); err != nil {
		return err
	} else if other != "" {
		return exists("%q is the same name as the existing %q once compared as Windows compares names (Unicode compatibility forms and case): choose another", c.Name, other)
	}
	rid, err := t.nextRID()
	if err != nil {
		return err
	}
	c.RID = rid
	if !creator.IsZero() {
		c.CreatorSID = creator
		if c.Kind == KindComputer {
			c.ManagedBy = []sid.SID{creator}
		}
	}
	if err := t.pushHistory(c, c.Keys, z.dom.Policy.historyLen()); err != nil {
		return err
	}
	return t.putAccount(c, nil)
}

// addToPrimaryGroup lists the new accounts names in the group with RID
// rid (a primary group; nothing when it is missing), in one write.
func (t *txn) addToPrimaryGroup(rid uint32, names []string) error {
	g, err := t.group(primaryGroupNames[rid])
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(g.Members)+len(names) > memberLimit(g.RID) {
		return invalid("group %q already has %d members, the most allowed", g.Name, len(g.Members))
	}
	g.Members = append(g.Members, names...)
	return t.putGroup(g)
}

// mayCreate applies the rules of CreateAccount to c.
func (z *authz) mayCreate(c *Account) error {
	if z.r.admin {
		return nil
	}
	who := z.who()
	if z.r.why != "" {
		return denied("%s may not create the %s account %s: %s", who, c.Kind, c.Name, z.r.why)
	}
	if c.Kind != KindComputer {
		return z.needAdmin("create the " + c.Kind.String() + " account " + c.Name)
	}
	quota := z.dom.Policy.MachineAccountQuota
	if quota == 0 {
		return denied("%s may not create the computer account %s: in this domain only Domain Admins create computer accounts (its machine account quota is 0; hop domain set --machine-account-quota N lets every account create N; %s)",
			who, c.Name, z.admins())
	}
	n, err := z.t.createdComputers(z.actorSID())
	if err != nil {
		return err
	}
	if n >= quota {
		return denied("%s may not create the computer account %s: it has created %d computer accounts, the domain's machine account quota (%d); ask a domain admin",
			who, c.Name, n, quota)
	}
	short := strings.TrimSuffix(fold(c.Name), "$")
	if host, _, _ := strings.Cut(fold(c.DNSHostName), "."); c.DNSHostName != "" && host != short {
		return denied("%s may not give the computer account %s the DNS host name %s: the name of a host that is not %s; only Domain Admins may",
			who, c.Name, c.DNSHostName, short)
	}
	for _, f := range []struct {
		set  bool
		what string
	}{
		{c.UPN != "", "a user principal name"},
		{c.NoPreauthRequired, "no pre-authentication"},
		{c.AllowRC4, "RC4 keys"},
		{c.PrimaryGroupRID != RIDDomainComputers, "a primary group other than Domain Computers"},
	} {
		if f.set {
			return denied("%s may not create the computer account %s with %s: only Domain Admins may", who, c.Name, f.what)
		}
	}
	return nil
}

// createdComputers counts the computer accounts whose CreatorSID is creator
// (ms-DS-MachineAccountQuota counts them so, [MS-ADTS] §3.1.1.5.2.1.1).
func (t *txn) createdComputers(creator sid.SID) (int, error) {
	if creator.IsZero() {
		return 0, nil
	}
	var h struct {
		Kind       string  `json:"kind"`
		CreatorSID sid.SID `json:"creatorSID"`
	}
	n := 0
	err := t.ForEach(bucketAccounts, func(k string, v []byte) error {
		h.Kind, h.CreatorSID = "", sid.SID{}
		if err := json.Unmarshal(v, &h); err != nil {
			return corrupt(bucketAccounts, k, err)
		}
		if h.CreatorSID == creator && h.Kind == KindComputer.String() {
			n++
		}
		return nil
	})
	return n, err
}

// UpdateAccount changes the account named name in one transaction: fn gets
// a copy to modify, which is validated (SPNs included) and stored if fn
// returns nil. fn must not change Name, Kind, RID, PrimaryGroupRID, KVNO,
// Keys, OldKeys (use SetKeys for keys), CreatorSID or Revision, nor the
// delegation settings: they change only through SetDelegation, which
// checks who asks, and UpdateAccount refuses them whoever calls it. The
// directory keeps Created and sets Modified. Domain Admins only; fn runs
// only once the actor's right is checked.
func (x *Acting) UpdateAccount(ctx context.Context, name string, ifRev uint64, fn func(*Account) error) (*Account, error) {
	a, err := x.update(ctx, "account.update", name, ifRev, fn, DelegationChange{})
	if err != nil {
		return nil, err
	}
	return a.withoutSecrets(), nil
}

// Update changes, in one transaction, the settings of the account named
// name with fn as UpdateAccount does (nil: none) and its delegation
// settings with c as SetDelegation does: both changes are made, with both
// rights checked, or neither. An empty c and a nil fn change nothing.
func (x *Acting) Update(ctx context.Context, name string, ifRev uint64, fn func(*Account) error, c DelegationChange) (*Account, error) {
	op := "account.update"
	if fn == nil {
		op = "account.delegation.set"
	}
	a, err := x.update(ctx, op, name, ifRev, fn, c)
	if err != nil {
		return nil, err
	}
	return a.withoutSecrets(), nil
}

func (x *Acting) update(ctx context.Context, op, name string, ifRev uint64, fn func(*Account) error, dc DelegationChange) (*Account, error) {
	if err := dc.check(); err != nil {
		return nil, err
	}
	var out *Account
	err := x.do(ctx, op, name, func(z *authz, ev *event) error {
		old, err := z.loadAccount(name, ifRev, ev, func(z *authz, a *Account) error {
			if fn != nil {
				if err := z.needAdmin("change the settings of account " + a.Name); err != nil {
					return err
				}
			}
			return z.mayChangeDelegation(a, dc)
		})
		if err != nil {
			return err
		}
		if fn == nil && dc.IsZero() {
			out = old
			return errNoChange
		}
		c := old.clone()
		if fn != nil {
			if err := fn(c); err != nil {
				return err
			}
			if err := z.checkUpdate(old, c); err != nil {
				return err
			}
		}
		if !dc.IsZero() {
			if err := z.t.applyDelegation(c, dc); err != nil {
				return err
			}
		}
		if c.SSHHostKeys, err = normalizeHostKeys(c.SSHHostKeys); err != nil {
			return err
		}
		c.Created = old.Created
		c.Modified = x.d.now()
		if err := c.validate(); err != nil {
			return err
		}
		out = c
		return z.storeAccount(old, c, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkUpdate refuses what an UpdateAccount function may not change.
func (z *authz) checkUpdate(old, c *Account) error {
	switch {
	case c.Name != old.Name:
		return invalid("account %q cannot be renamed to %q; create a new account instead", old.Name, c.Name)
	case c.RID != old.RID:
		return invalid("the RID of account %q cannot change", old.Name)
	case c.Kind != old.Kind:
		return invalid("account %q is a %s and cannot become a %s; create a new account instead", old.Name, old.Kind, c.Kind)
	case c.KVNO != old.KVNO || !sameKeys(c.Keys, old.Keys) || !sameKeys(c.OldKeys, old.OldKeys):
		return invalid("the keys of account %q change only through SetKeys (hop account passwd %s)", old.Name, old.Name)
	case c.PrimaryGroupRID != old.PrimaryGroupRID:
		return invalid("the primary group of account %q is chosen when it is created and cannot change", old.Name)
	case !sameDelegation(c, old):
		return invalid("the delegation settings of account %q change only through SetDelegation, which checks who asks", old.Name)
	case c.CreatorSID != old.CreatorSID:
		return invalid("the creator of account %q cannot change", old.Name)
	case c.Revision != old.Revision:
		return invalid("the revision of account %q is the directory's to count; give it as ifRev to make a change conditional", old.Name)
	}
	spn, err := z.t.requiredSPN(old)
	if err != nil {
		return err
	}
	if spn != "" && !slices.ContainsFunc(c.SPNs, func(s string) bool { return strings.EqualFold(s, spn) }) {
		return invalid("the SPN %q of %s cannot be removed; %s", spn, old.Name, requiredSPNWhy(old))
	}
	return nil
}

// DeleteAccount removes the account named name, its SPNs and its group
// memberships: Domain Admins only. Built-in accounts (RID below 1000:
// Administrator, Guest, krbtgt, kadmin) cannot be deleted.
func (x *Acting) DeleteAccount(ctx context.Context, name string, ifRev uint64) error {
	return x.do(ctx, "account.delete", name, func(z *authz, ev *event) error {
		a, err := z.loadAccount(name, ifRev, ev, func(z *authz, a *Account) error { return z.needAdmin("delete account " + a.Name) })
		if err != nil {
			return err
		}
		if a.RID < builtinRIDLimit {
			return invalid("%q is a built-in account (RID %d) and cannot be deleted; disable it instead (hop account disable %s)", a.Name, a.RID, a.Name)
		}
		if ev.changes, err = z.accountChanges(a, nil); err != nil {
			return err
		}
		for _, s := range a.SPNs {
			if err := z.t.Delete(bucketSPNs, fold(s)); err != nil {
				return err
			}
		}
		if a.UPN != "" {
			if err := z.t.Delete(bucketUPNs, fold(a.UPN)); err != nil {
				return err
			}
		}
		if err := z.t.unindexName(a.Name); err != nil {
			return err
		}
		if err := z.t.Delete(bucketAccounts, fold(a.Name)); err != nil {
			return err
		}
		return z.t.removeFromAllGroups(a.Name)
	})
}

// SetKeys gives the account named name keys as a new generation: the kvno
// goes up by one, the current keys join OldKeys (which keeps the last two
// generations), and PasswordLastSet becomes now. Domain Admins and the account's managers (not
// on a protected account) may. Keys are not a password, so the password
// policy cannot judge them; salted keys enter the password history.
func (x *Acting) SetKeys(ctx context.Context, name string, keys []Key, ifRev uint64) (*Account, error) {
	if len(keys) == 0 {
		return nil, invalid("no keys given for %q", name)
	}
	var out *Account
	err := x.do(ctx, "account.keys.set", name, func(z *authz, ev *event) error {
		old, err := z.loadAccount(name, ifRev, ev, managed("change the keys of"))
		if err != nil {
			return err
		}
		a, err := z.t.rotate(old, keys)
		if err != nil {
			return err
		}
		if err := z.t.pushHistory(a, a.Keys, z.dom.Policy.historyLen()); err != nil {
			return err
		}
		out = a
		return z.storeAccount(old, a, ev)
	})
	if err != nil {
		return nil, err
	}
	return out.withoutSecrets(), nil
}

// AccountKeys returns the account named name with its keys' material, for
// a keytab: Domain Admins and the account's managers (not on a protected
// account) may. The read is audited ("directory.account.keys.read"),
// naming the kvno, never the keys.
func (x *Acting) AccountKeys(ctx context.Context, name string) (*Account, error) {
	var out *Account
	err := x.read(ctx, "account.keys.read", name, true, func(z *authz, ev *event) error {
		a, err := z.loadAccount(name, 0, ev, managed("read the keys of"))
		if err != nil {
			return err
		}
		out = a
		ev.reason = keysReason(a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddSPN adds spn to the account named name: Domain Admins and the
// account's managers (not on a protected account) may. An SPN another
// account holds is [ErrExists], naming that account.
func (x *Acting) AddSPN(ctx context.Context, name, spn string, ifRev uint64) (*Account, error) {
	if err := validateSPN(spn); err != nil {
		return nil, err
	}
	var out *Account
	err := x.do(ctx, "account.spn.add", name, func(z *authz, ev *event) error {
		old, err := z.loadAccount(name, ifRev, ev, managed("add SPNs to"))
		if err != nil {
			return err
		}
		if slices.ContainsFunc(old.SPNs, func(s string) bool { return strings.EqualFold(s, spn) }) {
			return exists("account %q already has SPN %q", old.Name, spn)
		}
		a := old.clone()
		a.SPNs = append(a.SPNs, spn)
		if len(a.SPNs) > maxSPNsPerAccount {
			return invalid("account %q already has %d SPNs, the most allowed", a.Name, maxSPNsPerAccount)
		}
		a.Modified = x.d.now()
		out = a
		return z.storeAccount(old, a, ev)
	})
	if err != nil {
		return nil, err
	}
	return out.withoutSecrets(), nil
}

// RemoveSPN removes spn (any case) from the account named name: Domain
// Admins and the account's managers (not on a protected account) may.
// krbtgt and kadmin keep the SPN the KDC and kpasswd depend on.
func (x *Acting) RemoveSPN(ctx context.Context, name, spn string, ifRev uint64) (*Account, error) {
	var out *Account
	err := x.do(ctx, "account.spn.remove", name, func(z *authz, ev *event) error {
		old, err := z.loadAccount(name, ifRev, ev, managed("remove SPNs from"))
		if err != nil {
			return err
		}
		i := slices.IndexFunc(old.SPNs, func(s string) bool { return strings.EqualFold(s, spn) })
		if i < 0 {
			has := "none"
			if len(old.SPNs) > 0 {
				has = strings.Join(old.SPNs, ", ")
			}
			return notFound("account %q has no SPN %q (it has: %s)", old.Name, spn, has)
		}
		if req, err := z.t.requiredSPN(old); err != nil {
			return err
		} else if strings.EqualFold(req, old.SPNs[i]) {
			return invalid("the SPN %q of %s cannot be removed; %s", old.SPNs[i], old.Name, requiredSPNWhy(old))
		}
		a := old.clone()
		a.SPNs = slices.Delete(a.SPNs, i, i+1)
		a.Modified = x.d.now()
		out = a
		return z.storeAccount(old, a, ev)
	})
	if err != nil {
		return nil, err
	}
	return out.withoutSecrets(), nil
}

// SetDelegation changes the delegation settings of the account named name
// in one transaction, if the actor may change every setting c touches (the
// rules of [Directory.MayChange]); otherwise it changes nothing and returns
// an error wrapping [ErrAccessDenied]. It validates SPN syntax (KCD targets
// need not exist yet: [Snapshot.UnknownSPNs] names those that do not),
// resolves principal names to SIDs (an unknown name is [ErrNotFound]) and
// removes duplicates, keeping the first spelling. An account may not manage
// itself. A change that touches nothing writes nothing.
func (x *Acting) SetDelegation(ctx context.Context, name string, c DelegationChange, ifRev uint64) (*Account, error) {
	a, err := x.update(ctx, "account.delegation.set", name, ifRev, nil, c)
	if err != nil {
		return nil, err
	}
	return a.withoutSecrets(), nil
}

// managed lets Domain Admins and the account's managers (not on a protected
// account) make a change, as mayManage does; right completes "NAME may not
// ...", before the account's name.
func managed(right string) func(*authz, *Account) error {
	return func(z *authz, a *Account) error { return z.mayManage(a, right+" "+a.Name, false) }
}

// loadAccount reads the account named name for a change and admits it:
// the account becomes ev's target, and the actor's right (may) and the
// revision the caller read (ifRev; 0: any) are checked.
func (z *authz) loadAccount(name string, ifRev uint64, ev *event, may func(*authz, *Account) error) (*Account, error) {
	a, err := z.t.account(name)
	if err != nil {
		return nil, err
	}
	return a, z.admit(ev, "account", a.Name, ifRev, a.Revision, func() error { return may(z, a) })
}
