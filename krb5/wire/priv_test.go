package wire

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hop/krb5"
)

// MIT krb5's ASN.1 test suite encodes fixed KRB-PRIV structures and records
// the bytes in src/tests/asn.1/reference_encode.out: independent vectors.
var (
	mitKRBPriv = h(`75 33 30 31 A0 03 02 01 05 A1 03 02 01 15 A3 25 30 23 A0 03 02 01 00 A1 03 02 01 05
		A2 17 04 15 6B 72 62 41 53 4E 2E 31 20 74 65 73 74 20 6D 65 73 73 61 67 65`)
	mitEncKRBPrivPart = h(`7C 4F 30 4D A0 0A 04 08 6B 72 62 35 64 61 74 61 A1 11 18 0F 31 39 39 34 30 36 31 30
		30 36 30 33 31 37 5A A2 05 02 03 01 E2 40 A3 03 02 01 11 A4 0F 30 0D A0 03 02 01 02 A1 06 04 04
		12 D0 00 23 A5 0F 30 0D A0 03 02 01 02 A1 06 04 04 12 D0 00 23`)
	mitEncKRBPrivPartOpt = h(`7C 1F 30 1D A0 0A 04 08 6B 72 62 35 64 61 74 61 A4 0F 30 0D A0 03 02 01 02 A1 06 04
		04 12 D0 00 23`)
)

// RFC 3244 §2 ChangePasswdData, built with the test package's own DER
// writer: a set-password request for bob@EXAMPLE.TEST, and a change
// (no target) as MIT's kpasswd never sends but RFC 3244 allows.
var (
	setpwBob = seq(ctxOcts(0, []byte("N3w-Passw0rd")),
		ctx(1, name(1, "bob")), ctxStr(2, "EXAMPLE.TEST"))
	setpwSelf = seq(ctxOcts(0, []byte("N3w-Passw0rd")))
)

func TestKRBPrivMITVectors(t *testing.T) {
	addr := &HostAddress{Type: krb5.AddrIPv4, Address: []byte{0x12, 0xd0, 0x00, 0x23}}
	tests := []struct {
		name    string
		b       []byte
		parse   func([]byte) (any, error)
		marshal func(any) ([]byte, error)
		want    any
	}{
		{
			name:    "KRB-PRIV",
			b:       mitKRBPriv,
			parse:   func(b []byte) (any, error) { return ParseKRBPriv(b) },
			marshal: func(v any) ([]byte, error) { return v.(*KRBPriv).Marshal() },
			want: &KRBPriv{EncPart: EncryptedData{EType: 0, KVNO: 5, HasKVNO: true,
				Cipher: []byte("krbASN.1 test message")}},
		},
		{
			name:    "EncKrbPrivPart",
			b:       mitEncKRBPrivPart,
			parse:   func(b []byte) (any, error) { return ParseEncKRBPrivPart(b) },
			marshal: func(v any) ([]byte, error) { return v.(*EncKRBPrivPart).Marshal() },
			want: &EncKRBPrivPart{UserData: []byte("krb5data"),
				Timestamp: time.Date(1994, 6, 10, 6, 3, 17, 0, time.UTC), Usec: i32(123456),
				SeqNumber: u32(17), SAddress: addr, RAddress: addr},
		},
		{
			name:    "EncKrbPrivPart optionals NULL",
			b:       mitEncKRBPrivPartOpt,
			parse:   func(b []byte) (any, error) { return ParseEncKRBPrivPart(b) },
			marshal: func(v any) ([]byte, error) { return v.(*EncKRBPrivPart).Marshal() },
			want:    &EncKRBPrivPart{UserData: []byte("krb5data"), SAddress: addr},
		},
		{
			name:    "ChangePasswdData set",
			b:       setpwBob,
			parse:   func(b []byte) (any, error) { return ParseChangePasswdData(b) },
			marshal: func(v any) ([]byte, error) { return v.(*ChangePasswdData).Marshal() },
			want: &ChangePasswdData{NewPasswd: []byte("N3w-Passw0rd"),
				TargName: pn(krb5.NewName(krb5.NTPrincipal, "bob")), TargRealm: "EXAMPLE.TEST"},
		},
		{
			name:    "ChangePasswdData change",
			b:       setpwSelf,
			parse:   func(b []byte) (any, error) { return ParseChangePasswdData(b) },
			marshal: func(v any) ([]byte, error) { return v.(*ChangePasswdData).Marshal() },
			want:    &ChangePasswdData{NewPasswd: []byte("N3w-Passw0rd")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parse(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parsed\n %+v\nwant\n %+v", got, tc.want)
			}
			out, err := tc.marshal(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, tc.b) {
				t.Fatalf("marshal\n % x\nwant\n % x", out, tc.b)
			}
		})
	}
}

func TestPrivDecodeRules(t *testing.T) {
	encPart := ctx(3, seq(ctxInt(0, 18), ctxOcts(2, []byte("cipher"))))
	tests := []struct {
		name    string
		parse   func() error
		wantErr string // "" = must parse
		is      error
	}{
		{"KRB-PRIV pvno 4", func() error {
			_, err := ParseKRBPriv(app(21, seq(ctxInt(0, 4), ctxInt(1, 21), encPart)))
			return err
		}, "pvno is 4", ErrBadPVNO},
		{"KRB-PRIV msg-type 22", func() error {
			_, err := ParseKRBPriv(app(21, seq(ctxInt(0, 5), ctxInt(1, 22), encPart)))
			return err
		}, "msg-type is 22", ErrMsgType},
		{"KRB-PRIV without enc-part", func() error {
			_, err := ParseKRBPriv(app(21, seq(ctxInt(0, 5), ctxInt(1, 21))))
			return err
		}, "missing enc-part", nil},
		{"KRB-PRIV as KRB-SAFE tag", func() error {
			_, err := ParseKRBPriv(app(20, seq(ctxInt(0, 5), ctxInt(1, 21), encPart)))
			return err
		}, "want [APPLICATION 21]", nil},
		{"KRB-PRIV trailing byte", func() error {
			_, err := ParseKRBPriv(append(app(21, seq(ctxInt(0, 5), ctxInt(1, 21), encPart)), 0))
			return err
		}, "trailing", nil},
		{"KRB-PRIV unknown [2] skipped", func() error {
			_, err := ParseKRBPriv(app(21, seq(ctxInt(0, 5), ctxInt(1, 21), ctxInt(2, 1), encPart)))
			return err
		}, "", nil},
		{"EncKrbPrivPart without s-address (Heimdal)", func() error {
			p, err := ParseEncKRBPrivPart(app(28, seq(ctxOcts(0, []byte("x")), ctxInt(3, 0x80, 0, 0, 1))))
			if err == nil && (p.SAddress != nil || *p.SeqNumber != 0x80000001) {
				return fmt.Errorf("parsed %+v", p)
			}
			return err
		}, "", nil},
		{"EncKrbPrivPart negative seq-number", func() error {
			p, err := ParseEncKRBPrivPart(app(28, seq(ctxOcts(0, nil), ctxInt(3, 0xff, 0xff, 0xff, 0xfe))))
			if err == nil && *p.SeqNumber != 0xfffffffe {
				return fmt.Errorf("seq-number %#x", *p.SeqNumber)
			}
			return err
		}, "", nil},
		{"EncKrbPrivPart without user-data", func() error {
			_, err := ParseEncKRBPrivPart(app(28, seq(ctxInt(3, 1))))
			return err
		}, "missing user-data", nil},
		{"EncKrbPrivPart out of order", func() error {
			_, err := ParseEncKRBPrivPart(app(28, seq(ctxInt(3, 1), ctxOcts(0, nil))))
			return err
		}, "out of order", nil},
		{"ChangePasswdData without newpasswd", func() error {
			_, err := ParseChangePasswdData(seq(ctxStr(2, "EXAMPLE.TEST")))
			return err
		}, "missing newpasswd", nil},
		{"ChangePasswdData later field ignored (RFC 3244 §2)", func() error {
			c, err := ParseChangePasswdData(seq(ctxOcts(0, []byte("pw")), ctxStr(2, "R"), ctxInt(3, 7)))
			if err == nil && (string(c.NewPasswd) != "pw" || c.TargRealm != "R" || c.TargName != nil) {
				return fmt.Errorf("parsed %+v", c)
			}
			return err
		}, "", nil},
		{"ChangePasswdData bad targname", func() error {
			_, err := ParseChangePasswdData(seq(ctxOcts(0, []byte("pw")), ctx(1, gstr("bob"))))
			return err
		}, "targname", nil},
		{"ChangePasswdData trailing", func() error {
			_, err := ParseChangePasswdData(append(seq(ctxOcts(0, []byte("pw"))), 0x30, 0))
			return err
		}, "trailing", nil},
		{"ChangePasswdData application tag", func() error {
			_, err := ParseChangePasswdData(app(0, seq(ctxOcts(0, []byte("pw")))))
			return err
		}, "want SEQUENCE", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "wire: ") {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v does not wrap %v", err, tc.is)
			}
		})
	}
}

func TestPrivRoundTrip(t *testing.T) {
	dir := &HostAddress{Type: krb5.AddrDirectional, Address: []byte{0, 0, 0, 1}}
	p := &EncKRBPrivPart{UserData: []byte{0, 4, 'n', 'o'}, SeqNumber: u32(0xc0000001), SAddress: dir}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEncKRBPrivPart(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip %+v, want %+v", got, p)
	}
	// The UInt32 is written as a non-negative INTEGER (five octets).
	if want := ctxInt(3, 0, 0xc0, 0, 0, 1); !bytes.Contains(b, want) {
		t.Fatalf("seq-number not written as % x in % x", want, b)
	}
	long := &ChangePasswdData{NewPasswd: bytes.Repeat([]byte("p"), 300), TargName: pn(alice), TargRealm: "HOP.TEST"}
	if b, err = long.Marshal(); err != nil {
		t.Fatal(err)
	}
	got2, err := ParseChangePasswdData(b)
	if err != nil || !reflect.DeepEqual(got2, long) {
		t.Fatalf("round trip %+v, %v", got2, err)
	}
}

// privSeeds are the seeds of FuzzParseKRBPriv.
func privSeeds(t testing.TB) [][]byte {
	enc, err := (&EncKRBPrivPart{UserData: setpwBob, SeqNumber: u32(7),
		SAddress: &HostAddress{Type: krb5.AddrDirectional, Address: []byte{0, 0, 0, 0}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{mitKRBPriv, mitEncKRBPrivPart, mitEncKRBPrivPartOpt, setpwBob, setpwSelf, enc}
}

// TestPrivFuzzCorpus checks (or with -update-corpus rewrites) the seed corpus
// of FuzzParseKRBPriv.
func TestPrivFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParseKRBPriv")
	s := privSeeds(t)
	if *updateCorpus {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range s {
			var sb strings.Builder
			sb.WriteString("go test fuzz v1\n[]byte(\"")
			for _, c := range b {
				fmt.Fprintf(&sb, "\\x%02x", c)
			}
			sb.WriteString("\")\n")
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) < len(s) {
		t.Fatalf("%s: %d corpus files, want %d (go test -run TestPrivFuzzCorpus -update-corpus)", dir, len(files), len(s))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n[]byte(") {
			t.Errorf("%s is not a corpus file: %v", f, err)
		}
	}
}

// FuzzParseKRBPriv covers KRB-PRIV, EncKrbPrivPart and ChangePasswdData:
// no input panics, and what parses marshals and parses again to the same.
func FuzzParseKRBPriv(f *testing.F) {
	for _, s := range privSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseKRBPriv, (*KRBPriv).Marshal)
		checkCodec(t, b, ParseEncKRBPrivPart, (*EncKRBPrivPart).Marshal)
		checkCodec(t, b, ParseChangePasswdData, (*ChangePasswdData).Marshal)
	})
}
