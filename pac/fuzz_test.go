package pac

import (
	"bytes"
	"testing"

	"hop/krb5"
)

// fuzzSeeds are PACs from Windows (t_pac.c), Samba and hop itself.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		readHex(f, "mit/saved_pac.hex"),
		readHex(f, "mit/s4u_pac_regular.hex"),
		readHex(f, "mit/s4u_pac_ent_xrealm.hex"),
		readHex(f, "mit/fuzz1.hex"),
		readHex(f, "mit/fuzz2.hex"),
		readHex(f, "samba/pac_samba.hex"),
	}
	full, err := fullPAC(f).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	return append(seeds, full)
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		// What Parse accepts, Marshal encodes (short of 64 KiB strings), and
		// the encoding is stable.
		enc, err := p.Marshal()
		if err != nil {
			if len(b) >= maxNameLen {
				return // strings or UPN_DNS_INFO offsets beyond what hop encodes
			}
			t.Fatalf("Marshal of a parsed PAC: %v", err)
		}
		p2, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse of Marshal: %v", err)
		}
		enc2, err := p2.Marshal()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable (%v)", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	sk, kk := fixedKey(f, krb5.AES256CTSHMACSHA196, 1), fixedKey(f, krb5.RC4HMAC, 2)
	ticket := []byte("ticket signing input")
	for _, s := range fuzzSeeds(f) {
		f.Add(s, false)
	}
	signed, err := userPAC(f).Sign(sk, kk, SignOptions{Ticket: ticket})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed, true)
	tgt, err := userPAC(f).Sign(sk, kk, SignOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tgt, false)
	f.Fuzz(func(t *testing.T, b []byte, withTicket bool) {
		var o SignOptions
		if withTicket {
			o.Ticket = ticket
		}
		p, err := Verify(b, sk, kk, o)
		if err != nil {
			return
		}
		// Whatever verifies was signed by these keys: it must carry the
		// signatures Sign makes, and re-signing it must give the same bytes
		// unless the fuzzer found a second encoding that verifies.
		if p.ServerChecksum == nil || p.KDCChecksum == nil || (withTicket && (p.TicketChecksum == nil || p.FullChecksum == nil)) {
			t.Fatalf("verified PAC lacks signatures: %+v", p)
		}
		if !bytes.Equal(b, signed) && !bytes.Equal(b, tgt) {
			t.Fatalf("a PAC other than the signed ones verified: %x", b)
		}
	})
}
