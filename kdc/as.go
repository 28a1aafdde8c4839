package kdc

import (
	"sort"
	"strings"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// asOnlyBad are KDC options that make no sense in an AS-REQ (RFC 4120
// §3.1.3): they ask the KDC to act on a ticket the request does not carry.
var asOnlyBad = krb5.OptForwarded | krb5.OptProxy | krb5.OptEncTktInSKey |
	krb5.OptRenew | krb5.OptValidate | krb5.OptCNameInAddlTkt

// serveAS answers an AS-REQ (RFC 4120 §3.1).
func (k *KDC) serveAS(x *exchange) ([]byte, *refusal) {
	b := &x.req.Body
	if b.CName == nil || b.CName.IsZero() {
		return nil, refuse(krb5.KDCErrCPrincipalUnknown, "the AS-REQ names no client")
	}
	if b.SName == nil || b.SName.IsZero() {
		return nil, refuse(krb5.KDCErrSPrincipalUnknown, "the AS-REQ names no service")
	}
	if !b.Realm.Equal(x.dom.Realm) {
		return nil, refuse(krb5.KDCErrWrongRealm, "this KDC serves realm %s, not %s", x.dom.Realm, b.Realm)
	}
	if b.Options&asOnlyBad != 0 {
		return nil, refuse(krb5.KDCErrBadOption, "an AS-REQ cannot ask for forwarded, proxy, renew, validate, user-to-user or constrained-delegation tickets; those are TGS options")
	}
	if b.Options.Has(krb5.OptPostdated) {
		return nil, refuse(krb5.KDCErrBadOption, "this KDC does not issue postdated tickets; request a ticket that starts now")
	}
	asked := krb5.Principal{Name: *b.CName, Realm: b.Realm}
	client, ok := x.snap.Lookup(*b.CName, b.Realm)
	if !ok {
		return nil, &refusal{code: krb5.KDCErrCPrincipalUnknown, text: "no account " + asked.String() + " in this domain", client: &asked}
	}
	if rf := x.checkClient(client, &asked); rf != nil {
		return nil, rf
	}
	server, ok := x.snap.Lookup(*b.SName, b.Realm)
	if !ok {
		return nil, &refusal{code: krb5.KDCErrSPrincipalUnknown, client: &asked,
			text: "no service " + krb5.Principal{Name: *b.SName, Realm: b.Realm}.String() + " in this domain; register the SPN with hop spn add"}
	}
	// An expired password still gets a ticket to the password-change
	// service, so that the user can set a new one with kpasswd, as MIT's
	// KDC does (RFC 3244 §2 needs an INITIAL ticket from the old password).
	if !client.PasswordExpires.IsZero() && !x.now.Before(client.PasswordExpires) && server.RID != directory.RIDKadmin {
		return nil, &refusal{code: krb5.KDCErrKeyExpired, client: &asked,
			text: "the password of " + client.Name + " has expired; change it with kpasswd " + client.Name + " (or ask an administrator: hop account passwd " + client.Name + ")"}
	}
	if rf := x.checkServer(server); rf != nil {
		rf.client = &asked
		return nil, rf
	}

	// Pre-authentication (RFC 4120 §5.2.7.2) and the reply key.
	clientTypes := usableETypes(client)
	replyKey, preauthed, rf := k.preauth(x, client, clientTypes, &asked)
	if rf != nil {
		rf.client = &asked
		return nil, rf
	}
	if preauthed && client.BadPwdCount > 0 {
		if err := k.dir.ClearPreauthFailures(x.ctx, client.Name); err != nil {
			k.log.Warn("kdc: clear failed logon count", "account", client.Name, "err", err)
		}
	}

	sessionET, ok := strongestCommon(b.ETypes, usableETypes(server))
	if !ok {
		return nil, &refusal{code: krb5.KDCErrETypeNoSupp, client: &asked,
			text: "none of the requested encryption types (" + etypeList(b.ETypes) + ") is supported by service " + server.Name + " (" + etypeList(usableETypes(server)) + ")"}
	}
	sp, rf := x.lifetimes(client, server, nil)
	if rf != nil {
		rf.client = &asked
		return nil, rf
	}
	if isKrbtgt(server) && x.snap.InProtectedUsers(client.Name) {
		// MS-KILE §3.3.5.6: a Protected Users TGT lives and renews for 4 hours.
		sp = sp.capped(x.policy.ProtectedUsersTGTLife)
	}
	if server.RID == directory.RIDKadmin {
		// A password-change ticket is for one exchange, as MIT's
		// kadmin/changepw principal's 5-minute maximum life makes it.
		sp = sp.capped(changepwTicketLife)
	}

	g := grant{
		client:    asked,
		server:    krb5.Principal{Name: *b.SName, Realm: b.Realm},
		flags:     krb5.TktInitial,
		authTime:  sp.start,
		span:      sp,
		caddr:     b.Addresses,
		sessionET: sessionET,
	}
	g.pac = x.newPAC(client, g.client.Name, sp.start, pacAttributes(x.req))
	g.encPA = pacOptionsEcho(x.req)
	if preauthed {
		g.flags |= krb5.TktPreAuthent
	}
	if b.Options.Has(krb5.OptForwardable) {
		g.flags |= krb5.TktForwardable
	}
	if b.Options.Has(krb5.OptProxiable) {
		g.flags |= krb5.TktProxiable
	}
	g.flags = x.delegationFlags(client, server, g.flags)
	if b.Options.Has(krb5.OptCanonicalize) {
		// RFC 6806 §6: with canonicalize the reply carries the account's own name.
		g.client = client.Principal(x.dom.Realm)
		g.server.Realm = x.dom.Realm
		if isKrbtgt(server) {
			g.server.Name = krb5.NewName(krb5.NTSrvInst, "krbtgt", string(x.dom.Realm))
		}
	}
	tkt, session, rf := k.issue(x, server, &g)
	if rf != nil {
		return nil, rf
	}
	var pa []wire.PAData
	if dk, ok := client.KeyFor(replyKey.EncType(), 0); ok && dk.Salt != "" {
		salt := dk.Salt
		if v, err := wire.MarshalETypeInfo2([]wire.ETypeInfo2Entry{{EType: replyKey.EncType(), Salt: &salt}}); err == nil {
			pa = append(pa, wire.PAData{Type: krb5.PAETypeInfo2, Value: v})
		}
	}
	out, rf := k.reply(x, &g, tkt, session, replyKey, krb5.UsageASRepEncPart, pa)
	if rf != nil {
		return nil, rf
	}
	x.issued = &audit.Event{
		Time: x.now, Type: "as.issued", Client: client.Principal(x.dom.Realm).String(),
		Service: g.server.String(), Addr: x.addr, EType: sessionET.String(),
		Flags: krb5.TicketFlagString(g.flags), Until: sp.end,
	}
	return out, nil
}

// preauth checks PA-ENC-TIMESTAMP and returns the key that seals the reply.
func (k *KDC) preauth(x *exchange, client *directory.Account, clientTypes []krb5.EncType, asked *krb5.Principal) (*crypto.Key, bool, *refusal) {
	b := &x.req.Body
	var ts []byte
	for _, p := range x.req.PAData {
		if p.Type == krb5.PAEncTimestamp {
			ts = p.Value
			break
		}
	}
	if ts == nil {
		if client.NoPreauthRequired {
			// The reply key is the strongest one the client asked for.
			et, ok := strongestCommon(b.ETypes, clientTypes)
			if !ok {
				return nil, false, refuse(krb5.KDCErrETypeNoSupp, "none of the requested encryption types (%s) matches a key of %s (%s)", etypeList(b.ETypes), client.Name, etypeList(clientTypes))
			}
			key, _, ok := x.keys.key(client, et, 0)
			if !ok {
				return nil, false, refuse(krb5.KDCErrETypeNoSupp, "account %s has no usable %s key", client.Name, et)
			}
			return key, false, nil
		}
		info := x.etypeInfo2(client, clientTypes)
		if len(info) == 0 {
			return nil, false, refuse(krb5.KDCErrETypeNoSupp, "none of the requested encryption types (%s) matches a key of %s (%s)", etypeList(b.ETypes), client.Name, etypeList(clientTypes))
		}
		edata, err := preauthRequiredData(info)
		if err != nil {
			return nil, false, k.internal("encode METHOD-DATA", err)
		}
		return nil, false, &refusal{code: krb5.KDCErrPreauthRequired, text: "pre-authentication required", edata: edata}
	}

	enc, err := wire.ParseEncryptedData(ts)
	if err != nil {
		return nil, false, refuse(krb5.KDCErrPreauthFailed, "malformed PA-ENC-TIMESTAMP")
	}
	key, _, ok := x.keys.key(client, enc.EType, 0)
	if !ok || !contains(clientTypes, enc.EType) {
		return nil, false, refuse(krb5.KDCErrETypeNoSupp, "account %s has no %s key; it has %s", client.Name, enc.EType, etypeList(clientTypes))
	}
	if enc.EType == krb5.RC4HMAC && x.snap.InProtectedUsers(client.Name) {
		// MS-KILE §3.3.5.6: no RC4 (or DES) pre-authentication for Protected Users.
		return nil, false, refuse(krb5.KDCErrETypeNoSupp, "%s is in Protected Users, which may not pre-authenticate with RC4; use an AES key", client.Name)
	}
	plain, err := key.Decrypt(krb5.UsageASReqPAEncTimestamp, enc.Cipher)
	var stamp *wire.PAEncTSEnc
	if err == nil {
		stamp, err = wire.ParsePAEncTSEnc(plain)
	}
	if err != nil {
		return nil, false, k.preauthFailed(x, client, asked)
	}
	if d := x.now.Sub(stamp.PATimestamp); d > x.policy.ClockSkew || d < -x.policy.ClockSkew {
		return nil, false, refuse(krb5.KRBAPErrSkew, "the client's clock is %s away from the KDC's (at most %s allowed); synchronise the clocks", d.Round(time.Second), x.policy.ClockSkew)
	}
	return key, true, nil
}

// preauthFailed counts a bad pre-authentication against the lockout policy
// and audits it.
func (k *KDC) preauthFailed(x *exchange, client *directory.Account, asked *krb5.Principal) *refusal {
	k.audit.Emit(audit.Event{Time: x.now, Type: "preauth.failed", Client: asked.String(), Addr: x.addr, Code: krb5.KDCErrPreauthFailed.String()})
	if x.policy.LockoutThreshold > 0 {
		until, err := k.dir.RecordPreauthFailure(x.ctx, client.Name)
		if err != nil {
			k.log.Warn("kdc: record failed logon", "account", client.Name, "err", err)
		} else if !until.IsZero() && until.After(x.now) {
			k.audit.Emit(audit.Event{Time: x.now, Type: "account.locked", Client: asked.String(), Addr: x.addr,
				Reason: "too many failed pre-authentications", Until: until})
		}
	}
	return refuse(krb5.KDCErrPreauthFailed, "pre-authentication failed: wrong password or key for %s", asked)
}

// etypeInfo2 lists, strongest first, the client's keys whose types the
// request offers, with their salts (RFC 4120 §5.2.7.5).
func (x *exchange) etypeInfo2(client *directory.Account, clientTypes []krb5.EncType) []wire.ETypeInfo2Entry {
	var types []krb5.EncType
	for _, e := range x.req.Body.ETypes {
		if contains(clientTypes, e) && !contains(types, e) {
			types = append(types, e)
		}
	}
	sort.SliceStable(types, func(i, j int) bool { return crypto.Preference(types[i]) > crypto.Preference(types[j]) })
	out := make([]wire.ETypeInfo2Entry, 0, len(types))
	for _, e := range types {
		dk, _ := client.KeyFor(e, 0)
		salt := dk.Salt
		out = append(out, wire.ETypeInfo2Entry{EType: e, Salt: &salt})
	}
	return out
}

// preauthRequiredData is the e-data of KDC_ERR_PREAUTH_REQUIRED: the methods
// the KDC accepts, with the salts the client needs (RFC 4120 §5.2.7).
func preauthRequiredData(info []wire.ETypeInfo2Entry) ([]byte, error) {
	ei, err := wire.MarshalETypeInfo2(info)
	if err != nil {
		return nil, err
	}
	return wire.MarshalMethodData([]wire.PAData{
		{Type: krb5.PAETypeInfo2, Value: ei},
		{Type: krb5.PAEncTimestamp, Value: []byte{}},
	})
}

// checkClient refuses accounts that may not log on now.
func (x *exchange) checkClient(a *directory.Account, asked *krb5.Principal) *refusal {
	switch {
	case a.Disabled:
		return &refusal{code: krb5.KDCErrClientRevoked, client: asked,
			text: "account " + a.Name + " is disabled; an administrator can enable it (hop account enable " + a.Name + ")"}
	case !a.LockedUntil.IsZero() && x.now.Before(a.LockedUntil):
		return &refusal{code: krb5.KDCErrClientRevoked, client: asked,
			text: "account " + a.Name + " is locked out after repeated failed logons until " + a.LockedUntil.UTC().Format(time.RFC3339)}
	case !a.Expires.IsZero() && !x.now.Before(a.Expires):
		return &refusal{code: krb5.KDCErrNameExp, client: asked,
			text: "account " + a.Name + " expired on " + a.Expires.UTC().Format(time.RFC3339)}
	}
	return nil
}

// checkServer refuses services that may not be issued tickets now.
func (x *exchange) checkServer(a *directory.Account) *refusal {
	if isKrbtgt(a) {
		return nil // krbtgt is disabled as a client, as in AD, but serves as the TGS
	}
	switch {
	case a.Disabled:
		return refuse(krb5.KDCErrServiceRevoked, "service account %s is disabled", a.Name)
	case !a.Expires.IsZero() && !x.now.Before(a.Expires):
		return refuse(krb5.KDCErrServiceExp, "service account %s expired on %s", a.Name, a.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// krbtgtRID is the relative identifier of the krbtgt account (MS-PAC, AD).
const krbtgtRID = 502

// changepwTicketLife caps tickets to the password-change service.
const changepwTicketLife = 5 * time.Minute

func isKrbtgt(a *directory.Account) bool { return a.RID == krbtgtRID }

func etypeList(list []krb5.EncType) string {
	if len(list) == 0 {
		return "none"
	}
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}
