package directory

import (
	"context"
	"slices"
	"strings"
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
// a.OldKeys, a.KVNO, a.Revision, a.CreatorSID and the lockout fields are
// ignored. It checks the name (AD's sAMAccountName rules; computer names
// end in "$"), the SPNs (syntax and uniqueness in the domain) and the UPN,
// and adds the account to its primary group: a.PrimaryGroupRID, or when 0
// Domain Users for users and services and Domain Computers for computers
// (Domain Controllers, 516, for a domain controller's computer account).
// The delegation settings must be zero: they change only through
// SetDelegation, which checks who asks. It acts as [LocalAdmin] and is
// audited as d.As(LocalAdmin).CreateAccount is, but returns the keys.
func (d *Directory) CreateAccount(ctx context.Context, a *Account, keys []Key) (*Account, error) {
	return d.As(LocalAdmin).createAccount(ctx, a, keys)
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
// Keys, OldKeys (use SetKeys for keys), CreatorSID or Revision, nor the
// delegation settings: they change only through SetDelegation, which checks
// who asks, and UpdateAccount refuses them whoever calls it. The directory
// keeps Created and sets Modified. It acts as [LocalAdmin] and is audited
// as d.As(LocalAdmin).UpdateAccount is.
func (d *Directory) UpdateAccount(ctx context.Context, name string, fn func(*Account) error) (*Account, error) {
	return d.As(LocalAdmin).updateAccount(ctx, name, 0, fn)
}

// oldGenerations is how many previous key generations an account keeps.
const oldGenerations = 2

// SetKeys replaces the keys of the account named name by a new generation:
// the kvno goes up by one, the current keys join OldKeys (which keeps the
// last two generations), and PasswordLastSet becomes now. It acts as
// [LocalAdmin] and is audited as d.As(LocalAdmin).SetKeys is.
func (d *Directory) SetKeys(ctx context.Context, name string, keys []Key) (uint32, error) {
	a, err := d.As(LocalAdmin).setKeys(ctx, name, keys, 0)
	if err != nil {
		return 0, err
	}
	return a.KVNO, nil
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
// memberships. Built-in accounts (RID below 1000) cannot be deleted. It
// acts as [LocalAdmin] and is audited.
func (d *Directory) DeleteAccount(ctx context.Context, name string) error {
	return d.As(LocalAdmin).DeleteAccount(ctx, name, 0)
}

// AddSPN adds spn to the account named name; the SPN must not belong to any
// account yet. It acts as [LocalAdmin] and is audited.
func (d *Directory) AddSPN(ctx context.Context, name, spn string) error {
	_, err := d.As(LocalAdmin).AddSPN(ctx, name, spn, 0)
	return err
}

// RemoveSPN removes spn (any case) from the account named name. It acts as
// [LocalAdmin] and is audited.
func (d *Directory) RemoveSPN(ctx context.Context, name, spn string) error {
	_, err := d.As(LocalAdmin).RemoveSPN(ctx, name, spn, 0)
	return err
}

// requiredSPN returns the SPN account a must keep: krbtgt/REALM for krbtgt,
// kadmin/changepw for kadmin, "" for every other account.
func (t *txn) requiredSPN(a *Account) (string, error) {
	switch a.RID {
	case RIDKadmin:
		return SPNKadminChangePW, nil
	case RIDKrbtgt:
		dom, err := t.domain()
		if err != nil {
			return "", err
		}
		return "krbtgt/" + string(dom.Realm), nil
	}
	return "", nil
}

// requiredSPNWhy says why a keeps its requiredSPN.
func requiredSPNWhy(a *Account) string {
	if a.RID == RIDKadmin {
		return "kpasswd depends on it"
	}
	return "the KDC depends on it"
}
