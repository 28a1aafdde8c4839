package remote

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"hop/krb5/client"
	"hop/krb5/gssapi"
)

// gssClient is an ssh.GSSAPIClient over hop/krb5/gssapi: the initiator of
// RFC 4462 §3.4 with a service ticket for host/<fqdn>, asking for mutual
// authentication (OpenSSH's sshd answers with an AP-REP, and so does the
// hop agent), then the MIC of §3.5.
type gssClient struct {
	host    string             // the host's FQDN: the target must name it
	cred    *client.Credential // the service ticket host/<host>
	forward *client.Credential // a TGT to delegate (mode forward), or nil
	now     func() time.Time
	rand    io.Reader

	mu  sync.Mutex
	ctx *gssapi.Context
}

// InitSecContext implements ssh.GSSAPIClient. The first call (token nil)
// returns the AP-REQ; the second checks the acceptor's AP-REP.
func (g *gssClient) InitSecContext(target string, token []byte, _ bool) ([]byte, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if svc, h, ok := strings.Cut(target, "@"); !ok || svc != "host" || !strings.EqualFold(h, g.host) {
		return nil, false, fmt.Errorf("remote: GSSAPI target %q is not host@%s", target, g.host)
	}
	if g.ctx == nil {
		if len(token) != 0 {
			return nil, false, errors.New("remote: the agent sent a GSSAPI token before the client's")
		}
		o := &gssapi.InitOptions{
			Flags: gssapi.FlagMutual | gssapi.FlagReplay | gssapi.FlagSequence,
			Now:   g.now, Rand: g.rand,
		}
		if g.forward != nil {
			o.Flags |= gssapi.FlagDeleg
			o.Delegate = g.forward
		}
		c, tok, err := gssapi.InitSecContext(g.cred, o)
		if err != nil {
			return nil, false, fmt.Errorf("remote: GSSAPI: %w", err)
		}
		g.ctx = c
		return tok, !c.Established(), nil
	}
	if g.ctx.Established() {
		return nil, false, errors.New("remote: the agent sent a GSSAPI token after the context was established")
	}
	if err := g.ctx.Continue(token); err != nil {
		return nil, false, fmt.Errorf("remote: the agent's GSSAPI reply: %w", err)
	}
	return nil, false, nil
}

// GetMIC implements ssh.GSSAPIClient: the MIC token over the RFC 4462 §3.5
// field, which holds the SSH session identifier.
func (g *gssClient) GetMIC(field []byte) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx == nil || !g.ctx.Established() {
		return nil, errors.New("remote: GetMIC before the GSSAPI context was established (the agent did not prove it knows the host key: no mutual authentication)")
	}
	return g.ctx.MakeMIC(field)
}

// DeleteSecContext implements ssh.GSSAPIClient; a later InitSecContext
// starts a new context.
func (g *gssClient) DeleteSecContext() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ctx = nil
	return nil
}
