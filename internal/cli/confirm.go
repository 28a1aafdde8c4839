package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"hop/remoting"
)

// confirmTicket asks the user on A, before a host gets a ticket in mode
// remote-guard with --confirm, with the whole path in the question (who,
// from where, via which hosts, to what): a prompt that names neither is
// easy to phish. It uses the askpass convention: HOP_ASKPASS, else
// SSH_ASKPASS (the program gets the question as its argument; exit status
// 0 is yes); without one it refuses and says why (the terminal is the
// session's: hop shell holds it raw, hop exec forwards it).
func (e *env) confirmTicket(user string) func(ctx context.Context, q *remoting.TicketRequest) error {
	return func(ctx context.Context, q *remoting.TicketRequest) error {
		here, _ := os.Hostname()
		path := q.Host
		for _, v := range q.Via {
			path += " via " + v
		}
		question := fmt.Sprintf("hop: allow %s on %s, via %s (session %s), to get a ticket for %s? ", user, here, path, q.Session, q.Target)
		for _, name := range []string{"HOP_ASKPASS", "SSH_ASKPASS"} {
			prog := e.getenv(name)
			if prog == "" {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			err := exec.CommandContext(cctx, prog, question).Run()
			var ee *exec.ExitError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ee):
				return fmt.Errorf("%s on the first host declined (%s %s)", user, name, prog)
			}
			return fmt.Errorf("--confirm: %s %s did not run: %v", name, prog, err)
		}
		// The terminal is the session's: hop shell holds it in raw mode,
		// hop exec forwards what is typed on it to the remote command.
		return errors.New("--confirm needs a program to ask with on the first host: set HOP_ASKPASS (or SSH_ASKPASS), e.g. to ssh-askpass")
	}
}
