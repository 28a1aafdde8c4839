package service

import (
	"errors"
	"fmt"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/keytab"
)

// Keytab finds a service's long-term key: the key of principal p of
// encryption type e and key version kvno (0: the newest version).
//
// An error may wrap a krb5.ErrorCode to choose the refusal:
// krb5.KRBAPErrNotUs (no key at all for p), krb5.KRBAPErrBadKeyVer (no key
// of that version) or krb5.KRBAPErrNoKey (no key of that type); any other
// error refuses with KRB_AP_ERR_NOKEY.
type Keytab interface {
	Key(p krb5.Principal, e krb5.EncType, kvno uint32) (*crypto.Key, error)
}

// KeytabFile adapts a keytab read with hop/krb5/keytab to Keytab. Names
// match as keytab.Keytab.Find matches them (components exactly, realm
// ignoring case, name type ignored); kvno 0 is the newest version, and an
// entry holding only the low 8 bits of the version is accepted as MIT does.
// kt must not be modified while the Keytab is in use.
func KeytabFile(kt *keytab.Keytab) Keytab { return keytabFile{kt} }

type keytabFile struct{ kt *keytab.Keytab }

func (k keytabFile) Key(p krb5.Principal, e krb5.EncType, kvno uint32) (*crypto.Key, error) {
	if k.kt == nil {
		return nil, fmt.Errorf("service: no keytab: %w", krb5.KRBAPErrNoKey)
	}
	ent, err := k.kt.Find(p, kvno, e)
	if err != nil {
		return nil, fmt.Errorf("service: %w: %w", err, k.missing(p, e, kvno))
	}
	key, err := crypto.NewKey(ent.EncType, ent.Key)
	clear(ent.Key)
	if err != nil {
		return nil, fmt.Errorf("service: keytab key of %s: %w: %w", p, err, krb5.KRBAPErrNoKey)
	}
	return key, nil
}

// missing says why Find found nothing, as MIT's keytab_fetch_error does:
// no entry for p at all, none of that version, or none of that type.
func (k keytabFile) missing(p krb5.Principal, e krb5.EncType, kvno uint32) krb5.ErrorCode {
	anyPrincipal, anyVersion := false, false
	for i := range k.kt.Entries {
		ent := &k.kt.Entries[i]
		if !ent.Principal.Name.Equal(p.Name) || !ent.Principal.Realm.Equal(p.Realm) {
			continue
		}
		anyPrincipal = true
		if kvno == 0 || ent.KVNO == kvno || (kvno > 0xff && ent.KVNO == kvno&0xff) {
			anyVersion = true
		}
	}
	switch {
	case !anyPrincipal:
		return krb5.KRBAPErrNotUs
	case !anyVersion:
		return krb5.KRBAPErrBadKeyVer
	}
	return krb5.KRBAPErrNoKey
}

// keyError turns an error of Keytab.Key into the refusal.
func keyError(server krb5.Principal, e krb5.EncType, kvno uint32, err error) *Error {
	code := krb5.KRBAPErrNoKey
	var c krb5.ErrorCode
	if errors.As(err, &c) {
		switch c {
		case krb5.KRBAPErrNotUs, krb5.KRBAPErrBadKeyVer, krb5.KRBAPErrNoKey:
			code = c
		}
	}
	return refuse(code, "no key for %s kvno %d %v: %v", server, kvno, e, err)
}
