package kdc

import (
	"io"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
)

// span is a ticket's validity.
type span struct {
	start, end time.Time
	renewTill  time.Time // zero unless renewable
}

// infinite reports whether a requested time means "as long as allowed": absent,
// or the epoch that some clients send for "no limit" (RFC 4120 §5.4.1).
func infinite(t time.Time) bool { return t.IsZero() || t.Unix() <= 0 }

// minLife is the shortest lifetime worth issuing; a shorter one is refused
// with KDC_ERR_NEVER_VALID (RFC 4120 §3.1.3).
const minLife = 5 * time.Second

// lifetimes computes a new ticket's validity from the request, the policy,
// both accounts and, for the TGS, the ticket the request presents
// (RFC 4120 §3.1.3, §3.3.3).
func (x *exchange) lifetimes(client, server *directory.Account, tgt *wire.EncTicketPart) (span, *refusal) {
	b := &x.req.Body
	start := x.now.Truncate(time.Second)
	if !infinite(b.From) && b.From.After(x.now.Add(x.policy.ClockSkew)) {
		return span{}, refuse(krb5.KDCErrCannotPostdate,
			"the requested start time %s is in the future and this KDC does not issue postdated tickets; request a ticket that starts now",
			b.From.UTC().Format(time.RFC3339))
	}
	life := capDuration(x.policy.MaxTicketLife, client.MaxTicketLife, server.MaxTicketLife)
	end := start.Add(life)
	if !infinite(b.Till) && b.Till.Before(end) {
		end = b.Till
	}
	if tgt != nil && tgt.EndTime.Before(end) {
		end = tgt.EndTime
	}
	if end.Sub(start) < minLife {
		return span{}, refuse(krb5.KDCErrNeverValid,
			"the requested end time %s leaves no usable lifetime (the ticket would start at %s)",
			end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	s := span{start: start, end: end}

	want := b.Options.Has(krb5.OptRenewable)
	rtill := b.RTime
	if !want && b.Options.Has(krb5.OptRenewableOK) && (infinite(b.Till) || b.Till.After(end)) {
		want, rtill = true, b.Till
	}
	if !want || (tgt != nil && !tgt.Flags.Has(krb5.TktRenewable)) {
		return s, nil
	}
	maxRenew := capDuration(x.policy.MaxRenewLife, client.MaxRenewLife, server.MaxRenewLife)
	if maxRenew <= 0 {
		return s, nil
	}
	rt := start.Add(maxRenew)
	if !infinite(rtill) && rtill.Before(rt) {
		rt = rtill
	}
	if tgt != nil && tgt.RenewTill.Before(rt) {
		rt = tgt.RenewTill
	}
	if rt.Before(end) {
		rt = end
	}
	s.renewTill = rt
	return s, nil
}

// capped limits the span to d from its start.
func (s span) capped(d time.Duration) span {
	if lim := s.start.Add(d); s.end.After(lim) {
		s.end = lim
	}
	if lim := s.start.Add(d); s.renewTill.After(lim) {
		s.renewTill = lim
	}
	if !s.renewTill.IsZero() && s.renewTill.Before(s.end) {
		s.renewTill = s.end
	}
	return s
}

// delegationFlags applies the delegation settings to a new ticket's flags:
// no forwardable or proxiable ticket for a client that is sensitive or in
// Protected Users (MS-KILE §3.3.5.6; at the TGS too, which is hop's stricter
// reading: "no delegation of any kind"), and OK-AS-DELEGATE on tickets to a
// service trusted for (unconstrained) delegation (MS-KILE §3.3.5.1).
func (x *exchange) delegationFlags(client, server *directory.Account, f krb5.Flags) krb5.Flags {
	if x.snap.IsSensitive(client.Name) {
		f &^= krb5.TktForwardable | krb5.TktProxiable
	}
	if server.TrustedForDelegation && !isKrbtgt(server) {
		f |= krb5.TktOKAsDelegate
	}
	return f
}

// capDuration returns the domain's limit lowered by any per-account limits.
func capDuration(domain time.Duration, accounts ...time.Duration) time.Duration {
	d := domain
	for _, a := range accounts {
		if a > 0 && a < d {
			d = a
		}
	}
	return d
}

// grant is everything that goes into a new ticket.
type grant struct {
	client    krb5.Principal // cname/crealm as the ticket and reply carry them
	server    krb5.Principal // sname/realm
	flags     krb5.Flags
	authTime  time.Time
	span      span
	caddr     []wire.HostAddress
	authData  wire.AuthorizationData // without a PAC
	pac       *pac.PAC               // signed and added by issue; nil = no PAC
	forcePAC  bool                   // add pac even to a no-auth-data-required service
	encPA     []wire.PAData          // encrypted padata of the reply
	sessionET krb5.EncType
}

// ticketEType picks the type of the service key that seals a ticket: the
// strongest one the client also lists, else the service's strongest. The
// client never decrypts the ticket, but some clients (impacket) refuse to
// store a ticket whose type they do not know, such as the RFC 8009 types.
func ticketEType(requested, service []krb5.EncType) (krb5.EncType, bool) {
	if e, ok := strongestCommon(requested, service); ok {
		return e, true
	}
	return strongest(service)
}

// issue creates the session key and the ticket encrypted in the service's
// key chosen by ticketEType.
func (k *KDC) issue(x *exchange, svc *directory.Account, g *grant) (wire.Ticket, wire.EncryptionKey, *refusal) {
	tktET, ok := ticketEType(x.req.Body.ETypes, usableETypes(svc))
	if !ok {
		return wire.Ticket{}, wire.EncryptionKey{}, refuse(krb5.KDCErrETypeNoSupp, "service %s has no usable keys; set its password or give it a random key (hop account passwd)", svc.Name)
	}
	svcKey, kvno, ok := x.keys.key(svc, tktET, 0)
	if !ok {
		return wire.Ticket{}, wire.EncryptionKey{}, refuse(krb5.KDCErrETypeNoSupp, "service %s has no usable %s key", svc.Name, tktET)
	}
	// The KDC never encrypts with the new session key, so it needs only its
	// bytes (the random-to-key function of every type is the identity).
	session := wire.EncryptionKey{Type: g.sessionET, Value: make([]byte, crypto.KeySize(g.sessionET))}
	if _, err := io.ReadFull(k.rand, session.Value); err != nil {
		return wire.Ticket{}, wire.EncryptionKey{}, k.internal("generate session key", err)
	}
	flags := g.flags
	if g.span.renewTill.IsZero() {
		flags &^= krb5.TktRenewable
	} else {
		flags |= krb5.TktRenewable
	}
	etp := wire.EncTicketPart{
		Flags:             flags,
		Key:               session,
		CRealm:            g.client.Realm,
		CName:             g.client.Name,
		Transited:         wire.TransitedEncoding{Type: krb5.TransitedDomainX500Compress},
		AuthTime:          g.authTime,
		StartTime:         g.span.start,
		EndTime:           g.span.end,
		RenewTill:         g.span.renewTill,
		CAddr:             g.caddr,
		AuthorizationData: g.authData,
	}
	if g.pac != nil && (!svc.NoAuthDataRequired || g.forcePAC) {
		if rf := k.sealPAC(x, &etp, g.pac, svc, svcKey); rf != nil {
			return wire.Ticket{}, wire.EncryptionKey{}, rf
		}
	}
	plain, err := etp.Marshal()
	if err != nil {
		return wire.Ticket{}, wire.EncryptionKey{}, k.internal("encode ticket", err)
	}
	cipher, err := svcKey.Encrypt(k.rand, krb5.UsageTicket, plain)
	if err != nil {
		return wire.Ticket{}, wire.EncryptionKey{}, k.internal("encrypt ticket", err)
	}
	g.flags = flags
	return wire.Ticket{
		Realm:   g.server.Realm,
		SName:   g.server.Name,
		EncPart: wire.EncryptedData{EType: tktET, KVNO: kvno, HasKVNO: true, Cipher: cipher},
	}, session, nil
}

// reply encodes the AS-REP or TGS-REP whose encrypted part is sealed in
// replyKey with usage.
func (k *KDC) reply(x *exchange, g *grant, tkt wire.Ticket, session wire.EncryptionKey, replyKey *crypto.Key, usage krb5.KeyUsage, pa []wire.PAData) ([]byte, *refusal) {
	part := wire.EncKDCRepPart{
		Key:       session,
		LastReq:   []wire.LastReq{{Type: 0, Value: g.authTime}},
		Nonce:     x.req.Body.Nonce,
		Flags:     g.flags,
		AuthTime:  g.authTime,
		StartTime: g.span.start,
		EndTime:   g.span.end,
		RenewTill: g.span.renewTill,
		SRealm:    g.server.Realm,
		SName:     g.server.Name,
		CAddr:     g.caddr,
		EncPAData: g.encPA,
	}
	tag, mt := wire.TagEncTGSRepPart, krb5.MsgTGSRep
	if x.req.MsgType == krb5.MsgASReq {
		tag, mt = wire.TagEncASRepPart, krb5.MsgASRep
	}
	plain, err := part.Marshal(tag)
	if err != nil {
		return nil, k.internal("encode reply", err)
	}
	cipher, err := replyKey.Encrypt(k.rand, usage, plain)
	if err != nil {
		return nil, k.internal("encrypt reply", err)
	}
	rep := wire.KDCRep{
		MsgType: mt,
		PAData:  pa,
		CRealm:  g.client.Realm,
		CName:   g.client.Name,
		Ticket:  tkt,
		EncPart: wire.EncryptedData{EType: replyKey.EncType(), Cipher: cipher},
	}
	b, err := rep.Marshal()
	if err != nil {
		return nil, k.internal("encode reply", err)
	}
	return b, nil
}

// internal logs an unexpected failure and returns a refusal that reveals
// nothing about it.
func (k *KDC) internal(what string, err error) *refusal {
	k.log.Error("kdc: "+what, "err", err)
	return refuse(krb5.KRBErrGeneric, "internal error in the KDC (%s); see its log", what)
}
