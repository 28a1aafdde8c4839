package agent

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/gssapi"
)

// idleConn connects from the source address src and sends nothing; it
// reports whether the agent took the connection (sent its version line)
// or closed it at once.
func idleConn(t *testing.T, addr, src string) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	nc.SetReadDeadline(time.Time{})
	if err == nil && strings.HasPrefix(line, "SSH-2.0-hop-agent") {
		return nc, true
	}
	return nc, false
}

// TestMaxStartups: connections that never authenticate are bounded per
// source address and in all, below max_connections, and the agent closes
// those beyond the bounds at once; an authenticated connection gives its
// slot back, and alice can still log on.
func TestMaxStartups(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		c.MaxConnections, c.MaxStartups, c.MaxStartupsPerSource = 10, 4, 2
	}})
	for i, step := range []struct {
		src  string
		took bool
	}{
		{"127.0.0.2", true}, {"127.0.0.2", true},
		{"127.0.0.2", false}, // per source
		{"127.0.0.3", true}, {"127.0.0.3", true},
		{"127.0.0.4", false}, // in all
	} {
		if _, took := idleConn(t, f.addr, step.src); took != step.took {
			t.Fatalf("connection %d from %s: taken %v, want %v", i, step.src, took, step.took)
		}
	}
	// The refusals are reported at a bounded rate: one event for the
	// first, none for the next within startupReportInterval.
	ev := f.eventsOf("connection.refused")
	if len(ev) != 1 || ev[0].Code != "max_startups" || !strings.Contains(ev[0].Reason, "max_startups_per_source") {
		t.Errorf("connection.refused events: %+v", ev)
	}
	// Every pre-authentication slot is taken: alice is refused too …
	if _, took := idleConn(t, f.addr, "127.0.0.1"); took {
		t.Fatal("a fifth unauthenticated connection was taken")
	}
	// … until one of the idle connections goes.
	nc, took := idleConn(t, f.addr, "127.0.0.5")
	if took {
		t.Fatal("a connection beyond max_startups was taken")
	}
	nc.Close()
	f.agent.mu.Lock()
	var idle net.Conn
	for c := range f.agent.open {
		if strings.HasPrefix(c.addr, "127.0.0.3:") {
			idle = c.nc
		}
	}
	f.agent.mu.Unlock()
	idle.Close()
	if !waitFor(5*time.Second, func() bool {
		f.agent.startups.mu.Lock()
		defer f.agent.startups.mu.Unlock()
		return f.agent.startups.total == 3
	}) {
		t.Fatal("the slot of a closed connection was not given back")
	}
	c := f.login(t)
	if r := run(t, c, "echo ok", "", nil); r.stdout != "ok\n" {
		t.Fatalf("alice's session: %+v", r)
	}
	// Authenticated, alice's connection holds no slot.
	if _, took := idleConn(t, f.addr, "127.0.0.6"); !took {
		t.Fatal("an authenticated connection still holds a pre-authentication slot")
	}
}

func TestStartupsReportRate(t *testing.T) {
	s := newStartups(1, 1)
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		at   time.Duration
		want int // refusals reported
	}{
		{0, 1}, {time.Second, 0}, {2 * time.Second, 0}, {startupReportInterval, 3},
		{startupReportInterval + time.Second, 0}, {-time.Hour, 2}, // a clock set back reports
	} {
		if n, _, _ := s.refused(t0.Add(tc.at), "192.0.2.1", "x"); n != tc.want {
			t.Errorf("refusal at %v: reported %d, want %d", tc.at, n, tc.want)
		}
	}
}

func TestMaxStartupsConfig(t *testing.T) {
	for _, tc := range []struct {
		conns, startups, perSource int
		wantStartups, wantPer      int
		err                        string
	}{
		{0, 0, 0, DefaultMaxStartups, DefaultMaxStartupsPerSource, ""},
		{10, 0, 0, 5, 5, ""},
		{1, 0, 0, 1, 1, ""},
		{10, 9, 3, 9, 3, ""},
		{10, 10, 0, 0, 0, "must be below max_connections"},
		{10, 4, 5, 0, 0, "must not exceed max_startups"},
		{0, -1, 0, 0, 0, "max_startups must not be negative"},
	} {
		c := &Config{Host: testHost, LogonGroups: []string{"g"}, MaxConnections: tc.conns, MaxStartups: tc.startups, MaxStartupsPerSource: tc.perSource}
		err := c.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: Validate: %v, want %q", tc, err, tc.err)
			}
			continue
		}
		if err != nil || c.MaxStartups != tc.wantStartups || c.MaxStartupsPerSource != tc.wantPer {
			t.Errorf("%+v: Validate: %v, max_startups %d/%d, want %d/%d", tc, err, c.MaxStartups, c.MaxStartupsPerSource, tc.wantStartups, tc.wantPer)
		}
	}
	c, err := ParseConfig([]byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\nmax_startups = 7\nmax_startups_per_source = 3\nrefuse_service_asserted = true\n"))
	if err != nil || c.MaxStartups != 7 || c.MaxStartupsPerSource != 3 || !c.RefuseServiceAsserted {
		t.Errorf("ParseConfig: %v %+v", err, c)
	}
}

// TestSignalAfterTheLeaderExited: once the session's leader has exited,
// "signal" requests are not sent to its process group (whose id may be
// reused); teardown deals with what is left.
func TestSignalAfterTheLeaderExited(t *testing.T) {
	p, err := startProcess(procSpec{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 30 >/dev/null 2>&1 </dev/null & echo $!"}, Dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.closeIO()
	line, _ := bufio.NewReader(p.stdout).ReadString('\n')
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q", line)
	}
	<-p.exited
	if p.forward(syscall.SIGKILL) {
		t.Error("forward after the leader exited reported that it signalled the group")
	}
	time.Sleep(100 * time.Millisecond)
	if syscall.Kill(child, 0) != nil {
		t.Error("a signal request after the leader exited reached its process group")
	}
	p.teardown()
	if !waitFor(3*time.Second, func() bool { return !p.groupAlive() }) {
		t.Error("teardown left the group alive")
	}

	// While the leader runs, signals do go to the group.
	p, err = startProcess(procSpec{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 30"}, Dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.closeIO()
	if !p.forward(syscall.SIGTERM) {
		t.Error("forward to a running leader did nothing")
	}
	<-p.exited
	if _, sig, _ := p.exitInfo(); sig != syscall.SIGTERM {
		t.Errorf("leader ended with signal %v, want TERM", sig)
	}
}

// TestDelegatedCredentialIsDropped: a TGT the client delegates is not
// kept for the connection.
func TestDelegatedCredentialIsDropped(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	ctx := context.Background()
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}
	tgt, _, err := conn.Login(ctx, &client.Request{Client: alice, Options: krb5.OptForwardable}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", testHost)})
	if err != nil {
		t.Fatal(err)
	}
	r := f.dial(t, "alice", &gssClient{cred: cred, deleg: tgt})
	if r.err != nil {
		t.Fatalf("logon: %v (%q)", r.err, r.banner)
	}
	f.agent.mu.Lock()
	var gctx *gssapi.Context
	for c := range f.agent.open {
		c.mu.Lock()
		gctx = c.gss
		c.mu.Unlock()
	}
	f.agent.mu.Unlock()
	if gctx == nil || gctx.Flags()&gssapi.FlagDeleg == 0 {
		t.Fatal("the test delegated nothing")
	}
	if d := gctx.Delegated(); d != nil {
		t.Errorf("the delegated credential is kept: %d tickets", len(d.Tickets))
	}
}

// TestLoginShellOfDirectoryUsers: an account that is not in the passwd
// file (sssd, LDAP) gets its shell from the name service, so that its
// nologin or restricted shell holds; when the shell cannot be read, the
// account is refused rather than given /bin/sh.
func TestLoginShellOfDirectoryUsers(t *testing.T) {
	passwd := t.TempDir() + "/passwd"
	if err := os.WriteFile(passwd, []byte("local:x:1001:1001::/home/local:/bin/bash\nplain:x:1002:1002::/:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(old string) { passwdFile = old }(passwdFile)
	passwdFile = passwd
	defer func(old func(context.Context, string) (string, error)) { lookupPasswdEntry = old }(lookupPasswdEntry)
	nss := map[string]string{
		"dirnologin": "dirnologin:*:70001:70001:Dir User:/home/dirnologin:/usr/sbin/nologin\n",
		"dirrbash":   "dirrbash:*:70002:70001::/home/dirrbash:/bin/rbash",
		"local":      "local:x:1001:1001::/home/local:/usr/sbin/nologin", // the file wins
		"other":      "someoneelse:*:70003:70001::/:/bin/bash",
		"relative":   "relative:*:70004:70001::/:bin/bash",
	}
	var asked []string
	lookupPasswdEntry = func(_ context.Context, name string) (string, error) {
		asked = append(asked, name)
		if l, ok := nss[name]; ok {
			return l, nil
		}
		return "", errors.New("exit status 2")
	}
	for _, tc := range []struct {
		name, shell string
		err         bool
	}{
		{"local", "/bin/bash", false},
		{"plain", "/bin/sh", false},
		{"dirnologin", "/usr/sbin/nologin", false},
		{"dirrbash", "/bin/rbash", false},
		{"other", "", true},
		{"relative", "", true},
		{"unknown", "", true},
	} {
		sh, err := loginShell(tc.name)
		if sh != tc.shell || (err != nil) != tc.err || (err != nil && !errors.Is(err, errShell)) {
			t.Errorf("loginShell(%s) = %q, %v; want %q (error %v)", tc.name, sh, err, tc.shell, tc.err)
		}
	}
	if strings.Join(asked, ",") != "dirnologin,dirrbash,other,relative,unknown" {
		t.Errorf("the name service was asked for %v", asked)
	}
}

func TestGetentPasswd(t *testing.T) {
	if _, err := os.Stat(getentPath); err != nil {
		t.Skipf("no %s", getentPath)
	}
	line, err := getentPasswd(context.Background(), "root")
	if err != nil || !strings.HasPrefix(line, "root:") || strings.Contains(line, "\n") {
		t.Errorf("getent passwd root: %q, %v", line, err)
	}
	if _, err := getentPasswd(context.Background(), "no-such-user-hop"); err == nil {
		t.Error("getent passwd of an unknown user: no error")
	}
	if _, err := getentPasswd(context.Background(), "--help"); err == nil {
		t.Error("an option was passed to getent as a name")
	}
}

// s4uTicket returns a ticket to host/b.example.test in alice's name that
// the host got by protocol transition (S4U2Self) with its own key.
func (f *fixture) s4uTicket(t *testing.T) *client.Credential {
	t.Helper()
	acct, err := f.lab.Dir.Account(context.Background(), "b$")
	if err != nil {
		t.Fatal(err)
	}
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	ctx := context.Background()
	host := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", testHost), Realm: testrealm.Realm}
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}
	var last error
	for _, k := range acct.Keys {
		ck, err := crypto.NewKey(k.EncType, k.Material())
		if err != nil {
			continue
		}
		tgt, err := conn.LoginWithKey(ctx, &client.Request{Client: host, ETypes: []krb5.EncType{ck.EncType()}}, ck)
		if err != nil {
			last = err
			continue
		}
		cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Impersonate: &alice, Service: host.Name})
		if err != nil {
			t.Fatalf("S4U2Self: %v", err)
		}
		return cred
	}
	t.Fatalf("login as %s: %v", host, last)
	return nil
}

// TestServiceAssertedIdentity: a ticket obtained by protocol transition
// (PAC SID S-1-18-2) logs on by default, and the session.start event
// says so; refuse_service_asserted refuses it.
func TestServiceAssertedIdentity(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.dial(t, "alice", &gssClient{cred: f.s4uTicket(t)})
	if r.err != nil {
		t.Fatalf("S4U logon: %v (%q)", r.err, r.banner)
	}
	if out := run(t, r.client, "echo ok", "", nil); out.stdout != "ok\n" {
		t.Fatalf("session: %+v", out)
	}
	ev := f.eventsOf("session.start")
	if len(ev) != 1 || !strings.Contains(ev[0].Flags, "service-asserted-identity") {
		t.Errorf("session.start of an S4U logon: %+v", ev)
	}
	// alice's own ticket is not flagged.
	c := f.login(t)
	run(t, c, "true", "", nil)
	if ev := f.eventsOf("session.start"); len(ev) != 2 || strings.Contains(ev[1].Flags, "service-asserted") {
		t.Errorf("session.start of alice's own logon: %+v", ev)
	}

	f2 := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) { c.RefuseServiceAsserted = true }})
	r = f2.dial(t, "alice", &gssClient{cred: f2.s4uTicket(t)})
	if r.err == nil {
		t.Fatal("an S4U ticket logged on with refuse_service_asserted")
	}
	if !strings.Contains(r.banner, "protocol transition") {
		t.Errorf("banner %q", r.banner)
	}
	if ev := f2.eventsOf("logon.refused"); len(ev) != 1 || !strings.Contains(ev[0].Reason, "S-1-18-2") {
		t.Errorf("logon.refused: %+v", ev)
	}
	f2.login(t) // alice's own ticket still logs on
}
