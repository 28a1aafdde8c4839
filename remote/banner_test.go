package remote_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"hop/remote"
	"hop/remote/remotetest"
)

// TestBannerOfASuccessfulLoginIsSanitised: the banner a host sends before
// a login that succeeds reaches Options.Stderr line by line without
// terminal escapes or other control characters: a hostile agent must not
// drive the user's terminal (retitle it, clear it, reprogram keys).
func TestBannerOfASuccessfulLoginIsSanitised(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host,
		Banner: "Welcome\x1b]0;owned\x07\x1b[2J\r\nto b\u202e\x00\x7f\rbye\n"})
	o := f.options(s)
	var stderr syncBuffer
	o.Stderr = &stderr
	c, err := remote.Dial(context.Background(), host, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := stderr.String()
	if want := "Welcome]0;owned[2J\nto b\nbye\n"; got != want {
		t.Errorf("banner printed as %q, want %q", got, want)
	}
	if i := strings.IndexFunc(got, func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) }); i >= 0 {
		t.Errorf("banner printed with a control character: %q", got)
	}
}

// TestErrorIsOnePrintableLine: an Error quoting what a host sent never
// carries control characters.
func TestErrorIsOnePrintableLine(t *testing.T) {
	for _, e := range []*remote.Error{
		{Host: host, Msg: "the agent refused a new session: ssh: rejected: resource shortage (\x1b]0;owned\x07busy\r\n)"},
		{Msg: "SSH connection failed: ssh: disconnect, reason 2: \x1b[31mbye\u202e"},
	} {
		s := e.Error()
		if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			t.Errorf("Error() = %q", s)
		}
	}
	e := &remote.Error{Host: host, Msg: "a\x1bb"}
	if got := e.Error(); got != host+": ab" {
		t.Errorf("Error() = %q", got)
	}
}
