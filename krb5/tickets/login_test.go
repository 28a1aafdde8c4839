package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/directory"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/config"
	"hop/krb5/keytab"
	"hop/krb5/tickets"
)

func password(pw string) func(krb5.Principal) (string, error) {
	return func(krb5.Principal) (string, error) { return pw, nil }
}

func alice() krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}
}

func TestLoginWritesAnMITCache(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	cc := filepath.Join(t.TempDir(), "cc")
	// A cache with someone else's tickets is replaced, not added to.
	if err := os.WriteFile(cc, []byte("old content"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := &tickets.Source{Config: l.Config, CCache: "FILE:" + cc}
	yes := true
	cred, err := src.Login(context.Background(), &tickets.LoginRequest{
		Client: alice(), Password: password("alice-pw-1234"),
		Lifetime: 2 * time.Hour, RenewLifetime: 5 * time.Hour, Forwardable: &yes,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(cc)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	c, err := ccache.Load(cc)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 4 || !c.HasTimeOffset || c.TimeOffset < -2*time.Second || c.TimeOffset > 2*time.Second {
		t.Errorf("header: version %d, offset %v (%v)", c.Version, c.TimeOffset, c.HasTimeOffset)
	}
	if c.Default.String() != "alice@EXAMPLE.TEST" {
		t.Errorf("default principal %s", c.Default)
	}
	tgt, ok := c.Find(krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Realm: testrealm.Realm})
	if !ok {
		t.Fatalf("no TGT in %v", c.Credentials)
	}
	for _, f := range []krb5.Flags{krb5.TktForwardable, krb5.TktRenewable, krb5.TktInitial, krb5.TktPreAuthent} {
		if !tgt.Flags.Has(f) {
			t.Errorf("TGT flags %s lack %s", krb5.TicketFlagString(tgt.Flags), krb5.TicketFlagString(f))
		}
	}
	if life := tgt.EndTime.Sub(tgt.StartTime); life > 2*time.Hour+time.Second || life < 2*time.Hour-5*time.Second {
		t.Errorf("lifetime %s, asked for 2h", life)
	}
	if tgt.RenewTill.Sub(tgt.StartTime) < 4*time.Hour {
		t.Errorf("renew till %s", tgt.RenewTill)
	}
	if !tgt.EndTime.Equal(cred.EndTime.Truncate(time.Second)) {
		t.Errorf("cache end %s, credential end %s", tgt.EndTime, cred.EndTime)
	}
	if v, ok := c.Config("pa_type", tgt.Server); !ok || string(v) != "2" {
		t.Errorf("pa_type = %q %v", v, ok)
	}
	// The cache works for the next step: a service ticket.
	l.AddService(t, "web", "HTTP/web.example.test")
	if _, err := src.ServiceTicket(context.Background(), tickets.HostService("HTTP", "web.example.test")); err != nil {
		t.Fatal(err)
	}

	// Not forwardable, not renewable when asked so.
	no := false
	if _, err := src.Login(context.Background(), &tickets.LoginRequest{Client: alice(), Password: password("alice-pw-1234"), Forwardable: &no, RenewLifetime: -1}); err != nil {
		t.Fatal(err)
	}
	c, _ = ccache.Load(cc)
	if len(c.Credentials) != 2 || c.Credentials[0].Flags.Has(krb5.TktForwardable) || c.Credentials[0].Flags.Has(krb5.TktRenewable) {
		t.Errorf("after a plain login: %v", c.Credentials)
	}
}

func TestLoginWithKeytab(t *testing.T) {
	l := testrealm.Start(t)
	keys := l.AddService(t, "svc-web", "HTTP/web.example.test")
	p := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "svc-web"), Realm: testrealm.Realm}
	kt := &keytab.Keytab{}
	for _, k := range keys {
		kt.Entries = append(kt.Entries, keytab.Entry{Principal: p, KVNO: 1, EncType: k.EncType, Key: k.Material()})
	}
	cc := filepath.Join(t.TempDir(), "cc")
	src := &tickets.Source{Config: l.Config, CCache: cc}
	if _, err := src.Login(context.Background(), &tickets.LoginRequest{Client: p, Keytab: kt, KeytabName: "svc.keytab"}); err != nil {
		t.Fatal(err)
	}
	c, err := ccache.Load(cc)
	if err != nil || c.Default.String() != "svc-web@EXAMPLE.TEST" || len(c.Credentials) == 0 {
		t.Fatalf("cache %v: %v", c, err)
	}
	// A keytab of another principal, and stale keys, say what to do.
	other := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "bob"), Realm: testrealm.Realm}
	_, err = src.Login(context.Background(), &tickets.LoginRequest{Client: other, Keytab: kt, KeytabName: "svc.keytab"})
	if err == nil || !strings.Contains(err.Error(), "holds no key") || !strings.Contains(err.Error(), "svc-web@EXAMPLE.TEST") {
		t.Errorf("other principal: %v", err)
	}
	stale := &keytab.Keytab{}
	for _, e := range kt.Entries {
		e.Key = make([]byte, len(e.Key))
		stale.Entries = append(stale.Entries, e)
	}
	_, err = src.Login(context.Background(), &tickets.LoginRequest{Client: p, Keytab: stale, KeytabName: "svc.keytab"})
	if !errors.Is(err, tickets.ErrWrongPassword) || !strings.Contains(err.Error(), "export the keytab again") {
		t.Errorf("stale keytab: %v", err)
	}
}

// closedPort returns a loopback address where nothing listens on UDP or TCP.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestLoginErrorsSayWhatToDo(t *testing.T) {
	l := testrealm.Start(t)
	ctx := context.Background()
	l.AddUser(t, "alice", "alice-pw-1234")
	update := func(name string, fn func(*directory.Account)) {
		t.Helper()
		if _, err := l.Dir.As(directory.LocalAdmin).UpdateAccount(ctx, name, 0, func(a *directory.Account) error { fn(a); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"expired", "locked", "disabled", "gone"} {
		l.AddUser(t, n, "pw-"+n+"-1234")
	}
	update("expired", func(a *directory.Account) { a.PasswordExpires = time.Now().Add(-time.Hour) })
	update("locked", func(a *directory.Account) { a.LockedUntil = time.Now().Add(time.Hour) })
	update("disabled", func(a *directory.Account) { a.Disabled = true })
	update("gone", func(a *directory.Account) { a.Expires = time.Now().Add(-time.Hour) })

	dead1, dead2 := closedPort(t), closedPort(t)
	deadConf, err := config.Parse("dead.conf", fmt.Appendf(nil, "[realms]\nEXAMPLE.TEST = {\n kdc = %s\n kdc = %s\n}\n", dead1, dead2))
	if err != nil {
		t.Fatal(err)
	}
	user := func(n string) krb5.Principal {
		return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, n), Realm: testrealm.Realm}
	}
	for _, tc := range []struct {
		name   string
		conf   *config.Config
		now    func() time.Time
		client krb5.Principal
		pw     string
		reason error
		wants  []string
	}{
		{"wrong password", l.Config, nil, user("alice"), "nope", tickets.ErrWrongPassword,
			[]string{"the password for alice@EXAMPLE.TEST is wrong", "hop account passwd alice"}},
		{"unknown principal", l.Config, nil, user("mallory"), "x", tickets.ErrUnknownPrincipal,
			[]string{"knows no principal mallory@EXAMPLE.TEST"}},
		{"clock behind", l.Config, func() time.Time { return time.Now().Add(-10 * time.Minute) }, user("alice"), "alice-pw-1234", tickets.ErrClockSkew,
			[]string{"clock is 10m0s behind the KDC's", "synchronise"}},
		{"clock ahead", l.Config, func() time.Time { return time.Now().Add(time.Hour) }, user("alice"), "alice-pw-1234", tickets.ErrClockSkew,
			[]string{"clock is 1h0m0s ahead of the KDC's"}},
		{"password expired", l.Config, nil, user("expired"), "pw-expired-1234", tickets.ErrPasswordExpired,
			[]string{"has expired: change it with kpasswd expired"}},
		{"locked", l.Config, nil, user("locked"), "pw-locked-1234", tickets.ErrLockedOut,
			[]string{"locked out", "hop account set locked --unlock"}},
		{"disabled", l.Config, nil, user("disabled"), "pw-disabled-1234", tickets.ErrDisabled,
			[]string{"is disabled", "hop account enable disabled"}},
		{"account expired", l.Config, nil, user("gone"), "pw-gone-1234", tickets.ErrAccountExpired,
			[]string{"has expired", "--expires"}},
		{"no KDC", config.New(deadConf), nil, user("alice"), "alice-pw-1234", tickets.ErrNoKDC,
			[]string{"no KDC of realm EXAMPLE.TEST answered", dead1 + " (UDP)", dead1 + " (TCP)", dead2 + " (TCP)", "dead.conf"}},
		{"no KDC listed", config.New(), nil, user("alice"), "alice-pw-1234", tickets.ErrNoKDC,
			[]string{"names no KDC for realm EXAMPLE.TEST", "hop client-config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := filepath.Join(t.TempDir(), "cc")
			src := &tickets.Source{Config: tc.conf, CCache: cc, Now: tc.now, Timeout: time.Second}
			_, err := src.Login(ctx, &tickets.LoginRequest{Client: tc.client, Password: password(tc.pw)})
			if !errors.Is(err, tc.reason) {
				t.Fatalf("error %v, want %v", err, tc.reason)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, w := range tc.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if _, err := os.Stat(cc); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed login wrote the cache (%v)", err)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	withRealm, err := config.Parse("krb5.conf", []byte("[libdefaults]\n default_realm = EXAMPLE.TEST\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := func(user string) func(string) string {
		return func(k string) string {
			if k == "USER" {
				return user
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name, user string
		conf       *config.Config
		want       string
		err        error
	}{
		{"alice", "", config.New(withRealm), "alice@EXAMPLE.TEST", nil},
		{"", "carol", config.New(withRealm), "carol@EXAMPLE.TEST", nil},
		{"bob@OTHER.TEST", "", config.New(), "bob@OTHER.TEST", nil},
		{"host/b.example.test", "", config.New(withRealm), "host/b.example.test@EXAMPLE.TEST", nil},
		{"alice", "", config.New(), "", tickets.ErrNoRealm},
	} {
		src := &tickets.Source{Config: tc.conf, Getenv: env(tc.user)}
		p, err := src.Principal(tc.name)
		if !errors.Is(err, tc.err) || (err == nil && p.String() != tc.want) {
			t.Errorf("Principal(%q) = %v, %v; want %s, %v", tc.name, p, err, tc.want, tc.err)
		}
		if tc.err == tickets.ErrNoRealm && (err == nil || !strings.Contains(err.Error(), "hop client-config > /etc/krb5.conf")) {
			t.Errorf("no realm: %v", err)
		}
	}
}

func TestLoginIntoDIRCollection(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	dir := filepath.Join(t.TempDir(), "krb5cc")
	src := &tickets.Source{Config: l.Config, CCache: "DIR:" + dir}
	if _, err := src.Login(context.Background(), &tickets.LoginRequest{Client: alice(), Password: password("alice-pw-1234")}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("collection directory: %v %v", st, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "primary")); err != nil || string(b) != "tkt\n" {
		t.Fatalf("primary file %q %v", b, err)
	}
	if c, err := ccache.Load(filepath.Join(dir, "tkt")); err != nil || c.Default.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf("DIR cache: %v", err)
	}
	lst, err := src.List(t.Context())
	if err != nil || lst.Name != "DIR::"+filepath.Join(dir, "tkt") || len(lst.Tickets) != 1 {
		t.Fatalf("list: %+v %v", lst, err)
	}
	if _, err := src.Destroy(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Destroy(t.Context()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("second destroy: %v", err)
	}
}

// TestMissingKRB5ConfigIsNamed: a KRB5_CONFIG that names a missing file is
// reported as that file missing, and a krb5.conf is to be written there,
// not to /etc/krb5.conf.
func TestMissingKRB5ConfigIsNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "krb5.conf")
	src := &tickets.Source{Getenv: func(k string) string {
		return map[string]string{"KRB5_CONFIG": missing, "USER": "alice"}[k]
	}}
	_, err := src.Principal("alice")
	if !errors.Is(err, tickets.ErrNoRealm) {
		t.Fatalf("Principal: %v, want ErrNoRealm", err)
	}
	for _, want := range []string{"KRB5_CONFIG names " + missing + ", which is missing", "hop client-config > " + missing} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), config.DefaultPath) {
		t.Errorf("error %q names %s", err, config.DefaultPath)
	}
}
