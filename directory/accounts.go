package directory

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"
)

// newGeneration validates keys for a and returns copies stamped with kvno.
func newGeneration(a *Account, keys []Key, kvno uint32) ([]Key, error) {
	if err := validateKeys(a, keys); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key{EncType: k.EncType, KVNO: kvno, Salt: k.Salt, material: k.material}
	}
	return out, nil
}

// CreateAccount adds an account. The directory allocates its RID (a.RID is
// ignored), sets KVNO 1 and stores keys as its first generation; a.Keys,
// a.OldKeys, a.KVNO and the lockout fields are ignored. It checks the name
// (AD's sAMAccountName rules; computer names end in "$"), the SPNs (syntax
// and uniqueness in the domain) and the UPN, and adds the account to its
// primary group: a.PrimaryGroupRID, or when 0 Domain Users for users and
// services and Domain Computers for computers (Domain Controllers, 516, for a
// domain controller's computer account). The delegation settings must be
// zero: they change only through SetDelegation, which checks who asks.
func (d *Directory) CreateAccount(ctx context.Context, a *Account, keys []Key) (*Account, error) {
	if a == nil {
		return nil, invalid("no account given")
	}
	if a.hasDelegation() {
		return nil, invalid("create account %q first, then set its delegation settings (hop account set; SetDelegation checks who may)", a.Name)
	}
	now := d.now()
	c := a.clone()
	if c.PrimaryGroupRID == 0 {
		c.PrimaryGroupRID = defaultPrimaryGroup(c.Kind, 0)
	}
	c.RID, c.KVNO, c.Keys, c.OldKeys = 0, 1, nil, nil
	c.BadPwdCount, c.BadPwdTime, c.LockedUntil = 0, time.Time{}, time.Time{}
	c.Created, c.Modified = now, now
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
	err = d.update(ctx, func(t *txn) error {
		if what, err := t.nameTaken(c.Name); err != nil {
			return err
		} else if what != "" {
			return exists("%s named %q already exists (names are unique regardless of case, across accounts and groups)", what, c.Name)
		}
		rid, err := t.nextRID()
		if err != nil {
			return err
		}
		c.RID = rid
		if err := t.putAccount(c, nil); err != nil {
			return err
		}
		g, err := t.group(primaryGroupNames[c.PrimaryGroupRID])
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		g.Members = append(g.Members, c.Name)
		return t.putGroup(g)
	})
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// Account returns the account named name (any case), read from the store.
func (d *Directory) Account(ctx context.Context, name string) (*Account, error) {
	var a *Account
	err := d.view(ctx, func(t *txn) (err error) {
		a, err = t.account(name)
		return err
	})
	return a, err
}

// Accounts returns every account, sorted by name (case-insensitively).
func (d *Directory) Accounts(ctx context.Context) ([]*Account, error) {
	var out []*Account
	err := d.view(ctx, func(t *txn) error {
		out = out[:0]
		return t.ForEach(bucketAccounts, func(k string, v []byte) error {
			a, err := decodeAccount(d.mk, k, v)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortAccounts(out)
	return out, nil
}

func sortAccounts(as []*Account) {
	slices.SortFunc(as, func(a, b *Account) int {
		if c := strings.Compare(fold(a.Name), fold(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

func sameKeys(a, b []Key) bool {
	if len(a) != len(b) {
		return false
	}
	eq := true
	for i := range a {
		eq = a[i].Equal(b[i]) && eq
	}
	return eq
}

// UpdateAccount changes the account named name in one transaction: fn gets a
// copy to modify, which is validated (SPNs included) and stored if fn
// returns nil. fn must not change Name, Kind, RID, PrimaryGroupRID, KVNO,
// Keys or OldKeys (use SetKeys for keys), nor the delegation settings: they
// change only through SetDelegation, which checks who asks, and UpdateAccount
// refuses them whoever calls it. The directory keeps Created and sets
// Modified.
func (d *Directory) UpdateAccount(ctx context.Context, name string, fn func(*Account) error) (*Account, error) {
	var out *Account
	err := d.update(ctx, func(t *txn) error {
		old, err := t.account(name)
		if err != nil {
			return err
		}
		c := old.clone()
		if err := fn(c); err != nil {
			return err
		}
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
		}
		if spn, err := t.requiredSPN(old); err != nil {
			return err
		} else if spn != "" && !slices.ContainsFunc(c.SPNs, func(s string) bool { return strings.EqualFold(s, spn) }) {
			return invalid("the SPN %q of krbtgt cannot be removed; the KDC depends on it", spn)
		}
		c.Created = old.Created
		c.Modified = d.now()
		if err := c.validate(); err != nil {
			return err
		}
		if err := t.putAccount(c, old); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.clone(), nil
}

// oldGenerations is how many previous key generations an account keeps.
const oldGenerations = 2

// SetKeys replaces the keys of the account named name by a new generation:
// the kvno goes up by one, the current keys join OldKeys (which keeps the
// last two generations), and PasswordLastSet becomes now.
func (d *Directory) SetKeys(ctx context.Context, name string, keys []Key) (uint32, error) {
	if len(keys) == 0 {
		return 0, invalid("no keys given for %q", name)
	}
	var kvno uint32
	err := d.update(ctx, func(t *txn) error {
		old, err := t.account(name)
		if err != nil {
			return err
		}
		if old.KVNO == math.MaxUint32 {
			return invalid("account %q has reached the largest kvno; create a new account", old.Name)
		}
		a := old.clone()
		kvno = old.KVNO + 1
		ks, err := newGeneration(a, keys, kvno)
		if err != nil {
			return err
		}
		a.OldKeys = keepGenerations(append(slices.Clone(old.Keys), old.OldKeys...), oldGenerations)
		a.Keys, a.KVNO = ks, kvno
		now := d.now()
		a.PasswordLastSet, a.Modified = now, now
		return t.putAccount(a, old)
	})
	if err != nil {
		return 0, err
	}
	return kvno, nil
}

// keepGenerations keeps the keys of the n highest kvnos, newest first.
func keepGenerations(keys []Key, n int) []Key {
	slices.SortStableFunc(keys, func(a, b Key) int {
		switch {
		case a.KVNO > b.KVNO:
			return -1
		case a.KVNO < b.KVNO:
			return 1
		}
		return 0
	})
	var out []Key
	gens := 0
	for i, k := range keys {
		if i == 0 || k.KVNO != keys[i-1].KVNO {
			gens++
		}
		if gens > n {
			break
		}
		out = append(out, k)
	}
	return out
}

// DeleteAccount removes the account named name, its SPNs and its group
// memberships. Built-in accounts (RID below 1000) cannot be deleted.
func (d *Directory) DeleteAccount(ctx context.Context, name string) error {
	return d.update(ctx, func(t *txn) error {
		a, err := t.account(name)
		if err != nil {
			return err
		}
		if a.RID < builtinRIDLimit {
			return invalid("%q is a built-in account (RID %d) and cannot be deleted; disable it instead (hop account disable %s)", a.Name, a.RID, a.Name)
		}
		for _, s := range a.SPNs {
			if err := t.Delete(bucketSPNs, fold(s)); err != nil {
				return err
			}
		}
		if a.UPN != "" {
			if err := t.Delete(bucketUPNs, fold(a.UPN)); err != nil {
				return err
			}
		}
		if err := t.Delete(bucketAccounts, fold(a.Name)); err != nil {
			return err
		}
		return t.removeFromAllGroups(a.Name)
	})
}

// AddSPN adds spn to the account named name; the SPN must not belong to any
// account yet.
func (d *Directory) AddSPN(ctx context.Context, name, spn string) error {
	if err := validateSPN(spn); err != nil {
		return err
	}
	return d.update(ctx, func(t *txn) error {
		old, err := t.account(name)
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
		a.Modified = d.now()
		return t.putAccount(a, old)
	})
}

// RemoveSPN removes spn (any case) from the account named name.
func (d *Directory) RemoveSPN(ctx context.Context, name, spn string) error {
	return d.update(ctx, func(t *txn) error {
		old, err := t.account(name)
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
		if req, err := t.requiredSPN(old); err != nil {
			return err
		} else if strings.EqualFold(req, old.SPNs[i]) {
			return invalid("the SPN %q of krbtgt cannot be removed; the KDC depends on it", old.SPNs[i])
		}
		a := old.clone()
		a.SPNs = slices.Delete(a.SPNs, i, i+1)
		a.Modified = d.now()
		return t.putAccount(a, old)
	})
}

// requiredSPN returns the SPN account a must keep: krbtgt/REALM for krbtgt,
// "" for every other account.
func (t *txn) requiredSPN(a *Account) (string, error) {
	if a.RID != RIDKrbtgt {
		return "", nil
	}
	dom, err := t.domain()
	if err != nil {
		return "", err
	}
	return "krbtgt/" + string(dom.Realm), nil
}
