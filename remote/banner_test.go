package remote_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode"

	"hop/internal/testio"
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
	var stderr testio.Buffer
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

func TestRefusedLoginShowsTheBanner(t *testing.T) {
	f := newFixture(t)
	why := "alice is not in b-remote-users or b-admins; ask a domain admin to add her (hop group add-member b-remote-users alice)"
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host, Refuse: func(p string) string {
		if p == "alice@EXAMPLE.TEST" {
			return why
		}
		return ""
	}})
	var banners bytes.Buffer
	o := f.options(s)
	o.Stderr = &banners
	_, err := remote.Dial(context.Background(), host, o)
	if err == nil || !errors.Is(err, remote.ErrRefused) || err.Error() != host+": "+why {
		t.Fatalf("Dial = %v", err)
	}
	if banners.Len() != 0 {
		t.Errorf("the refusal was also printed as a banner: %q", banners.String())
	}
	s.WaitEvent(t, "refused alice@EXAMPLE.TEST")
}
