package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/keytab"
)

// loginLab starts a test domain with alice and points KRB5_CONFIG and
// KRB5CCNAME at it; it returns the cache path.
func loginLab(t *testing.T) (*testrealm.Lab, string) {
	t.Helper()
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	cc := filepath.Join(t.TempDir(), "krb5cc_alice")
	t.Setenv("KRB5_CONFIG", l.Krb5Conf)
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	t.Setenv("USER", "alice")
	return l, cc
}

func ticketsJSONOf(t *testing.T, args ...string) ticketsJSON {
	t.Helper()
	var out ticketsJSON
	if err := json.Unmarshal([]byte(ok(t, "", append([]string{"tickets", "--json"}, args...)...)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoginTicketsLogout(t *testing.T) {
	_, cc := loginLab(t)
	fails(t, 1, "no credential cache FILE:"+cc, "", "tickets")
	quiet(t, "tickets", "--check")

	// $USER in the default realm, the password from standard input; like
	// kinit, nothing is printed.
	if out := ok(t, "alice-pw-1234\n", "login"); out != "" {
		t.Errorf("login printed %q", out)
	}
	st, err := os.Stat(cc)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache: %v, mode %v", err, st.Mode().Perm())
	}
	ok(t, "", "tickets", "--check")
	out := ok(t, "", "tickets")
	c, err := ccache.Load(cc)
	if err != nil {
		t.Fatal(err)
	}
	// The session key's type as the ccache package reads it; the ticket's
	// is the krbtgt key's, the strongest type, as the KDC picks.
	et := c.Credentials[0].KeyType.String()
	for _, w := range []string{"Ticket cache: FILE:" + cc, "Default principal: alice@EXAMPLE.TEST", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST",
		// testrealm's krb5.conf says forwardable = true; renewable-ok
		// (sent as kinit does) makes the ticket the KDC shortens renewable.
		"\trenew until ", ", Flags: FRIA\n\tEtype (skey, tkt): " + et + ", aes256-cts-hmac-sha384-192\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("tickets lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "config:") || !strings.Contains(ok(t, "", "tickets", "--show-config"), "config: pa_type(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST) = 2") {
		t.Errorf("configuration entries: shown by default, or not with --show-config")
	}
	j := ticketsJSONOf(t)
	if j.Cache != "FILE:"+cc || j.DefaultPrincipal != "alice@EXAMPLE.TEST" || len(j.Tickets) != 1 || len(j.Config) != 1 || j.TimeOffsetSeconds == nil {
		t.Fatalf("json: %+v", j)
	}
	tk := j.Tickets[0]
	if strings.Join(tk.Flags, ",") != "forwardable,renewable,initial,pre-authent" || tk.FlagLetters != "FRIA" || tk.Expired ||
		tk.TicketKVNO == nil || tk.RenewUntil == nil || tk.Expires.Before(time.Now()) {
		t.Errorf("json ticket: %+v", tk)
	}

	// Options: lifetime, renewable, not forwardable, an explicit cache and principal.
	other := filepath.Join(t.TempDir(), "other")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("alice-pw-1234\nsecond line\n"), 0o600)
	ok(t, "", "login", "alice@EXAMPLE.TEST", "--ccache", other, "--password-file", pw, "--lifetime", "1h", "--renewable", "2h", "--forwardable=false")
	j = ticketsJSONOf(t, "--ccache", other)
	tk = j.Tickets[0]
	if tk.FlagLetters != "RIA" || tk.RenewUntil == nil || tk.Expires.Sub(tk.ValidFrom) > time.Hour+time.Second ||
		tk.RenewUntil.Sub(tk.ValidFrom) < 2*time.Hour-5*time.Second {
		t.Errorf("with options: %+v", tk)
	}
	if j.Cache != "FILE:"+other {
		t.Errorf("cache %s", j.Cache)
	}
	// Not renewable: klist puts flags and etypes on one line.
	ok(t, "alice-pw-1234\n", "login", "--ccache", other, "--renewable", "0")
	if out := ok(t, "", "tickets", "--ccache", other); !strings.Contains(out, "\tFlags: FIA, Etype (skey, tkt): ") || strings.Contains(out, "renew until") {
		t.Errorf("not renewable:\n%s", out)
	}

	ok(t, "", "logout")
	if _, err := os.Stat(cc); !os.IsNotExist(err) {
		t.Errorf("logout left the cache: %v", err)
	}
	fails(t, 1, "no credential cache FILE:"+cc+" to destroy", "", "logout")
	ok(t, "", "logout", "--ccache", "FILE:"+other)
}

func TestLoginErrors(t *testing.T) {
	_, cc := loginLab(t)
	fails(t, 1, "the password for alice@EXAMPLE.TEST is wrong", "wrong\n", "login")
	fails(t, 1, "knows no principal mallory@EXAMPLE.TEST", "x\n", "login", "mallory")
	fails(t, 1, "password is empty", "\n", "login")
	fails(t, 2, "either --keytab or --password-file", "", "login", "--keytab", "k", "--password-file", "p")
	fails(t, 2, "is not a duration", "", "login", "--lifetime", "soon")
	fails(t, 2, "--lifetime must be positive", "", "login", "--lifetime", "0")
	fails(t, 2, "usage: hop login", "", "login", "a", "b")
	if _, err := os.Stat(cc); !os.IsNotExist(err) {
		t.Errorf("a failed login wrote the cache")
	}
	// No realm anywhere.
	empty := filepath.Join(t.TempDir(), "krb5.conf")
	os.WriteFile(empty, nil, 0o644)
	t.Setenv("KRB5_CONFIG", empty)
	fails(t, 1, "hop client-config > "+empty, "alice-pw-1234\n", "login")
	// KRB5_CONFIG names a missing file: that file is named, not /etc/krb5.conf.
	missing := filepath.Join(t.TempDir(), "missing.conf")
	t.Setenv("KRB5_CONFIG", missing)
	fails(t, 1, "alice names no realm and krb5.conf (KRB5_CONFIG names "+missing+", which is missing) has no default_realm: write a krb5.conf with hop client-config > "+missing, "alice-pw-1234\n", "login")
	t.Setenv("KRB5_CONFIG", empty)
	// No KDC answering.
	dead := filepath.Join(t.TempDir(), "dead.conf")
	os.WriteFile(dead, []byte("[libdefaults]\n default_realm = EXAMPLE.TEST\n[realms]\n EXAMPLE.TEST = {\n  kdc = 127.0.0.1:1\n }\n"), 0o644)
	t.Setenv("KRB5_CONFIG", dead)
	fails(t, 1, "no KDC of realm EXAMPLE.TEST answered (tried 127.0.0.1:1 (UDP), 127.0.0.1:1 (TCP))", "alice-pw-1234\n", "login")
}

func TestLoginWithKeytabFile(t *testing.T) {
	l, cc := loginLab(t)
	keys := l.AddService(t, "svc-web", "HTTP/web.example.test")
	p := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "svc-web"), Realm: testrealm.Realm}
	kt := &keytab.Keytab{}
	for _, k := range keys {
		kt.Entries = append(kt.Entries, keytab.Entry{Principal: p, KVNO: 1, EncType: k.EncType, Key: k.Material()})
	}
	ktFile := filepath.Join(t.TempDir(), "svc.keytab")
	if err := kt.Save(ktFile); err != nil {
		t.Fatal(err)
	}
	// No principal: the keytab's first one; no password is read.
	ok(t, "", "login", "--keytab", ktFile)
	c, err := ccache.Load(cc)
	if err != nil || c.Default.String() != "svc-web@EXAMPLE.TEST" {
		t.Fatalf("cache: %v %v", c, err)
	}
	fails(t, 1, "holds no key of a supported type for alice@EXAMPLE.TEST", "", "login", "alice", "--keytab", ktFile)
	fails(t, 1, "keytab", "", "login", "--keytab", filepath.Join(t.TempDir(), "missing"))
}

func TestTicketsMarksExpired(t *testing.T) {
	alice, _ := krb5.ParsePrincipal("alice@EXAMPLE.TEST")
	tgt, _ := krb5.ParsePrincipal("krbtgt/EXAMPLE.TEST@EXAMPLE.TEST")
	now := time.Now().Truncate(time.Second)
	c := &ccache.Cache{Default: alice, Credentials: []ccache.Credential{{
		Client: alice, Server: tgt, KeyType: krb5.AES256CTSHMACSHA196, Key: make([]byte, 32),
		AuthTime: now.Add(-11 * time.Hour), EndTime: now.Add(-time.Hour), Flags: krb5.TktInitial, Ticket: []byte("garbage"),
	}}}
	cc := filepath.Join(t.TempDir(), "cc")
	if err := c.Save(cc); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5CCNAME", cc)
	t.Setenv("KRB5_CONFIG", filepath.Join(t.TempDir(), "none"))
	out := ok(t, "", "tickets")
	if !strings.Contains(out, "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST  (expired)") || !strings.Contains(out, "Flags: I, Etype (skey, tkt): aes256-cts-hmac-sha1-96, the ticket does not decode") {
		t.Errorf("expired ticket:\n%s", out)
	}
	quiet(t, "tickets", "--check")
	if j := ticketsJSONOf(t); !j.Tickets[0].Expired || j.Tickets[0].TicketError == "" || j.TimeOffsetSeconds != nil {
		t.Errorf("json: %+v", j.Tickets[0])
	}
}

// quiet runs a command that must fail with exit status 1 and print
// nothing, as klist -s does.
func quiet(t *testing.T, args ...string) {
	t.Helper()
	out, errOut, code := hop(t, "", args...)
	if code != 1 || out != "" || errOut != "" {
		t.Fatalf("hop %s: exit %d, stdout %q, stderr %q; want exit 1 and silence", strings.Join(args, " "), code, out, errOut)
	}
}
