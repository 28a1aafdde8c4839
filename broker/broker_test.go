package broker

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/internal/testio"
	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/kcm"
	"hop/krb5/wire"
	"hop/remoting"
)

var alice = krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "EXAMPLE.TEST"}

func runtimeDir(t *testing.T) string { return testio.TraversableDir(t, "hop-broker-test") }

// testUID is the uid the tests give the session: another one when root.
func testUID() (uint32, uint32) {
	if os.Geteuid() == 0 {
		return 61234, 61234
	}
	return uint32(os.Getuid()), uint32(os.Getgid())
}

func start(t *testing.T, c Config) *Broker {
	t.Helper()
	b, err := Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestStartEnvClose(t *testing.T) {
	rt := runtimeDir(t)
	uid, gid := testUID()
	b := start(t, Config{RuntimeDir: rt, SessionID: "0123abcd", UID: uid, GID: gid, Principal: alice, HostKrb5Conf: "/etc/hop-test/krb5.conf"})
	dir := filepath.Join(rt, "session-0123abcd")
	if b.Dir() != dir || b.Socket() != filepath.Join(dir, "kcm.sock") {
		t.Fatalf("Dir %q Socket %q", b.Dir(), b.Socket())
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{dir, os.ModeDir | 0o700}, {b.Socket(), os.ModeSocket | 0o600}} {
		fi, err := os.Lstat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != c.mode || st.Uid != uid || st.Gid != gid {
			t.Errorf("%s: mode %v uid %d gid %d, want %v %d %d", c.path, fi.Mode(), st.Uid, st.Gid, c.mode, uid, gid)
		}
	}
	frag := filepath.Join(dir, "krb5.conf")
	want := []string{"KRB5CCNAME=KCM:", "KRB5_CONFIG=" + frag + ":/etc/hop-test/krb5.conf"}
	if got := b.Env(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Env %q, want %q", got, want)
	}
	text, err := os.ReadFile(frag)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"[libdefaults]", "kcm_socket = " + b.Socket() + "\n", "default_ccache_name = KCM:\n"} {
		if !strings.Contains(string(text), w) {
			t.Errorf("the fragment lacks %q:\n%s", w, text)
		}
	}

	// This process is root or the session's uid: either may connect; the
	// default cache holds the principal and nothing else.
	ctx := context.Background()
	c, err := kcm.Dial(ctx, b.Socket())
	if err != nil {
		t.Fatal(err)
	}
	name, err := c.DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Principal(ctx, name)
	if err != nil || p.String() != "alice@EXAMPLE.TEST" {
		t.Errorf("Principal(%q) = %v, %v", name, p, err)
	}
	creds, err := c.Credentials(ctx, name)
	if err != nil || len(creds) != 0 {
		t.Errorf("Credentials = %d, %v; want none", len(creds), err)
	}
	c.Close()

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("the session's folder is still there: %v", err)
	}
	if _, err := kcm.Dial(ctx, b.Socket()); err == nil {
		t.Error("the socket still answers after Close")
	}
}

func TestCloseZeroesKeys(t *testing.T) {
	uid, gid := testUID()
	b := start(t, Config{RuntimeDir: runtimeDir(t), SessionID: "z", UID: uid, GID: gid, Principal: alice})
	key, tkt := []byte("0123456789abcdef"), []byte("ticket-bytes")
	cred := ccache.Credential{Client: alice, Server: krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Realm: "EXAMPLE.TEST"}, Key: key, Ticket: tkt}
	ctx := context.Background()
	c, err := kcm.Dial(ctx, b.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name, err := c.DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Store(ctx, name, &cred); err != nil {
		t.Fatal(err)
	}
	// What the store holds was decoded from the wire: reach it through the
	// store itself.
	var held [][]byte
	b.store.Update(ctx, name, func(c *kcm.Cache) (*kcm.Cache, error) {
		for _, e := range c.Entries {
			held = append(held, e.Credential.Key, e.Credential.Ticket)
		}
		return c, nil
	})
	if len(held) != 2 || string(held[0]) != string(key) {
		t.Fatalf("the store holds %d buffers", len(held))
	}
	b.Close()
	for _, h := range held {
		for _, x := range h {
			if x != 0 {
				t.Fatalf("a key or ticket survived Close: %x", h)
			}
		}
	}
}

func TestStartRefusesBadConfig(t *testing.T) {
	rt := runtimeDir(t)
	for _, c := range []Config{
		{RuntimeDir: "relative", SessionID: "a", Principal: alice},
		{RuntimeDir: rt, SessionID: "../x", Principal: alice},
		{RuntimeDir: rt, SessionID: "", Principal: alice},
		{RuntimeDir: rt, SessionID: "a"},
		{RuntimeDir: filepath.Join(rt, "missing"), SessionID: "a", Principal: alice},
	} {
		if b, err := Start(context.Background(), c); err == nil {
			b.Close()
			t.Errorf("Start(%+v) succeeded", c)
		}
	}
	// A session ID in use is refused, and the first session's folder stays.
	uid, gid := testUID()
	start(t, Config{RuntimeDir: rt, SessionID: "dup", UID: uid, GID: gid, Principal: alice})
	if _, err := Start(context.Background(), Config{RuntimeDir: rt, SessionID: "dup", UID: uid, GID: gid, Principal: alice}); err == nil {
		t.Error("a second broker for the same session started")
	}
	if _, err := os.Stat(filepath.Join(rt, "session-dup", "kcm.sock")); err != nil {
		t.Errorf("the failed start removed the first one's socket: %v", err)
	}
}

// TestOtherUIDRefused checks Allow with MIT's klist: the folder and socket
// are opened to everyone so that only the peer check stands in the way.
func TestOtherUIDRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run klist as other uids")
	}
	klist := thirdparty.Require(t, "klist")
	rt := runtimeDir(t)
	b := start(t, Config{RuntimeDir: rt, SessionID: "peer", UID: 61234, GID: 61234, Principal: alice})
	if err := os.Chmod(b.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(b.Socket(), 0o666); err != nil {
		t.Fatal(err)
	}
	run := func(uid uint32) (string, error) {
		cmd := exec.Command(klist)
		cmd.Env = append(b.Env(), "PATH=/usr/bin:/bin")
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, uid := range []uint32{61234, 0} {
		out, err := run(uid)
		if err != nil || !strings.Contains(out, "Default principal: alice@EXAMPLE.TEST") {
			t.Errorf("klist as uid %d: %v\n%s", uid, err, out)
		}
	}
	out, err := run(61235)
	t.Logf("klist as another uid: %v: %s", err, out)
	if err == nil || strings.Contains(out, "alice@EXAMPLE.TEST") {
		t.Errorf("klist as another uid: %v\n%s", err, out)
	}
}

// TestInitialAsRoot: a session run as root (uid 0, the default cache of the
// session's account and root's at once) holds its initial credential intact,
// and the broker's copy does not share memory with the caller's.
func TestInitialAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the session's uid and root's are the same")
	}
	tgs := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Realm: "EXAMPLE.TEST"}
	key, err := crypto.NewKey(krb5.AES256CTSHMACSHA196, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tkt := wire.Ticket{Realm: "EXAMPLE.TEST", SName: tgs.Name, EncPart: wire.EncryptedData{EType: krb5.AES256CTSHMACSHA196, Cipher: []byte("sealed")}}
	raw, err := tkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tkt.Raw = raw
	tgt := &client.Credential{Client: alice, Server: tgs, Ticket: tkt, SessionKey: key, EndTime: time.Now().Add(time.Hour)}
	b := start(t, Config{RuntimeDir: runtimeDir(t), SessionID: "root", UID: 0, GID: 0, Principal: alice, Initial: []*client.Credential{tgt}})
	ctx := context.Background()
	c, err := kcm.Dial(ctx, b.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	creds, err := c.Credentials(ctx, "0")
	if err != nil || len(creds) != 1 {
		t.Fatalf("root's cache: %d credentials, %v", len(creds), err)
	}
	if _, err := ccache.ToClient(&creds[0]); err != nil {
		t.Errorf("the initial TGT does not decode: %v", err)
	}
	b.Close()
	if !bytes.Equal(tgt.Ticket.Raw, raw) {
		t.Error("Close zeroed the caller's ticket")
	}
}

// TestExplainNone: without an issuer the explanation names the modes the
// endpoint allows, and the explicit credential, as the options.
func TestExplainNone(t *testing.T) {
	uid, gid := testUID()
	host := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Realm: "EXAMPLE.TEST"}
	target := "host/c.example.test@EXAMPLE.TEST"
	for _, tc := range []struct {
		allowed []remoting.Mode
		want    []string
		not     string
	}{
		{nil, []string{"opened with --delegate none; use --delegate constrained (the domain must allow host/b.example.test to reach host/c.example.test: hop delegation explain --user alice --service host/b.example.test --target host/c.example.test) or --delegate forward", "--pass-credential ACCOUNT"}, ""},
		{[]remoting.Mode{remoting.ModeNone, remoting.ModeConstrained}, []string{"use --delegate constrained (", "--pass-credential"}, "--delegate forward"},
		{[]remoting.Mode{remoting.ModeNone}, []string{"the endpoint backup on b.example.test passes no credential of yours (hop endpoints b.example.test); pass one with --pass-credential ACCOUNT"}, "--delegate"},
	} {
		b := start(t, Config{RuntimeDir: runtimeDir(t), SessionID: "x", UID: uid, GID: gid, Principal: alice, Allowed: tc.allowed,
			Host: "b.example.test", HostService: host, Endpoint: "backup"})
		st, err := b.status(context.Background(), 0, &kcm.BrokerQuery{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(st.Target.Explain, w) {
				t.Errorf("allowed %v: %q lacks %q", tc.allowed, st.Target.Explain, w)
			}
		}
		if tc.not != "" && strings.Contains(st.Target.Explain, tc.not) {
			t.Errorf("allowed %v: %q offers %q", tc.allowed, st.Target.Explain, tc.not)
		}
		b.Close()
	}
}

// TestHolds: the status lists what the broker holds, each once: a
// forwarded TGT (the issuer's, also the cache's first entry), a passed
// credential (the password it came as, then its TGT), a ticket a program
// stored, and for constrained delegation the evidence ticket; nothing
// without an issuer.
func TestHolds(t *testing.T) {
	uid, gid := testUID()
	krbtgt := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Realm: "EXAMPLE.TEST"}
	hostC := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "c.example.test"), Realm: "EXAMPLE.TEST"}
	hostB := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Realm: "EXAMPLE.TEST"}
	svc := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "svc-sql"), Realm: "EXAMPLE.TEST"}
	end := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cred := func(c, s krb5.Principal) *client.Credential {
		k, err := crypto.NewKey(krb5.AES256CTSHMACSHA196, bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		tkt := wire.Ticket{Realm: s.Realm, SName: s.Name, EncPart: wire.EncryptedData{EType: krb5.AES256CTSHMACSHA196, Cipher: []byte("sealed")}}
		if tkt.Raw, err = tkt.Marshal(); err != nil {
			t.Fatal(err)
		}
		return &client.Credential{Client: c, Server: s, SessionKey: k, Ticket: tkt, EndTime: end}
	}
	kinds := func(st *kcm.BrokerStatus) string {
		var s []string
		for _, h := range st.Holds {
			s = append(s, h.Kind+" "+h.Principal+" "+h.Target+" "+h.Expires)
		}
		return strings.Join(s, "\n")
	}
	ctx := context.Background()

	tgt := cred(alice, krbtgt)
	b := start(t, Config{RuntimeDir: runtimeDir(t), SessionID: "h1", UID: uid, GID: gid, Principal: alice,
		Mode: remoting.ModeForward, Issuer: &Forwarded{TGT: tgt}, Initial: []*client.Credential{tgt},
		Credentials: []Passed{{Name: "svc-sql", TGT: cred(svc, krbtgt)}}})
	c, err := kcm.Dial(ctx, b.Socket())
	if err != nil {
		t.Fatal(err)
	}
	name, err := c.DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Store(ctx, name, &ccache.Credential{Client: alice, Server: hostC, Key: []byte("k"), Ticket: []byte("t"), EndTime: end}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	st, err := b.status(ctx, 0, &kcm.BrokerQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := "tgt alice@EXAMPLE.TEST krbtgt/EXAMPLE.TEST@EXAMPLE.TEST 2030-01-02T03:04:05Z\n" +
		"password svc-sql@EXAMPLE.TEST  \n" +
		"tgt svc-sql@EXAMPLE.TEST krbtgt/EXAMPLE.TEST@EXAMPLE.TEST 2030-01-02T03:04:05Z\n" +
		"service-ticket alice@EXAMPLE.TEST host/c.example.test@EXAMPLE.TEST 2030-01-02T03:04:05Z"
	if got := kinds(st); got != want {
		t.Errorf("forward with a passed credential holds:\n%s\nwant:\n%s", got, want)
	}

	b2 := start(t, Config{RuntimeDir: runtimeDir(t), SessionID: "h2", UID: uid, GID: gid, Principal: alice,
		Mode: remoting.ModeConstrained, Issuer: &Constrained{Evidence: &client.Credential{Client: alice, Server: hostB}}})
	st, err = b2.status(ctx, 0, &kcm.BrokerQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(st), "evidence-ticket alice@EXAMPLE.TEST host/b.example.test@EXAMPLE.TEST "; got != want {
		t.Errorf("constrained holds:\n%s\nwant:\n%s", got, want)
	}

	b3 := start(t, Config{RuntimeDir: runtimeDir(t), SessionID: "h3", UID: uid, GID: gid, Principal: alice})
	st, err = b3.status(ctx, 0, &kcm.BrokerQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Holds == nil || len(st.Holds) != 0 {
		t.Errorf("mode none holds %#v, want an empty list", st.Holds)
	}
}
