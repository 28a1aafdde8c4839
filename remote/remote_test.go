package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/internal/testrealm"
	"hop/krb5/tickets"
	"hop/remote"
	"hop/remote/remotetest"
)

const host = "b.example.test"

// directory answers HostKeys like the admin API: authorized_keys lines.
type directory map[string][]ssh.PublicKey

func (d directory) HostKeys(_ context.Context, h string) ([]string, error) {
	keys, ok := d[h]
	if !ok {
		return nil, fmt.Errorf("admin: no computer %s", h)
	}
	var out []string
	for _, k := range keys {
		out = append(out, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))+" root@"+h)
	}
	return out, nil
}

type fixture struct {
	lab *testrealm.Lab
	src *tickets.Source
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	lab := testrealm.Start(t)
	lab.AddUser(t, "alice", "alice-pw-1234")
	cc := lab.Login(t, "alice", "alice-pw-1234")
	return &fixture{lab: lab, src: &tickets.Source{Config: lab.Config, CCache: cc}}
}

func (f *fixture) options(s *remotetest.Server, keys ...ssh.PublicKey) remote.Options {
	if len(keys) == 0 {
		keys = []ssh.PublicKey{s.HostKey}
	}
	return remote.Options{
		Port: s.Port, Address: "127.0.0.1", Source: f.src,
		HostKeys: remote.DirectoryHostKeys{Directory: directory{host: keys}},
		Timeout:  10 * time.Second,
	}
}

func dial(t *testing.T, f *fixture, s *remotetest.Server) *remote.Conn {
	t.Helper()
	c, err := remote.Dial(context.Background(), host, f.options(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunOutputAndExitStatus(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	c := dial(t, f, s)
	if got := s.WaitEvent(t, "login "); got != "login alice@EXAMPLE.TEST" {
		t.Errorf("the server authenticated %q", got)
	}
	for _, tc := range []struct {
		cmd, stdin     string
		stdout, stderr string
		exit           int
		signal         string // "" = no *SignalError
	}{
		{cmd: "echo hello", stdout: "hello\n"},
		{cmd: "echo oops >&2; exit 3", stderr: "oops\n", exit: 3},
		{cmd: "exit 255", exit: 255},
		{cmd: "tr a-z A-Z", stdin: "line one\nline two\n", stdout: "LINE ONE\nLINE TWO\n"},
		{cmd: "wc -c", stdin: strings.Repeat("x", 300000), stdout: "300000\n"},
		{cmd: "kill -TERM $$", exit: 128 + 15, signal: "TERM"},
		{cmd: "kill -KILL $$", exit: 128 + 9, signal: "KILL"},
		{cmd: "kill -USR1 $$", exit: 128 + 10, signal: "USR1"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			var out, errOut bytes.Buffer
			var in *strings.Reader
			if tc.stdin != "" {
				in = strings.NewReader(tc.stdin)
			}
			var code int
			var err error
			if in != nil {
				code, err = c.Run(context.Background(), tc.cmd, "", in, &out, &errOut)
			} else {
				code, err = c.Run(context.Background(), tc.cmd, "", nil, &out, &errOut)
			}
			if code != tc.exit {
				t.Errorf("exit %d, want %d (err %v)", code, tc.exit, err)
			}
			if strings.TrimSpace(out.String()) != strings.TrimSpace(tc.stdout) || errOut.String() != tc.stderr {
				t.Errorf("stdout %q stderr %q, want %q %q", out.String(), errOut.String(), tc.stdout, tc.stderr)
			}
			var sig *remote.SignalError
			switch {
			case tc.signal == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.signal != "" && (!errors.As(err, &sig) || sig.Signal != tc.signal || !strings.Contains(err.Error(), "SIG"+tc.signal)):
				t.Errorf("error %v, want one naming SIG%s", err, tc.signal)
			}
		})
	}
	if got := s.Events(); !contains(got, "exec echo hello") || containsPrefix(got, "endpoint ") || containsPrefix(got, "pty-req") {
		t.Errorf("server saw %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, p string) bool {
	for _, l := range list {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func TestCancelClosesSession(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	c := dial(t, f, s)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, err := c.Run(ctx, "sleep 30", "", nil, nil, nil)
	t.Logf("Run returned after %s", time.Since(start))
	if code != 255 || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("Run = %d, %v after %s", code, err, time.Since(start))
	}
	// The connection stays usable.
	var out bytes.Buffer
	if code, err := c.Run(context.Background(), "echo again", "", nil, &out, nil); code != 0 || err != nil || out.String() != "again\n" {
		t.Fatalf("after a cancel: %d %v %q", code, err, out.String())
	}
}
