package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hop/admin"
	"hop/domain"
	"hop/krb5"
	"hop/krb5/keytab"
)

// hop runs the command line as a user would and returns stdout, stderr
// and the exit status.
func hop(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	code := ExitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

func ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := hop(t, stdin, args...)
	if code != 0 {
		t.Fatalf("hop %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func fails(t *testing.T, wantCode int, wantErr string, stdin string, args ...string) {
	t.Helper()
	out, errOut, code := hop(t, stdin, args...)
	if code != wantCode || !strings.Contains(errOut, wantErr) {
		t.Fatalf("hop %s: exit %d, stderr %q (stdout %q); want exit %d and %q", strings.Join(args, " "), code, errOut, out, wantCode, wantErr)
	}
}

func TestDomainAndAccounts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	fails(t, 1, "no hop domain in", "", "account", "list", "--dir", dir)
	fails(t, 2, "--realm is required", "", "domain", "init", "--dir", dir)
	fails(t, 1, "password is empty", "\n", "domain", "init", "--dir", dir, "--realm", "example.test")
	fails(t, 1, "no password given: use --admin-password-file FILE", "", "domain", "init", "--dir", dir, "--realm", "example.test")
	fails(t, 1, "Administrator's password: directory: the new password has 5 characters; this domain requires at least 8", "short\n", "domain", "init", "--dir", dir, "--realm", "example.test")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "example.test")
	fails(t, 1, "already holds a domain", "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "OTHER.TEST")
	for _, f := range []string{domain.MasterKeyFile, domain.DirectoryFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v, want 0600", f, err, st.Mode().Perm())
		}
	}
	var dom admin.Domain
	if err := json.Unmarshal([]byte(ok(t, "", "domain", "show", "--dir", dir, "--json")), &dom); err != nil {
		t.Fatal(err)
	}
	if dom.Realm != "EXAMPLE.TEST" || !strings.HasPrefix(dom.SID, "S-1-5-21-") || dom.Policy.MaxTicketLife != "10h0m0s" || dom.Policy.LockoutThreshold != 0 {
		t.Errorf("domain show = %+v", dom)
	}

	// Flags may follow positional arguments.
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir, "--upn", "alice@example.test")
	fails(t, 1, "already exists", "Alice-pw-1\n", "account", "add", "ALICE", "--dir", dir)
	fails(t, 1, `account name "bad/name" contains '/'`, "Long-pass-123\n", "account", "add", "bad/name", "--dir", dir)
	ok(t, "", "account", "add-computer", "b.example.test", "--dir", dir)
	fails(t, 2, "needs at least one --spn", "", "account", "add-service", "svc", "--random-key", "--dir", dir)
	ok(t, "", "account", "add-service", "svc-web", "--spn", "HTTP/web.example.test", "--random-key", "--dir", dir)
	fails(t, 1, `already belongs to account "svc-web"`, "", "spn", "add", "b$", "http/WEB.example.test", "--dir", dir)

	var b admin.Account
	if err := json.Unmarshal([]byte(ok(t, "", "account", "show", "b$", "--dir", dir, "--json")), &b); err != nil {
		t.Fatal(err)
	}
	if b.Kind != "computer" || b.Principal != "b$@EXAMPLE.TEST" || strings.Join(b.SPNs, ",") != "host/b.example.test,host/b" ||
		b.KVNO != 1 || len(b.Keys) != 4 || b.RID < 1000 || !b.PreauthRequired || b.AllowRC4 {
		t.Errorf("b$ = %+v", b)
	}
	if !strings.Contains(strings.Join(b.Groups, ","), "Domain Computers") {
		t.Errorf("b$ groups = %v", b.Groups)
	}

	// passwd increments the kvno and keeps the old keys.
	ok(t, "", "account", "passwd", "b$", "--random-key", "--dir", dir)
	if err := json.Unmarshal([]byte(ok(t, "", "account", "show", "b$", "--dir", dir, "--json")), &b); err != nil {
		t.Fatal(err)
	}
	if b.KVNO != 2 || len(b.OldKeys) != 4 || b.OldKeys[0].KVNO != 1 {
		t.Errorf("after passwd: kvno %d, old keys %+v", b.KVNO, b.OldKeys)
	}

	// The keytab holds every key of both kvnos under b$ and each SPN.
	kt := filepath.Join(t.TempDir(), "b.keytab")
	ok(t, "", "keytab", "export", "b$", "-o", kt, "--dir", dir)
	k, err := keytab.Load(kt)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Entries) != 3*8 {
		t.Errorf("%d keytab entries, want 24", len(k.Entries))
	}
	for _, p := range []string{"b$@EXAMPLE.TEST", "host/b.example.test@EXAMPLE.TEST", "host/b@EXAMPLE.TEST"} {
		pr, _ := krb5.ParsePrincipal(p)
		e, err := k.Find(pr, 0, krb5.AES256CTSHMACSHA196)
		if err != nil || e.KVNO != 2 {
			t.Errorf("keytab %s: %v %+v", p, err, e)
		}
	}

	ok(t, "", "account", "disable", "alice", "--dir", dir)
	if out := ok(t, "", "account", "list", "--dir", dir); !strings.Contains(out, "alice") || !strings.Contains(out, "disabled") {
		t.Errorf("list:\n%s", out)
	}
	ok(t, "", "account", "set", "alice", "--expires", "2030-01-02", "--allow-rc4", "--dir", dir)
	fails(t, 2, "is not a time", "", "account", "set", "alice", "--expires", "tomorrow", "--dir", dir)
	fails(t, 2, "nothing to change", "", "account", "set", "alice", "--dir", dir)
	fails(t, 1, "is a built-in account (RID 500) and cannot be deleted; disable it instead", "", "account", "delete", "Administrator", "--dir", dir)
	ok(t, "", "account", "delete", "alice", "--dir", dir)
	fails(t, 1, `no account "alice" in the directory`, "", "account", "show", "alice", "--dir", dir)

	ok(t, "", "group", "create", "Host Admins", "--dir", dir)
	ok(t, "", "group", "add-member", "Host Admins", "b$", "--dir", dir)
	ok(t, "", "group", "add-member", "Domain Admins", "Host Admins", "--dir", dir)
	fails(t, 1, "would make a cycle", "", "group", "add-member", "Host Admins", "Domain Admins", "--dir", dir)

	conf := ok(t, "", "client-config", "--dir", dir, "--kdc", "127.0.0.1:1088")
	for _, want := range []string{"default_realm = EXAMPLE.TEST", "kdc = 127.0.0.1:1088", ".example.test = EXAMPLE.TEST"} {
		if !strings.Contains(conf, want) {
			t.Errorf("client-config lacks %q:\n%s", want, conf)
		}
	}
}

func TestHelpAndUsage(t *testing.T) {
	if out := ok(t, "", "--help"); !strings.Contains(out, "account") || !strings.Contains(out, "kdc") {
		t.Errorf("hop --help:\n%s", out)
	}
	if out := ok(t, "", "account", "add", "--help"); !strings.Contains(out, "--password-file") {
		t.Errorf("hop account add --help:\n%s", out)
	}
	fails(t, 2, `unknown command "frobnicate"`, "", "frobnicate")
	fails(t, 2, "hop account list: unknown flag --frob (see hop account list --help)", "", "account", "list", "--frob")
	fails(t, 2, "not a loopback address", "", "bench", "kdc", "--kdc", "192.0.2.1:88", "--user", "a@B", "--password-file", "/dev/null")
	var u *usageError
	if err := Run(context.Background(), []string{"account"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &u) {
		t.Errorf("hop account without a subcommand: %v", err)
	}
}

func TestDelegationSettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	for _, h := range []string{"b", "b2", "b3", "c"} {
		ok(t, "", "account", "add-computer", h+".example.test", "--dir", dir)
	}
	show := func(name string) admin.Delegation {
		t.Helper()
		var v admin.Account
		if err := json.Unmarshal([]byte(ok(t, "", "account", "show", name, "--dir", dir, "--json")), &v); err != nil {
			t.Fatal(err)
		}
		if v.Delegation == nil {
			t.Fatalf("account show %s --json has no delegation", name)
		}
		return *v.Delegation
	}

	ok(t, "", "account", "set", "b$", "--trusted-for-delegation", "--dir", dir)
	ok(t, "", "account", "set", "b$", "--allowed-to-delegate-to", "cifs/c.example.test,host/c.example.test", "--protocol-transition", "--dir", dir)
	if d := show("b$"); !d.TrustedForDelegation || !d.ProtocolTransition || strings.Join(d.AllowedToDelegateTo, ",") != "cifs/c.example.test,host/c.example.test" {
		t.Errorf("b$ delegation = %+v", d)
	}
	ok(t, "", "account", "set", "c$", "--allowed-to-act", "b$,b2$,b3$", "--dir", dir)
	if d := show("c$"); strings.Join(d.AllowedToAct, ",") != "b$,b2$,b3$" {
		t.Errorf("c$ allowed to act = %v", d.AllowedToAct)
	}
	ok(t, "", "account", "set", "c$", "--allowed-to-act", "-b2$", "--dir", dir)
	if d := show("c$"); strings.Join(d.AllowedToAct, ",") != "b$,b3$" {
		t.Errorf("after -b2$: %v", d.AllowedToAct)
	}
	ok(t, "", "account", "set", "c$", "--allowed-to-act", "+alice", "--dir", dir)
	if d := show("c$"); len(d.AllowedToAct) != 3 {
		t.Errorf("after +alice: %v", d.AllowedToAct)
	}
	ok(t, "", "account", "set", "c$", "--allowed-to-act", "none", "--dir", dir)
	if d := show("c$"); len(d.AllowedToAct) != 0 {
		t.Errorf("after none: %v", d.AllowedToAct)
	}
	fails(t, 1, "nobody", "", "account", "set", "c$", "--allowed-to-act", "nobody$", "--dir", dir)

	ok(t, "", "account", "set", "alice", "--sensitive", "--dir", dir)
	if d := show("alice"); !d.Sensitive {
		t.Errorf("alice not sensitive: %+v", d)
	}
	ok(t, "", "account", "set", "alice", "--sensitive=false", "--dir", dir)
	ok(t, "", "group", "add-member", "Protected Users", "alice", "--dir", dir)
	if d := show("alice"); d.Sensitive || !d.ProtectedUsers {
		t.Errorf("alice in Protected Users: %+v", d)
	}
	if out := ok(t, "", "account", "show", "alice", "--dir", dir); !strings.Contains(out, "in Protected Users: cannot be delegated") {
		t.Errorf("account show alice:\n%s", out)
	}
	ok(t, "", "account", "set", "c$", "--no-auth-data-required", "--managed-by", "b$", "--dir", dir)
	if d := show("c$"); !d.NoAuthDataRequired || strings.Join(d.ManagedBy, ",") != "b$" {
		t.Errorf("c$ = %+v", d)
	}
}

func TestPasswordPolicyFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ok(t, "", "domain", "set", "--dir", dir, "--min-password-length", "12", "--password-history", "0", "--machine-account-quota", "2")
	var dom admin.Domain
	if err := json.Unmarshal([]byte(ok(t, "", "domain", "show", "--dir", dir, "--json")), &dom); err != nil {
		t.Fatal(err)
	}
	if dom.Policy.MinPasswordLength != 12 || dom.Policy.PasswordHistory > 0 || dom.Policy.MachineAccountQuota != 2 {
		t.Fatalf("policy = %+v", dom.Policy)
	}
	if out := ok(t, "", "domain", "show", "--dir", dir); !strings.Contains(out, "password history: off") {
		t.Errorf("domain show:\n%s", out)
	}
	fails(t, 1, "at least 12", "Short-pw-1\n", "account", "add", "carol", "--dir", dir)
	ok(t, "Long-enough-pw-1\n", "account", "add", "carol", "--dir", dir)
	// With the history off, a password may come back.
	ok(t, "Long-enough-pw-1\n", "account", "passwd", "carol", "--dir", dir)
	ok(t, "", "domain", "set", "--dir", dir, "--password-history", "5")
	fails(t, 1, "used before", "Long-enough-pw-1\n", "account", "passwd", "carol", "--dir", dir)
	fails(t, 2, "cannot be negative", "", "domain", "set", "--dir", dir, "--min-password-length", "-1")
}

// TestNameScriptsFlag: hop domain set --name-scripts lets names mix Latin
// with the scripts it lists, domain show says so, and a name that is not a
// script is a usage error naming the flag.
func TestNameScriptsFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	fails(t, 1, "hop domain set --name-scripts", "Ivan-pw-1234\n", "account", "add", "Ivan-Иван", "--dir", dir)
	fails(t, 2, "--name-scripts: \"Klingon\" is not a Unicode script name", "", "domain", "set", "--dir", dir, "--name-scripts", "Klingon")
	ok(t, "", "domain", "set", "--dir", dir, "--name-scripts", "cyrillic")
	if out := ok(t, "", "domain", "show", "--dir", dir); !strings.Contains(out, "name scripts:     as by default, and Latin mixed with Cyrillic") {
		t.Errorf("domain show:\n%s", out)
	}
	ok(t, "Ivan-pw-1234\n", "account", "add", "Ivan-Иван", "--dir", dir)
	ok(t, "", "domain", "set", "--dir", dir, "--name-scripts", "default")
	var dom admin.Domain
	if err := json.Unmarshal([]byte(ok(t, "", "domain", "show", "--dir", dir, "--json")), &dom); err != nil {
		t.Fatal(err)
	}
	if dom.Policy.NameScripts == nil || len(dom.Policy.NameScripts) != 0 {
		t.Errorf("name_scripts after default = %#v, want []", dom.Policy.NameScripts)
	}
	fails(t, 1, "mixes the letters of Latin", "Petr-pw-1234\n", "account", "add", "Petr-Пётр", "--dir", dir)
}
