package agent

import (
	"errors"
	"fmt"
	"strings"

	"hop/audit"
	"hop/broker"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
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
	delegated := s.c.delegatedTGT() != nil
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
	return m, ""
}

// delegatedTGT returns a copy of the TGT the client forwarded in its
// GSS-API authentication (RFC 4121 §4.1.1.1), nil if none.
func (c *conn) delegatedTGT() *client.Credential {
	c.mu.Lock()
	ctx := c.gss
	c.mu.Unlock()
	if ctx == nil || ctx.Delegated() == nil {
		return nil
	}
	creds, err := ctx.Delegated().Credentials()
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
		Mode:   m, Host: a.cfg.Host, HostService: a.spn, Endpoint: e.Name, User: id.Principal,
	}
	switch {
	case e.Type == TypeRunAs && e.Keytab != "":
		kt := &hostKeytab{path: e.Keytab}
		p, err := kt.firstPrincipal()
		if err != nil {
			return c, err
		}
		c.Principal = p
		c.Issuer = &broker.Keytab{Principal: p, Key: func() (*crypto.Key, error) { return kt.clientKey(p) }, KDC: a.kdc}
	case e.Type == TypeJEA:
		c.Principal = a.spn
		c.Issuer = hostIdentity(a.keytab, a.spn, a.kdc.Addrs, a.now)
	case e.Type == TypeRunAs:
		// No keytab: the session has no Kerberos identity of its own.
	case m == remoting.ModeForward:
		tgt := s.c.delegatedTGT()
		if tgt == nil {
			return c, fmt.Errorf("the client forwarded no ticket-granting ticket")
		}
		c.Initial = []*client.Credential{tgt}
		c.Issuer = &broker.Forwarded{TGT: tgt, KDC: a.kdc}
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

// firstPrincipal is the principal of the keytab's first entry: the client
// principal MIT's library takes from a client keytab.
func (h *hostKeytab) firstPrincipal() (krb5.Principal, error) {
	kt, err := h.get()
	if err != nil {
		return krb5.Principal{}, err
	}
	if len(kt.Entries) == 0 {
		return krb5.Principal{}, fmt.Errorf("agent: the keytab %s is empty", h.path)
	}
	return kt.Entries[0].Principal, nil
}
