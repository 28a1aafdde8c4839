package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/directory"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
)

// TestMapUser: which local account a principal maps to, from the
// principal, the PAC's account name and [user_map].
func TestMapUser(t *testing.T) {
	c := &Config{Realm: "EXAMPLE.TEST", UserMap: map[string]string{
		"carol": "cjones", "dave@OTHER.TEST": "dave2", "Erin@example.test": "erin-admin",
	}}
	user := func(realm string, comps ...string) krb5.Principal {
		return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, comps...), Realm: krb5.Realm(realm)}
	}
	for _, tc := range []struct {
		name     string
		p        krb5.Principal
		pacName  string
		local    string
		explicit bool
	}{
		{"plain user", user("EXAMPLE.TEST", "alice"), "alice", "alice", false},
		{"plain user without PAC name", user("EXAMPLE.TEST", "alice"), "", "alice", false},
		{"name key", user("EXAMPLE.TEST", "carol"), "carol", "cjones", true},
		{"principal key ignores case", user("EXAMPLE.TEST", "erin"), "erin", "erin-admin", true},
		// An SPN of an account is the account, not its service class.
		{"SPN alias", user("EXAMPLE.TEST", "root", "evil.example.test"), "svc-evil", "svc-evil", false},
		{"SPN alias of a mapped account", user("EXAMPLE.TEST", "postgres", "db.example.test"), "carol", "cjones", true},
		{"SPN alias without PAC name", user("EXAMPLE.TEST", "root", "evil.example.test"), "", "", false},
		// An enterprise name or UPN is its account's, whatever its prefix.
		{"UPN alias", user("EXAMPLE.TEST", "root@corp.test"), "bob", "bob", false},
		{"UPN alias without PAC name", user("EXAMPLE.TEST", "root@corp.test"), "", "", false},
		// Other realms map only through an entry of their own.
		{"other realm", user("OTHER.TEST", "alice"), "alice", "", false},
		{"other realm, name key not used", user("OTHER.TEST", "carol"), "carol", "", false},
		{"other realm, principal key", user("OTHER.TEST", "dave"), "dave", "dave2", true},
	} {
		local, explicit := c.mapUser(tc.p, tc.pacName)
		if local != tc.local || explicit != tc.explicit {
			t.Errorf("%s: mapUser(%s, %q) = %q, %v; want %q, %v", tc.name, tc.p, tc.pacName, local, explicit, tc.local, tc.explicit)
		}
	}
}

func TestUserMapKeysThatFoldTogetherAreRefused(t *testing.T) {
	c := &Config{Host: testHost, LogonGroups: []string{"g"}, UserMap: map[string]string{"carol@EXAMPLE.TEST": "a", "CAROL@example.test": "b"}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "name the same principal") {
		t.Fatalf("Validate: %v", err)
	}
}

func TestUIDMinFromLoginDefs(t *testing.T) {
	defer func(old string) { loginDefsFile = old }(loginDefsFile)
	for _, tc := range []struct {
		text string
		want uint32
	}{
		{"# comment\nUID_MIN\t\t\t 500\nUID_MAX 60000\n", 500},
		{"UID_MAX 60000\n", defaultUIDMin},
		{"UID_MIN nonsense\n", defaultUIDMin},
	} {
		loginDefsFile = filepath.Join(t.TempDir(), "login.defs")
		if err := os.WriteFile(loginDefsFile, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := uidMin(); got != tc.want {
			t.Errorf("%q: uidMin = %d, want %d", tc.text, got, tc.want)
		}
	}
	loginDefsFile = filepath.Join(t.TempDir(), "missing")
	if got := uidMin(); got != defaultUIDMin {
		t.Errorf("no login.defs: %d", got)
	}
}

// keyTicket returns a service ticket for host/b.example.test for the
// principal name comps, logged in with a service account's key.
func (f *fixture) keyTicket(t *testing.T, keys []crypto.Key, comps ...string) *client.Credential {
	t.Helper()
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	ctx := context.Background()
	p := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, comps...), Realm: testrealm.Realm}
	var last error
	for i := range keys {
		k := &keys[i]
		tgt, err := conn.LoginWithKey(ctx, &client.Request{Client: p, ETypes: []krb5.EncType{k.EncType()}}, k)
		if err != nil {
			last = err
			continue
		}
		cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", testHost)})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	t.Fatalf("login as %s: %v", p, last)
	return nil
}

// TestNoDefaultMappingToRoot: a principal reaches root or a system
// account only through an explicit [user_map] entry — not by being a
// domain account named root, nor by authenticating with an SPN whose
// service class is root.
func TestNoDefaultMappingToRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the agent maps principals to local accounts only when it runs as root")
	}
	if u, err := lookupLocalUser("root"); err != nil || u.UID != 0 || noLogin(u.Shell) {
		t.Skipf("no usable local root account: %v", err)
	}
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()

	// A domain account named root, in the logon group.
	f.lab.AddUser(t, "root", "Root-pw-1234")
	if _, err := f.lab.Dir.As(directory.LocalAdmin).AddMember(ctx, "b-remote-users", "root", 0); err != nil {
		t.Fatal(err)
	}
	r := f.dial(t, "root", &gssClient{cred: f.ticket(t, "root", "Root-pw-1234")})
	if r.err == nil {
		out := run(t, r.client, "id -u", "", nil)
		t.Fatalf("the domain account root logged on by default (id -u: %q)", out.stdout)
	}
	if !strings.Contains(r.banner, "root or a system account: that needs an explicit entry in [user_map]") {
		t.Errorf("banner %q", r.banner)
	}

	// A service account whose SPN is root/evil.example.test.
	dkeys := f.lab.AddService(t, "svc-evil", "root/evil.example.test")
	if _, err := f.lab.Dir.As(directory.LocalAdmin).AddMember(ctx, "b-remote-users", "svc-evil", 0); err != nil {
		t.Fatal(err)
	}
	var keys []crypto.Key
	for _, k := range dkeys {
		ck, err := crypto.NewKey(k.EncType, k.Material())
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, *ck)
	}
	r = f.dial(t, "root", &gssClient{cred: f.keyTicket(t, keys, "root", "evil.example.test")})
	if r.err == nil {
		out := run(t, r.client, "id -un", "", nil)
		t.Fatalf("root/evil.example.test logged on (id -un: %q)", out.stdout)
	}
	if !strings.Contains(r.banner, "maps to the local account svc-evil, which does not exist") {
		t.Errorf("banner %q", r.banner)
	}

	// An explicit entry does map to root.
	f2 := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) { c.UserMap["root"] = "root" }})
	f2.lab.AddUser(t, "root", "Root-pw-1234")
	if _, err := f2.lab.Dir.As(directory.LocalAdmin).AddMember(ctx, "b-remote-users", "root", 0); err != nil {
		t.Fatal(err)
	}
	r = f2.dial(t, "root", &gssClient{cred: f2.ticket(t, "root", "Root-pw-1234")})
	if r.err != nil {
		t.Fatalf("root, mapped explicitly: %v (banner %q)", r.err, r.banner)
	}
	if out := run(t, r.client, "id -u", "", nil); out.stdout != "0\n" {
		t.Errorf("id -u: %+v", out)
	}
}

// TestExecRunsTheLoginShell: "exec" runs the command with the account's
// login shell, as sshd does, so that a restricted shell (git-shell, a
// menu) cannot be bypassed with hop exec HOST -- COMMAND.
func TestExecRunsTheLoginShell(t *testing.T) {
	alice, _ := testUsers(t)
	self, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shell := filepath.Join(dir, "restricted-shell")
	if err := os.WriteFile(shell, []byte("#!/bin/sh\necho \"restricted: $*\"\nexit 42\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(dir, "passwd")
	var lines strings.Builder
	for _, name := range []string{alice, self.Name} {
		fmt.Fprintf(&lines, "%s:x:1:1::/:%s\n", name, shell)
	}
	if err := os.WriteFile(passwd, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(old string) { passwdFile = old }(passwdFile)
	passwdFile = passwd

	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	r := run(t, c, "id -un", "", nil)
	if r.stdout != "restricted: -c id -un\n" || r.status != 42 {
		t.Fatalf("exec ran %+v, want the login shell's answer", r)
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
