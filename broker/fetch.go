package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/kcm"
	"hop/remoting"
)

// fetch is the KCM server's Fetch: a ticket to server that the cache does
// not hold, obtained now by the session's Issuer. Only the session's own
// principal gets tickets: a program that put another principal in a cache
// (kinit other) gets nothing from the broker.
func (b *Broker) fetch(ctx context.Context, _ string, cl, server krb5.Principal) (*ccache.Credential, error) {
	c := &b.cfg
	if c.Issuer == nil || !(cl.Name.Equal(c.Principal.Name) && cl.Realm.Equal(c.Principal.Realm)) {
		return nil, nil
	}
	if server.Realm == "" {
		server.Realm = c.Principal.Realm
	}
	cred, err := c.Issuer.Ticket(ctx, server)
	b.mu.Lock()
	if err != nil {
		if len(b.refused) < maxRefusals {
			b.refused[server.String()] = refusalText(err)
		}
	} else {
		// No refusal is kept once the KDC says yes: the status must not
		// show a stale one.
		delete(b.refused, server.String())
	}
	b.mu.Unlock()
	if c.OnTicket != nil {
		c.OnTicket(TicketEvent{Client: cl, Target: server, Err: err})
	}
	if err != nil {
		return nil, err
	}
	// The cache keeps its own copy of the key; the issuer's is zeroed, so
	// that closing the cache leaves none behind.
	cc := ccache.FromClient(cred)
	cred.SessionKey.Zero()
	return &cc, nil
}

// refusalText is a refusal as the user reads it: the KDC's own words (its
// e-text names the rule) when it answered.
func refusalText(err error) string {
	if s, ok := client.Refusal(err); ok {
		return s
	}
	return err.Error()
}

// status answers hop's OpHopBroker.
func (b *Broker) status(ctx context.Context, _ uint32, q *kcm.BrokerQuery) (*kcm.BrokerStatus, error) {
	c := &b.cfg
	st := &kcm.BrokerStatus{
		Host: c.Host, Session: c.SessionID, Endpoint: c.Endpoint, User: c.User.String(), Mode: string(c.Mode),
		How: "nothing: no ticket for another host is obtained in this session",
	}
	if c.Issuer != nil {
		st.Identity, st.How = c.Principal.String(), c.Issuer.How()
	}
	for _, p := range c.Credentials {
		st.Credentials = append(st.Credentials, p.Name)
	}
	st.Holds = b.holds(ctx)
	if q.Target == "" {
		return st, nil
	}
	target, err := krb5.ParsePrincipal(q.Target)
	if err != nil {
		return nil, kcm.ErrFormat
	}
	if target.Realm == "" {
		target.Realm = c.Principal.Realm
	}
	t := &kcm.BrokerTarget{Name: target.String(), Possible: c.Issuer != nil}
	b.mu.Lock()
	t.Refused = b.refused[target.String()]
	b.mu.Unlock()
	t.Explain = b.explain(target, t.Refused)
	st.Target = t
	return st, nil
}

// holds lists the credential material the broker holds: the issuer's,
// the passed credentials' (each a password, then a TGT) and the tickets
// of the session's caches, but for the TGTs already listed.
func (b *Broker) holds(ctx context.Context) []kcm.Holding {
	c := &b.cfg
	out := []kcm.Holding{}
	if c.Issuer != nil {
		out = append(out, c.Issuer.Holds()...)
	}
	for _, p := range c.Credentials {
		out = append(out, kcm.Holding{Kind: kcm.HoldPassword, Principal: p.TGT.Client.String(), Note: "passed with --pass-credential " + p.Name + "; used to log on when the session started, then erased"},
			holding(kcm.HoldTGT, p.TGT, "got on this host with the passed password, in the cache "+remoting.CredentialCache(p.Name)))
	}
	listed := func(cr *ccache.Credential) bool {
		for _, h := range out {
			if h.Principal == cr.Client.String() && h.Target == cr.Server.String() {
				return true
			}
		}
		return false
	}
	ids, _ := b.store.Caches(ctx)
	for _, id := range ids {
		b.store.Update(ctx, id.Name, func(cache *kcm.Cache) (*kcm.Cache, error) {
			if cache == nil {
				return nil, nil
			}
			for i := range cache.Entries {
				cr := &cache.Entries[i].Credential
				if cr.IsConfig() || listed(cr) {
					continue
				}
				kind, note := kcm.HoldServiceTicket, "in the session's cache"
				if len(cr.Server.Name.Components) == 2 && cr.Server.Name.Components[0] == "krbtgt" {
					kind = kcm.HoldTGT
				}
				h := kcm.Holding{Kind: kind, Principal: cr.Client.String(), Target: cr.Server.String(), Note: note}
				if !cr.EndTime.IsZero() {
					h.Expires = cr.EndTime.UTC().Format(time.RFC3339)
				}
				out = append(out, h)
			}
			return cache, nil
		})
	}
	return out
}

// explain is the message for a user in the session who has no ticket for
// target: the cause, and the options.
func (b *Broker) explain(target krb5.Principal, refused string) string {
	c := &b.cfg
	user := c.User.Name.String()
	explainCmd := fmt.Sprintf("hop delegation explain --user %s --service %s --target %s", user, c.HostService.Name, target.Name)
	switch {
	case c.Issuer == nil:
		var opts []string
		if slices.Contains(c.Allowed, remoting.ModeConstrained) {
			opts = append(opts, fmt.Sprintf("--delegate constrained (the domain must allow %s to reach %s: %s)", c.HostService.Name, target.Name, explainCmd))
		}
		if slices.Contains(c.Allowed, remoting.ModeForward) {
			opts = append(opts, fmt.Sprintf("--delegate forward (the domain must trust %s for delegation)", c.Host))
		}
		if len(opts) == 0 {
			return fmt.Sprintf("no delegated credential on this hop: the endpoint %s on %s passes no credential of yours (hop endpoints %s); pass one with --pass-credential ACCOUNT",
				c.Endpoint, c.Host, c.Host)
		}
		return fmt.Sprintf("no delegated credential on this hop: the session on %s was opened with --delegate %s; use %s, or pass a credential with --pass-credential ACCOUNT",
			c.Host, c.Mode, strings.Join(opts, " or "))
	case refused != "" && c.Mode == remoting.ModeConstrained:
		return fmt.Sprintf("the KDC refused to let %s reach %s on behalf of %s (session on %s, --delegate constrained): %s; see why with: %s",
			c.HostService.Name, target.Name, c.User, c.Host, refused, explainCmd)
	case refused != "":
		return fmt.Sprintf("the KDC refused a ticket for %s to %s (session on %s, --delegate %s): %s", c.Principal, target.Name, c.Host, c.Mode, refused)
	}
	return fmt.Sprintf("the session on %s (--delegate %s) obtains tickets %s; none for %s yet", c.Host, c.Mode, strings.TrimSuffix(c.Issuer.How(), "."), target.Name)
}
