package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/admin"
	"hop/dc"
	"hop/domain"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/keytab"
)

// runningKDC is an in-process hop kdc with kpasswd off and the admin API
// on 127.0.0.1 (SPN HTTP/127.0.0.1), over TLS.
type runningKDC struct {
	dir, krb5conf string
	state         dc.State
}

func startKDC(t *testing.T, dir string) *runningKDC {
	t.Helper()
	return startKDCNamed(t, dir, "127.0.0.1")
}

// startKDCNamed is startKDC with the admin API named adminName (its SPN
// HTTP/adminName, the host of its URL), listening on 127.0.0.1.
func startKDCNamed(t *testing.T, dir, adminName string) *runningKDC {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, errOut, code := hopCtx(ctx, "", "kdc", "--dir", dir, "--listen", "127.0.0.1:0", "--kpasswd-listen", "off",
			"--admin-listen", "127.0.0.1:0", "--admin-name", adminName, "--log-level", "warn")
		if code != 0 {
			errc <- &usageError{errOut}
			return
		}
		errc <- nil
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-errc:
		case <-time.After(10 * time.Second):
			t.Error("hop kdc did not stop")
		}
	})
	r := &runningKDC{dir: dir}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(domain.Folder(dir).State()); err == nil && json.Unmarshal(b, &r.state) == nil && r.state.AdminURL != "" {
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("hop kdc stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("hop kdc did not record its addresses")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.krb5conf = filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(r.krb5conf, []byte(ok(t, "", "client-config", "--dir", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func hopCtx(ctx context.Context, stdin string, args ...string) (string, string, int) {
	var out, errOut strings.Builder
	err := Run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	code := ExitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

// kinit writes a ccache for user, as MIT kinit would.
func (r *runningKDC) kinit(t *testing.T, user, pw string) string {
	t.Helper()
	conn := client.Dial(r.state.Listen[0], client.UDPThenTCP, 0)
	defer conn.Close()
	p := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, user), Realm: krb5.Realm(r.state.Realm)}
	cred, _, err := conn.Login(context.Background(), &client.Request{Client: p}, pw)
	if err != nil {
		t.Fatal(err)
	}
	c := &ccache.Cache{Default: p, Credentials: []ccache.Credential{{
		Client: cred.Client, Server: cred.Server, KeyType: cred.SessionKey.EncType(), Key: cred.SessionKey.Material(),
		AuthTime: cred.AuthTime, StartTime: cred.StartTime, EndTime: cred.EndTime, Flags: cred.Flags, Ticket: cred.Ticket.Raw,
	}}}
	path := filepath.Join(t.TempDir(), "cc")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func sshKeyFile(t *testing.T) (string, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	f := filepath.Join(t.TempDir(), "ssh_host_ed25519_key.pub")
	if err := os.WriteFile(f, []byte(line+" root@b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, line
}

func TestHostJoinWithTokenAndRemoteCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	r := startKDC(t, dir)
	if !strings.HasPrefix(r.state.AdminURL, "https://127.0.0.1:") || r.state.AdminPin == "" {
		t.Fatalf("kdc.json: %+v", r.state)
	}
	conf, _ := os.ReadFile(r.krb5conf)
	if !strings.Contains(string(conf), "admin_tls_pin = "+r.state.AdminPin) {
		t.Fatalf("client-config has no pin:\n%s", conf)
	}
	t.Setenv("KRB5_CONFIG", r.krb5conf)
	t.Setenv("HOP_DIR", "")

	// A join token, then a join that needs no ticket.
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(ok(t, "", "host", "token", "create", "b.example.test", "--dir", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile, keyLine := sshKeyFile(t)
	kt := filepath.Join(t.TempDir(), "krb5.keytab")
	out := ok(t, "", "host", "join", "--name", "b.example.test", "--server", r.state.AdminURL, "--token-file", tokFile, "--keytab", kt, "--ssh-key", keyFile)
	if !strings.Contains(out, "as b$ (kvno 1)") || !strings.Contains(out, "1 SSH host key") {
		t.Fatalf("join said:\n%s", out)
	}
	k, err := keytab.Load(kt)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(kt); st.Mode().Perm() != 0o600 {
		t.Errorf("keytab mode %v", st.Mode().Perm())
	}
	hostP, _ := krb5.ParsePrincipal("host/b.example.test@EXAMPLE.TEST")
	if e, err := k.Find(hostP, 1, krb5.AES256CTSHMACSHA196); err != nil || len(e.Key) != 32 {
		t.Fatalf("keytab lacks host/b.example.test kvno 1: %v", err)
	}
	// The token was for one use.
	fails(t, 1, "used", "", "host", "join", "--name", "b.example.test", "--server", r.state.AdminURL, "--token-file", tokFile, "--keytab", kt, "--ssh-key", keyFile)
	// known-hosts prints the registered key.
	if kh := ok(t, "", "known-hosts", "--dir", dir); !strings.Contains(kh, "b.example.test,b "+keyLine) {
		t.Fatalf("known-hosts:\n%s", kh)
	}

	// A re-join rotates the keys and keeps the previous ones in the keytab.
	if err := os.WriteFile(tokFile, []byte(ok(t, "", "host", "token", "create", "b.example.test", "--dir", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "", "host", "join", "--name", "b.example.test", "--server", r.state.AdminURL, "--token-file", tokFile, "--keytab", kt, "--ssh-key", keyFile)
	k, err = keytab.Load(kt)
	if err != nil {
		t.Fatal(err)
	}
	kvnos := map[uint32]int{}
	for _, e := range k.Entries {
		kvnos[e.KVNO]++
	}
	if kvnos[2] == 0 || kvnos[1] == 0 || len(kvnos) != 2 {
		t.Fatalf("after a re-join the keytab holds kvnos %v, want 1 and 2", kvnos)
	}

	// Directory commands over the network act with the caller's ticket.
	t.Setenv("KRB5CCNAME", "FILE:"+r.kinit(t, "alice", "Alice-pw-1"))
	var a admin.Account
	if err := json.Unmarshal([]byte(ok(t, "", "account", "show", "b$", "--server", r.state.AdminURL, "--json")), &a); err != nil {
		t.Fatal(err)
	}
	if a.DNSHostName != "b.example.test" || a.KVNO != 2 || len(a.SSHHostKeys) != 1 {
		t.Fatalf("remote show: %+v", a)
	}
	fails(t, 1, "Domain Admins", "Bob-pw-123\n", "account", "add", "bob", "--server", r.state.AdminURL)
	// With no local domain, krb5.conf's admin_url is used.
	t.Setenv("HOP_DIR", "")
	if out, errOut, code := hop(t, "", "account", "show", "alice", "--dir", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.Contains(errOut, "no hop domain") {
		t.Fatalf("an explicit --dir without a domain: %d %s %s", code, out, errOut)
	}
	t.Setenv("KRB5CCNAME", "FILE:"+r.kinit(t, "Administrator", "Admin-pw-1"))
	ok(t, "Bob-pw-1234\n", "account", "add", "bob", "--server", r.state.AdminURL)
	// The KDC writes its audit log at least every audit.FlushInterval.
	created := func(out string) bool {
		return strings.Contains(out, "directory.account.create") && strings.Contains(out, "Administrator")
	}
	out = ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !created(out); time.Sleep(50 * time.Millisecond) {
		out = ok(t, "", "audit", "--dir", dir, "--principal", "bob", "--type", "directory")
	}
	if !created(out) {
		t.Errorf("the remote change is not audited with its actor:\n%s", out)
	}
	// Domain Admins read it over the network too.
	if out := ok(t, "", "audit", "--server", r.state.AdminURL, "--principal", "bob", "--json"); !strings.Contains(out, `"type":"directory.account.create"`) {
		t.Errorf("hop audit --server:\n%s", out)
	}
}

// hop host join --agent-config joins as the agent's host, writes the
// agent's keytab and registers its SSH host key, made on the spot.
func TestHostJoinForAgent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ad := t.TempDir()
	conf := filepath.Join(ad, "agent.toml")
	if err := os.WriteFile(conf, []byte(`host = "c.example.test"
realm = "EXAMPLE.TEST"
listen = ["127.0.0.1:0"]
keytab = "`+filepath.Join(ad, "krb5.keytab")+`"
host_key = "`+filepath.Join(ad, "host_key")+`"
state_dir = "`+filepath.Join(ad, "state")+`"
audit_log = "`+filepath.Join(ad, "audit.log")+`"
transcript_dir = "`+filepath.Join(ad, "tr")+`"
logon_groups = ["S-1-5-21-1-2-3-1100"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := ok(t, "", "host", "join", "--agent-config", conf, "--dir", dir)
	if !strings.Contains(out, "as c$") || !strings.Contains(out, "1 SSH host key") {
		t.Fatalf("join:\n%s", out)
	}
	pub, err := os.ReadFile(filepath.Join(ad, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(pub))
	if kh := ok(t, "", "known-hosts", "c.example.test", "--dir", dir); !strings.Contains(kh, fields[0]+" "+fields[1]) {
		t.Fatalf("known-hosts does not hold the agent's key:\n%s", kh)
	}
	if _, err := keytab.Load(filepath.Join(ad, "krb5.keytab")); err != nil {
		t.Fatal(err)
	}
}

// TestKnownHostsNeedsAnAuthenticatedServer: the host keys hop known-hosts
// prints are trusted as they come, so, like hop exec, it reads them only
// from an admin server whose replies cannot be forged in transit.
func TestKnownHostsNeedsAnAuthenticatedServer(t *testing.T) {
	t.Setenv("KRB5_CONFIG", filepath.Join(t.TempDir(), "none.conf"))
	t.Setenv("HOP_DIR", "")
	for _, u := range []string{"http://kdc.example.test:8749", "http://192.0.2.1:8749"} {
		fails(t, 1, "is plain HTTP to another host", "", "known-hosts", "--server", u)
	}
}
