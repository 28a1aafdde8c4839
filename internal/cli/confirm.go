package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"hop/remoting"
)

// confirmTicket asks the user on A, before a host gets a ticket in mode
// remote-guard with --confirm, with the whole path in the question (who,
// from where, via which hosts, to what): a prompt that names neither is
// easy to phish. It uses the askpass convention: HOP_ASKPASS, else
// SSH_ASKPASS (the program gets the question as its argument; exit status
// 0 is yes), else the controlling terminal (tty) when the session does not
// use it (hop exec with standard input that is not the terminal; hop shell
// holds it in raw mode); with no way to ask it refuses and says why.
func (e *env) confirmTicket(user string, tty func() (io.ReadWriteCloser, error)) func(ctx context.Context, q *remoting.TicketRequest) error {
	var mu sync.Mutex // one question at a time on the terminal
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
		if tty == nil {
			// The terminal is the session's: hop shell holds it in raw
			// mode, hop exec forwards what is typed on it.
			return errors.New("--confirm needs a program to ask with on the first host, the terminal being the session's: set HOP_ASKPASS (or SSH_ASKPASS), e.g. to ssh-askpass")
		}
		t, err := tty()
		if err != nil {
			return fmt.Errorf("--confirm: there is no way to ask on the first host (no HOP_ASKPASS or SSH_ASKPASS, no terminal: %v)", err)
		}
		defer t.Close()
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(t, question+"[y/N] ")
		line, _ := bufio.NewReader(io.LimitReader(t, 256)).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
			return nil
		}
		return fmt.Errorf("%s on the first host declined", user)
	}
}

// openTTY opens the controlling terminal, to ask on it.
func openTTY() (io.ReadWriteCloser, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }
