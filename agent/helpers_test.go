package agent

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/admin/adminserver"
	"hop/audit"
	"hop/directory"
	"hop/internal/testio"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
	"hop/krb5/keytab"
)

const (
	testHost  = "b.example.test"
	testHostC = "c.example.test" // a service the next hop reaches
	alicePW   = "Alice-pw-1234"
	bobPW     = "Bob-pw-1234"
)

// Local accounts the tests create when they run as root, so that
// sessions really switch users.
var (
	localOnce            sync.Once
	localAlice, localSvc string
	localErr             error
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, u := range []string{localAlice, localSvc} {
		if u != "" {
			exec.Command("userdel", "-r", u).Run()
		}
	}
	os.Exit(code)
}

// testUsers returns the local accounts alice and the runas service map
// to: new accounts when root and useradd exist, else the test's own.
func testUsers(t *testing.T) (alice, svc string) {
	t.Helper()
	if os.Geteuid() != 0 {
		u, err := currentUser()
		if err != nil {
			t.Fatal(err)
		}
		return u.Name, u.Name
	}
	localOnce.Do(func() {
		if _, err := exec.LookPath("useradd"); err != nil {
			localErr = err
			return
		}
		suffix := fmt.Sprintf("%d", os.Getpid()%100000)
		for _, u := range []*string{&localAlice, &localSvc} {
			name := "hopa" + map[*string]string{&localAlice: "alice", &localSvc: "svc"}[u] + suffix
			if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
				localErr = fmt.Errorf("useradd %s: %v: %s", name, err, out)
				return
			}
			*u = name
		}
	})
	if localErr != nil {
		t.Skipf("running as root without a way to create local users: %v", localErr)
	}
	return localAlice, localSvc
}

// fixture is a test domain, its admin API and an agent on loopback.
type fixture struct {
	lab    *testrealm.Lab
	dir    string
	cfg    *Config
	agent  *Agent
	addr   string
	events *audit.Memory
	admin  string // the admin API's URL
	alice  string // alice's local account
	svc    string // the runas endpoint's account
	// backupKeytab is the runas endpoint's keytab (svc-backup@EXAMPLE.TEST).
	backupKeytab string
}

type fixtureOptions struct {
	mutate   func(f *fixture, c *Config)
	resolver GroupResolver
	now      func() time.Time
	noAdmin  bool
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	l := testrealm.Start(t)
	f := &fixture{lab: l, dir: t.TempDir(), events: &audit.Memory{}}
	f.alice, f.svc = testUsers(t)
	l.AddUser(t, "alice", alicePW)
	l.AddUser(t, "bob", bobPW)
	for _, g := range []string{"b-remote-users", "b-admins", "backup-operators"} {
		if _, err := l.Dir.As(directory.LocalAdmin).CreateGroup(ctx, g, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"b-remote-users", "alice"}, {"backup-operators", "alice"}} {
		if _, err := l.Dir.As(directory.LocalAdmin).AddMember(ctx, m[0], m[1], 0); err != nil {
			t.Fatal(err)
		}
	}
	l.AddService(t, "b$", "host/"+testHost)
	l.AddService(t, "c$", "host/"+testHostC)
	l.AddService(t, "svc-backup")
	ktPath := filepath.Join(f.dir, "krb5.keytab")
	writeKeytab(t, l, "b$", krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", testHost), Realm: testrealm.Realm}, ktPath)
	f.backupKeytab = filepath.Join(f.dir, "svc-backup.keytab")
	writeKeytab(t, l, "svc-backup", krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "svc-backup"), Realm: testrealm.Realm}, f.backupKeytab)
	if !o.noAdmin {
		f.admin = l.ServeAdmin(t, &adminserver.HTTPServer{Names: []string{"127.0.0.1"}}).URL
	}
	f.cfg = &Config{
		Host: testHost, Realm: string(testrealm.Realm), Listen: []string{"127.0.0.1:0"},
		Keytab: ktPath, HostKey: filepath.Join(f.dir, "ssh_host_ed25519_key"),
		StateDir: filepath.Join(f.dir, "state"), AuditLog: filepath.Join(f.dir, "audit.log"),
		TranscriptDir: filepath.Join(f.dir, "transcripts"),
		RuntimeDir:    testio.TraversableDir(t, "hop-agent-run"),
		LogonGroups:   []string{"b-remote-users"}, AdminGroups: []string{"b-admins"},
		AdminURL: f.admin,
		UserMap:  map[string]string{"alice": f.alice},
		Endpoints: map[string]*Endpoint{
			"backup": {Type: TypeRunAs, RunAs: f.svc, Keytab: f.backupKeytab, Groups: []string{"backup-operators"}},
			"admins": {Type: TypeDefault, Groups: []string{"b-admins"}},
		},
	}
	if o.mutate != nil {
		o.mutate(f, f.cfg)
	}
	f.start(t, o)
	return f
}

// writeKeytab writes account's keys for principal p to path.
func writeKeytab(t *testing.T, l *testrealm.Lab, account string, p krb5.Principal, path string) {
	t.Helper()
	acct, err := l.Dir.Account(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	kt := &keytab.Keytab{}
	for _, k := range acct.Keys {
		kt.Entries = append(kt.Entries, keytab.Entry{Principal: p, KVNO: k.KVNO, EncType: k.EncType, Key: k.Material()})
	}
	if err := kt.Save(path); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) start(t *testing.T, o fixtureOptions) {
	t.Helper()
	a, err := New(context.Background(), f.cfg, Options{Audit: f.events, Krb5: f.lab.Config, Resolver: o.resolver, Now: o.now,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	f.agent = a
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- a.Run(ctx, func(addrs []net.Addr) { ready <- addrs }) }()
	select {
	case addrs := <-ready:
		f.addr = addrs[0].String()
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ticket returns user's service ticket for host/b.example.test.
func (f *fixture) ticket(t *testing.T, user, pw string) *client.Credential {
	t.Helper()
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	p := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, user), Realm: testrealm.Realm}
	ctx := context.Background()
	tgt, _, err := conn.Login(ctx, &client.Request{Client: p}, pw)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", testHost)})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// gssClient is a test-only ssh.GSSAPIClient over krb5/gssapi.
type gssClient struct {
	cred   *client.Credential
	now    func() time.Time
	replay []byte             // if set, sent instead of a fresh AP-REQ
	deleg  *client.Credential // if set, delegated (a forwardable TGT)
	sent   []byte             // the token sent
	ctx    *gssapi.Context
	err    error // the acceptor's refusal
}

func (g *gssClient) InitSecContext(target string, token []byte, deleg bool) ([]byte, bool, error) {
	if token == nil {
		if g.ctx != nil {
			return nil, false, fmt.Errorf("test client: InitSecContext called twice")
		}
		o := &gssapi.InitOptions{Flags: gssapi.FlagMutual | gssapi.FlagReplay | gssapi.FlagSequence, Now: g.now}
		if g.deleg != nil {
			o.Flags |= gssapi.FlagDeleg
			o.Delegate = g.deleg
		}
		ctx, tok, err := gssapi.InitSecContext(g.cred, o)
		if err != nil {
			return nil, false, err
		}
		g.ctx, g.sent = ctx, tok
		if g.replay != nil {
			tok = g.replay
		}
		return tok, true, nil
	}
	if err := g.ctx.Continue(token); err != nil {
		g.err = err
		return nil, false, err
	}
	return nil, false, nil
}

func (g *gssClient) GetMIC(m []byte) ([]byte, error) { return g.ctx.MakeMIC(m) }
func (g *gssClient) DeleteSecContext() error         { return nil }

// dialResult is a connection attempt.
type dialResult struct {
	client *ssh.Client
	nc     net.Conn
	banner string
	gss    *gssClient
	err    error
}

// dial connects as user with cred.
func (f *fixture) dial(t *testing.T, user string, g *gssClient) *dialResult {
	t.Helper()
	r := &dialResult{gss: g}
	var mu sync.Mutex
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.GSSAPIWithMICAuthMethod(g, testHost)},
		HostKeyCallback: ssh.FixedHostKey(f.agent.PublicKey()),
		BannerCallback: func(msg string) error {
			mu.Lock()
			r.banner += msg
			mu.Unlock()
			return nil
		},
		Timeout: 10 * time.Second,
	}
	nc, err := net.DialTimeout("tcp", f.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, f.addr, cfg)
	if err != nil {
		nc.Close()
		r.err = err
		return r
	}
	r.client, r.nc = ssh.NewClient(c, chans, reqs), nc
	t.Cleanup(func() { r.client.Close() })
	return r
}

// login connects as alice.
func (f *fixture) login(t *testing.T) *ssh.Client {
	t.Helper()
	r := f.dial(t, "alice", &gssClient{cred: f.ticket(t, "alice", alicePW)})
	if r.err != nil {
		t.Fatalf("alice's logon: %v (banner %q)", r.err, r.banner)
	}
	return r.client
}

// result is how a command ended.
type result struct {
	stdout, stderr string
	status         int
	signal         string
}

// run runs command in a new session; setup may send requests first.
func run(t *testing.T, c *ssh.Client, command, stdin string, setup func(*ssh.Session)) result {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if setup != nil {
		setup(s)
	}
	var out, errb strings.Builder
	s.Stdout, s.Stderr = &out, &errb
	s.Stdin = strings.NewReader(stdin)
	err = s.Run(command)
	r := result{stdout: out.String(), stderr: errb.String()}
	switch e := err.(type) {
	case nil:
	case *ssh.ExitError:
		r.status, r.signal = e.ExitStatus(), e.Signal()
	default:
		t.Fatalf("%s: %v", command, err)
	}
	return r
}

func sshString(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

// eventsOf returns the audit events of type typ.
func (f *fixture) eventsOf(typ string) []audit.Event {
	var out []audit.Event
	for _, e := range f.events.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
