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

// Account returns the account named name (any case), read from the store.
func (d *Directory) Account(ctx context.Context, name string) (*Account, error) {
	var a *Account
	err := d.view(ctx, func(t *txn) (err error) {
		a, err = t.account(name)
		return err
	})
	return a, err
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

// oldGenerations is how many previous key generations an account keeps.
const oldGenerations = 2

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
