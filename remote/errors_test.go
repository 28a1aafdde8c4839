package remote_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"hop/krb5/tickets"
	"hop/remote"
	"hop/remote/remotetest"
)

func TestErrorsSayWhatToDo(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	ctx := context.Background()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		name   string
		host   string
		change func(*remote.Options)
		want   string
	}{
		{"no cache", host, func(o *remote.Options) {
			o.Source = &tickets.Source{Config: f.lab.Config, CCache: filepath.Join(t.TempDir(), "none")}
		}, "you have no Kerberos ticket: run hop login"},
		{"expired", host, func(o *remote.Options) {
			o.Source = &tickets.Source{Config: f.lab.Config, CCache: f.src.CCache, Now: func() time.Time { return time.Now().Add(72 * time.Hour) }}
		}, "your ticket expired: run hop login"},
		{"unknown service", "nohost.example.test", nil, "the domain knows no host of that name (no principal host/nohost.example.test): check the name, or join the host"},
		{"nothing listens", host, func(o *remote.Options) { o.Address = closedAddr }, "nothing listens on " + closedAddr + ": is hop agent running there"},
		{"DNS", host, func(o *remote.Options) {
			o.Address = ""
			o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
			}
		}, "unknown host: DNS has no address for b.example.test"},
		{"clock skew", host, func(o *remote.Options) {
			o.Now = func() time.Time { return time.Now().Add(time.Hour) }
		}, "check that both clocks are right"},
		{"address", "127.0.0.1", nil, "give the host's DNS name, not an address"},
		{"bad port", "b.example.test:http", nil, "is not a port number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.options(s)
			if tc.change != nil {
				tc.change(&o)
			}
			_, err := remote.Dial(ctx, tc.host, o)
			var re *remote.Error
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Dial = %v (%T), want a one-line *remote.Error with %q", err, err, tc.want)
			}
		})
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
