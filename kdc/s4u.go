package kdc

import (
	"errors"
	"strings"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
	"hop/sid"
)

// s4uSelf is a decoded S4U2Self request (MS-SFU §3.2.5.1.2).
type s4uSelf struct {
	user krb5.Principal
	x509 *wire.PAS4UX509User // PA-S4U-X509-USER to echo, when the request had one
	key  *crypto.Key         // the key its checksum was made with
}

// s4uSelfRequest finds and checks the S4U2Self padata of a TGS-REQ. A
// PA-S4U-X509-USER wins over a PA-FOR-USER (MIT clients send both; Windows
// looks at it first, MS-SFU §2.2.2 note 4). Its checksum covers the user-id
// as received with key usage 26; MS-SFU §2.2.2 keys it with the TGT session
// key, MIT's client and KDC with the authenticator's subkey when there is
// one, so either is accepted, and the reply is signed with the one that
// verified. It must carry the request's nonce. A PA-FOR-USER's checksum is
// keyed with the TGT session key, usage 17, over the S4UByteArray (MS-SFU
// §2.2.1).
func (x *exchange) s4uSelfRequest(session *crypto.Key, auth *wire.Authenticator) (*s4uSelf, bool, *refusal) {
	forUser, x509 := s4uPAData(x.req)
	if x509 != nil {
		p, err := wire.ParsePAS4UX509User(x509)
		if err != nil {
			return nil, true, refuse(krb5.KRBAPErrModified, "malformed PA-S4U-X509-USER: %v", err).ruled("s4u2self-padata")
		}
		keys := []*crypto.Key{session}
		if auth.SubKey != nil {
			sub, err := crypto.NewKey(auth.SubKey.Type, auth.SubKey.Value)
			if err != nil {
				return nil, true, refuse(krb5.KDCErrETypeNoSupp, "the authenticator's subkey has an unsupported type").ruled("s4u2self-padata")
			}
			keys = append([]*crypto.Key{sub}, keys...)
		}
		var key *crypto.Key
		var rf *refusal
		for _, k := range keys {
			if rf = checksumRefusal(k.VerifyChecksum(p.Cksum.Type, krb5.UsageS4UX509UserRequest, p.RawUserID, p.Cksum.Sum), "PA-S4U-X509-USER"); rf == nil {
				key = k
				break
			}
		}
		if key == nil {
			return nil, true, rf
		}
		if p.UserID.Nonce != x.req.Body.Nonce {
			return nil, true, refuse(krb5.KRBAPErrModified, "the PA-S4U-X509-USER nonce does not match the request's").ruled("s4u2self-padata")
		}
		if p.UserID.CName == nil || p.UserID.CName.IsZero() {
			return nil, true, refuse(krb5.KDCErrBadOption, "S4U2Self by certificate (PA-S4U-X509-USER without a user name) is not supported").ruled("s4u2self-padata")
		}
		return &s4uSelf{user: krb5.Principal{Name: *p.UserID.CName, Realm: p.UserID.CRealm}, x509: p, key: key}, true, nil
	}
	if forUser == nil {
		return nil, false, nil
	}
	p, err := wire.ParsePAForUser(forUser)
	if err != nil {
		return nil, true, refuse(krb5.KRBAPErrModified, "malformed PA-FOR-USER: %v", err).ruled("s4u2self-padata")
	}
	if !strings.EqualFold(p.AuthPackage, "Kerberos") {
		return nil, true, refuse(krb5.KDCErrBadOption, "PA-FOR-USER names the authentication package %q; only Kerberos is supported", p.AuthPackage).ruled("s4u2self-padata")
	}
	if rf := checksumRefusal(session.VerifyChecksum(p.Cksum.Type, krb5.UsagePAForUserCksum, p.ChecksumInput(), p.Cksum.Sum), "PA-FOR-USER"); rf != nil {
		return nil, true, rf
	}
	return &s4uSelf{user: krb5.Principal{Name: p.UserName, Realm: p.UserRealm}}, true, nil
}

// s4uPAData returns the values of the request's PA-FOR-USER and
// PA-S4U-X509-USER, nil when absent.
func s4uPAData(req *wire.KDCReq) (forUser, x509 []byte) {
	for _, p := range req.PAData {
		switch p.Type {
		case krb5.PAForUser:
			forUser = p.Value
		case krb5.PAS4UX509User:
			x509 = p.Value
		}
	}
	return forUser, x509
}

// claimedS4UUser returns the user an S4U2Self request names, before any
// check, for the audit event of its refusal; "" if none can be read.
func claimedS4UUser(req *wire.KDCReq) string {
	forUser, x509 := s4uPAData(req)
	if x509 != nil {
		if p, err := wire.ParsePAS4UX509User(x509); err == nil && p.UserID.CName != nil {
			return krb5.Principal{Name: *p.UserID.CName, Realm: p.UserID.CRealm}.String()
		}
	}
	if forUser != nil {
		if p, err := wire.ParsePAForUser(forUser); err == nil {
			return krb5.Principal{Name: p.UserName, Realm: p.UserRealm}.String()
		}
	}
	return ""
}

func checksumRefusal(err error, what string) *refusal {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, krb5.KRBAPErrInappCksum):
		return refuse(krb5.KRBAPErrInappCksum, "the %s checksum is not a keyed checksum", what).ruled("s4u2self-checksum")
	}
	return refuse(krb5.KRBAPErrModified, "the %s checksum does not match (modified in transit?)", what).ruled("s4u2self-checksum")
}

// s4u2self decides an S4U2Self ticket: a ticket to the requesting service
// itself, in the name of a user who did not authenticate (MS-SFU
// §3.2.5.1.2). It is forwardable only when forwardable was asked for, the
// service's TGT is forwardable, the service may use protocol transition or
// has an empty constrained-delegation list, and the user is neither
// sensitive nor in Protected Users; otherwise it is issued without the flag,
// and the audit event says why.
func (x *exchange) s4u2self(s *s4uSelf, svc *directory.Account, tgt *wire.EncTicketPart) (*directory.Account, grant, []wire.PAData, string, *refusal) {
	b := &x.req.Body
	if b.SName == nil {
		return nil, grant{}, nil, "", refuse(krb5.KDCErrSPrincipalUnknown, "the TGS-REQ names no service").ruled("s4u2self-other-service")
	}
	if target, ok := x.snap.Lookup(*b.SName, b.Realm); !ok || target != svc {
		return nil, grant{}, nil, "", refuse(krb5.KRBAPErrBadMatch, "S4U2Self gives a service a ticket to itself: %s is not %s", *b.SName, svc.Name).ruled("s4u2self-other-service")
	}
	if !s.user.Realm.Equal(x.dom.Realm) {
		return nil, grant{}, nil, "", refuse(krb5.KDCErrPolicy, "S4U2Self for a user of realm %s: this KDC serves %s and has no trust with it", s.user.Realm, x.dom.Realm).ruled("s4u2self-foreign-user")
	}
	user, ok := x.snap.Lookup(s.user.Name, s.user.Realm)
	if !ok {
		return nil, grant{}, nil, "", refuse(krb5.KDCErrCPrincipalUnknown, "S4U2Self: no account %s in this domain", s.user).ruled("s4u2self-unknown-user")
	}
	if rf := x.checkClient(user, &s.user); rf != nil {
		return nil, grant{}, nil, "", rf.ruled("user-unusable")
	}
	span, rf := x.lifetimes(user, svc, tgt)
	if rf != nil {
		return nil, grant{}, nil, "", rf
	}
	fwd, rule, why := selfForwardable(x.snap, svc, user, b.Options.Has(krb5.OptForwardable), tgt.Flags.Has(krb5.TktForwardable))
	authTime := x.now.Truncate(time.Second)
	g := grant{
		client:   s.user,
		server:   krb5.Principal{Name: *b.SName, Realm: b.Realm},
		flags:    krb5.TktTransitPolicyChecked,
		authTime: authTime,
		span:     span,
		forcePAC: true, // even for no-auth-data-required services (as AD does)
	}
	if fwd {
		g.flags |= krb5.TktForwardable
	}
	p := x.newPAC(user, s.user.Name, authTime, pac.AttrPACWasGivenImplicitly)
	p.LogonInfo.ExtraSIDs = []pac.SIDAndAttributes{{SID: sid.ServiceAsserted, Attributes: pac.GroupDefault}}
	p.Requestor = nil // PAC_REQUESTOR goes in TGTs only (MS-KILE §3.3.5.6.4.8)
	g.pac = p

	var pa []wire.PAData
	if s.x509 != nil {
		echo, err := s4uEcho(s)
		if err != nil {
			return nil, grant{}, nil, "", refuse(krb5.KRBErrGeneric, "cannot encode the PA-S4U-X509-USER reply")
		}
		pa = append(pa, wire.PAData{Type: krb5.PAS4UX509User, Value: echo})
	}
	return svc, g, pa, rule + ": " + why, nil
}

// s4uEcho is the PA-S4U-X509-USER of the reply: the request's user-id, its
// options masked to USE_REPLY_KEY_USAGE, checksummed with the same key and
// usage 27 when that option was asked for, else 26 (MS-SFU §2.2.2). With
// AES keys nothing goes in the encrypted padata.
func s4uEcho(s *s4uSelf) ([]byte, error) {
	in := s.x509.UserID
	uid := wire.S4UUserID{Nonce: in.Nonce, CName: in.CName, CRealm: in.CRealm,
		Options: in.Options & wire.S4UOptUseReplyKeyUsage, HasOptions: in.HasOptions}
	raw, err := uid.Marshal()
	if err != nil {
		return nil, err
	}
	usage := krb5.UsageS4UX509UserRequest
	if in.Options.Has(wire.S4UOptUseReplyKeyUsage) {
		usage = krb5.UsageS4UX509UserReply
	}
	sum, err := s.key.MakeChecksum(s.key.ChecksumType(), usage, raw)
	if err != nil {
		return nil, err
	}
	out := wire.PAS4UX509User{UserID: uid, RawUserID: raw, Cksum: wire.Checksum{Type: s.key.ChecksumType(), Sum: sum}}
	return out.Marshal()
}

// selfForwardable is MS-SFU §3.2.5.1.2's rule for an S4U2Self ticket's
// forwardable flag (with MS-KILE §3.3.5.1 for Protected Users); rule names
// the condition that decided and why says it in words. hop delegation
// explain runs this same function.
func selfForwardable(snap *directory.Snapshot, svc, user *directory.Account, requested, tgtForwardable bool) (fwd bool, rule, why string) {
	switch {
	case !requested:
		return false, "forwardable-not-requested", "not forwardable: the request did not ask for it"
	case !tgtForwardable:
		return false, "tgt-not-forwardable", "not forwardable: the service's TGT is not forwardable"
	case !svc.TrustedToAuthForDelegation && len(svc.AllowedToDelegateTo) > 0:
		return false, "kcd-without-protocol-transition", "not forwardable: " + svc.Name + " has a constrained-delegation list but no protocol transition (hop account set " + svc.Name + " --protocol-transition)"
	case snap.InProtectedUsers(user.Name):
		return false, "protected-user", "not forwardable: " + user.Name + " is in Protected Users"
	case snap.IsSensitive(user.Name):
		return false, "sensitive-user", "not forwardable: " + user.Name + " is sensitive and cannot be delegated"
	}
	if svc.TrustedToAuthForDelegation {
		return true, "protocol-transition", "forwardable: " + svc.Name + " has protocol transition"
	}
	return true, "empty-kcd-list", "forwardable: " + svc.Name + " has an empty constrained-delegation list"
}
