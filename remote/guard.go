package remote

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/tickets"
	"hop/remoting"
)

// DefaultGuardLifetime is how long the tickets a client hands over in mode
// remote-guard last when Guard.Lifetime is zero: a ticket stolen on the
// host is worth minutes; the host asks again when it needs one.
const DefaultGuardLifetime = 10 * time.Minute

// Guard is how the client serves the host's ticket requests in mode
// remote-guard (remoting.TicketChannel).
type Guard struct {
	// AllowHop are the targets the client serves, as service principal
	// name patterns (cifs/c.example.test, host/*.example.test; path.Match
	// per name, a '*' never crossing a '/'; an optional @REALM must then
	// match too). Empty: any service (never a ticket-granting service).
	AllowHop []string
	// Lifetime of the tickets handed over (0: DefaultGuardLifetime).
	Lifetime time.Duration
	// Served, when set, is told of every request and its outcome (nil
	// err: served).
	Served func(q *remoting.TicketRequest, err error)
	// Confirm, when set, asks the user before each new target (a target
	// once allowed is not asked again in the connection); an error is the
	// refusal's reason.
	Confirm func(ctx context.Context, q *remoting.TicketRequest) error

	mu        sync.Mutex
	confirmed map[string]bool
}

// CheckAllowHop checks the patterns of Guard.AllowHop.
func CheckAllowHop(patterns []string) error {
	for _, p := range patterns {
		name, _, _ := strings.Cut(p, "@")
		if !strings.Contains(name, "/") {
			return fmt.Errorf("--allow-hop %q: give service principal name patterns such as cifs/c.example.test or host/*.example.test", p)
		}
		if _, err := path.Match(name, ""); err != nil {
			return fmt.Errorf("--allow-hop %q: %v", p, err)
		}
	}
	return nil
}

// allows reports whether g serves target.
func (g *Guard) allows(target krb5.Principal) bool {
	return len(g.AllowHop) == 0 || MatchSPN(g.AllowHop, target)
}

// MatchSPN reports whether target matches one of patterns (service
// principal name patterns as Guard.AllowHop takes them).
func MatchSPN(patterns []string, target krb5.Principal) bool {
	name := target.Name.String()
	for _, p := range patterns {
		pn, realm, hasRealm := strings.Cut(p, "@")
		if hasRealm && !target.Realm.Equal(krb5.Realm(realm)) {
			continue
		}
		if ok, _ := path.Match(strings.ToLower(pn), strings.ToLower(name)); ok {
			return true
		}
	}
	return false
}

// serveGuard answers the host's ticket requests until the connection ends.
func serveGuard(chans <-chan ssh.NewChannel, g *Guard, src *tickets.Source) {
	for nc := range chans {
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			defer ch.Close()
			q, err := remoting.ReadTicketRequest(ch)
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, err := g.answer(ctx, q, src)
			if g.Served != nil {
				g.Served(q, err)
			}
			if err != nil {
				rep = &remoting.TicketReply{Error: err.Error()}
			}
			remoting.WriteTicketMessage(ch, rep)
			clear(rep.Credential)
		}()
	}
}

// answer obtains the ticket q asks for, if g allows it.
func (g *Guard) answer(ctx context.Context, q *remoting.TicketRequest, src *tickets.Source) (*remoting.TicketReply, error) {
	target, err := krb5.ParsePrincipal(q.Target)
	if err != nil || len(target.Name.Components) < 2 {
		return nil, fmt.Errorf("%q is not a service principal name", q.Target)
	}
	if !g.allows(target) {
		return nil, fmt.Errorf("%s is not in the hops allowed for this session: --allow-hop %s", target.Name, strings.Join(g.AllowHop, ","))
	}
	if g.Confirm != nil {
		g.mu.Lock()
		done := g.confirmed[target.String()]
		g.mu.Unlock()
		if !done {
			if err := g.Confirm(ctx, q); err != nil {
				return nil, err
			}
			g.mu.Lock()
			if g.confirmed == nil {
				g.confirmed = map[string]bool{}
			}
			g.confirmed[target.String()] = true
			g.mu.Unlock()
		}
	}
	lifetime := g.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultGuardLifetime
	}
	cred, err := src.HandOverTicket(ctx, target.Name, lifetime)
	if err != nil {
		return nil, fmt.Errorf("the client on the first host could not get a ticket for %s: %v", target.Name, err)
	}
	cc := ccache.FromClient(cred)
	b, err := ccache.AppendCredential(nil, &cc)
	clear(cc.Key)
	if err != nil {
		return nil, err
	}
	return &remoting.TicketReply{Credential: b}, nil
}
