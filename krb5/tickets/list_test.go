package tickets_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/tickets"
	"hop/krb5/wire"
)

// TestDescribeMITCaches reads the caches MIT's kinit and kvno wrote for
// the ccache package's tests; the expected values are what MIT's
// klist -f -e -C printed for them.
func TestDescribeMITCaches(t *testing.T) {
	for _, tc := range []struct {
		file  string
		flags []string // klist -f, per ticket
	}{
		{"mit-kinit-v3.ccache", []string{"FI", "FT"}},
		{"mit-kinit-v4.ccache", []string{"I", "T"}},
	} {
		c, err := ccache.Load(filepath.Join("..", "ccache", "testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 11, 23, 19, 39, 0, 0, time.UTC)
		l := tickets.Describe(c, start)
		if l.Default.String() != "alice@HOP.TEST" || len(l.Tickets) != 2 {
			t.Fatalf("%s: %+v", tc.file, l)
		}
		servers := []string{"krbtgt/HOP.TEST@HOP.TEST", "host/svc.hop.test@HOP.TEST"}
		for i, tk := range l.Tickets {
			if tk.Server.String() != servers[i] || tickets.FlagLetters(tk.Flags) != tc.flags[i] ||
				tk.SessionKeyType != krb5.AES256CTSHMACSHA196 || tk.TicketEType != krb5.AES256CTSHMACSHA196 || tk.TicketError != "" {
				t.Errorf("%s ticket %d: %s flags %s etypes %s, %s (%s)", tc.file, i, tk.Server, tickets.FlagLetters(tk.Flags), tk.SessionKeyType, tk.TicketEType, tk.TicketError)
			}
			if tk.EndTime.Sub(tk.StartTime) != 24*time.Hour || tk.Expired {
				t.Errorf("%s ticket %d: %s .. %s, expired %v", tc.file, i, tk.StartTime, tk.EndTime, tk.Expired)
			}
		}
		if len(l.Config) != 1 || l.Config[0].Key != "fast_avail" || l.Config[0].Principal != "krbtgt/HOP.TEST@HOP.TEST" || l.Config[0].ValueString() != "yes" {
			t.Errorf("%s config: %+v", tc.file, l.Config)
		}
		if !l.HasValid() {
			t.Errorf("%s: no valid ticket at %s", tc.file, start)
		}
		// A day later, every ticket has expired.
		later := tickets.Describe(c, start.Add(25*time.Hour))
		if later.HasValid() || !later.Tickets[0].Expired {
			t.Errorf("%s: valid a day later", tc.file)
		}
	}
}

func rawTicket(t *testing.T, et krb5.EncType, kvno uint32) []byte {
	t.Helper()
	tk := wire.Ticket{Realm: "EXAMPLE.TEST", SName: krb5.NewName(krb5.NTSrvHst, "HTTP", "web.example.test"),
		EncPart: wire.EncryptedData{EType: et, KVNO: kvno, HasKVNO: true, Cipher: []byte("sealed")}}
	b, err := tk.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDescribe(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := func(s string) krb5.Principal {
		pr, err := krb5.ParsePrincipal(s)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	alice, tgt, web := p("alice@EXAMPLE.TEST"), p("krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"), p("HTTP/web.example.test@EXAMPLE.TEST")
	c := &ccache.Cache{Version: 4, Default: alice, HasTimeOffset: true, TimeOffset: 90 * time.Second, Credentials: []ccache.Credential{
		{Client: alice, Server: tgt, KeyType: krb5.AES256CTSHMACSHA196, Key: make([]byte, 32),
			AuthTime: now.Add(-time.Hour), EndTime: now.Add(time.Minute), RenewTill: now.Add(time.Hour),
			Flags:  krb5.TktForwardable | krb5.TktRenewable | krb5.TktInitial | krb5.TktPreAuthent,
			Ticket: rawTicket(t, krb5.AES256CTSHMACSHA196, 2)},
		{Client: alice, Server: web, KeyType: krb5.AES128CTSHMACSHA196, Key: make([]byte, 16),
			AuthTime: now.Add(-time.Hour), StartTime: now.Add(-time.Minute), EndTime: now.Add(time.Hour), RenewTill: now.Add(2 * time.Hour),
			Flags: krb5.TktForwardable | krb5.TktOKAsDelegate, Ticket: rawTicket(t, krb5.AES256CTSHMACSHA384192, 7)},
		{Client: alice, Server: p("cifs/c.example.test@EXAMPLE.TEST"), Ticket: []byte("not a ticket"), EndTime: now.Add(time.Hour)},
	}}
	c.SetConfig("refresh_time", krb5.Principal{}, []byte("1750000000"))
	c.SetConfig("pa_config_data", tgt, []byte{0, 1, 2})
	l := tickets.Describe(c, now)
	if !l.Now.Equal(now.Add(90 * time.Second)) {
		t.Errorf("Now = %s: the cache's time offset is not applied", l.Now)
	}
	tg, w, bad := l.Tickets[0], l.Tickets[1], l.Tickets[2]
	// The TGT ends one minute after now, which the 90 s offset passes.
	if !tg.Expired || w.Expired || l.HasValid() {
		t.Errorf("expired: tgt %v web %v; valid %v", tg.Expired, w.Expired, l.HasValid())
	}
	if !tg.StartTime.Equal(tg.AuthTime) || tg.TicketKVNO != 2 || !tg.HasKVNO {
		t.Errorf("tgt %+v", tg)
	}
	if w.TicketEType != krb5.AES256CTSHMACSHA384192 || w.TicketKVNO != 7 || w.SessionKeyType != krb5.AES128CTSHMACSHA196 {
		t.Errorf("web etypes %s / %s kvno %d", w.SessionKeyType, w.TicketEType, w.TicketKVNO)
	}
	// renew-till means nothing without the renewable flag (klist hides it).
	if !w.RenewTill.IsZero() || tg.RenewTill.IsZero() {
		t.Errorf("renew till: tgt %s web %s", tg.RenewTill, w.RenewTill)
	}
	if bad.TicketError == "" {
		t.Error("an undecodable ticket is not reported")
	}
	if got := tickets.FlagLetters(tg.Flags); got != "FRIA" {
		t.Errorf("TGT flags %q, want FRIA", got)
	}
	if got := tickets.FlagNames(w.Flags); !slices.Equal(got, []string{"forwardable", "ok-as-delegate"}) {
		t.Errorf("web flags %q", got)
	}
	if len(l.Config) != 2 || l.Config[0].Key != "refresh_time" || l.Config[0].Principal != "" ||
		l.Config[1].ValueString() != "<3 bytes>" || l.Config[1].Principal != tgt.String() {
		t.Errorf("config %+v", l.Config)
	}
}

func TestFlagLettersAreKlists(t *testing.T) {
	// MIT klist.c, flags_string: one letter per flag, in this order.
	all := krb5.TktForwardable | krb5.TktForwarded | krb5.TktProxiable | krb5.TktProxy | krb5.TktMayPostdate |
		krb5.TktPostdated | krb5.TktInvalid | krb5.TktRenewable | krb5.TktInitial | krb5.TktHWAuthent |
		krb5.TktPreAuthent | krb5.TktTransitPolicyChecked | krb5.TktOKAsDelegate | krb5.TktAnonymous
	if got := tickets.FlagLetters(all); got != "FfPpDdiRIHATOa" {
		t.Errorf("all flags: %q", got)
	}
	if got := tickets.FlagLetters(0); got != "" {
		t.Errorf("no flags: %q", got)
	}
}

func TestHasValidIsKlistS(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	alice, _ := krb5.ParsePrincipal("alice@EXAMPLE.TEST")
	tgt, _ := krb5.ParsePrincipal("krbtgt/EXAMPLE.TEST@EXAMPLE.TEST")
	other, _ := krb5.ParsePrincipal("krbtgt/OTHER.TEST@EXAMPLE.TEST")
	web, _ := krb5.ParsePrincipal("HTTP/web.example.test@EXAMPLE.TEST")
	live, dead := now.Add(time.Hour), now.Add(-time.Hour)
	cred := func(s krb5.Principal, end time.Time) ccache.Credential {
		return ccache.Credential{Client: alice, Server: s, EndTime: end}
	}
	for _, tc := range []struct {
		name  string
		creds []ccache.Credential
		want  bool
	}{
		{"empty", nil, false},
		{"live TGT", []ccache.Credential{cred(tgt, live)}, true},
		{"expired TGT, live service ticket", []ccache.Credential{cred(tgt, dead), cred(web, live)}, false},
		{"no TGT, live service ticket", []ccache.Credential{cred(web, live)}, true},
		{"cross-realm TGT only, expired", []ccache.Credential{cred(other, dead)}, false},
		{"two TGTs, one live", []ccache.Credential{cred(tgt, dead), cred(tgt, live)}, true},
	} {
		l := tickets.Describe(&ccache.Cache{Default: alice, Credentials: tc.creds}, now)
		if got := l.HasValid(); got != tc.want {
			t.Errorf("%s: HasValid = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzDescribe checks that describing any cache Parse accepts (tickets
// decoded from their raw bytes included) never panics, and that no
// configuration value is shown with control characters.
func FuzzDescribe(f *testing.F) {
	for _, name := range []string{"mit-kinit-v3.ccache", "mit-kinit-v4.ccache"} {
		b, err := os.ReadFile(filepath.Join("..", "ccache", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{5, 4, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ccache.Parse(b)
		if err != nil {
			return
		}
		l := tickets.Describe(c, time.Unix(1750000000, 0))
		l.HasValid()
		for _, tk := range l.Tickets {
			tickets.FlagLetters(tk.Flags)
			tickets.FlagNames(tk.Flags)
		}
		for _, ce := range l.Config {
			if v := ce.ValueString(); strings.ContainsAny(v, "\x00\x1b\n") {
				t.Fatalf("config value %q reaches the terminal", v)
			}
		}
	})
}
