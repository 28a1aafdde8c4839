package cli

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/creack/pty"

	"hop/remoting"
)

// TestConfirmOnTerminal: without an askpass program, --confirm asks on the
// terminal (a pseudo-terminal here) with the whole path, y serves and
// anything else refuses; with no terminal to use it says so.
func TestConfirmOnTerminal(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	q := &remoting.TicketRequest{Target: "cifs/c.example.test@EXAMPLE.TEST", Host: "b.example.test", Session: "s1", Via: []string{"c.example.test"}}
	for answer, ok := range map[string]bool{"y\n": true, "yes\n": true, "n\n": false, "\n": false} {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		asked := make(chan string, 1)
		go func() {
			b := make([]byte, 512)
			n, _ := ptmx.Read(b)
			asked <- string(b[:n])
			io.WriteString(ptmx, answer)
		}()
		err = e.confirmTicket("alice@EXAMPLE.TEST", func() (io.ReadWriteCloser, error) { return tty, nil })(context.Background(), q)
		ptmx.Close()
		if (err == nil) != ok {
			t.Errorf("answer %q: %v", answer, err)
		}
		if got := <-asked; !strings.Contains(got, "allow alice@EXAMPLE.TEST on ") || !strings.Contains(got, "via b.example.test via c.example.test (session s1), to get a ticket for cifs/c.example.test@EXAMPLE.TEST? [y/N]") {
			t.Errorf("the question: %q", got)
		}
	}
	if err := e.confirmTicket("alice@EXAMPLE.TEST", nil)(context.Background(), q); err == nil || !strings.Contains(err.Error(), "the terminal being the session's: set HOP_ASKPASS") {
		t.Errorf("no terminal to use: %v", err)
	}
}
