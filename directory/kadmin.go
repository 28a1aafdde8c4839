package directory

import (
	"errors"
	"slices"
	"strings"
)

// newKadmin returns the kadmin account, without keys: a service account
// with the SPN kadmin/changepw, enabled (the KDC issues no ticket for a
// disabled service), whose random keys no one knows, so that no one logs
// on as it.
func newKadmin() *Account {
	return &Account{
		Name: NameKadmin, Kind: KindService, RID: RIDKadmin, SPNs: []string{SPNKadminChangePW},
		Description: "Built-in account of the password change service (kpasswd, RFC 3244)",
	}
}

// addKadmin adds the kadmin account with keys to a directory created
// before it existed (schema 1 and 2), and to Domain Users. An account
// already named kadmin, or holding its SPN, is left alone and the upgrade
// refused, saying what to do: adopting it would let whoever knows its keys
// read every password change. It reports whether it added the account.
func (t *txn) addKadmin(keys []Key) (bool, error) {
	if v, err := t.Get(bucketAccounts, fold(NameKadmin)); err != nil {
		return false, err
	} else if v != nil {
		a, err := decodeAccount(t.d.mk, fold(NameKadmin), v)
		if err != nil {
			return false, err
		}
		if a.RID == RIDKadmin {
			return false, nil
		}
		return false, invalid("this hop reserves the account name %q for the password change service (kadmin/changepw), and the directory has an account of that name (RID %d); delete it with the hop release that created it, then open the directory again", NameKadmin, a.RID)
	}
	if what, err := t.nameTaken(NameKadmin); err != nil {
		return false, err
	} else if what != "" {
		return false, invalid("this hop reserves the name %q for the password change service, and the directory has %s of that name; delete it with the hop release that created it, then open the directory again", NameKadmin, what)
	}
	if owner, err := t.Get(bucketSPNs, fold(SPNKadminChangePW)); err != nil {
		return false, err
	} else if owner != nil {
		return false, invalid("the SPN %s belongs to account %q, and this hop gives it to its own password change service; remove it there with the hop release that set it (hop spn remove %s %s), then open the directory again", SPNKadminChangePW, owner, owner, SPNKadminChangePW)
	}
	a := newKadmin()
	now := t.d.now()
	a.PrimaryGroupRID = defaultPrimaryGroup(a.Kind, a.RID)
	a.KVNO, a.Created, a.Modified, a.PasswordLastSet = 1, now, now, now
	ks, err := newGeneration(a, keys, 1)
	if err != nil {
		return false, err
	}
	a.Keys = ks
	if err := t.putAccount(a, nil); err != nil {
		return false, err
	}
	g, err := t.group(NameDomainUsers)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, NameKadmin) }) {
		g.Members = append(g.Members, NameKadmin)
		if err := t.putGroup(g); err != nil {
			return false, err
		}
	}
	return true, nil
}
