// Package dirkeytab serves a service's keys from the directory, for
// services that run beside the KDC (kpasswd, the admin API): a
// service.Keytab over the directory's current snapshot, so that a key
// change takes effect at the next request, with the previous generations
// too, so that tickets issued before a key change stay usable until they
// expire.
package dirkeytab

import (
	"context"
	"fmt"
	"sync"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/service"
)

// New returns a service.Keytab over d that knows the keys of the accounts
// holding the principals for which serves reports true (given the
// domain's realm), and of no other.
func New(d *directory.Directory, serves func(p krb5.Principal, realm krb5.Realm) bool) service.Keytab {
	return &keytab{d: d, serves: serves}
}

type keytab struct {
	d      *directory.Directory
	serves func(krb5.Principal, krb5.Realm) bool

	mu   sync.Mutex
	gen  string
	keys map[keyRef]*crypto.Key
}

type keyRef struct {
	rid   uint32
	kvno  uint32
	etype krb5.EncType
}

// Key returns the key of p's account of type e and version kvno (0 = the
// current one). Crypto keys are made once per snapshot, so their derived
// keys are reused across requests.
func (k *keytab) Key(p krb5.Principal, e krb5.EncType, kvno uint32) (*crypto.Key, error) {
	snap, err := k.d.Snapshot(context.Background())
	if err != nil {
		return nil, fmt.Errorf("directory: %w: %w", err, krb5.KRBAPErrNoKey)
	}
	realm := snap.Domain().Realm
	if !k.serves(p, realm) {
		return nil, fmt.Errorf("%s is not a service of this server: %w", p, krb5.KRBAPErrNotUs)
	}
	acct, ok := snap.Lookup(p.Name, p.Realm)
	if !ok {
		return nil, fmt.Errorf("no account of %s holds %s: %w", realm, p, krb5.KRBAPErrNotUs)
	}
	dk, ok := acct.KeyFor(e, kvno)
	if !ok {
		code := krb5.KRBAPErrNoKey
		if kvno != 0 && !hasKVNO(acct, kvno) {
			code = krb5.KRBAPErrBadKeyVer
		}
		return nil, fmt.Errorf("%s has no %v key of kvno %d: %w", acct.Name, e, kvno, code)
	}
	ref := keyRef{rid: acct.RID, kvno: dk.KVNO, etype: e}
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen := snap.Generation(); gen != k.gen || k.keys == nil {
		k.gen, k.keys = gen, make(map[keyRef]*crypto.Key)
	}
	if ck, ok := k.keys[ref]; ok {
		return ck, nil
	}
	m := dk.Material()
	ck, err := crypto.NewKey(e, m)
	clear(m)
	if err != nil {
		return nil, fmt.Errorf("key of %s: %w: %w", acct.Name, err, krb5.KRBAPErrNoKey)
	}
	k.keys[ref] = ck
	return ck, nil
}

// hasKVNO reports whether acct has keys of version kvno.
func hasKVNO(acct *directory.Account, kvno uint32) bool {
	for _, set := range [][]directory.Key{acct.Keys, acct.OldKeys} {
		for _, k := range set {
			if k.KVNO == kvno {
				return true
			}
		}
	}
	return false
}
