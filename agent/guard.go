package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/remoting"
)

// GuardTimeout bounds one question to the client in mode remote-guard
// (the client may ask its user to confirm).
const GuardTimeout = 2 * time.Minute

// askClient asks the session's client, over a remoting.TicketChannel on
// the session's connection, for the user's ticket to target (mode
// remote-guard).
func (s *session) askClient(ctx context.Context, target krb5.Principal) (*client.Credential, error) {
	s.c.mu.Lock()
	sc := s.c.sc
	s.c.mu.Unlock()
	if sc == nil {
		return nil, errors.New("agent: the session's connection is gone")
	}
	ctx, cancel := context.WithTimeout(ctx, GuardTimeout)
	defer cancel()
	ch, reqs, err := sc.OpenChannel(remoting.TicketChannel, nil)
	if err != nil {
		var oe *ssh.OpenChannelError
		if errors.As(err, &oe) {
			return nil, fmt.Errorf("the client on the first host does not serve tickets (%s): was the session opened with hop exec --delegate remote-guard?", oe.Message)
		}
		return nil, fmt.Errorf("the client on the first host cannot be asked: the connection ended (%v)", err)
	}
	go ssh.DiscardRequests(reqs)
	stop := context.AfterFunc(ctx, func() { ch.Close() })
	defer stop()
	defer ch.Close()
	q := &remoting.TicketRequest{Target: target.String(), Host: s.a.cfg.Host, Session: s.id}
	if err := remoting.WriteTicketMessage(ch, q); err != nil {
		return nil, fmt.Errorf("agent: ask the client: %w", err)
	}
	rep, err := remoting.ReadTicketReply(ch)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the client on the first host did not answer within %v", GuardTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("agent: the client's answer: %w", err)
	}
	if rep.Error != "" {
		return nil, fmt.Errorf("the client on the first host refused: %s", rep.Error)
	}
	cc, err := ccache.DecodeCredential(rep.Credential)
	clear(rep.Credential)
	if err != nil {
		return nil, fmt.Errorf("agent: the client's credential: %w", err)
	}
	cred, err := ccache.ToClient(&cc)
	clear(cc.Key)
	return cred, err
}
