package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

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

func TestEndpointRequest(t *testing.T) {
	f := newFixture(t)
	msg := "hop: no endpoint nope here; you may use: default, dns-ops\n"
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host, Endpoints: []string{"dns-ops"}, RefusedEndpointMessage: msg})
	c := dial(t, f, s)
	var out, errOut bytes.Buffer
	if code, err := c.Run(context.Background(), "echo in-endpoint", "dns-ops", nil, &out, &errOut); code != 0 || err != nil || out.String() != "in-endpoint\n" {
		t.Fatalf("dns-ops: %d %v %q %q", code, err, out.String(), errOut.String())
	}
	s.WaitEvent(t, "endpoint dns-ops")
	out.Reset()
	code, err := c.Run(context.Background(), "echo never", "nope", nil, &out, &errOut)
	var ee *remote.EndpointError
	if code != 255 || !errors.As(err, &ee) || !errors.Is(err, remote.ErrEndpoint) || ee.Endpoint != "nope" || !ee.Explained {
		t.Fatalf("refused endpoint: %d %v (%+v)", code, err, ee)
	}
	if !strings.Contains(errOut.String(), "you may use: default, dns-ops") || out.Len() != 0 {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	if !strings.Contains(err.Error(), "hop endpoints "+host) {
		t.Errorf("error %q does not say what to do", err)
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

func TestHostKeyMustBeRegistered(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	other := remotetest.HostSigner(t, "someone-else").PublicKey()
	ctx := context.Background()

	// Another key is registered: refused, with both fingerprints.
	_, err := remote.Dial(ctx, host, f.options(s, other))
	var hk *remote.HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("Dial with another registered key = %v", err)
	}
	for _, want := range []string{
		"the SSH host key of b.example.test (" + ssh.FingerprintSHA256(s.HostKey) + ") is not the one registered in the directory (" + ssh.FingerprintSHA256(other) + ")",
		"hop host join", "not connecting",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if containsPrefix(s.Events(), "login") {
		t.Error("the client authenticated to a host it refused")
	}
	// The right key among others: accepted.
	c, err := remote.Dial(ctx, host, f.options(s, other, s.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// No key registered: refused before connecting.
	o := f.options(s)
	o.HostKeys = remote.DirectoryHostKeys{Directory: directory{host: nil}}
	if _, err := remote.Dial(ctx, host, o); err == nil || !strings.Contains(err.Error(), "no SSH host key is registered") {
		t.Errorf("no registered key: %v", err)
	}
	// Unknown to the directory.
	o.HostKeys = remote.DirectoryHostKeys{Directory: directory{}}
	if _, err := remote.Dial(ctx, host, o); err == nil || !strings.Contains(err.Error(), "no computer b.example.test") {
		t.Errorf("unknown host: %v", err)
	}
}

func TestKnownHostsFile(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	other := remotetest.HostSigner(t, "someone-else").PublicKey()
	line := func(names string, k ssh.PublicKey) string {
		return names + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	for _, tc := range []struct {
		name, file string
		ok         bool
	}{
		{"hop known-hosts output", line("b.example.test,b", s.HostKey) + "\n", true},
		{"with port", line(fmt.Sprintf("[b.example.test]:%d", s.Port), s.HostKey), true},
		{"other port", line("[b.example.test]:1", s.HostKey), false},
		{"wildcard", "# comment\n\n" + line("*.example.test", s.HostKey), true},
		{"negated", line("*.example.test,!b.example.test", s.HostKey), false},
		{"hashed", line(knownhosts.HashHostname(host), s.HostKey), true},
		{"hashed with port", line(knownhosts.HashHostname(knownhosts.Normalize(fmt.Sprintf("%s:%d", host, s.Port))), s.HostKey), true},
		{"hashed other", line(knownhosts.HashHostname("c.example.test"), s.HostKey), false},
		{"other key", line("b.example.test", other), false},
		{"other host", line("c.example.test", s.HostKey), false},
		{"revoked", line("b.example.test", s.HostKey) + "\n@revoked " + line("*", s.HostKey), false},
		{"garbage then key", "b.example.test ssh-unknown AAAA\nnonsense\n" + line("B.Example.Test", s.HostKey), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			o := f.options(s)
			o.HostKeys = remote.KnownHostsFile{Path: path, Port: s.Port}
			c, err := remote.Dial(context.Background(), host, o)
			if tc.ok != (err == nil) {
				t.Fatalf("Dial = %v, want success %v", err, tc.ok)
			}
			if err == nil {
				c.Close()
			} else if !strings.Contains(err.Error(), path) {
				t.Errorf("the error %q does not name the file", err)
			}
		})
	}
}
