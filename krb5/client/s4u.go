package client

import (
	"bytes"
	"crypto/subtle"
	"fmt"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// S4UPAData chooses the padata that names the user in an S4U2Self request
// (MS-SFU §3.1.5.1.1).
type S4UPAData int

const (
	// S4UBoth sends PA-FOR-USER and PA-S4U-X509-USER, as MIT's client does
	// and Windows does when it has no certificate (MS-SFU §2.2.2 note 4).
	// A KDC that knows PA-S4U-X509-USER uses it and ignores PA-FOR-USER.
	S4UBoth S4UPAData = iota
	// S4UForUser sends PA-FOR-USER only, as impacket's getST.py does.
	S4UForUser
	// S4UX509User sends PA-S4U-X509-USER only (MS-SFU §3.1.1,
	// PhaseOutOldStyleS4U).
	S4UX509User
)

func (p S4UPAData) forUser() bool { return p == S4UBoth || p == S4UForUser }
func (p S4UPAData) x509() bool    { return p == S4UBoth || p == S4UX509User }

// s4uState is what checking an S4U reply takes.
type s4uState struct {
	kind string // "S4U2Self" or "S4U2Proxy", for messages
	// The PA-S4U-X509-USER sent, and the key its checksum was made with;
	// nil when none was sent.
	x509 *wire.PAS4UX509User
	key  *crypto.Key
}

// s4uSelf builds the padata of an S4U2Self request for user:
//
//   - PA-FOR-USER (MS-SFU §2.2.1): userName, userRealm, auth-package
//     "Kerberos", and a KERB_CHECKSUM_HMAC_MD5 checksum keyed with the TGT
//     session key, key usage 17, over S4UByteArray;
//   - PA-S4U-X509-USER (MS-SFU §2.2.2): user-id with the request's nonce,
//     the user's name and realm and the option USE_REPLY_KEY_USAGE, and a
//     checksum of the DER user-id with the required checksum type of the
//     TGT session key, key usage 26. MS-SFU §2.2.2 keys it with the TGT
//     session key even when the authenticator carries a subkey (MIT's
//     client uses the subkey; hop's KDC accepts either).
func (r *Request) s4uSelf(session *crypto.Key, user krb5.Principal, nonce uint32) (*s4uState, []wire.PAData, error) {
	if user.Name.IsZero() {
		return nil, nil, fmt.Errorf("client: S4U2Self needs a user name")
	}
	which := r.S4UPAData
	if which < S4UBoth || which > S4UX509User {
		return nil, nil, fmt.Errorf("client: unknown S4UPAData %d", which)
	}
	st := &s4uState{kind: "S4U2Self"}
	var pa []wire.PAData
	if which.forUser() {
		fu := wire.PAForUser{UserName: user.Name, UserRealm: user.Realm, AuthPackage: "Kerberos"}
		sum, err := session.MakeChecksum(krb5.CksumHMACMD5, krb5.UsagePAForUserCksum, fu.ChecksumInput())
		if err != nil {
			return nil, nil, fmt.Errorf("client: PA-FOR-USER checksum: %w", err)
		}
		fu.Cksum = wire.Checksum{Type: krb5.CksumHMACMD5, Sum: sum}
		v, err := fu.Marshal()
		if err != nil {
			return nil, nil, err
		}
		pa = append(pa, wire.PAData{Type: krb5.PAForUser, Value: v})
	}
	if which.x509() {
		name := user.Name
		uid := wire.S4UUserID{Nonce: nonce, CName: &name, CRealm: user.Realm,
			Options: wire.S4UOptUseReplyKeyUsage, HasOptions: true}
		raw, err := uid.Marshal()
		if err != nil {
			return nil, nil, err
		}
		ct := session.ChecksumType()
		sum, err := session.MakeChecksum(ct, krb5.UsageS4UX509UserRequest, raw)
		if err != nil {
			return nil, nil, fmt.Errorf("client: PA-S4U-X509-USER checksum: %w", err)
		}
		x := &wire.PAS4UX509User{UserID: uid, RawUserID: raw, Cksum: wire.Checksum{Type: ct, Sum: sum}}
		v, err := x.Marshal()
		if err != nil {
			return nil, nil, err
		}
		pa = append(pa, wire.PAData{Type: krb5.PAS4UX509User, Value: v})
		st.x509, st.key = x, session
	}
	return st, pa, nil
}

// notNewer reports the encryption types RFC 4121 §1 calls "not newer"
// (DES, DES3, RC4): for them a KDC also puts the checksums of the
// PA-S4U-X509-USER exchange in the reply's encrypted-pa-data (MS-SFU
// §2.2.2).
func notNewer(e krb5.EncType) bool {
	switch e {
	case 1, 2, 3, krb5.DES3CBCSHA1, krb5.RC4HMAC, 24: // the DES types 1-3 and rc4-hmac-exp (24) have no name in krb5
		return true
	}
	return false
}

// checkReply checks the PA-S4U-X509-USER of an S4U2Self reply (MS-SFU
// §2.2.2, §3.1.5.1.2): present when the request carried one, with the
// request's nonce, and a keyed checksum of its user-id with the request's
// key and key usage 27 when it says USE_REPLY_KEY_USAGE, else 26. For a
// not-newer key the encrypted-pa-data must hold the request's checksum
// followed by the reply's. It accepts S4U2Proxy replies as they are.
func (s *s4uState) checkReply(pa, encPA []wire.PAData) error {
	if s.x509 == nil {
		return nil
	}
	var echo, encEcho []byte
	for _, p := range pa {
		if p.Type == krb5.PAS4UX509User {
			echo = p.Value
		}
	}
	for _, p := range encPA {
		if p.Type == krb5.PAS4UX509User {
			encEcho = p.Value
		}
	}
	if echo == nil {
		return fmt.Errorf("%w: the S4U2Self reply carries no PA-S4U-X509-USER", ErrBadReply)
	}
	rep, err := wire.ParsePAS4UX509User(echo)
	if err != nil {
		return fmt.Errorf("%w: the reply's PA-S4U-X509-USER: %v", ErrBadReply, err)
	}
	if rep.UserID.Nonce != s.x509.UserID.Nonce {
		return fmt.Errorf("%w: the reply's PA-S4U-X509-USER has another nonce", ErrBadReply)
	}
	usage := krb5.UsageS4UX509UserRequest
	if rep.UserID.Options.Has(wire.S4UOptUseReplyKeyUsage) {
		usage = krb5.UsageS4UX509UserReply
	}
	if err := s.key.VerifyChecksum(rep.Cksum.Type, usage, rep.RawUserID, rep.Cksum.Sum); err != nil {
		return fmt.Errorf("%w: the reply's PA-S4U-X509-USER checksum: %v", ErrBadReply, err)
	}
	if !notNewer(s.key.EncType()) {
		return nil
	}
	if encEcho == nil {
		if rep.UserID.Options.Has(wire.S4UOptUseReplyKeyUsage) {
			return fmt.Errorf("%w: the S4U2Self reply's encrypted-pa-data carries no PA-S4U-X509-USER", ErrBadReply)
		}
		return nil
	}
	want := append(bytes.Clone(s.x509.Cksum.Sum), rep.Cksum.Sum...)
	if subtle.ConstantTimeCompare(encEcho, want) != 1 {
		return fmt.Errorf("%w: the encrypted PA-S4U-X509-USER does not hold the exchange's checksums", ErrBadReply)
	}
	return nil
}
