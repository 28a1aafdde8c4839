package keytab

import (
	"bytes"
	"encoding/binary"
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

// TestMarshalBytes checks the encoding against bytes written out by hand
// from the grammar in MIT's keytab_file_format.rst.
func TestMarshalBytes(t *testing.T) {
	kt := &Keytab{Entries: []Entry{{
		Principal: krb5test.Principal(t, "host/h@R", krb5.NTSrvHst),
		Timestamp: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		KVNO:      258,
		EncType:   krb5.AES256CTSHMACSHA196,
		Key:       []byte{0xde, 0xad, 0xbe, 0xef},
	}}}
	want := krb5test.Unhex(t, `
		0502
		00000023
		0002
		0001 52
		0004 686f7374
		0001 68
		00000003
		65937d25
		02
		0012
		0004 deadbeef
		00000102`)
	got, err := kt.Marshal()
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
	if !reflect.DeepEqual(back, kt) {
		t.Errorf("Parse = %#v, want %#v", back.Entries, kt.Entries)
	}
}

type wantEntry struct {
	principal string
	nameType  krb5.NameType
	ts        string
	kvno      uint32
	etype     krb5.EncType
	key       string
}

func checkEntries(t *testing.T, got []Entry, want []wantEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries %v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		ts := ""
		if !g.Timestamp.IsZero() {
			ts = g.Timestamp.UTC().Format(time.RFC3339)
		}
		if g.Principal.String() != w.principal || g.Principal.Name.Type != w.nameType || ts != w.ts ||
			g.KVNO != w.kvno || g.EncType != w.etype || hex.EncodeToString(g.Key) != w.key {
			t.Errorf("entry %d = %s type %v ts %q key %x; want %s type %v ts %q kvno %d %v key %s",
				i, g, g.Principal.Name.Type, ts, g.Key, w.principal, w.nameType, w.ts, w.kvno, w.etype, w.key)
		}
	}
}

// TestParseMITFiles reads files MIT krb5 1.20 wrote (ktutil addent -key and
// wkt; kadmin.local ktadd twice then ktremove "old", which leaves holes).
// The expected values are what MIT's klist -k -t -e -K printed for them.
func TestParseMITFiles(t *testing.T) {
	tests := []struct {
		file string
		want []wantEntry
	}{
		{"mit-ktutil.keytab", []wantEntry{
			{"host/a.example.test@EXAMPLE.TEST", krb5.NTPrincipal, "2026-11-23T19:39:32Z", 3, krb5.AES256CTSHMACSHA196,
				"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
			{"HTTP/web.example.test@EXAMPLE.TEST", krb5.NTPrincipal, "2026-11-23T19:39:32Z", 300, krb5.AES128CTSHMACSHA196,
				"202122232425262728292a2b2c2d2e2f"},
			{"alice@EXAMPLE.TEST", krb5.NTPrincipal, "2026-11-23T19:39:32Z", 1, krb5.RC4HMAC,
				"303132333435363738393a3b3c3d3e3f"},
			{"a/b/c@OTHER.TEST", krb5.NTPrincipal, "2026-11-23T19:39:32Z", 7, krb5.AES256CTSHMACSHA384192,
				"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"},
		}},
		{"mit-holes.keytab", []wantEntry{
			{"host/svc.hop.test@HOP.TEST", krb5.NTPrincipal, "2026-11-23T19:39:42Z", 3, krb5.AES256CTSHMACSHA196,
				"ccef160568311a9bc5dfe9059d57034585eab6d74d5f4031d97645cf8b13cd32"},
			{"host/svc.hop.test@HOP.TEST", krb5.NTPrincipal, "2026-11-23T19:39:42Z", 3, krb5.AES128CTSHMACSHA196,
				"9c8b8991e276b6c56d3aa071e9a83b77"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			kt, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			checkEntries(t, kt.Entries, tt.want)
		})
	}
}

// TestMITFileTruncated cuts the ktutil file at every length: only the cuts
// at record boundaries (offsets 2, 93, 170, 230 and 306, from the file's
// record lengths 0x57, 0x49, 0x38, 0x48) are well formed.
func TestMITFileTruncated(t *testing.T) {
	b, err := os.ReadFile("testdata/mit-ktutil.keytab")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 306 {
		t.Fatalf("testdata file is %d bytes, want 306", len(b))
	}
	boundaries := map[int]int{2: 0, 93: 1, 170: 2, 230: 3, 306: 4}
	for n := 0; n <= len(b); n++ {
		kt, err := Parse(b[:n])
		entries, ok := boundaries[n]
		switch {
		case ok && err != nil:
			t.Errorf("Parse(first %d bytes): %v", n, err)
		case ok && len(kt.Entries) != entries:
			t.Errorf("Parse(first %d bytes) has %d entries, want %d", n, len(kt.Entries), entries)
		case !ok && err == nil:
			t.Errorf("Parse(first %d bytes) succeeded, want an error", n)
		case !ok && !errors.Is(err, ErrMalformed):
			t.Errorf("Parse(first %d bytes) error %v does not wrap ErrMalformed", n, err)
		}
	}
}

// v1Entry builds a version 1 record body by hand: host byte order, the
// realm counted among the components, no name type.
func v1Entry(realm string, comps []string, ts uint32, vno uint8, etype uint16, key []byte) []byte {
	o := binary.NativeEndian
	b := o.AppendUint16(nil, uint16(len(comps)+1))
	b = o.AppendUint16(b, uint16(len(realm)))
	b = append(b, realm...)
	for _, c := range comps {
		b = o.AppendUint16(b, uint16(len(c)))
		b = append(b, c...)
	}
	b = o.AppendUint32(b, ts)
	b = append(b, vno)
	b = o.AppendUint16(b, etype)
	b = o.AppendUint16(b, uint16(len(key)))
	return append(b, key...)
}

func TestParseVersion1(t *testing.T) {
	o := binary.NativeEndian
	rec := v1Entry("OLD.TEST", []string{"host", "old.test"}, 0x65937d25, 9, 23, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	file := []byte{5, 1}
	file = o.AppendUint32(file, uint32(len(rec)))
	file = append(file, rec...)
	// A hole of 6 bytes, then the same entry with a trailing native-order
	// 32-bit kvno that overrides the 8-bit one.
	file = o.AppendUint32(file, uint32(0xfffffffa))
	file = append(file, make([]byte, 6)...)
	rec2 := o.AppendUint32(append([]byte(nil), rec...), 265)
	file = o.AppendUint32(file, uint32(len(rec2)))
	file = append(file, rec2...)
	kt, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	key := "0102030405060708090a0b0c0d0e0f10"
	checkEntries(t, kt.Entries, []wantEntry{
		{"host/old.test@OLD.TEST", krb5.NTUnknown, "2024-01-02T03:04:05Z", 9, krb5.RC4HMAC, key},
		{"host/old.test@OLD.TEST", krb5.NTUnknown, "2024-01-02T03:04:05Z", 265, krb5.RC4HMAC, key},
	})
}

// record builds a version 2 record: the entry body of TestMarshalBytes
// without its 32-bit kvno, followed by tail.
func record(t *testing.T, tail string) []byte {
	body := krb5test.Unhex(t, "0002 0001 52 0004 686f7374 0001 68 00000003 65937d25 02 0012 0004 deadbeef"+tail)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestParseRecordTail(t *testing.T) {
	tests := []struct {
		name string
		tail string
		kvno uint32
	}{
		{"no 32-bit kvno", "", 2},
		{"three bytes of fill", "000000", 2},
		{"zero 32-bit kvno", "00000000", 2},
		{"32-bit kvno", "00010000", 65536},
		{"32-bit kvno and fill", "00000102 00000000", 258},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kt, err := Parse(append([]byte{5, 2}, record(t, tt.tail)...))
			if err != nil {
				t.Fatal(err)
			}
			if len(kt.Entries) != 1 || kt.Entries[0].KVNO != tt.kvno {
				t.Errorf("got %v, want one entry with kvno %d", kt.Entries, tt.kvno)
			}
		})
	}
}

func TestParseEndMarker(t *testing.T) {
	file := append([]byte{5, 2}, record(t, "")...)
	file = append(file, 0, 0, 0, 0, 0xff, 0xff) // end marker, then anything
	kt, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(kt.Entries) != 1 {
		t.Errorf("got %d entries, want 1", len(kt.Entries))
	}
}

func TestParseMalformed(t *testing.T) {
	entry := func(body string) string {
		b := krb5test.Unhex(t, body)
		return fmt.Sprintf("0502 %08x %x", len(b), b)
	}
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"one byte", "05"},
		{"version 3", "0503"},
		{"not a keytab", "0405"},
		{"partial record length", "0502 000000"},
		{"length INT32_MIN", "0502 80000000"},
		{"hole past the end", "0502 fffffff0 0000"},
		{"record past the end", "0502 00000010 0001"},
		{"record too large", "0502 00010001"},
		{"no components", entry("0000 0001 52 00000001 00000000 01 0012 0001 aa")},
		{"17 components", entry("0011 0001 52 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 0001 61 00000001 00000000 01 0012 0001 aa")},
		{"empty realm", entry("0001 0000 0001 61 00000001 00000000 01 0012 0001 aa")},
		{"empty component", entry("0001 0001 52 0000 00000001 00000000 01 0012 0001 aa")},
		{"component too long", entry("0001 0001 52 0401" + strings.Repeat("61", 1025) + " 00000001 00000000 01 0012 0001 aa")},
		{"empty key", entry("0001 0001 52 0001 61 00000001 00000000 01 0012 0000")},
		{"key length negative for MIT", entry("0001 0001 52 0001 61 00000001 00000000 01 0012 8000")},
		{"key past the record", entry("0001 0001 52 0001 61 00000001 00000000 01 0012 0002 aa")},
		{"no key", entry("0001 0001 52 0001 61 00000001 00000000 01")},
		{"v1 realm only", "0501 " + hex.EncodeToString(binary.NativeEndian.AppendUint32(nil, 5)) + hex.EncodeToString(binary.NativeEndian.AppendUint16(nil, 1)) + hex.EncodeToString(binary.NativeEndian.AppendUint16(nil, 1)) + "52"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kt, err := Parse(krb5test.Unhex(t, tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %v", kt.Entries)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.HasPrefix(err.Error(), "keytab: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func sampleKeytab(t testing.TB) *Keytab {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Keytab{Entries: []Entry{
		{krb5test.Principal(t, "host/b.hop.test@HOP.TEST", krb5.NTSrvHst), ts, 3, krb5.AES256CTSHMACSHA196, bytes.Repeat([]byte{0x11}, 32)},
		{krb5test.Principal(t, "host/b.hop.test@HOP.TEST", krb5.NTSrvHst), ts, 3, krb5.AES128CTSHMACSHA196, bytes.Repeat([]byte{0x12}, 16)},
		{krb5test.Principal(t, "HTTP/web.hop.test@HOP.TEST", krb5.NTSrvInst), ts.Add(time.Hour), 300, krb5.AES256CTSHMACSHA384192, bytes.Repeat([]byte{0x13}, 32)},
		{krb5test.Principal(t, "alice@HOP.TEST", krb5.NTPrincipal), time.Time{}, 0, krb5.RC4HMAC, bytes.Repeat([]byte{0x14}, 16)},
		{krb5test.Principal(t, "a/b/c/d@OTHER.TEST", krb5.NTMSPrincipal), ts, 70000, krb5.EncType(-135), []byte{0x15}},
	}}
}

func TestRoundTrip(t *testing.T) {
	kt := sampleKeytab(t)
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, kt) {
		t.Errorf("round trip:\n got %v\nwant %v", back.Entries, kt.Entries)
	}
	empty, err := (&Keytab{}).Marshal()
	if err != nil || !bytes.Equal(empty, []byte{5, 2}) {
		t.Errorf("empty keytab = %x, %v; want 0502", empty, err)
	}
	if kt, err := Parse(empty); err != nil || len(kt.Entries) != 0 {
		t.Errorf("Parse(0502) = %v, %v", kt, err)
	}
}

func TestMarshalInvalid(t *testing.T) {
	good := func() Entry { return sampleKeytab(t).Entries[0] }
	tests := []struct {
		name   string
		modify func(*Entry)
	}{
		{"no components", func(e *Entry) { e.Principal.Name.Components = nil }},
		{"17 components", func(e *Entry) { e.Principal.Name.Components = make([]string, 17) }},
		{"empty component", func(e *Entry) { e.Principal.Name.Components = []string{"host", ""} }},
		{"empty realm", func(e *Entry) { e.Principal.Realm = "" }},
		{"long realm", func(e *Entry) { e.Principal.Realm = krb5.Realm(strings.Repeat("R", 1025)) }},
		{"no key", func(e *Entry) { e.Key = nil }},
		{"key too long", func(e *Entry) { e.Key = make([]byte, 1<<15) }},
		{"etype too large", func(e *Entry) { e.EncType = 1 << 15 }},
		{"etype too small", func(e *Entry) { e.EncType = -1<<15 - 1 }},
		{"before 1970", func(e *Entry) { e.Timestamp = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{"after 2106", func(e *Entry) { e.Timestamp = time.Date(2107, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good()
			tt.modify(&e)
			b, err := (&Keytab{Entries: []Entry{e}}).Marshal()
			if err == nil {
				t.Fatalf("Marshal succeeded: %x", b)
			}
			if !strings.HasPrefix(err.Error(), "keytab: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestFind(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	host := krb5test.Principal(t, "host/h.hop.test@HOP.TEST", krb5.NTSrvHst)
	http := krb5test.Principal(t, "HTTP/h.hop.test@HOP.TEST", krb5.NTSrvHst)
	kt := &Keytab{Entries: []Entry{
		{host, ts, 2, krb5.AES256CTSHMACSHA196, []byte{0}},
		{host, ts, 3, krb5.AES256CTSHMACSHA196, []byte{1}},
		{host, ts, 3, krb5.AES128CTSHMACSHA196, []byte{2}},
		{host, ts, 5, krb5.AES128CTSHMACSHA196, []byte{3}},
		{http, ts, 44, krb5.AES256CTSHMACSHA196, []byte{4}},
		{http, ts, 301, krb5.AES256CTSHMACSHA196, []byte{5}},
	}}
	tests := []struct {
		name  string
		p     string
		kvno  uint32
		etype krb5.EncType
		want  int // index into kt.Entries, -1 for ErrNotFound
	}{
		{"highest kvno", "host/h.hop.test@HOP.TEST", 0, 0, 3},
		{"realm ignores case", "host/h.hop.test@hop.test", 0, 0, 3},
		{"highest kvno of a type", "host/h.hop.test@HOP.TEST", 0, krb5.AES256CTSHMACSHA196, 1},
		{"kvno, first of its entries", "host/h.hop.test@HOP.TEST", 3, 0, 1},
		{"kvno and type", "host/h.hop.test@HOP.TEST", 3, krb5.AES128CTSHMACSHA196, 2},
		{"missing kvno", "host/h.hop.test@HOP.TEST", 4, 0, -1},
		{"missing type", "host/h.hop.test@HOP.TEST", 0, krb5.RC4HMAC, -1},
		{"components are case-sensitive", "HOST/h.hop.test@HOP.TEST", 0, 0, -1},
		{"other realm", "host/h.hop.test@OTHER.TEST", 0, 0, -1},
		{"more components", "host/h.hop.test/x@HOP.TEST", 0, 0, -1},
		{"8-bit kvno matches a larger one", "HTTP/h.hop.test@HOP.TEST", 300, 0, 4},
		{"exact kvno wins over 8-bit", "HTTP/h.hop.test@HOP.TEST", 301, 0, 5},
		{"8-bit match needs a kvno over 255", "HTTP/h.hop.test@HOP.TEST", 45, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := krb5test.Principal(t, tt.p, krb5.NTPrincipal) // the name type does not take part
			got, err := kt.Find(p, tt.kvno, tt.etype)
			if tt.want < 0 {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Find = %v, %v; want ErrNotFound", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, kt.Entries[tt.want]) {
				t.Errorf("Find = %v key %x, want entry %d %v", got, got.Key, tt.want, kt.Entries[tt.want])
			}
		})
	}
	t.Run("error lists the kvnos", func(t *testing.T) {
		_, err := kt.Find(host, 4, 0)
		if err == nil || !strings.Contains(err.Error(), "kvno 2, 3, 5") {
			t.Errorf("error %v does not list kvno 2, 3, 5", err)
		}
	})
	t.Run("result is a copy", func(t *testing.T) {
		got, err := kt.Find(host, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		got.Key[0] = 0xff
		got.KVNO = 99
		if kt.Entries[0].Key[0] != 0 || kt.Entries[0].KVNO != 2 {
			t.Error("changing Find's result changed the keytab")
		}
	})
}

// TestFormatHidesKey prints entries with every common verb and checks that
// the key shows up in none of them.
func TestFormatHidesKey(t *testing.T) {
	e := Entry{Principal: krb5test.Principal(t, "host/h@R", krb5.NTSrvHst), KVNO: 7, EncType: krb5.AES128CTSHMACSHA196,
		Key: []byte{0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89}}
	kt := &Keytab{Entries: []Entry{e}}
	forbidden := []string{"abcdef", "ABCDEF", "171 205", "0xab", "\\xab", "q83v"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%T %v"} {
		for _, arg := range []any{e, &e, kt, *kt, []Entry{e}} {
			out := fmt.Sprintf(verb, arg)
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("Sprintf(%q, %T) = %q shows the key", verb, arg, out)
				}
			}
		}
	}
	if got, want := e.String(), "host/h@R kvno 7 aes128-cts-hmac-sha1-96"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hop.keytab")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	kt := sampleKeytab(t)
	if err := kt.Save("FILE:" + path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	names, _ := os.ReadDir(dir)
	if len(names) != 1 {
		t.Errorf("directory holds %v, want only the keytab", names)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, kt) {
		t.Errorf("Load = %v, want %v", back.Entries, kt.Entries)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	if err := (&Keytab{Entries: []Entry{{}}}).Save(path); err == nil {
		t.Error("Save of an invalid entry succeeded")
	}
	if back, err := Load(path); err != nil || len(back.Entries) != len(kt.Entries) {
		t.Errorf("a failed Save changed the file: %v, %v", back, err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte{5, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(too large) = %v", err)
	}
}
