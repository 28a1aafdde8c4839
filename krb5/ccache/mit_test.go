package ccache

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"hop/internal/thirdparty"
	"hop/krb5"
)

// mitRealm is a throwaway MIT KDC for the realm HOP.TEST on loopback.
type mitRealm struct {
	t   *testing.T
	kdc *thirdparty.MITKDC
	env []string // for the clients: the KDC's krb5.conf, UTC, the C locale
}

const (
	realmName = "HOP.TEST"
	alicePass = "alice-Pa55word"
)

func startRealm(t *testing.T) *mitRealm {
	t.Helper()
	for _, n := range []string{"kinit", "kvno", "klist"} {
		thirdparty.Require(t, n)
	}
	kdc := thirdparty.StartMITKDC(t, realmName, "127.0.0.1:0", map[string]string{"alice": alicePass}, []string{"host/svc.hop.test"})
	for _, p := range []string{"alice", "krbtgt/" + realmName} {
		kdc.Kadmin(t, `modprinc -maxrenewlife "7 days" `+p)
	}
	env := append(thirdparty.FixedEnv(t), "KRB5_CONFIG="+kdc.Conf)
	return &mitRealm{t: t, kdc: kdc, env: env}
}

// run runs an MIT client with stdin and returns its output.
func (r *mitRealm) run(stdin, tool string, args ...string) string {
	r.t.Helper()
	return r.runEnv(nil, stdin, tool, args...)
}

func (r *mitRealm) runEnv(extraEnv []string, stdin, tool string, args ...string) string {
	r.t.Helper()
	env := append(append([]string{}, r.env...), extraEnv...)
	out, stderr, err := thirdparty.Run(r.t, env, stdin, thirdparty.Require(r.t, tool), args...)
	if err != nil {
		r.t.Fatalf("%s %s: %v\n%s%s", tool, strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// klistEntry is one credential as `klist -e -f -a -n -C` shows it.
type klistEntry struct {
	start, end, server string // or config: the "key(principal) = value" text
	client, renew      string
	flags              string
	skey, tkt          string
	addresses          string
}

var (
	klistCred  = regexp.MustCompile(`^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d)  (\d\d/\d\d/\d\d \d\d:\d\d:\d\d)  (\S+)$`)
	klistConf  = regexp.MustCompile(`^config: (.*)$`)
	klistRenew = regexp.MustCompile(`renew until (\d\d/\d\d/\d\d \d\d:\d\d:\d\d)`)
	klistFlags = regexp.MustCompile(`Flags: (\w+)`)
	klistEtype = regexp.MustCompile(`Etype \(skey, tkt\): ([\w:-]+), ([\w:-]+)`)
	klistAddrs = regexp.MustCompile(`Addresses: (.*)$`)
	klistFor   = regexp.MustCompile(`for client ([^,\s]+)`)
	klistDef   = regexp.MustCompile(`(?m)^Default principal: (\S+)$`)
)

// parseKlist returns the default principal and the credentials klist shows.
func parseKlist(t *testing.T, out string) (string, []klistEntry) {
	t.Helper()
	m := klistDef.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no default principal in klist output:\n%s", out)
	}
	var entries []klistEntry
	for _, line := range strings.Split(out, "\n") {
		if m := klistCred.FindStringSubmatch(line); m != nil {
			entries = append(entries, klistEntry{start: m[1], end: m[2], server: m[3]})
			continue
		}
		if m := klistConf.FindStringSubmatch(line); m != nil {
			entries = append(entries, klistEntry{server: "config: " + m[1]})
			continue
		}
		if len(entries) == 0 || !strings.HasPrefix(line, "\t") {
			continue
		}
		e := &entries[len(entries)-1]
		for _, f := range []struct {
			re  *regexp.Regexp
			dst []*string
		}{
			{klistRenew, []*string{&e.renew}},
			{klistFlags, []*string{&e.flags}},
			{klistEtype, []*string{&e.skey, &e.tkt}},
			{klistAddrs, []*string{&e.addresses}},
			{klistFor, []*string{&e.client}},
		} {
			if m := f.re.FindStringSubmatch(line); m != nil {
				for i, d := range f.dst {
					*d = m[i+1]
				}
			}
		}
	}
	return m[1], entries
}

// mitFlags spells ticket flags as MIT's klist -f does (klist.c flags_string).
func mitFlags(f krb5.Flags) string {
	letters := []struct {
		bit    int
		letter string
	}{{1, "F"}, {2, "f"}, {3, "P"}, {4, "p"}, {5, "D"}, {6, "d"}, {7, "i"}, {8, "R"}, {9, "I"}, {11, "H"}, {10, "A"}, {12, "T"}, {13, "O"}, {16, "a"}}
	var s string
	for _, l := range letters {
		if f&(1<<(31-l.bit)) != 0 {
			s += l.letter
		}
	}
	return s
}

func mitTime(t time.Time) string { return t.UTC().Format("01/02/06 15:04:05") }

// checkAgainstKlist compares hop's reading of a cache with MIT's.
func checkAgainstKlist(t *testing.T, r *mitRealm, path string, c *Cache) {
	t.Helper()
	kl := r.run("", "klist", "-c", "FILE:"+path, "-e", "-f", "-a", "-n", "-C")
	t.Log(kl)
	def, entries := parseKlist(t, kl)
	if def != c.Default.String() {
		t.Errorf("klist default principal %s, hop %s", def, c.Default)
	}
	if len(entries) != len(c.Credentials) {
		t.Fatalf("klist shows %d credentials %+v, hop parsed %d", len(entries), entries, len(c.Credentials))
	}
	for i, e := range entries {
		cr := &c.Credentials[i]
		if cr.IsConfig() {
			comps := cr.Server.Name.Components
			want := "config: " + comps[1]
			if len(comps) > 2 {
				want += "(" + comps[2] + ")"
			}
			want += " = " + string(cr.Ticket)
			if e.server != want {
				t.Errorf("entry %d: klist %q, hop has %q", i, e.server, want)
			}
			continue
		}
		start := cr.StartTime
		if start.IsZero() {
			start = cr.AuthTime
		}
		renew := ""
		if !cr.RenewTill.IsZero() {
			renew = mitTime(cr.RenewTill)
		}
		if e.server != cr.Server.String() || e.start != mitTime(start) || e.end != mitTime(cr.EndTime) ||
			e.renew != renew || e.flags != mitFlags(cr.Flags) || strings.TrimPrefix(e.skey, "DEPRECATED:") != cr.KeyType.String() {
			t.Errorf("entry %d: klist %+v, hop %v (start %s, renew %q, flags %s)", i, e, cr, mitTime(start), renew, mitFlags(cr.Flags))
		}
	}
}

// TestMITKinitCache has MIT's kinit and kvno fill FILE: caches (format 4,
// and 3) from a real MIT KDC and checks that hop reads what klist reads;
// then MIT's kvno uses a TGT from a cache hop wrote.
func TestMITKinitCache(t *testing.T) {
	r := startRealm(t)
	for _, version := range []int{4, 3} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			r.t = t
			conf := filepath.Join(t.TempDir(), fmt.Sprintf("krb5-v%d.conf", version))
			base, err := os.ReadFile(r.kdc.Conf)
			if err != nil {
				t.Fatal(err)
			}
			s := strings.Replace(string(base), "[libdefaults]\n", fmt.Sprintf("[libdefaults]\n ccache_type = %d\n", version), 1)
			if err := os.WriteFile(conf, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"KRB5_CONFIG=" + conf}
			path := filepath.Join(t.TempDir(), "mit.ccache")
			before := time.Now().Add(-2 * time.Second).Truncate(time.Second)
			r.runEnv(env, alicePass+"\n", "kinit", "-f", "-r", "2d", "-c", "FILE:"+path, "alice@"+realmName)
			r.runEnv(env, "", "kvno", "-c", "FILE:"+path, "host/svc.hop.test@"+realmName)
			after := time.Now().Add(2 * time.Second)

			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != version {
				t.Errorf("version %d, want %d", c.Version, version)
			}
			if c.Default.String() != "alice@"+realmName {
				t.Errorf("default principal %v", c.Default)
			}
			tgtName := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", realmName), Realm: realmName}
			tgt, ok := c.Find(tgtName)
			if !ok {
				t.Fatalf("no TGT in %v", c.Credentials)
			}
			svc, ok := c.Find(krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "svc.hop.test"), Realm: realmName})
			if !ok {
				t.Fatalf("no service ticket in %v", c.Credentials)
			}
			for _, cr := range []*Credential{tgt, svc} {
				if cr.KeyType != krb5.AES256CTSHMACSHA196 || len(cr.Key) != 32 || len(cr.Ticket) < 100 || cr.Ticket[0] != 0x61 {
					t.Errorf("%v: key %d bytes, ticket %d bytes", cr, len(cr.Key), len(cr.Ticket))
				}
				if cr.AuthTime.Before(before) || cr.AuthTime.After(after) || cr.EndTime.Sub(cr.AuthTime) != 10*time.Hour {
					t.Errorf("%v: authtime %v endtime %v, want now and 10h later", cr, cr.AuthTime, cr.EndTime)
				}
				if !cr.Flags.Has(krb5.TktForwardable | krb5.TktRenewable | krb5.TktPreAuthent) {
					t.Errorf("%v: flags lack forwardable, renewable or pre-authent", cr)
				}
			}
			if !tgt.Flags.Has(krb5.TktInitial) || svc.Flags.Has(krb5.TktInitial) {
				t.Errorf("initial flag: TGT %v, service ticket %v", tgt, svc)
			}
			// kinit asks for renew-till = its clock + 48h; the KDC's authtime
			// may be a second later when the request crosses one.
			if d := tgt.RenewTill.Sub(tgt.AuthTime); d > 48*time.Hour || d < 48*time.Hour-2*time.Second {
				t.Errorf("TGT renewable for %v, want 48h (less a second or two)", d)
			}
			if v, ok := c.Config("pa_type", tgtName); !ok || string(v) != "2" {
				t.Errorf("Config(pa_type) = %q, %v; want 2 (encrypted timestamp)", v, ok)
			}
			checkAgainstKlist(t, r, path, c)

			// hop writes MIT's cache back byte for byte.
			out, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, raw) {
				t.Errorf("Marshal differs from MIT's file:\n%x\n%x", out, raw)
			}

			// MIT's kvno uses the TGT in a cache hop wrote (without the
			// service ticket), and appends the ticket it gets to hop's file.
			hop := &Cache{Version: c.Version, TimeOffset: c.TimeOffset, HasTimeOffset: c.HasTimeOffset, Default: c.Default}
			for _, cr := range c.Credentials {
				if cr.IsConfig() || cr.Server.Name.Components[0] == "krbtgt" {
					hop.Add(cr)
				}
			}
			hopPath := filepath.Join(t.TempDir(), "hop.ccache")
			if err := hop.Save(hopPath); err != nil {
				t.Fatal(err)
			}
			r.runEnv(env, "", "kvno", "-c", "FILE:"+hopPath, "host/svc.hop.test@"+realmName)
			back, err := Load(hopPath)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := back.Find(svc.Server)
			if !ok || len(back.Credentials) != len(hop.Credentials)+1 {
				t.Fatalf("after kvno on hop's cache: %v", back.Credentials)
			}
			if got.KeyType != krb5.AES256CTSHMACSHA196 || len(got.Key) != 32 || got.Ticket[0] != 0x61 {
				t.Errorf("kvno's ticket in hop's cache: %v", got)
			}
			checkAgainstKlist(t, r, hopPath, back)
		})
	}
}

// der encodes one DER element (tag, length, contents).
func der(tag byte, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	out := []byte{tag}
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, body...)
}

func derInt(v int) []byte { return der(0x02, []byte{byte(v)}) }

// ticketDER builds an RFC 4120 §5.3 Ticket for sname@realm whose enc-part
// claims encryption type etype; klist decodes it to show the ticket etype.
func ticketDER(realm string, sname []string, etype int) []byte {
	var comps [][]byte
	for _, c := range sname {
		comps = append(comps, der(0x1b, []byte(c)))
	}
	return der(0x61, der(0x30,
		der(0xa0, derInt(5)),
		der(0xa1, der(0x1b, []byte(realm))),
		der(0xa2, der(0x30, der(0xa0, derInt(2)), der(0xa1, der(0x30, comps...)))),
		der(0xa3, der(0x30, der(0xa0, derInt(etype)), der(0xa1, derInt(4)), der(0xa2, der(0x04, bytes.Repeat([]byte{0x5a}, 48))))),
	))
}

// TestMITKlistReadsHopCache writes a cache with hop and checks that MIT's
// klist shows it as expected (values written out by hand).
func TestMITKlistReadsHopCache(t *testing.T) {
	klist := thirdparty.Require(t, "klist")
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: realmName}
	c := &Cache{Default: alice, HasTimeOffset: true, TimeOffset: -2 * time.Second}
	c.Add(Credential{
		Client: alice, Server: krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", realmName), Realm: realmName},
		KeyType: krb5.AES256CTSHMACSHA196, Key: bytes.Repeat([]byte{1}, 32),
		AuthTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), EndTime: time.Date(2024, 1, 2, 13, 4, 5, 0, time.UTC),
		RenewTill: time.Date(2024, 1, 9, 3, 4, 5, 0, time.UTC),
		Flags:     krb5.TktForwardable | krb5.TktRenewable | krb5.TktInitial | krb5.TktPreAuthent,
		Addresses: []Address{{Type: 2, Data: []byte{192, 0, 2, 1}}, {Type: 24, Data: net.ParseIP("2001:db8::1")}},
		Ticket:    ticketDER(realmName, []string{"krbtgt", realmName}, 18),
	})
	c.Add(Credential{
		Client:  krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "bob"), Realm: realmName},
		Server:  krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "HTTP", "web.hop.test"), Realm: realmName},
		KeyType: krb5.AES128CTSHMACSHA196, Key: bytes.Repeat([]byte{2}, 16),
		AuthTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), StartTime: time.Date(2024, 1, 2, 3, 10, 0, 0, time.UTC),
		EndTime: time.Date(2024, 1, 2, 13, 4, 5, 0, time.UTC),
		Flags:   krb5.TktForwardable | krb5.TktOKAsDelegate | krb5.TktTransitPolicyChecked,
		Ticket:  ticketDER(realmName, []string{"HTTP", "web.hop.test"}, 20),
	})
	c.SetConfig("pa_type", c.Credentials[0].Server, []byte("2"))
	path := filepath.Join(t.TempDir(), "hop.ccache")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := thirdparty.Run(t, thirdparty.FixedEnv(t), "", klist, "-c", "FILE:"+path, "-e", "-f", "-a", "-n", "-C")
	if err != nil {
		t.Fatalf("klist: %v\n%s%s", err, out, stderr)
	}
	def, got := parseKlist(t, out)
	want := []klistEntry{
		{start: "01/02/24 03:04:05", end: "01/02/24 13:04:05", server: "krbtgt/HOP.TEST@HOP.TEST",
			renew: "01/09/24 03:04:05", flags: "FRIA", skey: "aes256-cts-hmac-sha1-96", tkt: "aes256-cts-hmac-sha1-96",
			addresses: "192.0.2.1, 2001:db8::1"},
		{start: "01/02/24 03:10:00", end: "01/02/24 13:04:05", server: "HTTP/web.hop.test@HOP.TEST", client: "bob@HOP.TEST",
			flags: "FTO", skey: "aes128-cts-hmac-sha1-96", tkt: "aes256-cts-hmac-sha384-192", addresses: "(none)"},
		{server: "config: pa_type(krbtgt/HOP.TEST@HOP.TEST) = 2", addresses: "(none)"},
	}
	if def != "alice@HOP.TEST" || !reflect.DeepEqual(got, want) {
		t.Errorf("klist shows default %s and\n%+v\nwant\n%+v\nfull output:\n%s", def, got, want, out)
	}
}
