package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/internal/testio"
	"hop/internal/thirdparty"
	"hop/krb5/kcm"
	"hop/remoting"
)

// TestDefaultSessionBroker runs MIT's klist and kvno in a default session:
// the cache is KCM:, served by the session's broker, holds the session's
// principal and no ticket, and goes away with the session.
func TestDefaultSessionBroker(t *testing.T) {
	klist, kvno := thirdparty.Require(t, "klist"), thirdparty.Require(t, "kvno")
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	r := run(t, c, `echo "dir=${KRB5_CONFIG%%/krb5.conf:*}"; `+klist+`; echo "klist=$?"; `+kvno+` host/c.example.test; echo "kvno=$?"`, "", nil)
	t.Logf("session output:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	if r.status != 0 {
		t.Fatalf("exit %d, stderr %q", r.status, r.stderr)
	}
	for _, w := range []string{"Ticket cache: KCM:", "Default principal: alice@EXAMPLE.TEST", "klist=0\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("the session's klist lacks %q", w)
		}
	}
	if strings.Contains(r.stdout, "krbtgt/") {
		t.Error("the session's cache holds a ticket (mode none gives none)")
	}
	if strings.Contains(r.stdout, "kvno=0\n") {
		t.Error("kvno got a ticket for the next hop")
	}
	dir, _, _ := strings.Cut(strings.TrimPrefix(r.stdout, "dir="), "\n")
	if filepath.Dir(dir) != f.cfg.RuntimeDir || !strings.HasPrefix(filepath.Base(dir), "session-") {
		t.Fatalf("the session's krb5.conf is not in runtime_dir: %q", dir)
	}
	// The session has ended: its folder and socket are gone, and nothing
	// answers at the socket's path.
	if !waitFor(5*time.Second, func() bool { _, err := os.Lstat(dir); return os.IsNotExist(err) }) {
		t.Errorf("the session's broker folder %s survived the session", dir)
	}
	if kc, err := kcm.Dial(context.Background(), filepath.Join(dir, "kcm.sock")); err == nil {
		kc.Close()
		t.Error("the session's KCM socket answers after the session ended")
	}
}

// TestBrokerFolderWhileRunning checks the session's folder while its
// program runs: 0700 and owned by the session's account, and the broker
// stops when the client disconnects.
func TestBrokerFolderWhileRunning(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.dial(t, "alice", &gssClient{cred: f.ticket(t, "alice", alicePW)})
	if r.err != nil {
		t.Fatal(r.err)
	}
	s, err := r.client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("sleep 300"); err != nil {
		t.Fatal(err)
	}
	u, err := lookupLocalUser(f.alice)
	if err != nil {
		t.Fatal(err)
	}
	// The broker gives the folder to the session's account last, once its
	// socket listens.
	var dir string
	if !waitFor(5*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(f.cfg.RuntimeDir, "session-*"))
		if len(m) == 1 {
			dir = m[0]
		}
		fi, err := os.Stat(dir)
		return err == nil && fi.Sys().(*syscall.Stat_t).Uid == u.UID
	}) {
		t.Fatalf("no session folder of uid %d in runtime_dir (%q)", u.UID, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode() != os.ModeDir|0o700 || st.Uid != u.UID || st.Gid != u.GID {
		t.Errorf("%s: mode %v owner %d:%d, want drwx------ %d:%d", dir, fi.Mode(), st.Uid, st.Gid, u.UID, u.GID)
	}
	sock := filepath.Join(dir, "kcm.sock")
	kc, err := kcm.Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	kc.Close()
	r.nc.Close()
	if !waitFor(KillDelay+5*time.Second, func() bool { _, err := os.Lstat(dir); return os.IsNotExist(err) }) {
		t.Fatalf("the broker folder survived the disconnect")
	}
	if kc, err := kcm.Dial(context.Background(), sock); err == nil {
		kc.Close()
		t.Error("the KCM socket answers after the disconnect")
	}
}

// TestBrokerFailureRefusesTheSession: without a broker, no default session.
func TestBrokerFailureRefusesTheSession(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	if err := os.RemoveAll(f.cfg.RuntimeDir); err != nil {
		t.Fatal(err)
	}
	c := f.login(t)
	r := run(t, c, "echo ran", "", nil)
	if r.status != ExitRefused || strings.Contains(r.stdout, "ran") || !strings.Contains(r.stderr, "credential broker") {
		t.Errorf("status %d stdout %q stderr %q", r.status, r.stdout, r.stderr)
	}
	ev := f.eventsOf("session.refused")
	if len(ev) != 1 || !strings.Contains(ev[0].Reason, "credential broker") {
		t.Errorf("refusals audited: %+v", ev)
	}
	if len(f.eventsOf("session.start")) != 0 {
		t.Error("a session started")
	}
}

// TestRunAsSessionBroker: a runas session's cache is its broker's, in
// the name of the endpoint's account, whose tickets the broker obtains with
// the endpoint's keytab; the session is not told where the keytab is.
func TestRunAsSessionBroker(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	kc, _ := f.sessionBroker(t, c, func(s *ssh.Session) { s.SendRequest(remoting.EndpointRequest, true, sshString("backup")) })
	ctx := t.Context()
	name, err := kc.DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kc.Principal(ctx, name)
	if err != nil || p.String() != "svc-backup@EXAMPLE.TEST" {
		t.Fatalf("the runas session's cache is %v (%v), want svc-backup@EXAMPLE.TEST", p, err)
	}
	cred := retrieve(t, kc, name, p, "host/"+testHostC)
	if cred == nil || cred.Client.String() != "svc-backup@EXAMPLE.TEST" {
		t.Fatalf("the broker's ticket for host/%s: %+v", testHostC, cred)
	}
	ev := f.eventsOf("broker.issued")
	if len(ev) != 1 || ev[0].Client != "alice@EXAMPLE.TEST" || ev[0].Actor != "svc-backup@EXAMPLE.TEST" || !strings.Contains(ev[0].Reason, "alice@EXAMPLE.TEST as svc-backup@EXAMPLE.TEST via b.example.test") {
		t.Errorf("audit: %+v", ev)
	}
}

// TestHopTicketsInSession runs hop tickets in a default session: it reads
// the broker's cache through KCM.
func TestHopTicketsInSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the hop command")
	}
	f := newFixture(t, fixtureOptions{})
	bin := filepath.Join(testio.TraversableDir(t, "hop-agent-bin"), "hop")
	if out, err := exec.Command("go", "build", "-o", bin, "hop/cmd/hop").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := f.login(t)
	r := run(t, c, bin+" tickets", "", nil)
	t.Logf("hop tickets: exit %d\n%s%s", r.status, r.stdout, r.stderr)
	if !strings.Contains(r.stdout+r.stderr, "alice@EXAMPLE.TEST") {
		t.Errorf("hop tickets does not show the session's principal")
	}
}

func TestHostKrb5Conf(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "KRB5_CONFIG" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		conf, env, want string
	}{
		{"/etc/hop/krb5.conf", "/x/krb5.conf", "/etc/hop/krb5.conf"},
		{"", "/x/a.conf:/x/b.conf", "/x/a.conf:/x/b.conf"},
		{"", "", "/etc/krb5.conf"},
	} {
		if got := hostKrb5Conf(&Config{Krb5Conf: tc.conf}, env(tc.env)); got != tc.want {
			t.Errorf("krb5_conf %q, KRB5_CONFIG %q: %q, want %q", tc.conf, tc.env, got, tc.want)
		}
	}
}

// TestStaleSessionFolders: a session folder an earlier agent left behind
// (nobody serves its socket) is removed at start; one whose socket answers
// (another agent's live session) stays.
func TestStaleSessionFolders(t *testing.T) {
	var stale, live string
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		stale = filepath.Join(c.RuntimeDir, "session-0123456789abcdef")
		live = filepath.Join(c.RuntimeDir, "session-fedcba9876543210")
		for _, d := range []string{stale, live} {
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(stale, "krb5.conf"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		sock := filepath.Join(live, "kcm.sock")
		go (&kcm.Server{}).ListenAndServe(ctx, sock)
		if !waitFor(5*time.Second, func() bool { _, err := os.Stat(sock); return err == nil }) {
			t.Fatal("the live socket did not appear")
		}
	}})
	_ = f
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale session folder is still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live session folder was removed: %v", err)
	}
}

// TestSessionReadableKeytab: the keytab a RunAs endpoint's broker uses
// must not be readable by the sessions.
func TestSessionReadableKeytab(t *testing.T) {
	dir := t.TempDir()
	kt := filepath.Join(dir, "svc.keytab")
	if err := os.WriteFile(kt, []byte{5, 2}, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{Name: "backup", Type: TypeRunAs, RunAs: "root", Keytab: kt}
	if why := sessionReadableKeytab(e); !strings.Contains(why, "mode -rw-r--r--") {
		t.Errorf("a 0644 keytab: %q", why)
	}
	if err := os.Chmod(kt, 0o600); err != nil {
		t.Fatal(err)
	}
	if why := sessionReadableKeytab(e); why != "" {
		t.Errorf("a 0600 keytab of root's: %q", why)
	}
	if why := sessionReadableKeytab(&Endpoint{Name: "x", Type: TypeRunAs, RunAs: "root", Keytab: filepath.Join(dir, "missing")}); why != "" {
		t.Errorf("a missing keytab: %q", why)
	}
}
