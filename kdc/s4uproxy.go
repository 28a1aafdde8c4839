package kdc

import (
	"strings"

	"hop/delegation"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
)

// proxyDecision is the outcome of the S4U2Proxy delegation rules
// (MS-SFU §3.2.5.2.1 and §3.2.5.2.3), in words a person can act on.
type proxyDecision struct {
	allowed bool
	rule    string        // "kcd", "rbcd", or the rule that refused
	status  wire.NTStatus // the NTSTATUS of a refusal, as Windows sends it
	reason  string
	checks  []delegation.Check
}

func (d *proxyDecision) check(name string, passed bool, detail string) bool {
	d.checks = append(d.checks, delegation.Check{Name: name, Passed: passed, Detail: detail})
	return passed
}

func (d *proxyDecision) refuse(rule string, status wire.NTStatus, reason string) proxyDecision {
	d.allowed, d.rule, d.status, d.reason = false, rule, status, reason
	return *d
}

// proxyPolicy decides whether svc may obtain a ticket to targetSPN (the
// account target) on behalf of user, with an evidence ticket that is or is
// not forwardable. Classic constrained delegation is checked first, then
// resource-based delegation when the client asked for it (PA-PAC-OPTIONS);
// then the evidence ticket must be forwardable. hop also refuses a user who
// is sensitive or in Protected Users here, whatever the ticket says.
// hop delegation explain runs this same function.
func proxyPolicy(snap *directory.Snapshot, svc, target, user *directory.Account, targetSPN string, rbcd, forwardable bool) proxyDecision {
	var d proxyDecision
	kcd := containsFold(svc.AllowedToDelegateTo, targetSPN)
	switch {
	case d.check("kcd", kcd, kcdDetail(svc, targetSPN, kcd)):
		d.allowed, d.rule, d.reason = true, "kcd", targetSPN+" is in "+svc.Name+"'s allowed-to-delegate-to list (classic constrained delegation)"
	case !rbcd:
		d.check("rbcd", false, "the client did not ask for resource-based delegation (PA-PAC-OPTIONS)")
		if len(svc.AllowedToDelegateTo) == 0 {
			return d.refuse("no-kcd", wire.StatusNotSupported, svc.Name+" has no constrained delegation (its allowed-to-delegate-to list is empty) and the request did not ask for resource-based delegation; a domain admin can allow it with: hop account set "+svc.Name+" --allowed-to-delegate-to "+targetSPN)
		}
		return d.refuse("kcd-no-match", wire.StatusNoMatch, targetSPN+" is not in "+svc.Name+"'s allowed-to-delegate-to list ("+strings.Join(svc.AllowedToDelegateTo, ", ")+")")
	default:
		ok, _ := snap.AllowedToAct(target.Name, svc.Name)
		list := strings.Join(snap.NamesOf(target.AllowedToActOnBehalfOf), ", ")
		if list == "" {
			list = "empty"
		}
		if !d.check("rbcd", ok, target.Name+"'s allowed-to-act list ("+list+") "+map[bool]string{true: "includes", false: "does not include"}[ok]+" "+svc.Name) {
			return d.refuse("rbcd-not-allowed", wire.StatusNotFound, svc.Name+" may not delegate to "+target.Name+": it is neither in "+svc.Name+"'s allowed-to-delegate-to list nor in "+target.Name+"'s allowed-to-act list; a manager of "+target.Name+" can allow it with: hop account set "+target.Name+" --allowed-to-act +"+svc.Name)
		}
		d.allowed, d.rule, d.reason = true, "rbcd", svc.Name+" is allowed to act on behalf of other identities on "+target.Name+" (resource-based constrained delegation)"
	}
	rule, reason := d.rule, d.reason
	if !d.check("protected-users", !snap.InProtectedUsers(user.Name), user.Name+" is "+map[bool]string{true: "", false: "not "}[snap.InProtectedUsers(user.Name)]+"in Protected Users") {
		return d.refuse("protected-user", wire.StatusAccountRestriction, user.Name+" is in Protected Users: no delegation is possible for this account; remove it from the group or use remote-guard")
	}
	if !d.check("sensitive", !user.Sensitive, user.Name+" is "+map[bool]string{true: "", false: "not "}[user.Sensitive]+"marked sensitive") {
		return d.refuse("sensitive-user", wire.StatusAccountRestriction, user.Name+" is sensitive and cannot be delegated (hop account set "+user.Name+" --sensitive=false to allow it)")
	}
	if !d.check("evidence-forwardable", forwardable, "the user's ticket to "+svc.Name+" is "+map[bool]string{true: "", false: "not "}[forwardable]+"forwardable") {
		return d.refuse("evidence-not-forwardable", wire.StatusAccountRestriction, "the user's ticket to "+svc.Name+" is not forwardable; for S4U2Self tickets give "+svc.Name+" protocol transition (hop account set "+svc.Name+" --protocol-transition)")
	}
	d.rule, d.reason = rule, reason
	return d
}

func kcdDetail(svc *directory.Account, spn string, ok bool) string {
	if len(svc.AllowedToDelegateTo) == 0 {
		return svc.Name + "'s allowed-to-delegate-to list is empty"
	}
	return svc.Name + "'s allowed-to-delegate-to list (" + strings.Join(svc.AllowedToDelegateTo, ", ") + ") " + map[bool]string{true: "includes", false: "does not include"}[ok] + " " + spn
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// s4u2proxy decides an S4U2Proxy ticket (MS-SFU §3.2.5.2): svc presents a
// user's ticket to itself (the evidence ticket) and asks for a ticket to
// another service in the user's name. The evidence ticket is opened with
// the key of the account its sname names and must be svc's; its PAC must
// carry valid server, KDC, ticket and full signatures (MS-SFU §3.2.5.2.2):
// the ticket signature is what catches a forwardable flag set by the
// service itself (CVE-2020-17049, "Bronze Bit").
func (k *KDC) s4u2proxy(x *exchange, svc *directory.Account, tgt *wire.EncTicketPart) (*directory.Account, grant, string, *refusal) {
	fail := func(rule string, code krb5.ErrorCode, format string, args ...any) (*directory.Account, grant, string, *refusal) {
		return nil, grant{}, "", refuse(code, format, args...).ruled(rule)
	}
	b := &x.req.Body
	if len(b.AdditionalTickets) != 1 {
		return fail("s4u2proxy-request", krb5.KDCErrBadOption, "S4U2Proxy needs exactly one additional ticket: the user's ticket to the requesting service")
	}
	if b.Options&(krb5.OptForwarded|krb5.OptProxy|krb5.OptRenew) != 0 {
		return fail("s4u2proxy-request", krb5.KDCErrBadOption, "S4U2Proxy cannot be combined with forwarded, proxy or renew")
	}
	if b.SName == nil || b.SName.IsZero() {
		return fail("unknown-target", krb5.KDCErrSPrincipalUnknown, "the TGS-REQ names no service")
	}
	if !b.Realm.Equal(x.dom.Realm) {
		return fail("cross-realm-target", krb5.KDCErrBadOption, "delegation to %s in realm %s: constrained delegation stays in one realm and this KDC, which serves %s, has no trust for resource-based delegation", *b.SName, b.Realm, x.dom.Realm)
	}
	target, ok := x.snap.Lookup(*b.SName, b.Realm)
	if !ok {
		return fail("unknown-target", krb5.KDCErrSPrincipalUnknown, "no service %s in this domain", *b.SName)
	}
	if isKrbtgt(target) {
		return fail("target-is-krbtgt", krb5.KDCErrPolicy, "S4U2Proxy cannot yield a ticket-granting ticket")
	}
	if rf := x.checkServer(target); rf != nil {
		return nil, grant{}, "", rf.ruled("target-unusable")
	}

	// The evidence ticket must name the requesting service (checked before
	// it is opened, as Windows does: a ticket whose sname was rewritten to
	// krbtgt is refused with KDC_ERR_BADOPTION), then open with its key.
	ev := &b.AdditionalTickets[0]
	if evSvc, ok := x.snap.Lookup(ev.SName, ev.Realm); !ok || evSvc != svc || !ev.Realm.Equal(x.dom.Realm) {
		whose := ""
		if ok {
			// Only for the audit event: whose ticket it is, when the
			// account it names can open it.
			if etp, _, _, rf := k.openTicket(x, ev); rf == nil {
				x.deleg.user = krb5.Principal{Name: etp.CName, Realm: etp.CRealm}.String()
				whose = x.deleg.user + "'s "
			}
		}
		return fail("evidence-wrong-service", krb5.KDCErrBadOption, "the additional ticket is %sticket to %s, not to the requesting service %s: S4U2Proxy needs the user's ticket to %s", whose, krb5.Principal{Name: ev.SName, Realm: ev.Realm}, svc.Name, svc.Name)
	}
	evEtp, _, evKey, rf := k.openTicket(x, ev)
	if rf != nil {
		return nil, grant{}, "", rf.ruled("evidence-unusable")
	}
	userP := krb5.Principal{Name: evEtp.CName, Realm: evEtp.CRealm}
	x.deleg.user = userP.String()
	evPAC, rf := k.evidencePAC(x, evEtp, evKey, svc)
	if rf != nil {
		return nil, grant{}, "", rf
	}
	user, ok := x.snap.Lookup(evEtp.CName, evEtp.CRealm)
	if !ok {
		return fail("user-unknown", krb5.KDCErrCPrincipalUnknown, "the user %s of the additional ticket no longer exists", userP)
	}
	if rf := x.checkClient(user, &userP); rf != nil {
		return nil, grant{}, "", rf.ruled("user-unusable")
	}
	opts, _ := requestPACOptions(x.req)
	rbcd := opts.Has(wire.PACOptResourceBasedDelegation)
	spn := strings.Join(b.SName.Components, "/")
	d := proxyPolicy(x.snap, svc, target, user, spn, rbcd, evEtp.Flags.Has(krb5.TktForwardable))
	if !d.allowed {
		edata, err := wire.MarshalNTStatusEData(d.status, true)
		if err != nil {
			return nil, grant{}, "", k.internal("encode KERB-ERROR-DATA", err)
		}
		return nil, grant{}, "", &refusal{code: krb5.KDCErrBadOption, rule: d.rule, edata: edata,
			text: "delegation of " + userP.String() + " by " + svc.Name + " to " + spn + " refused (" + d.rule + ", " + d.status.String() + "): " + d.reason}
	}

	span, rf := x.lifetimes(user, target, tgt)
	if rf != nil {
		return nil, grant{}, "", rf
	}
	if evEtp.EndTime.Before(span.end) {
		span.end = evEtp.EndTime
		if !span.renewTill.IsZero() && span.renewTill.Before(span.end) {
			span.renewTill = span.end
		}
	}
	// The PAC is the evidence ticket's, with S4U_DELEGATION_INFO naming the
	// target and the services it passed through (MS-PAC §2.9, MS-SFU
	// §3.2.5.2.4).
	p := *evPAC
	di := pac.DelegationInfo{}
	if evPAC.DelegationInfo != nil {
		di.TransitedServices = append(di.TransitedServices, evPAC.DelegationInfo.TransitedServices...)
	}
	di.S4U2ProxyTarget = spn
	di.TransitedServices = append(di.TransitedServices, krb5.Principal{Name: ev.SName, Realm: x.dom.Realm}.String())
	p.DelegationInfo = &di
	g := grant{
		client:   userP,
		server:   krb5.Principal{Name: *b.SName, Realm: b.Realm},
		flags:    krb5.TktForwardable | krb5.TktTransitPolicyChecked | evEtp.Flags&krb5.TktPreAuthent,
		authTime: evEtp.AuthTime,
		span:     span,
		pac:      &p,
	}
	g.flags = x.delegationFlags(user, target, g.flags)
	return target, g, d.rule + ": " + d.reason, nil
}

// evidencePAC returns the verified PAC of an evidence ticket. Its server
// signature must verify with the key that sealed the ticket, and its KDC,
// ticket and full signatures with a krbtgt key: the current one or, for a
// ticket issued before a krbtgt key change, one of the previous
// generations the directory keeps (each try compares in constant time).
// Any failure is KRB_AP_ERR_MODIFIED (MS-SFU §3.2.5.2.2).
func (k *KDC) evidencePAC(x *exchange, etp *wire.EncTicketPart, evKey *crypto.Key, svc *directory.Account) (*pac.PAC, *refusal) {
	raw, found, err := pac.FromAuthorizationData(etp.AuthorizationData)
	if err != nil || !found {
		return nil, refuse(krb5.KRBAPErrModified, "the user's ticket to %s carries no valid PAC", svc.Name).ruled("evidence-pac")
	}
	in, err := pac.TicketSigningInput(etp)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrModified, "the user's ticket to %s carries no valid PAC", svc.Name).ruled("evidence-pac")
	}
	modified := refuse(krb5.KRBAPErrModified, "the PAC of the user's ticket to %s does not verify: the ticket was altered (for instance its forwardable flag set by the service, CVE-2020-17049) or signed with a krbtgt key this KDC no longer keeps", svc.Name).ruled("evidence-pac")
	if _, err := pac.Verify(raw, evKey, nil, pac.SignOptions{}); err != nil {
		return nil, modified
	}
	kvnos := x.krbtgtGenerations()
	if len(kvnos) == 0 {
		return nil, k.internal("verify PAC", errNoKrbtgt)
	}
	for _, kvno := range kvnos {
		kdcKey, ok := x.kdcSigningKey(kvno)
		if !ok {
			continue
		}
		if p, err := pac.Verify(raw, nil, kdcKey, pac.SignOptions{Ticket: in}); err == nil {
			return p, nil
		}
	}
	return nil, modified
}
