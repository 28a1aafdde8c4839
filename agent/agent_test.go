package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/directory"
	"hop/internal/testio"
)

func TestExecOutputAndExitStatus(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	r := run(t, c, "echo out; echo err >&2; exit 3", "", nil)
	if r.stdout != "out\n" || r.stderr != "err\n" || r.status != 3 {
		t.Fatalf("got %+v", r)
	}
	r = run(t, c, "id -un; pwd", "", nil)
	home := "/"
	if u, err := lookupLocalUser(f.alice); err == nil {
		home = homeOrRoot(u.Home)
	}
	if r.stdout != f.alice+"\n"+home+"\n" || r.status != 0 {
		t.Fatalf("id/pwd: got %+v, want %s in %s", r, f.alice, home)
	}
	// stdin is forwarded, and its EOF closes the child's stdin.
	r = run(t, c, "cat; echo done", "hello\nworld\n", nil)
	if r.stdout != "hello\nworld\ndone\n" {
		t.Fatalf("cat: got %+v", r)
	}
	// Audit: start and end with the principal, the account, the endpoint.
	var starts, ends int
	for _, e := range f.events.Events() {
		switch e.Type {
		case "session.start":
			starts++
			if e.Client != "alice@EXAMPLE.TEST" || e.Actor != f.alice || e.Target != "default" || e.Service != "host/b.example.test@EXAMPLE.TEST" || e.Addr == "" {
				t.Errorf("session.start %+v", e)
			}
		case "session.end":
			ends++
			if strings.HasPrefix(e.Reason, "echo out") && e.Reason != "echo out; echo err >&2; exit 3; exit 3" {
				t.Errorf("session.end reason %q", e.Reason)
			}
		}
	}
	if starts != 3 || ends != 3 {
		t.Errorf("%d session.start and %d session.end events, want 3 each", starts, ends)
	}
}

func TestEnvironment(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	var refused []string
	r := run(t, c, "env", "", func(s *ssh.Session) {
		for _, kv := range [][2]string{{"LANG", "C.UTF-8"}, {"LC_ALL", "C"}, {"HOP_TRACE", "1"}, {"FOO", "bar"}, {"LD_PRELOAD", "/tmp/x.so"}, {"PATH", "/tmp"}, {"HOP_CLIENT", "root@EVIL"}, {"TERM", "vt100"}} {
			if err := s.Setenv(kv[0], kv[1]); err != nil {
				refused = append(refused, kv[0])
			}
		}
	})
	if want := []string{"FOO", "LD_PRELOAD", "PATH", "HOP_CLIENT"}; !slices.Equal(refused, want) {
		t.Errorf("refused %v, want %v", refused, want)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "PWD", "SHLVL", "_", "OLDPWD":
			continue // the shell's own
		}
		got[k] = v
	}
	u, err := lookupLocalUser(f.alice)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"HOME": u.Home, "USER": f.alice, "LOGNAME": f.alice, "SHELL": u.Shell, "PATH": DefaultPath,
		"LANG": "C.UTF-8", "LC_ALL": "C", "HOP_TRACE": "1",
		"HOP_CLIENT": "alice@EXAMPLE.TEST", "HOP_ENDPOINT": "default",
	}
	id := got["HOP_SESSION_ID"]
	delete(got, "HOP_SESSION_ID")
	if len(id) != 16 {
		t.Errorf("HOP_SESSION_ID %q", id)
	}
	// The session's credential broker (package broker).
	host := os.Getenv("KRB5_CONFIG")
	if host == "" {
		host = "/etc/krb5.conf"
	}
	want["KRB5CCNAME"] = "KCM:"
	want["KRB5_CONFIG"] = filepath.Join(f.cfg.RuntimeDir, "session-"+id, "krb5.conf") + ":" + host
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("environment\n got %v\nwant %v", got, want)
	}
}

func TestRefusedUserGetsTheReason(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.dial(t, "bob", &gssClient{cred: f.ticket(t, "bob", bobPW)})
	if r.err == nil {
		t.Fatal("bob logged on")
	}
	want := "bob is not in b-remote-users or b-admins; ask a domain admin to add them (hop group add-member b-remote-users bob)"
	if !strings.Contains(r.banner, want) {
		t.Errorf("banner %q, want %q", r.banner, want)
	}
	ev := f.eventsOf("logon.refused")
	if len(ev) != 1 || ev[0].Client != "bob@EXAMPLE.TEST" || !strings.Contains(ev[0].Reason, want) {
		t.Errorf("audit %+v", ev)
	}
	// Adding bob to the group lets him in (membership comes from the PAC).
	if _, err := f.lab.Dir.As(directory.LocalAdmin).AddMember(context.Background(), "b-remote-users", "bob", 0); err != nil {
		t.Fatal(err)
	}
	if r := f.dial(t, "bob", &gssClient{cred: f.ticket(t, "bob", bobPW)}); r.err == nil {
		t.Error("bob, now in the group, logged on as his own local account, which does not exist")
	} else if os.Geteuid() == 0 && !strings.Contains(r.banner, "maps to the local account bob, which does not exist") {
		t.Errorf("banner %q", r.banner)
	}
}

func TestSSHUserMustBeTheAuthenticatedOne(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.dial(t, "root", &gssClient{cred: f.ticket(t, "alice", alicePW)})
	if r.err == nil || !strings.Contains(r.banner, `you authenticated as alice@EXAMPLE.TEST but asked to log on as "root"`) {
		t.Fatalf("err %v banner %q", r.err, r.banner)
	}
}

func TestSignalsAndExitSignal(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, _ := s.StdoutPipe()
	if err := s.Start("trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if string(buf[:n]) != "ready\n" {
		t.Fatalf("read %q", buf[:n])
	}
	s.Signal(ssh.SIGUSR1)
	n, _ = out.Read(buf)
	if string(buf[:n]) != "got-usr1\n" {
		t.Fatalf("after USR1 read %q", buf[:n])
	}
	s.Signal(ssh.SIGKILL)
	err = s.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.Signal() != "KILL" {
		t.Fatalf("wait: %v", err)
	}
	if ev := f.eventsOf("session.end"); len(ev) != 1 || !strings.HasSuffix(ev[0].Reason, "; signal KILL") {
		t.Errorf("audit %+v", ev)
	}
}

func TestPtyShell(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm-test", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	var out testio.Buffer
	s.Stdout = &out
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(in, "echo T=$TERM-$((6*7))\n")
	if !waitFor(5*time.Second, func() bool { return strings.Contains(out.String(), "T=xterm-test-42") }) {
		t.Fatalf("output %q", out.String())
	}
	if err := s.WindowChange(50, 132); err != nil {
		t.Fatal(err)
	}
	// window-change carries no reply: ask until the shell sees the size.
	if !waitFor(5*time.Second, func() bool {
		fmt.Fprintf(in, "stty size\n")
		time.Sleep(50 * time.Millisecond)
		return strings.Contains(out.String(), "50 132")
	}) {
		t.Fatalf("the window size never changed: %q", out.String())
	}
	fmt.Fprintf(in, "tty; exit 4\n")
	err = s.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 4 {
		t.Fatalf("wait: %v; output %q", err, out.String())
	}
	if !strings.Contains(out.String(), "50 132") || !strings.Contains(out.String(), "/dev/pts/") {
		t.Fatalf("output %q", out.String())
	}
	if ev := f.eventsOf("session.start"); len(ev) != 1 || ev[0].Reason != "pty" {
		t.Errorf("audit %+v", ev)
	}
}

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) { c.IdleTimeout = Duration(300 * time.Millisecond) }})
	c := f.login(t)
	start := time.Now()
	r := run(t, c, "sleep 30", "", nil)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the idle session lasted %v", d)
	}
	if !strings.Contains(r.stderr, "idle for 300ms") || r.signal != "HUP" {
		t.Fatalf("got %+v", r)
	}
}

// TestDisconnectKillsTheProcessTree drops the TCP connection under a
// session running two sleeps and checks both die.
func TestDisconnectKillsTheProcessTree(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.dial(t, "alice", &gssClient{cred: f.ticket(t, "alice", alicePW)})
	if r.err != nil {
		t.Fatal(r.err)
	}
	marker := fmt.Sprintf("%d.%06d", 300, time.Now().Nanosecond()/1000)
	s, err := r.client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(fmt.Sprintf("sh -c 'sleep %s & sleep %s'", marker, marker)); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return len(liveWithArg(marker)) == 2 }) {
		t.Fatalf("the sleeps did not start: %v", liveWithArg(marker))
	}
	r.nc.Close()
	if !waitFor(KillDelay+5*time.Second, func() bool { return len(liveWithArg(marker)) == 0 }) {
		t.Fatalf("processes survived the disconnect: %v", liveWithArg(marker))
	}
}

// liveWithArg lists the live (not zombie) processes with arg in argv.
func liveWithArg(arg string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !slices.Contains(strings.Split(string(b), "\x00"), arg) {
			continue
		}
		st, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(st), ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
			continue
		}
		out = append(out, filepath.Base(d))
	}
	return out
}

// staticResolver resolves from a map, or fails for every name when nil.
type staticResolver map[string]string

func (s staticResolver) GroupSID(ctx context.Context, name string) (string, error) {
	if v, ok := s[name]; ok {
		return v, nil
	}
	return "", errors.New("the admin server is down")
}

func TestGroupCacheAndSIDs(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.login(t)
	b, err := os.ReadFile(filepath.Join(f.cfg.StateDir, groupCacheFile))
	if err != nil {
		t.Fatal(err)
	}
	sid := groupSID(t, f, "b-remote-users")
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || m["b-remote-users"] != sid {
		t.Fatalf("cache %s, want b-remote-users = %s", b, sid)
	}
	// A second agent with the admin server down starts from the cache.
	f.agent.Close()
	f.start(t, fixtureOptions{resolver: staticResolver(nil)})
	f.login(t)
	// Groups named by SID need no resolution at all.
	f2 := newFixture(t, fixtureOptions{noAdmin: true, mutate: func(f *fixture, c *Config) {
		c.AdminURL = ""
		c.LogonGroups = []string{groupSID(t, f, "b-remote-users")}
		c.Endpoints = nil
	}})
	f2.login(t)
}

func groupSID(t *testing.T, f *fixture, name string) string {
	t.Helper()
	g, err := f.lab.Dir.As(directory.LocalAdmin).Group(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.lab.Dir.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g.SID(snap.Domain().SID).String()
}

// TestHandshakeDeadlineIsWallClock: the handshake deadline is real time,
// whatever clock the agent's Kerberos checks are given.
func TestHandshakeDeadlineIsWallClock(t *testing.T) {
	f := newFixture(t, fixtureOptions{now: func() time.Time { return time.Now().Add(-time.Minute) }})
	c := f.login(t)
	if r := run(t, c, "echo ok", "", nil); r.stdout != "ok\n" {
		t.Fatalf("got %+v", r)
	}
}
