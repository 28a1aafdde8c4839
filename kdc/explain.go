package kdc

import (
	"fmt"
	"strings"

	"hop/delegation"
	"hop/directory"
	"hop/krb5"
)

// Explain evaluates, on snap, the decisions the KDC makes when service
// (an account name or SPN) asks for a ticket to target (an SPN) for user:
// with s4u2self, first S4U2Self (protocol transition) and then S4U2Proxy;
// without it, S4U2Proxy with the user's own forwardable service ticket, or
// unconstrained delegation when the service is trusted for it. It runs the
// KDC's own decision functions, so what it says is what the KDC does.
func Explain(snap *directory.Snapshot, user, service, target string, s4u2self bool) (*delegation.Explanation, error) {
	realm := snap.Domain().Realm
	lookup := func(what, name string) (*directory.Account, error) {
		if a, ok := snap.Account(name); ok {
			return a, nil
		}
		p, err := krb5.ParsePrincipal(name)
		if err == nil {
			if p.Realm == "" {
				p.Realm = realm
			}
			if a, ok := snap.Lookup(p.Name, p.Realm); ok {
				return a, nil
			}
		}
		return nil, fmt.Errorf("no %s %q in this domain", what, name)
	}
	u, err := lookup("user", user)
	if err != nil {
		return nil, err
	}
	svc, err := lookup("service", service)
	if err != nil {
		return nil, serviceHint(snap, service, err)
	}
	tp, err := krb5.ParsePrincipal(target)
	if err != nil || len(tp.Name.Components) < 2 {
		return nil, fmt.Errorf("target %q is not an SPN such as cifs/c.example.test", target)
	}
	tgt, err := lookup("target service", target)
	if err != nil {
		return nil, err
	}
	e := &delegation.Explanation{User: u.Name, Service: svc.Name, Target: strings.Join(tp.Name.Components, "/"), S4U2Self: s4u2self}
	add := func(name string, passed bool, detail string) bool {
		e.Checks = append(e.Checks, delegation.Check{Name: name, Passed: passed, Detail: detail})
		return passed
	}
	if !add("user-enabled", !u.Disabled, u.Name+" is "+map[bool]string{true: "disabled", false: "enabled"}[u.Disabled]) {
		e.Rule, e.Reason = "user-disabled", u.Name+" is disabled: it gets no tickets (hop account enable "+u.Name+")"
		return e, nil
	}
	var forwardable bool
	if s4u2self {
		var why string
		forwardable, _, why = selfForwardable(snap, svc, u, true, !snap.IsSensitive(svc.Name))
		add("s4u2self-forwardable", forwardable, "S4U2Self ticket "+why)
	} else {
		forwardable = !snap.IsSensitive(u.Name)
		add("user-ticket-forwardable", forwardable, u.Name+"'s tickets are "+map[bool]string{true: "", false: "not "}[forwardable]+"forwardable (sensitive accounts and Protected Users get none)")
		if svc.TrustedForDelegation && add("unconstrained", forwardable, svc.Name+" is trusted for delegation: clients forward their TGT to it (OK-AS-DELEGATE)") {
			e.Allowed, e.Rule = true, "unconstrained"
			e.Reason = u.Name + " forwards a TGT to " + svc.Name + ", which can then get any ticket as " + u.Name + " (unconstrained delegation; consider constrained or resource-based delegation instead)"
			return e, nil
		}
	}
	d := proxyPolicy(snap, svc, tgt, u, e.Target, true, forwardable)
	e.Checks = append(e.Checks, d.checks...)
	e.Allowed, e.Rule, e.Reason = d.allowed, d.rule, d.reason
	if !d.allowed {
		e.Code, e.NTStatus = krb5.KDCErrBadOption.String(), d.status.String()
	}
	return e, nil
}

// serviceHint adds to err, Explain's failure to find the service named
// name, the name to give instead when name is a host's (b.example.test):
// its computer account's (b$), which holds host/NAME.
func serviceHint(snap *directory.Snapshot, name string, err error) error {
	if name == "" || strings.ContainsAny(name, "/@") {
		return err
	}
	if a, ok := snap.Lookup(krb5.PrincipalName{Type: krb5.NTSrvHst, Components: []string{"host", name}}, snap.Domain().Realm); ok {
		return fmt.Errorf("%w: %s is the host of the computer account %s; give the service as %s (or an SPN such as host/%s)", err, name, a.Name, a.Name, strings.ToLower(name))
	}
	return fmt.Errorf("%w: give the service's account name (a computer's is NAME$, e.g. b$) or one of its SPNs", err)
}
