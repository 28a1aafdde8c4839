package kdc

import (
	"errors"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
)

// tgsUnsupported are TGS options hop refuses with KDC_ERR_BADOPTION.
var tgsUnsupported = krb5.OptPostdated | krb5.OptValidate | krb5.OptEncTktInSKey

// serveTGS answers a TGS-REQ (RFC 4120 §3.3).
func (k *KDC) serveTGS(x *exchange) ([]byte, *refusal) {
	b := &x.req.Body
	var apBytes []byte
	for _, p := range x.req.PAData {
		if p.Type == krb5.PATGSReq {
			apBytes = p.Value
			break
		}
	}
	if apBytes == nil {
		return nil, refuse(krb5.KDCErrPADataTypeNoSupp, "the TGS-REQ carries no PA-TGS-REQ (an AP-REQ with a ticket-granting ticket)")
	}
	switch opts := b.Options & tgsUnsupported; {
	case opts.Has(krb5.OptPostdated) || opts.Has(krb5.OptValidate):
		return nil, refuse(krb5.KDCErrBadOption, "this KDC does not issue postdated tickets, so there is nothing to validate")
	case opts.Has(krb5.OptEncTktInSKey):
		return nil, refuse(krb5.KDCErrBadOption, "user-to-user tickets (enc-tkt-in-skey) are not supported by this KDC")
	}

	ap, err := wire.ParseAPReq(apBytes)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrMsgType, "malformed AP-REQ in PA-TGS-REQ: %v", err)
	}
	hdr, tgsAcct, tktKey, rf := k.openTicket(x, &ap.Ticket)
	if rf != nil {
		return nil, rf
	}
	client := krb5.Principal{Name: hdr.CName, Realm: hdr.CRealm}
	x.deleg = delegationOf(x.req, client)
	auth, session, rf := k.authenticate(x, ap, hdr)
	if rf != nil {
		rf.client = &client
		return nil, rf
	}
	renew := b.Options.Has(krb5.OptRenew)
	if !isKrbtgt(tgsAcct) && !renew {
		return nil, &refusal{code: krb5.KRBAPErrNotUs, client: &client,
			text: "a TGS-REQ must present a ticket-granting ticket, not a ticket for " + tgsAcct.Name}
	}
	// The body checksum covers the request body's bytes exactly as they
	// arrived (RFC 4120 §3.3.2, §5.5.1; do not re-encode). As in Active Directory, an
	// authenticator without a checksum is accepted.
	if auth.Cksum != nil {
		if err := session.VerifyChecksum(auth.Cksum.Type, krb5.UsageTGSReqAuthCksum, x.req.RawBody, auth.Cksum.Sum); err != nil {
			if errors.Is(err, krb5.KRBAPErrInappCksum) {
				return nil, &refusal{code: krb5.KRBAPErrInappCksum, client: &client, text: "the authenticator's checksum type " + auth.Cksum.Type.String() + " is not a keyed checksum"}
			}
			return nil, &refusal{code: krb5.KRBAPErrModified, client: &client, text: "the request body does not match the authenticator's checksum (modified in transit?)"}
		}
	}
	clientAcct, ok := x.snap.Lookup(hdr.CName, hdr.CRealm)
	if !ok {
		return nil, &refusal{code: krb5.KDCErrClientRevoked, client: &client, text: "account " + client.String() + " no longer exists"}
	}
	if rf := x.checkClient(clientAcct, &client); rf != nil {
		return nil, rf
	}
	if x.deleg != nil {
		x.deleg.requester = clientAcct.Name
	}
	// The TGT's PAC must verify and still describe this account; service
	// tickets get a PAC built afresh, unless the client asked for none.
	attrs := uint32(pac.AttrPACWasGivenImplicitly)
	authData := withoutPAC(hdr.AuthorizationData)
	if isKrbtgt(tgsAcct) {
		p, ad, rf := k.tgtPAC(x, hdr, tktKey, ap.Ticket.EncPart.KVNO, clientAcct)
		if rf != nil {
			rf.client = &client
			return nil, rf
		}
		authData = ad
		if p.Attributes != nil {
			attrs = p.Attributes.Flags
		}
	}

	s4u, isS4U, rf := x.s4uSelfRequest(session, auth)
	if rf != nil {
		rf.client = &client
		return nil, rf
	}
	isS4U = isS4U && !renew && isKrbtgt(tgsAcct)
	proxy := b.Options.Has(krb5.OptCNameInAddlTkt)
	if !isS4U && !proxy {
		x.deleg = nil // PA-FOR-USER in a renewal or with a service ticket is ignored
	}
	if proxy && (renew || !isKrbtgt(tgsAcct)) {
		return nil, &refusal{code: krb5.KDCErrBadOption, client: &client, text: "S4U2Proxy needs the service's TGT and cannot be a renewal"}
	}

	var (
		g       grant
		server  *directory.Account
		replyPA []wire.PAData
		s4uWhy  string
	)
	switch {
	case proxy:
		server, g, s4uWhy, rf = k.s4u2proxy(x, clientAcct, hdr)
	case isS4U:
		server, g, replyPA, s4uWhy, rf = x.s4u2self(s4u, clientAcct, hdr)
	case renew:
		server = tgsAcct
		g, rf = x.renewal(hdr, &ap.Ticket)
	default:
		server, g, rf = x.newTicket(clientAcct, hdr)
	}
	if rf != nil {
		rf.client = &client
		return nil, rf
	}
	if !isS4U && !proxy {
		g.authData = authData
		if attrs != 0 || isKrbtgt(server) {
			g.pac = x.newPAC(clientAcct, hdr.CName, hdr.AuthTime, attrs)
		}
	}
	sessionET, ok := strongestCommon(b.ETypes, usableETypes(server))
	if !ok {
		return nil, &refusal{code: krb5.KDCErrETypeNoSupp, client: &client,
			text: "none of the requested encryption types (" + etypeList(b.ETypes) + ") is supported by service " + server.Name + " (" + etypeList(usableETypes(server)) + ")"}
	}
	g.sessionET = sessionET
	g.encPA = append(g.encPA, pacOptionsEcho(x.req)...)
	if b.EncAuthData != nil {
		ad, rf := decryptAuthData(b.EncAuthData, auth, session)
		if rf != nil {
			rf.client = &client
			return nil, rf
		}
		g.authData = append(append(wire.AuthorizationData(nil), g.authData...), ad...)
	}
	tkt, newSession, rf := k.issue(x, server, &g)
	if rf != nil {
		return nil, rf
	}
	replyKey, usage := session, krb5.UsageTGSRepEncPartSession
	if auth.SubKey != nil {
		sub, err := crypto.NewKey(auth.SubKey.Type, auth.SubKey.Value)
		if err != nil {
			return nil, &refusal{code: krb5.KDCErrETypeNoSupp, client: &client, text: "the authenticator's subkey has an unsupported type " + auth.SubKey.Type.String()}
		}
		replyKey, usage = sub, krb5.UsageTGSRepEncPartSubkey
	}
	out, rf := k.reply(x, &g, tkt, newSession, replyKey, usage, replyPA)
	if rf != nil {
		return nil, rf
	}
	kind := "tgs.issued"
	if renew {
		kind = "tgs.renewed"
	}
	x.issued = &audit.Event{
		Time: x.now, Type: kind, Client: clientAcct.Principal(x.dom.Realm).String(), Service: g.server.String(),
		Addr: x.addr, EType: sessionET.String(), Flags: krb5.TicketFlagString(g.flags), Until: g.span.end,
	}
	if isS4U || proxy {
		x.issued.Type = "tgs.s4u2self"
		if proxy {
			x.issued.Type = "tgs.s4u2proxy"
		}
		x.issued.Client = g.client.String()
		x.issued.Reason = s4uWhy + "; requested by " + clientAcct.Name
	}
	return out, nil
}

// delegationOf returns the delegation decision a TGS-REQ from client asks
// for, or nil: S4U2Proxy when it has the cname-in-addl-tkt option, S4U2Self
// when it has S4U2Self padata. The user of an S4U2Self request is the one it
// names, that of an S4U2Proxy request is filled in once the evidence ticket
// is opened.
func delegationOf(req *wire.KDCReq, client krb5.Principal) *s4uParties {
	b := &req.Body
	var d *s4uParties
	switch forUser, x509 := s4uPAData(req); {
	case b.Options.Has(krb5.OptCNameInAddlTkt):
		d = &s4uParties{kind: "s4u2proxy"}
	case forUser != nil || x509 != nil:
		d = &s4uParties{kind: "s4u2self", user: claimedS4UUser(req)}
	default:
		return nil // the hot path: an ordinary TGS-REQ allocates nothing here
	}
	d.requester = client.String()
	if b.SName != nil {
		d.target = krb5.Principal{Name: *b.SName, Realm: b.Realm}.String()
	}
	return d
}

// openTicket decrypts the ticket presented in PA-TGS-REQ with the key of the
// service it names and checks its times.
func (k *KDC) openTicket(x *exchange, t *wire.Ticket) (*wire.EncTicketPart, *directory.Account, *crypto.Key, *refusal) {
	if !t.Realm.Equal(x.dom.Realm) {
		return nil, nil, nil, refuse(krb5.KRBAPErrNotUs, "the ticket was issued by realm %s; this KDC serves %s and has no trust with it", t.Realm, x.dom.Realm)
	}
	svc, ok := x.snap.Lookup(t.SName, t.Realm)
	if !ok {
		return nil, nil, nil, refuse(krb5.KRBAPErrNotUs, "the ticket presented is for %s, which is not an account of this domain", t.SName)
	}
	var kvno uint32
	if t.EncPart.HasKVNO {
		kvno = t.EncPart.KVNO
	}
	key, _, ok := x.keys.key(svc, t.EncPart.EType, kvno)
	if !ok {
		return nil, nil, nil, refuse(krb5.KRBAPErrBadKeyVer, "the ticket is sealed with a %s key of version %d that %s no longer has; get a new ticket (kinit)", t.EncPart.EType, kvno, svc.Name)
	}
	plain, err := key.Decrypt(krb5.UsageTicket, t.EncPart.Cipher)
	if err != nil {
		return nil, nil, nil, refuse(krb5.KRBAPErrBadIntegrity, "the ticket does not decrypt with the key of %s; get a new ticket (kinit)", svc.Name)
	}
	etp, err := wire.ParseEncTicketPart(plain)
	if err != nil {
		return nil, nil, nil, refuse(krb5.KRBAPErrBadIntegrity, "the ticket's encrypted part is malformed")
	}
	skew := x.policy.ClockSkew
	start := etp.StartTime
	if start.IsZero() {
		start = etp.AuthTime
	}
	switch {
	case etp.Flags.Has(krb5.TktInvalid) || start.After(x.now.Add(skew)):
		return nil, nil, nil, refuse(krb5.KRBAPErrTktNYV, "the ticket is not valid yet")
	case etp.EndTime.Before(x.now.Add(-skew)):
		return nil, nil, nil, refuse(krb5.KRBAPErrTktExpired, "the ticket expired at %s; get a new one (kinit)", etp.EndTime.UTC().Format(time.RFC3339))
	}
	return etp, svc, key, nil
}

// authenticate decrypts the authenticator with the ticket's session key and
// checks that it names the ticket's client and is fresh.
func (k *KDC) authenticate(x *exchange, ap *wire.APReq, etp *wire.EncTicketPart) (*wire.Authenticator, *crypto.Key, *refusal) {
	session, err := k.sessions.key(etp.Key.Type, etp.Key.Value)
	if err != nil {
		return nil, nil, refuse(krb5.KRBAPErrBadIntegrity, "the ticket's session key has an unsupported type")
	}
	plain, err := session.Decrypt(krb5.UsageTGSReqAuthenticator, ap.Authenticator.Cipher)
	if err != nil {
		return nil, nil, refuse(krb5.KRBAPErrBadIntegrity, "the authenticator does not decrypt with the ticket's session key")
	}
	auth, err := wire.ParseAuthenticator(plain)
	if err != nil {
		return nil, nil, refuse(krb5.KRBAPErrBadIntegrity, "the authenticator is malformed")
	}
	if !auth.CName.Equal(etp.CName) || !auth.CRealm.Equal(etp.CRealm) {
		return nil, nil, refuse(krb5.KRBAPErrBadMatch, "the authenticator names %s but the ticket was issued to %s",
			krb5.Principal{Name: auth.CName, Realm: auth.CRealm}, krb5.Principal{Name: etp.CName, Realm: etp.CRealm})
	}
	if d := x.now.Sub(auth.CTime); d > x.policy.ClockSkew || d < -x.policy.ClockSkew {
		return nil, nil, refuse(krb5.KRBAPErrSkew, "the client's clock is %s away from the KDC's (at most %s allowed); synchronise the clocks", d.Round(time.Second), x.policy.ClockSkew)
	}
	return auth, session, nil
}

// newTicket decides a ticket for the service the request names.
func (x *exchange) newTicket(clientAcct *directory.Account, tgt *wire.EncTicketPart) (*directory.Account, grant, *refusal) {
	b := &x.req.Body
	if b.SName == nil || b.SName.IsZero() {
		return nil, grant{}, refuse(krb5.KDCErrSPrincipalUnknown, "the TGS-REQ names no service")
	}
	sp := krb5.Principal{Name: *b.SName, Realm: b.Realm}
	if !b.Realm.Equal(x.dom.Realm) {
		return nil, grant{}, refuse(krb5.KDCErrSPrincipalUnknown, "service %s is in realm %s; this KDC serves %s and has no trust with it", sp, b.Realm, x.dom.Realm)
	}
	server, ok := x.snap.Lookup(*b.SName, b.Realm)
	if !ok {
		return nil, grant{}, refuse(krb5.KDCErrSPrincipalUnknown, "no service %s in this domain; register the SPN with hop spn add", sp)
	}
	if rf := x.checkServer(server); rf != nil {
		return nil, grant{}, rf
	}
	span, rf := x.lifetimes(clientAcct, server, tgt)
	if rf != nil {
		return nil, grant{}, rf
	}
	g := grant{
		client:   krb5.Principal{Name: tgt.CName, Realm: tgt.CRealm},
		server:   sp,
		authTime: tgt.AuthTime,
		span:     span,
		caddr:    tgt.CAddr,
		flags:    tgt.Flags & (krb5.TktPreAuthent | krb5.TktHWAuthent | krb5.TktForwarded | krb5.TktProxy),
	}
	g.flags |= krb5.TktTransitPolicyChecked
	opts := b.Options
	if opts.Has(krb5.OptForwardable) && tgt.Flags.Has(krb5.TktForwardable) {
		g.flags |= krb5.TktForwardable
	}
	if opts.Has(krb5.OptProxiable) && tgt.Flags.Has(krb5.TktProxiable) {
		g.flags |= krb5.TktProxiable
	}
	if opts.Has(krb5.OptForwarded) {
		if !tgt.Flags.Has(krb5.TktForwardable) {
			return nil, grant{}, refuse(krb5.KDCErrBadOption, "a forwarded ticket was requested but the presented ticket is not forwardable; get a forwardable TGT (kinit -f)")
		}
		g.flags |= krb5.TktForwarded
		g.caddr = b.Addresses
	}
	if opts.Has(krb5.OptProxy) {
		if !tgt.Flags.Has(krb5.TktProxiable) {
			return nil, grant{}, refuse(krb5.KDCErrBadOption, "a proxy ticket was requested but the presented ticket is not proxiable; get a proxiable TGT (kinit -p)")
		}
		if isKrbtgt(server) {
			return nil, grant{}, refuse(krb5.KDCErrBadOption, "a proxy ticket cannot be a ticket-granting ticket (RFC 4120 §2.5); use a forwarded ticket")
		}
		g.flags |= krb5.TktProxy
		g.caddr = b.Addresses
	}
	g.flags = x.delegationFlags(clientAcct, server, g.flags)
	if opts.Has(krb5.OptCanonicalize) {
		g.server.Realm = x.dom.Realm
		if isKrbtgt(server) {
			g.server.Name = krb5.NewName(krb5.NTSrvInst, "krbtgt", string(x.dom.Realm))
		}
	}
	return server, g, nil
}

// renewal decides the renewed copy of the presented ticket (RFC 4120 §3.3.3.1).
func (x *exchange) renewal(tgt *wire.EncTicketPart, t *wire.Ticket) (grant, *refusal) {
	if !tgt.Flags.Has(krb5.TktRenewable) {
		return grant{}, refuse(krb5.KDCErrBadOption, "the ticket is not renewable; get a renewable ticket (kinit -r)")
	}
	now := x.now.Truncate(time.Second)
	if !tgt.RenewTill.After(now) {
		return grant{}, refuse(krb5.KRBAPErrTktExpired, "the ticket's renewable life ended at %s; get a new one (kinit)", tgt.RenewTill.UTC().Format(time.RFC3339))
	}
	start := tgt.StartTime
	if start.IsZero() {
		start = tgt.AuthTime
	}
	end := now.Add(tgt.EndTime.Sub(start))
	if end.After(tgt.RenewTill) {
		end = tgt.RenewTill
	}
	return grant{
		client:   krb5.Principal{Name: tgt.CName, Realm: tgt.CRealm},
		server:   krb5.Principal{Name: t.SName, Realm: t.Realm},
		flags:    tgt.Flags &^ (krb5.TktInitial | krb5.TktInvalid),
		authTime: tgt.AuthTime,
		span:     span{start: now, end: end, renewTill: tgt.RenewTill},
		caddr:    tgt.CAddr,
	}, nil
}

// decryptAuthData opens the request's enc-authorization-data, sealed in the
// authenticator's subkey or else the session key (RFC 4120 §5.4.1).
func decryptAuthData(ed *wire.EncryptedData, auth *wire.Authenticator, session *crypto.Key) (wire.AuthorizationData, *refusal) {
	key, usage := session, krb5.UsageTGSReqAuthDataSess
	if auth.SubKey != nil {
		sub, err := crypto.NewKey(auth.SubKey.Type, auth.SubKey.Value)
		if err != nil {
			return nil, refuse(krb5.KDCErrETypeNoSupp, "the authenticator's subkey has an unsupported type")
		}
		key, usage = sub, krb5.UsageTGSReqAuthDataSubkey
	}
	plain, err := key.Decrypt(usage, ed.Cipher)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "the request's enc-authorization-data does not decrypt")
	}
	ad, err := wire.ParseAuthorizationData(plain)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "the request's authorization data is malformed")
	}
	return ad, nil
}
