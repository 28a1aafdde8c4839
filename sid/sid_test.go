package sid_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"hop/sid"
)

func TestSID(t *testing.T) {
	for _, c := range []struct {
		str, bin string // bin: the MS-DTYP §2.4.2.2 form, in hex
	}{
		{"S-1-1-0", "010100000000000100000000"},              // Everyone
		{"S-1-5-18", "010100000000000512000000"},             // LocalSystem
		{"S-1-5-32-544", "01020000000000052000000020020000"}, // BUILTIN\Administrators
		{"S-1-5-21-1-2-3-500", "0105000000000005" + "15000000" + "01000000" + "02000000" + "03000000" + "f4010000"},
		{"S-1-5-21-4294967295-0-16-512", "010500000000000515000000ffffffff000000001000000000020000"},
		{"S-1-0x010203040506-7", "010101020304050607000000"},
	} {
		s, err := sid.Parse(c.str)
		if err != nil {
			t.Errorf("ParseSID(%q): %v", c.str, err)
			continue
		}
		if s.String() != c.str {
			t.Errorf("ParseSID(%q).String() = %q", c.str, s.String())
		}
		want, _ := hex.DecodeString(c.bin)
		if !bytes.Equal(s.Bytes(), want) {
			t.Errorf("%s.Bytes() = %x, want %x", c.str, s.Bytes(), want)
		}
		back, err := sid.ParseBytes(want)
		if err != nil || !back.Equal(s) {
			t.Errorf("ParseSIDBytes(%x) = %v, %v; want %s", want, back, err, c.str)
		}
	}
	dom, _ := sid.Parse("S-1-5-21-1-2-3")
	if got := dom.Append(1105).String(); got != "S-1-5-21-1-2-3-1105" {
		t.Errorf("Append = %s", got)
	}
	if dom.String() != "S-1-5-21-1-2-3" {
		t.Error("Append changed its receiver")
	}
	if dom.Append(500).RID() != 500 {
		t.Error("RID")
	}
	full, err := sid.New(5, make([]uint32, 15)...)
	if err != nil || !full.Append(1).IsZero() {
		t.Errorf("Append to a full SID = %v, %v; want the zero SID", full.Append(1), err)
	}
	for _, bad := range []string{"", "S", "S-1", "S-2-5-21", "X-1-5-21", "S-1-5-", "S-1--5", "S-1-5-21-x", "S-1-5-21-4294967296",
		"S-1-5-+1", "S-1- 5", "S-1-0x1234", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "S-1-99999999999"} {
		if _, err := sid.Parse(bad); !errors.Is(err, sid.ErrInvalid) {
			t.Errorf("ParseSID(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	for _, bad := range []string{"", "01", "0201000000000005" + "12000000", "0101000000000005", "011000000000000512000000", "01010000000000051200000000"} {
		b, _ := hex.DecodeString(bad)
		if _, err := sid.ParseBytes(b); !errors.Is(err, sid.ErrInvalid) {
			t.Errorf("ParseSIDBytes(%s) = %v, want ErrInvalid", bad, err)
		}
	}
	// JSON through the text form.
	var v struct{ S sid.SID }
	if err := json.Unmarshal([]byte(`{"S":"S-1-5-21-1-2-3"}`), &v); err != nil || !v.S.Equal(dom) {
		t.Errorf("JSON: %v %v", v.S, err)
	}
}

func TestWellKnown(t *testing.T) {
	for _, c := range []struct {
		s    sid.SID
		want string
	}{
		{sid.AuthenticationAuthorityAsserted, "S-1-18-1"},
		{sid.ServiceAsserted, "S-1-18-2"},
	} {
		p, err := sid.Parse(c.want)
		if err != nil || !p.Equal(c.s) || c.s.String() != c.want {
			t.Errorf("%s: parsed %v (%v), want equal to the variable", c.want, p, err)
		}
	}
}
