package interop

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"

	"hop/admin/adminserver"
	"hop/agent"
	"hop/audit"
	"hop/directory"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/keytab"
	"hop/krb5/tickets"
)

// contactLab is a domain where b.example.test joined as a host does (the
// computer account b$ with its DNS name, the SPNs host/b.example.test and
// host/b, its SSH host key), the real hop agent serving it with a keytab
// that holds only host/b.example.test, and an admin API for the client
// (admin_url) that can be taken down.
type contactLab struct {
	lab      *testrealm.Lab
	keys     []directory.Key
	hostKey  ssh.PublicKey
	adminURL string
	down     atomic.Bool // the admin API drops every connection
	srv      *httptest.Server
	agent    string // the agent's address
	cc       string // alice's credential cache
}

func startContactLab(t *testing.T) *contactLab {
	t.Helper()
	ctx := context.Background()
	c := &contactLab{lab: testrealm.Start(t)}
	l, dir := c.lab, t.TempDir()
	l.AddUser(t, "alice", alicePW)
	signer, err := agent.LoadOrCreateHostKey(filepath.Join(dir, "ssh_host_ed25519_key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.hostKey = signer.PublicKey()
	if c.keys, err = directory.RandomKeys(directory.DefaultETypes(false), nil); err != nil {
		t.Fatal(err)
	}
	c.join(t, c.hostKey)

	// The agent's admin API stays up; the client's goes down on demand.
	agentAdmin := l.ServeAdmin(t, &adminserver.HTTPServer{Names: []string{"127.0.0.1"}})
	hs := &adminserver.HTTPServer{Names: []string{"127.0.0.1"}, Dir: l.Dir}
	if err := hs.EnsureSPNs(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := hs.Handler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.down.Load() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	c.adminURL = c.srv.URL
	_, c.agent = startAgentB(t, l, dir, agentAdmin.URL)

	conf, err := os.ReadFile(l.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	conf = append(conf, fmt.Sprintf("\n[hop]\n\tadmin_url = %s\n\tagent_address = {\n\t\tb.example.test = %s\n\t}\n", c.adminURL, c.agent)...)
	confPath := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	c.cc = l.Login(t, "alice", alicePW)
	t.Setenv("KRB5_CONFIG", confPath)
	t.Setenv("KRB5CCNAME", "FILE:"+c.cc)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return c
}

// join (re-)joins b.example.test with the SSH host key key, as hop host
// join does.
func (c *contactLab) join(t *testing.T, key ssh.PublicKey) {
	t.Helper()
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	if _, err := c.lab.Dir.JoinHost(context.Background(), directory.LocalAdmin, "", directory.JoinRequest{FQDN: "b.example.test", SSHHostKeys: []string{line}, Keys: c.keys}); err != nil {
		t.Fatal(err)
	}
}

// hopExpect runs hop in-process and checks its exit status, its output
// and that its standard error holds each of stderr.
func hopExpect(t *testing.T, code int, stdout string, stderr []string, args ...string) string {
	t.Helper()
	out, errOut, got := execAgentHop(args...)
	bad := got != code || out != stdout
	for _, s := range stderr {
		bad = bad || !strings.Contains(errOut, s)
	}
	if bad {
		t.Errorf("hop %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q", strings.Join(args, " "), got, out, errOut, code, stdout, stderr)
	}
	return errOut
}

// TestFirstContactShortNameAndPort: hop exec b reaches b.example.test
// through the directory's computer account, with a ticket for
// host/b.example.test (the only key of the agent's keytab), as hop exec b
// does with the known_hosts file hop known-hosts writes; and a port typed
// wins over agent_address's.
func TestFirstContactShortNameAndPort(t *testing.T) {
	c := startContactLab(t)
	hopExpect(t, 0, "alice@EXAMPLE.TEST\n", nil, "exec", "b", "--", "echo $HOP_CLIENT")
	l, err := (&tickets.Source{Config: c.lab.Config, CCache: "FILE:" + c.cc}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range l.Tickets {
		if strings.HasPrefix(ti.Server.String(), "host/") && ti.Server.String() != "host/b.example.test@EXAMPLE.TEST" {
			t.Errorf("hop exec b got a ticket for %s, not for the FQDN", ti.Server)
		}
	}
	known := filepath.Join(t.TempDir(), "known_hosts")
	out, errOut, code := execAgentHop("known-hosts", "b", "--server", c.adminURL)
	if code != 0 || !strings.HasPrefix(out, "b.example.test,b ") {
		t.Fatalf("hop known-hosts: %d %q %q", code, out, errOut)
	}
	if err := os.WriteFile(known, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	hopExpect(t, 0, "connected\n", nil, "exec", "b", "--known-hosts", known, "--", "echo connected")
	if out, errOut, code := execAgentHop("exec", "b,b.example.test", "--", "echo connected"); code != 0 || !strings.Contains(out, "b: connected\n") || !strings.Contains(out, "b.example.test: connected\n") {
		t.Errorf("hop exec b,b.example.test: %d %q %q", code, out, errOut)
	}

	// Issue 13, item 1: agent_address maps b.example.test to the agent;
	// the port typed, where nothing listens, must not reach it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	where := "(address from agent_address for b.example.test in krb5.conf's [hop] section, port from "
	hopExpect(t, 1, "", []string{"nothing listens on 127.0.0.1:" + free, where + "b.example.test:" + free + ")"}, "exec", "b.example.test:"+free, "--", "echo connected")
	hopExpect(t, 1, "", []string{"nothing listens on 127.0.0.1:" + free, where + "--port)"}, "exec", "b.example.test", "--port", free, "--", "echo connected")
	hopExpect(t, 1, "", []string{"nothing listens on 127.0.0.1:" + free}, "exec", "b", "--port", free, "--", "echo connected")
}

// TestFirstContactAdminAPIDown: with the admin API down, the host keys
// the client read last serve, with a warning; never once the directory
// has answered other keys; without a copy, hop says to give --known-hosts
// FILE, which then works.
func TestFirstContactAdminAPIDown(t *testing.T) {
	c := startContactLab(t)
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, []byte("b.example.test,b "+string(ssh.MarshalAuthorizedKey(c.hostKey))), 0o644); err != nil {
		t.Fatal(err)
	}
	hopExpect(t, 0, "connected\n", nil, "exec", "b.example.test", "--", "echo connected")

	c.down.Store(true)
	errOut := hopExpect(t, 0, "connected\n", []string{
		"hop: warning: cannot reach the admin server " + c.adminURL + ": ",
		"; using the SSH host keys of b.example.test as read from the directory ", " ago (kept in " + os.Getenv("XDG_CACHE_HOME") + "/hop/host-keys-",
	}, "exec", "b.example.test", "--", "echo connected")
	if strings.Count(errOut, "\n") != 1 {
		t.Errorf("more than the warning: %q", errOut)
	}
	hopExpect(t, 0, "connected\n", []string{"hop: warning: cannot reach the admin server"}, "exec", "b", "--", "echo connected")

	// Re-joined with another key: the directory's answer wins over the
	// copy, which follows it.
	c.down.Store(false)
	other := agentOtherKey(t)
	c.join(t, other)
	mismatch := "is not the one registered in the directory (" + ssh.FingerprintSHA256(other) + ")"
	hopExpect(t, 1, "", []string{mismatch}, "exec", "b.example.test", "--", "echo connected")
	c.down.Store(true)
	hopExpect(t, 1, "", []string{mismatch}, "exec", "b.example.test", "--", "echo connected")

	// No copy (a new cache folder), the server gone: what to do.
	c.srv.Close()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	hint := "give --known-hosts FILE (hop known-hosts > FILE writes one where the directory can be reached)"
	hopExpect(t, 1, "", []string{"b.example.test: cannot check the host's identity: ", "cannot reach the admin server " + c.adminURL + ": ", "connection refused", "no copy of its keys was kept from an earlier read; " + hint}, "exec", "b.example.test", "--", "echo connected")
	hopExpect(t, 1, "", []string{"b: cannot resolve the short name: ", hint}, "exec", "b", "--", "echo connected")
	hopExpect(t, 0, "connected\n", nil, "exec", "b", "--known-hosts", known, "--", "echo connected")
}

// agentOtherKey is an SSH host key the agent does not hold.
func agentOtherKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	s, err := agent.LoadOrCreateHostKey(filepath.Join(t.TempDir(), "other_key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey()
}

// startAgentB runs the real hop agent in-process for b.example.test, with
// the keys of the lab's account b$ for host/b.example.test (only) in its
// keytab, its SSH host key in dir (made if missing), and alice, in
// b-remote-users, mapped to the user running the test; it returns the
// agent and its address.
func startAgentB(t *testing.T, l *testrealm.Lab, dir, adminURL string) (*agent.Agent, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Dir.As(directory.LocalAdmin).CreateGroup(ctx, "b-remote-users", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Dir.As(directory.LocalAdmin).AddMember(ctx, "b-remote-users", "alice", 0); err != nil {
		t.Fatal(err)
	}
	acct, err := l.Dir.Account(ctx, "b$")
	if err != nil {
		t.Fatal(err)
	}
	spn := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Realm: testrealm.Realm}
	kt := &keytab.Keytab{}
	for _, k := range acct.Keys {
		kt.Entries = append(kt.Entries, keytab.Entry{Principal: spn, KVNO: k.KVNO, EncType: k.EncType, Key: k.Material()})
	}
	ktPath := filepath.Join(dir, "krb5.keytab")
	if err := kt.Save(ktPath); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &agent.Config{
		Host: "b.example.test", Realm: string(testrealm.Realm), Listen: []string{"127.0.0.1:0"},
		Keytab: ktPath, HostKey: filepath.Join(dir, "ssh_host_ed25519_key"),
		StateDir: filepath.Join(dir, "state"), AuditLog: filepath.Join(dir, "audit.log"),
		TranscriptDir: filepath.Join(dir, "transcripts"),
		LogonGroups:   []string{"b-remote-users"},
		AdminURL:      adminURL, UserMap: map[string]string{"alice": me.Username},
	}
	a, err := agent.New(ctx, cfg, agent.Options{Audit: &audit.Memory{}, Krb5: l.Config, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	actx, cancel := context.WithCancel(ctx)
	go func() { done <- a.Run(actx, func(addrs []net.Addr) { ready <- addrs }) }()
	select {
	case addrs := <-ready:
		t.Cleanup(func() { cancel(); <-done })
		return a, addrs[0].String()
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	return nil, ""
}
