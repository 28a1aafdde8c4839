package sid_test

import (
	"bytes"
	"testing"

	"hop/sid"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"S-1-5-21-1004336348-1177238915-682003330-512", "S-1-0x010203040506-7", "S-1-5", "s-1-1-0", "S-1-5-021"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := sid.Parse(in)
		if err != nil {
			return
		}
		again, err := sid.Parse(s.String())
		if err != nil || !again.Equal(s) {
			t.Fatalf("%q → %s does not parse back: %v", in, s, err)
		}
		bin, err := sid.ParseBytes(s.Bytes())
		if err != nil || !bin.Equal(s) {
			t.Fatalf("%s: binary round trip: %v", s, err)
		}
	})
}

func FuzzParseBytes(f *testing.F) {
	f.Add([]byte{1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 2, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 15, 0, 0, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := sid.ParseBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Bytes(), b) {
			t.Fatalf("%x → %s → %x", b, s, s.Bytes())
		}
		if again, err := sid.Parse(s.String()); err != nil || !again.Equal(s) {
			t.Fatalf("%s: text round trip: %v", s, err)
		}
	})
}
