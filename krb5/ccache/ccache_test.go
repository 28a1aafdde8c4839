package ccache

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/krb5test"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestMarshalBytes checks the encoding against bytes written out by hand
// from the grammar in MIT's ccache_file_format.rst.
func TestMarshalBytes(t *testing.T) {
	c := &Cache{
		TimeOffset:    -1500 * time.Millisecond,
		HasTimeOffset: true,
		Default:       krb5test.Principal(t, "u@R", krb5.NTPrincipal),
		Credentials: []Credential{{
			Client:       krb5test.Principal(t, "u@R", krb5.NTPrincipal),
			Server:       krb5test.Principal(t, "krbtgt/R@R", krb5.NTSrvInst),
			KeyType:      krb5.AES128CTSHMACSHA196,
			Key:          []byte{0xaa, 0xbb},
			AuthTime:     utc("2024-01-02T03:04:05Z"),
			EndTime:      utc("2024-01-02T13:04:05Z"),
			IsSKey:       true,
			Flags:        krb5.TktForwardable | krb5.TktInitial,
			Addresses:    []Address{{Type: 2, Data: []byte{192, 0, 2, 1}}},
			AuthData:     []AuthData{{Type: 0xff80, Data: []byte{1}}},
			Ticket:       []byte{0x61, 0x00},
			SecondTicket: nil,
		}},
	}
	want := krb5test.Unhex(t, `
		0504
		000c 0001 0008 ffffffff fff85ee0
		00000001 00000001 00000001 52 00000001 75
		00000001 00000001 00000001 52 00000001 75
		00000002 00000002 00000001 52 00000006 6b7262746774 00000001 52
		0011 00000002 aabb
		65937d25 00000000 659409c5 00000000
		01
		40400000
		00000001 0002 00000004 c0000201
		00000001 ff80 00000001 01
		00000002 6100
		00000000`)
	got, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal =\n%x\nwant\n%x", got, want)
	}
	back, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	c.Version = 4
	if !reflect.DeepEqual(back, c) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", back, c)
	}

	// Version 3: no header, the encryption type twice.
	c.Version = 3
	want3 := append([]byte{5, 3}, want[16:]...)
	i := bytes.Index(want3, krb5test.Unhex(t, "0011 00000002 aabb"))
	want3 = append(want3[:i:i], append(krb5test.Unhex(t, "0011"), want3[i:]...)...)
	got, err = c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want3) {
		t.Errorf("Marshal v3 =\n%x\nwant\n%x", got, want3)
	}
	back, err = Parse(want3)
	if err != nil {
		t.Fatal(err)
	}
	c.TimeOffset, c.HasTimeOffset = 0, false
	if !reflect.DeepEqual(back, c) {
		t.Errorf("Parse v3 =\n%#v\nwant\n%#v", back, c)
	}
}

type wantCred struct {
	client, server string
	keyType        krb5.EncType
	key            string
	auth, start    string
	end, renew     string
	flags          krb5.Flags
	ticketLen      int
}

func checkCred(t *testing.T, i int, c Credential, w wantCred) {
	t.Helper()
	ts := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	}
	if c.Client.String() != w.client || c.Server.String() != w.server || c.KeyType != w.keyType ||
		hex.EncodeToString(c.Key) != w.key || ts(c.AuthTime) != w.auth || ts(c.StartTime) != w.start ||
		ts(c.EndTime) != w.end || ts(c.RenewTill) != w.renew || c.Flags != w.flags || len(c.Ticket) != w.ticketLen {
		t.Errorf("credential %d = %s key %x times %s %s %s %s flags %#x ticket %d bytes\nwant %+v",
			i, c, c.Key, ts(c.AuthTime), ts(c.StartTime), ts(c.EndTime), ts(c.RenewTill), uint32(c.Flags), len(c.Ticket), w)
	}
}

// TestParseMITFiles reads caches MIT krb5 1.20's kinit and kvno wrote
// (format 4, and format 3 with ccache_type = 3). The expected values are
// those klist -e -f -C printed and the bytes of the files read by hand.
func TestParseMITFiles(t *testing.T) {
	const tgtKey4 = "61239c30e725909eb36d45e9bfd59f99e1b03156140ed7e70d55dd7657488f72"
	const svcKey4 = "460a6e814696e418555f8caeca85b8c1a89439bd59c8e21353652453d2cc1d85"
	const tgtKey3 = "afb550c2e36e56380863686ffb4741114da7061a1599e1a7264da31dc9563374"
	tests := []struct {
		file    string
		version int
		offset  bool
		creds   []wantCred
	}{
		{"mit-kinit-v4.ccache", 4, true, []wantCred{
			{"alice@HOP.TEST", "krb5_ccache_conf_data/fast_avail/krbtgt\\/HOP.TEST\\@HOP.TEST@X-CACHECONF:", 0, "", "", "", "", "", 0, 3},
			{"alice@HOP.TEST", "krbtgt/HOP.TEST@HOP.TEST", krb5.AES256CTSHMACSHA196, tgtKey4,
				"2026-11-23T19:39:47Z", "2026-11-23T19:39:47Z", "2026-11-24T19:39:47Z", "", 0x00410000, 400},
			{"alice@HOP.TEST", "host/svc.hop.test@HOP.TEST", krb5.AES256CTSHMACSHA196, svcKey4,
				"2026-11-23T19:39:47Z", "2026-11-23T19:39:47Z", "2026-11-24T19:39:47Z", "", 0x00090000, 439},
		}},
		{"mit-kinit-v3.ccache", 3, false, []wantCred{
			{"alice@HOP.TEST", "krb5_ccache_conf_data/fast_avail/krbtgt\\/HOP.TEST\\@HOP.TEST@X-CACHECONF:", 0, "", "", "", "", "", 0, 3},
			{"alice@HOP.TEST", "krbtgt/HOP.TEST@HOP.TEST", krb5.AES256CTSHMACSHA196, tgtKey3,
				"2026-11-23T19:39:56Z", "2026-11-23T19:39:56Z", "2026-11-24T19:39:56Z", "", 0x40410000, 400},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != tt.version || c.HasTimeOffset != tt.offset || c.TimeOffset != 0 {
				t.Errorf("version %d offset %v %v, want %d %v 0", c.Version, c.HasTimeOffset, c.TimeOffset, tt.version, tt.offset)
			}
			if c.Default.String() != "alice@HOP.TEST" || c.Default.Name.Type != krb5.NTPrincipal {
				t.Errorf("default principal %v type %v", c.Default, c.Default.Name.Type)
			}
			if len(c.Credentials) < len(tt.creds) {
				t.Fatalf("%d credentials, want at least %d", len(c.Credentials), len(tt.creds))
			}
			for i, w := range tt.creds {
				checkCred(t, i, c.Credentials[i], w)
				if tk := c.Credentials[i].Ticket; i > 0 && tk[0] != 0x61 {
					t.Errorf("credential %d ticket starts with %#x, want the DER tag 0x61", i, tk[0])
				}
			}
			conf := &c.Credentials[0]
			if !conf.IsConfig() || c.Credentials[1].IsConfig() {
				t.Error("IsConfig does not tell the configuration entry from the ticket")
			}
			v, ok := c.Config("fast_avail", krb5test.Principal(t, "krbtgt/HOP.TEST@HOP.TEST", krb5.NTSrvInst))
			if !ok || string(v) != "yes" {
				t.Errorf("Config(fast_avail) = %q, %v; want yes", v, ok)
			}
			// Writing the cache back gives MIT's bytes exactly.
			out, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, raw) {
				t.Errorf("Marshal differs from the MIT file:\n%x\n%x", out, raw)
			}
		})
	}
}

// TestMITFileTruncated cuts an MIT cache at every length: a cut is well
// formed only right after the default principal or after a credential,
// and then it holds the first credentials of the whole file.
func TestMITFileTruncated(t *testing.T) {
	raw, err := os.ReadFile("testdata/mit-kinit-v4.ccache")
	if err != nil {
		t.Fatal(err)
	}
	full, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for n := 0; n < len(raw); n++ {
		c, err := Parse(raw[:n])
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse(first %d bytes) error %v does not wrap ErrMalformed", n, err)
			}
			continue
		}
		ok++
		if len(c.Credentials) > 0 && !reflect.DeepEqual(c.Credentials, full.Credentials[:len(c.Credentials)]) {
			t.Errorf("Parse(first %d bytes) has credentials that are not a prefix of the file's", n)
		}
	}
	if want := len(full.Credentials); ok != want {
		t.Errorf("%d cuts were well formed, want %d (one per credential)", ok, want)
	}
}

func TestParseMalformed(t *testing.T) {
	const def = "00000001 00000001 00000001 52 00000001 75" // u@R
	const cred = def + def + "0012 00000000 00000000 00000000 00000000 00000000 00 00000000 00000000 00000000 00000000 00000000"
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"one byte", "05"},
		{"version 1", "0501"},
		{"version 2", "0502"},
		{"version 5", "0505"},
		{"keytab", "0502 00000000"},
		{"no header", "0504"},
		{"header past the end", "0504 0010 0001 0008"},
		{"header field past the header", "0504 0004 0001 0008 0000000000000000"},
		{"short deltatime", "0504 0008 0001 0004 00000000"},
		{"no default principal", "0504 0000"},
		{"default principal without a name", "0504 0000 00000001 00000000 00000001 52"},
		{"deltatime microseconds out of range", "0504 000c 0001 0008 00000000 000f4240" + def},
		{"17 components", "0504 0000 00000001 00000011 00000001 52"},
		{"component past the end", "0504 0000 00000001 00000001 00000001 52 00000005 75"},
		{"component too long", "0504 0000 00000001 00000001 00000001 52 00000401" + strings.Repeat("75", 1025)},
		{"realm length 2^32-1", "0504 0000 00000001 00000001 ffffffff"},
		{"truncated credential", "0504 0000" + def + def},
		{"is_skey 2", "0504 0000" + def + strings.Replace(cred, " 00 ", " 02 ", 1)},
		{"address count too large", "0504 0000" + def + def + def + "0012 00000000 00000000 00000000 00000000 00000000 00 00000000 7fffffff"},
		{"authdata count too large", "0504 0000" + def + def + def + "0012 00000000 00000000 00000000 00000000 00000000 00 00000000 00000000 10000000"},
		{"ticket past the end", "0504 0000" + def + def + def + "0012 00000000 00000000 00000000 00000000 00000000 00 00000000 00000000 00000000 00000010 00"},
		{"trailing byte", "0504 0000" + def + cred + "00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(krb5test.Unhex(t, tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %v", c.Credentials)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.HasPrefix(err.Error(), "ccache: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	// The well-formed base of the cases above parses.
	if _, err := Parse(krb5test.Unhex(t, "0504 0000"+def+cred)); err != nil {
		t.Errorf("base case: %v", err)
	}
	// Unknown header fields are skipped.
	c, err := Parse(krb5test.Unhex(t, "0504 0012 0007 0002 abcd 0001 0008 00000002 000003e8"+def))
	if err != nil || !c.HasTimeOffset || c.TimeOffset != 2*time.Second+time.Millisecond {
		t.Errorf("header with an unknown field: %v, %+v", err, c)
	}
}

func sampleCache(t testing.TB) *Cache {
	alice := krb5test.Principal(t, "alice@HOP.TEST", krb5.NTPrincipal)
	c := &Cache{Default: alice, HasTimeOffset: true, TimeOffset: 3*time.Second + 250*time.Microsecond}
	c.Credentials = []Credential{
		{
			Client: alice, Server: krb5test.Principal(t, "krbtgt/HOP.TEST@HOP.TEST", krb5.NTSrvInst),
			KeyType: krb5.AES256CTSHMACSHA196, Key: bytes.Repeat([]byte{0x21}, 32),
			AuthTime: utc("2024-01-02T03:04:05Z"), EndTime: utc("2024-01-02T13:04:05Z"), RenewTill: utc("2024-01-09T03:04:05Z"),
			Flags:     krb5.TktForwardable | krb5.TktRenewable | krb5.TktInitial | krb5.TktPreAuthent,
			Addresses: []Address{{Type: 2, Data: []byte{192, 0, 2, 1}}, {Type: 24, Data: make([]byte, 16)}},
			Ticket:    []byte("ticket-1"),
		},
		{
			Client: krb5test.Principal(t, "bob@HOP.TEST", krb5.NTEnterprise), Server: krb5test.Principal(t, "HTTP/web.hop.test@HOP.TEST", krb5.NTSrvHst),
			KeyType: krb5.EncType(-128), Key: bytes.Repeat([]byte{0x22}, 16),
			AuthTime: utc("2024-01-02T03:04:05Z"), StartTime: utc("2024-01-02T03:10:00Z"), EndTime: utc("2106-02-07T06:28:15Z"),
			IsSKey: true, Flags: krb5.TktForwardable | krb5.TktOKAsDelegate,
			AuthData: []AuthData{{Type: 1, Data: []byte{0x30, 0}}, {Type: 0xff7f, Data: nil}},
			Ticket:   []byte("ticket-2"), SecondTicket: []byte("evidence"),
		},
	}
	c.SetConfig("pa_type", krb5test.Principal(t, "krbtgt/HOP.TEST@HOP.TEST", krb5.NTSrvInst), []byte("2"))
	return c
}

func TestRoundTrip(t *testing.T) {
	for _, version := range []int{3, 4} {
		c := sampleCache(t)
		c.Version = version
		if version == 3 {
			c.HasTimeOffset, c.TimeOffset = false, 0
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("version %d round trip:\n got %#v\nwant %#v", version, back, c)
		}
	}
	// Version 0 writes version 4; an offset without microseconds too.
	c := &Cache{Default: krb5test.Principal(t, "u@R", krb5.NTPrincipal), HasTimeOffset: true, TimeOffset: -7 * time.Second}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := krb5test.Unhex(t, "0504 000c 0001 0008 fffffff9 00000000"); !bytes.HasPrefix(b, want) {
		t.Errorf("Marshal = %x, want prefix %x", b, want)
	}
}

func TestMarshalInvalid(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Cache)
	}{
		{"version 2", func(c *Cache) { c.Version = 2 }},
		{"no default principal", func(c *Cache) { c.Default = krb5.Principal{} }},
		{"17 components", func(c *Cache) { c.Credentials[0].Server.Name.Components = make([]string, 17) }},
		{"long component", func(c *Cache) { c.Credentials[0].Client.Name.Components = []string{strings.Repeat("a", 1025)} }},
		{"etype too large", func(c *Cache) { c.Credentials[0].KeyType = 1 << 15 }},
		{"time before 1970", func(c *Cache) { c.Credentials[1].EndTime = utc("1969-01-01T00:00:00Z") }},
		{"time after 2106", func(c *Cache) { c.Credentials[1].RenewTill = utc("2106-02-07T06:28:16Z") }},
		{"offset too large", func(c *Cache) { c.TimeOffset = 1 << 62 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleCache(t)
			tt.modify(c)
			b, err := c.Marshal()
			if err == nil {
				t.Fatalf("Marshal succeeded: %x", b)
			}
			if !strings.HasPrefix(err.Error(), "ccache: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestAddFind(t *testing.T) {
	c := sampleCache(t)
	n := len(c.Credentials)
	tgt := krb5test.Principal(t, "krbtgt/HOP.TEST@hop.test", krb5.NTPrincipal) // realm case and name type do not matter
	got, ok := c.Find(tgt)
	if !ok || !bytes.Equal(got.Ticket, []byte("ticket-1")) {
		t.Fatalf("Find(TGT) = %v, %v", got, ok)
	}
	got.Flags = 0
	if c.Credentials[0].Flags == 0 {
		t.Error("changing Find's result changed the cache")
	}
	if _, ok := c.Find(krb5test.Principal(t, "KRBTGT/HOP.TEST@HOP.TEST", krb5.NTSrvInst)); ok {
		t.Error("Find matched a name differing in case")
	}
	if _, ok := c.Find(krb5test.Principal(t, "pa_type@X-CACHECONF:", krb5.NTPrincipal)); ok {
		t.Error("Find matched a configuration entry by its key alone")
	}

	// Add replaces the credential for the same server, in place.
	newTGT := c.Credentials[0]
	newTGT.Ticket = []byte("ticket-3")
	newTGT.Server = tgt
	c.Add(newTGT)
	if len(c.Credentials) != n || !bytes.Equal(c.Credentials[0].Ticket, []byte("ticket-3")) {
		t.Errorf("Add of a known server: %v", c.Credentials)
	}
	// Add appends a new server, and removes duplicates of a replaced one.
	svc := c.Credentials[1]
	svc.Server = krb5test.Principal(t, "cifs/fs.hop.test@HOP.TEST", krb5.NTSrvHst)
	c.Add(svc)
	c.Add(svc)
	c.Credentials = append(c.Credentials, svc)
	if len(c.Credentials) != n+2 {
		t.Fatalf("%d credentials, want %d", len(c.Credentials), n+2)
	}
	svc.Ticket = []byte("ticket-4")
	c.Add(svc)
	if len(c.Credentials) != n+1 || !bytes.Equal(c.Credentials[n].Ticket, []byte("ticket-4")) {
		t.Errorf("Add did not collapse duplicates: %v", c.Credentials)
	}
	if got, ok := c.Find(svc.Server); !ok || !bytes.Equal(got.Ticket, []byte("ticket-4")) {
		t.Errorf("Find(cifs) = %v, %v", got, ok)
	}
}

func TestConfig(t *testing.T) {
	c := sampleCache(t)
	tgt := krb5test.Principal(t, "krbtgt/HOP.TEST@HOP.TEST", krb5.NTSrvInst)
	if v, ok := c.Config("pa_type", tgt); !ok || string(v) != "2" {
		t.Errorf("Config(pa_type) = %q, %v", v, ok)
	}
	if _, ok := c.Config("pa_type", krb5.Principal{}); ok {
		t.Error("Config found pa_type without its principal")
	}
	c.SetConfig("pa_type", tgt, []byte("138"))
	c.SetConfig("fast_avail", krb5.Principal{}, []byte("yes"))
	n := 0
	for i := range c.Credentials {
		if cr := &c.Credentials[i]; cr.IsConfig() {
			n++
			if !cr.Client.Name.Equal(c.Default.Name) || cr.KeyType != 0 || cr.Key != nil || !cr.EndTime.IsZero() {
				t.Errorf("configuration entry %v has fields other than the value set", cr)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d configuration entries, want 2", n)
	}
	if v, _ := c.Config("pa_type", tgt); string(v) != "138" {
		t.Errorf("Config(pa_type) = %q after SetConfig", v)
	}
	if v, _ := c.Config("fast_avail", krb5.Principal{}); string(v) != "yes" {
		t.Errorf("Config(fast_avail) = %q", v)
	}
	want := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "krb5_ccache_conf_data", "fast_avail"), Realm: "X-CACHECONF:"}
	if cr := c.Credentials[len(c.Credentials)-1]; !reflect.DeepEqual(cr.Server, want) {
		t.Errorf("configuration server principal %#v, want %#v", cr.Server, want)
	}
	c.SetConfig("pa_type", tgt, nil)
	if _, ok := c.Config("pa_type", tgt); ok {
		t.Error("SetConfig(nil) did not remove the entry")
	}
	if got := fmt.Sprint(c.Credentials[len(c.Credentials)-1]); got != "config fast_avail" {
		t.Errorf("String = %q", got)
	}
}

// TestFormatHidesSecrets prints credentials with every common verb and
// checks that neither the session key nor the ticket shows up.
func TestFormatHidesSecrets(t *testing.T) {
	c := sampleCache(t)
	cr := &c.Credentials[0]
	cr.Key = []byte{0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89}
	cr.Ticket = []byte("SECRET-TICKET")
	forbidden := []string{"abcdef", "ABCDEF", "171 205", "0xab", "\\xab", "SECRET", "5345435245"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, arg := range []any{*cr, cr, c, *c, c.Credentials} {
			out := fmt.Sprintf(verb, arg)
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("Sprintf(%q, %T) = %q shows a secret", verb, arg, out)
				}
			}
		}
	}
	want := "alice@HOP.TEST -> krbtgt/HOP.TEST@HOP.TEST aes256-cts-hmac-sha1-96 [forwardable,renewable,initial,pre-authent] until 2024-01-02T13:04:05Z"
	if got := cr.String(); got != want {
		t.Errorf("String =\n%q\nwant\n%q", got, want)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "krb5cc_test")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := sampleCache(t)
	c.Version = 4
	if err := c.Save("FILE:" + path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only the cache", names)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("Load = %#v, want %#v", back, c)
	}
	for _, name := range []string{"KEYRING:persistent:1000", "KCM:1000", "DIR::/run/user/1000/krb5cc/tkt", "MEMORY:x"} {
		if _, err := Load(name); err == nil || !strings.Contains(err.Error(), "only FILE:") {
			t.Errorf("Load(%q) = %v, want a refusal", name, err)
		}
		if err := c.Save(name); err == nil {
			t.Errorf("Save(%q) succeeded", name)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	if err := (&Cache{}).Save(path); err == nil {
		t.Error("Save of a cache without a default principal succeeded")
	}
	if back, err := Load(path); err != nil || len(back.Credentials) != len(c.Credentials) {
		t.Errorf("a failed Save changed the file: %v, %v", back, err)
	}
}
