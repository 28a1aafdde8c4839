package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"hop/audit"
	"hop/broker"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/pac"
	"hop/remoting"
)

// delegationMode decides a session's delegation mode: the client's choice
// (delegate@hop); without one, forward when the client delegated a
// credential in its authentication (OpenSSH's ssh -K) and the endpoint
// allows it, else none. A refusal is the one-line reason.
func (s *session) delegationMode(e *Endpoint) (remoting.Mode, string) {
	s.mu.Lock()
	m, why := s.delegate, s.delegateErr
	s.mu.Unlock()
	if why != "" {
		return "", why
	}
	delegated := s.c.hasDelegatedTGT()
	if m == "" {
		if delegated && e.allows(remoting.ModeForward) {
			return remoting.ModeForward, ""
		}
		return remoting.ModeNone, ""
	}
	if !e.allows(m) {
		names := make([]string, len(e.Delegation))
		for i, d := range e.Delegation {
			names[i] = string(d)
		}
		return "", fmt.Sprintf("the endpoint %s on %s does not allow --delegate %s; it allows %s", e.Name, s.a.cfg.Host, m, strings.Join(names, ", "))
	}
	if m == remoting.ModeForward && !delegated {
		return "", "--delegate forward was asked, but the client forwarded no ticket-granting ticket when it authenticated"
	}
	if m == remoting.ModeCredSSP {
		if why := s.c.notDelegable(); why != "" {
			return "", "--delegate credssp refused: " + why
		}
		if !s.passedOwnCredential() {
			return "", "--delegate credssp needs your password, which hop exec sends with it: no credential for " + s.c.id.Principal.String() + " came with the session"
		}
	}
	if m == remoting.ModeRestrictedAdmin && !s.c.id.Admin {
		return "", fmt.Sprintf("--delegate restricted-admin is for members of %s (admin_groups of %s): %s is not one", strings.Join(s.a.cfg.AdminGroups, " or "), s.a.cfg.Host, s.c.id.Principal)
	}
	return m, ""
}

// hasDelegatedTGT reports whether the client forwarded a TGT in its
// GSS-API authentication, without copying its key.
func (c *conn) hasDelegatedTGT() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gss == nil || c.gss.Delegated() == nil {
		return false
	}
	for _, t := range c.gss.Delegated().Tickets {
		if len(t.SName.Components) == 2 && t.SName.Components[0] == "krbtgt" {
			return true
		}
	}
	return false
}

// delegatedTGT returns a copy of the TGT the client forwarded in its
// GSS-API authentication (RFC 4121 §4.1.1.1), nil if none; the caller
// zeroes its key.
func (c *conn) delegatedTGT() *client.Credential {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gss == nil || c.gss.Delegated() == nil {
		return nil
	}
	creds, err := c.gss.Delegated().Credentials()
	if err != nil {
		return nil
	}
	var tgt *client.Credential
	for _, cr := range creds {
		if tgt == nil && len(cr.Server.Name.Components) == 2 && cr.Server.Name.Components[0] == "krbtgt" {
			tgt = cr
			continue
		}
		cr.SessionKey.Zero()
	}
	return tgt
}

// brokerConfig is the credential broker of a session run as u in mode m:
// whose tickets it obtains, and how.
func (s *session) brokerConfig(e *Endpoint, u *localUser, m remoting.Mode) (broker.Config, error) {
	a := s.a
	id := s.c.id
	c := broker.Config{
		RuntimeDir: a.cfg.RuntimeDir, SessionID: s.id, UID: u.UID, GID: u.GID,
		Principal: id.Principal, HostKrb5Conf: a.hostKrb5Conf,
		Logger: a.logger.With("session", s.id),
		Mode:   m, Allowed: e.Delegation, Host: a.cfg.Host, HostService: a.spn, Endpoint: e.Name, User: id.Principal,
	}
	switch {
	case e.Type == TypeRunAs && e.Keytab != "":
		if err := a.cfg.checkEndpointKeytab(e); err != nil {
			return c, err
		}
		p, iss, err := s.keytabIdentity(e.Keytab, "")
		if err != nil {
			return c, err
		}
		c.Principal, c.Issuer = p, iss
	case e.Type == TypeJEA:
		// The host's identity, or the endpoint's network identity; never
		// the user's (the audit names the user).
		c.Principal = a.spn
		c.Issuer = hostIdentity(a.keytab, a.spn, a.kdc.Addrs, a.now)
		if path, name := e.jea.policy.Network(); path != "" {
			if err := a.cfg.checkEndpointKeytab(e); err != nil {
				return c, err
			}
			p, iss, err := s.keytabIdentity(path, name)
			if err != nil {
				return c, err
			}
			c.Principal, c.Issuer = p, iss
		}
	case e.Type == TypeRunAs:
		// No keytab: the session has no Kerberos identity of its own.
	case m == remoting.ModeForward:
		tgt := s.c.delegatedTGT()
		if tgt == nil {
			return c, fmt.Errorf("the client forwarded no ticket-granting ticket")
		}
		c.Initial = []*client.Credential{tgt}
		c.Issuer = &broker.Forwarded{TGT: tgt, KDC: a.kdc}
	case m == remoting.ModeRestrictedAdmin:
		// The host's own identity: a second hop happens as the host, never
		// as the user; the user's ticket to this host (the connection's
		// logon) is not given to the broker.
		c.Principal = a.spn
		c.Issuer = hostIdentity(a.keytab, a.spn, a.kdc.Addrs, a.now)
	case m == remoting.ModeRemoteGuard:
		c.Issuer = &broker.RemoteGuard{Client: id.Principal, Ask: s.askClient}
	case m == remoting.ModeConstrained:
		s.c.mu.Lock()
		x := s.c.gss.Accepted()
		s.c.mu.Unlock()
		c.Issuer = &broker.Constrained{
			Evidence: &client.Credential{Client: id.Principal, Server: x.Server, Ticket: x.Sealed},
			Service:  a.spn, ServiceTGT: a.host.TGT, KDC: a.kdc,
		}
	}
	c.OnTicket = func(ev broker.TicketEvent) { s.ticketEvent(c, ev) }
	return c, nil
}

// ticketEvent audits a ticket the session's broker obtained or was
// refused, naming the whole chain: who, through which host and session,
// in which mode, to what.
func (s *session) ticketEvent(c broker.Config, ev broker.TicketEvent) {
	a := s.a
	e := audit.Event{Type: "broker.issued", Client: c.User.String(), Service: a.spn.String(), Addr: s.c.addr,
		Actor: ev.Client.String(), Target: ev.Target.String(), Flags: fmt.Sprintf("session=%s,mode=%s", s.id, c.Mode)}
	chain := fmt.Sprintf("%s via %s (session %s, mode %s, endpoint %s) to %s", c.User, a.cfg.Host, s.id, c.Mode, c.Endpoint, ev.Target)
	if ev.Client.String() != c.User.String() {
		chain = fmt.Sprintf("%s as %s via %s (session %s, mode %s, endpoint %s) to %s", c.User, ev.Client, a.cfg.Host, s.id, c.Mode, c.Endpoint, ev.Target)
	}
	if ev.Err != nil {
		e.Type = "broker.refused"
		var kerr *client.Error
		if errors.As(ev.Err, &kerr) {
			e.Code = kerr.Code.String()
		}
		e.Reason = chain + ": refused: " + ev.Err.Error()
		a.logger.Info("broker: ticket refused", "session", s.id, "target", ev.Target.String(), "err", ev.Err)
	} else {
		e.Reason = chain + ": issued"
		a.logger.Info("broker: ticket issued", "session", s.id, "target", ev.Target.String())
	}
	a.emit(e)
}

// keytabIdentity is the identity of the keytab at path: the principal
// name (in the host's realm when it names none), else the keytab's first,
// the client principal MIT's library takes from a client keytab.
func (s *session) keytabIdentity(path, name string) (krb5.Principal, broker.Issuer, error) {
	kt := &hostKeytab{path: path}
	var p krb5.Principal
	if name != "" {
		var err error
		if p, err = krb5.ParsePrincipal(name); err != nil {
			return p, nil, fmt.Errorf("agent: network_identity %q: %w", name, err)
		}
		if p.Realm == "" {
			p.Realm = s.a.spn.Realm
		}
	} else {
		k, err := kt.get()
		if err != nil {
			return p, nil, err
		}
		if len(k.Entries) == 0 {
			return p, nil, fmt.Errorf("agent: the keytab %s is empty", path)
		}
		p = k.Entries[0].Principal
	}
	return p, &broker.Keytab{Principal: p, Key: func() (*crypto.Key, error) { return kt.clientKey(p) }, KDC: s.a.kdc}, nil
}

// passedSecret is a credential@hop request's name and secret, kept only
// until the session starts.
type passedSecret struct {
	name   string
	secret []byte
}

// takePassed logs on with the credentials passed into the session, zeroes
// their secrets and returns the TGTs; a refusal is the one-line reason.
func (s *session) takePassed(ctx context.Context) ([]broker.Passed, string) {
	a := s.a
	s.mu.Lock()
	pending, why := s.passed, s.passedErr
	s.passed = nil
	s.mu.Unlock()
	defer func() {
		for _, p := range pending {
			clear(p.secret)
		}
	}()
	if why != "" {
		return nil, why
	}
	var out []broker.Passed
	fail := func(msg string) ([]broker.Passed, string) {
		for _, p := range out {
			p.TGT.SessionKey.Zero()
		}
		return nil, msg
	}
	for _, p := range pending {
		pr, err := krb5.ParsePrincipal(p.name)
		if err != nil {
			return fail(fmt.Sprintf("--pass-credential %s: not an account name", p.name))
		}
		if pr.Realm == "" {
			pr.Realm = a.spn.Realm
		}
		tgt, err := a.kdc.LoginWithPassword(ctx, pr, p.secret)
		ev := audit.Event{Type: "session.credential", Client: s.c.id.Principal.String(), Service: a.spn.String(), Addr: s.c.addr,
			Actor: pr.String(), Target: p.name, Flags: "session=" + s.id}
		if err != nil {
			var kerr *client.Error
			ev.Type, ev.Reason = "session.credential.refused", fmt.Sprintf("a credential for %s passed into session %s was refused by the KDC: %v", pr, s.id, err)
			if errors.As(err, &kerr) {
				ev.Code = kerr.Code.String()
			}
			a.emit(ev)
			return fail(fmt.Sprintf("the credential passed for %s was refused by the KDC (%v): check the account name and its password", pr, err))
		}
		ev.Reason = fmt.Sprintf("a credential for %s was passed into session %s (its secret is not recorded)", pr, s.id)
		a.emit(ev)
		out = append(out, broker.Passed{Name: p.name, TGT: tgt})
	}
	return out, ""
}

// ridProtectedUsers is the RID of the Protected Users group ([MS-DTYP]
// §2.4.2.4).
const ridProtectedUsers = 525

// notDelegable says, from the ticket's PAC, why the user's credentials
// must not be delegated ("" when they may): a member of Protected Users,
// or an account marked sensitive (USER_NOT_DELEGATED in the logon info's
// UserAccountControl, [MS-PAC] §2.5, which hop's KDC sets for both).
func (c *conn) notDelegable() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.gss.Accepted()
	if x == nil || x.PAC == nil || x.PAC.LogonInfo == nil {
		return "the ticket carries no PAC to tell whether the account may be delegated"
	}
	li := x.PAC.LogonInfo
	if !li.LogonDomainID.IsZero() && c.id.SIDs[li.LogonDomainID.Append(ridProtectedUsers)] {
		return c.id.Principal.String() + " is in Protected Users, whose credentials are never delegated"
	}
	if li.UserAccountControl&pac.UserNotDelegated != 0 {
		return c.id.Principal.String() + " is sensitive and cannot be delegated"
	}
	return ""
}

// passedOwnCredential reports whether a credential for the session's user
// came with the session (credssp: the user's password).
func (s *session) passedOwnCredential() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.passed {
		if pr, err := krb5.ParsePrincipal(p.name); err == nil && pr.Name.Equal(s.c.id.Principal.Name) && (pr.Realm == "" || pr.Realm.Equal(s.c.id.Principal.Realm)) {
			return true
		}
	}
	return false
}
