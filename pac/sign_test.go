package pac

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// fixedKey makes a deterministic key of type e from a seed byte.
func fixedKey(t testing.TB, e krb5.EncType, seed byte) *crypto.Key {
	t.Helper()
	k, err := crypto.NewKey(e, bytes.Repeat([]byte{seed}, crypto.KeySize(e)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// serviceTicket is the EncTicketPart of a service ticket for alice, without
// its PAC yet.
func serviceTicket(t testing.TB, service string) *wire.EncTicketPart {
	return &wire.EncTicketPart{
		Flags:     krb5.TktForwardable | krb5.TktPreAuthent,
		Key:       wire.EncryptionKey{Type: krb5.AES256CTSHMACSHA196, Value: bytes.Repeat([]byte{9}, 32)},
		CRealm:    "EXAMPLE.COM",
		CName:     krb5.NewName(krb5.NTPrincipal, "alice"),
		Transited: wire.TransitedEncoding{Type: krb5.TransitedDomainX500Compress},
		AuthTime:  authTime,
		EndTime:   authTime.Add(10 * time.Hour),
		AuthorizationData: wire.AuthorizationData{
			{Type: krb5.ADIfRelevant, Data: mustAD(t, wire.AuthorizationData{{Type: 141, Data: []byte(service)}})},
		},
	}
}

func mustAD(t testing.TB, ad wire.AuthorizationData) []byte {
	t.Helper()
	b, err := ad.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignVerifyPerEncType(t *testing.T) {
	cases := []struct {
		e    krb5.EncType
		want krb5.ChecksumType
	}{
		{krb5.AES128CTSHMACSHA196, krb5.CksumHMACSHA196AES128},
		{krb5.AES256CTSHMACSHA196, krb5.CksumHMACSHA196AES256},
		{krb5.AES128CTSHMACSHA256128, krb5.CksumHMACSHA256128AES128},
		{krb5.AES256CTSHMACSHA384192, krb5.CksumHMACSHA384192AES256},
		{krb5.RC4HMAC, krb5.CksumHMACMD5},
	}
	for _, srv := range cases {
		for _, kdc := range cases {
			for _, tgt := range []bool{true, false} {
				name := srv.e.String() + "/" + kdc.e.String()
				if tgt {
					name += "/TGT"
				}
				t.Run(name, func(t *testing.T) {
					sk, kk := fixedKey(t, srv.e, 1), fixedKey(t, kdc.e, 2)
					var o SignOptions
					if !tgt {
						in, err := TicketSigningInput(serviceTicket(t, "cifs/fs"))
						if err != nil {
							t.Fatal(err)
						}
						o.Ticket = in
					}
					p := userPAC(t)
					b, err := p.Sign(sk, kk, o)
					if err != nil {
						t.Fatal(err)
					}
					got, err := Verify(b, sk, kk, o)
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if got.ServerChecksum.Type != srv.want || got.KDCChecksum.Type != kdc.want {
						t.Errorf("checksum types %d, %d; want %d, %d", got.ServerChecksum.Type, got.KDCChecksum.Type, srv.want, kdc.want)
					}
					if n, _ := crypto.ChecksumSize(srv.want); len(got.ServerChecksum.Value) != n {
						t.Errorf("server checksum of %d bytes, want %d", len(got.ServerChecksum.Value), n)
					}
					if tgt != (got.TicketChecksum == nil) || tgt != (got.FullChecksum == nil) {
						t.Errorf("TGT %v: ticket checksum %v, full checksum %v", tgt, got.TicketChecksum, got.FullChecksum)
					}
					if !tgt && (got.TicketChecksum.Type != kdc.want || got.FullChecksum.Type != kdc.want) {
						t.Errorf("ticket/full checksum types %d, %d; want %d", got.TicketChecksum.Type, got.FullChecksum.Type, kdc.want)
					}
					if !bytes.Equal(got.ServerChecksum.Value, p.ServerChecksum.Value) {
						t.Error("Sign did not record the server signature in p")
					}
					// Verifying with one key at a time works too.
					if _, err := Verify(b, sk, nil, o); err != nil {
						t.Errorf("server key only: %v", err)
					}
					if _, err := Verify(b, nil, kk, o); err != nil {
						t.Errorf("KDC key only: %v", err)
					}
				})
			}
		}
	}
}

// TestEveryByteMatters flips each byte of signed PACs in turn: Verify must
// reject every one.
func TestEveryByteMatters(t *testing.T) {
	sk, kk := fixedKey(t, krb5.AES256CTSHMACSHA196, 1), fixedKey(t, krb5.AES256CTSHMACSHA196, 2)
	in, err := TicketSigningInput(serviceTicket(t, "cifs/fs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    SignOptions
	}{{"TGT", SignOptions{}}, {"service ticket", SignOptions{Ticket: in}}} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := fullPAC(t).Sign(sk, kk, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			for i := range b {
				for _, x := range []byte{0x01, 0x80} {
					c := bytes.Clone(b)
					c[i] ^= x
					if _, err := Verify(c, sk, kk, tc.o); err == nil {
						t.Fatalf("byte %d ^ %#x: Verify succeeded", i, x)
					} else if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) {
						t.Fatalf("byte %d: error %v wraps neither ErrBadSignature nor ErrMalformed", i, err)
					}
				}
			}
			// Cut off or extended, it fails too.
			if _, err := Verify(b[:len(b)-8], sk, kk, tc.o); err == nil {
				t.Error("truncated PAC verified")
			}
			if _, err := Verify(append(bytes.Clone(b), 0, 0, 0, 0, 0, 0, 0, 0), sk, kk, tc.o); err == nil {
				t.Error("extended PAC verified")
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	sk, kk := fixedKey(t, krb5.AES256CTSHMACSHA196, 1), fixedKey(t, krb5.AES256CTSHMACSHA196, 2)
	in, err := TicketSigningInput(serviceTicket(t, "cifs/fs"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := TicketSigningInput(serviceTicket(t, "cifs/other"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := userPAC(t).Sign(sk, kk, SignOptions{Ticket: in})
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := userPAC(t).Sign(sk, kk, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc4srv := fixedKey(t, krb5.RC4HMAC, 1)
	rc4pac, err := userPAC(t).Sign(rc4srv, kk, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	withoutServer := func() []byte {
		p, _ := Parse(svc)
		p.ServerChecksum = nil
		b, _ := p.Marshal()
		return b
	}()
	for _, tc := range []struct {
		name     string
		b        []byte
		srv, kdc *crypto.Key
		o        SignOptions
	}{
		{"wrong server key", svc, fixedKey(t, krb5.AES256CTSHMACSHA196, 3), kk, SignOptions{Ticket: in}},
		{"wrong KDC key", svc, sk, fixedKey(t, krb5.AES256CTSHMACSHA196, 3), SignOptions{Ticket: in}},
		{"keys swapped", svc, kk, sk, SignOptions{Ticket: in}},
		{"server key of another type", svc, fixedKey(t, krb5.AES128CTSHMACSHA196, 1), nil, SignOptions{}},
		{"RC4-signed PAC, AES key of the same bytes", rc4pac, fixedKey(t, krb5.AES128CTSHMACSHA196, 1), nil, SignOptions{}},
		{"moved to another ticket", svc, sk, kk, SignOptions{Ticket: other}},
		{"TGT PAC in a service ticket", tgt, sk, kk, SignOptions{Ticket: in}},
		{"TGT PAC in a service ticket, KDC key only", tgt, nil, kk, SignOptions{Ticket: in}},
		{"no server signature", withoutServer, sk, nil, SignOptions{}},
		{"no server signature, KDC key only", withoutServer, nil, kk, SignOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.b, tc.srv, tc.kdc, tc.o)
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify: %v, want ErrBadSignature", err)
			}
		})
	}
	// A service ticket's PAC verified as a TGT's still has its full checksum
	// checked.
	p, _ := Parse(svc)
	p.FullChecksum.Value[0] ^= 1
	b, _ := p.Marshal()
	if _, err := Verify(b, nil, kk, SignOptions{}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("bad full checksum without ticket: %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	k := fixedKey(t, krb5.AES256CTSHMACSHA196, 1)
	if _, err := userPAC(t).Sign(nil, k, SignOptions{}); err == nil {
		t.Error("Sign without a server key")
	}
	if _, err := userPAC(t).Sign(k, nil, SignOptions{}); err == nil {
		t.Error("Sign without a KDC key")
	}
	if _, err := (&PAC{LogonInfo: &ValidationInfo{ResourceGroups: []GroupMembership{{1, 1}}}}).Sign(k, k, SignOptions{}); err == nil {
		t.Error("Sign of an unencodable PAC")
	}
}

// TestResignReplacesSignatures: signing a PAC that already has signatures
// (a TGT's PAC copied into a service ticket) gives the PAC Sign gives
// without them.
func TestResignReplacesSignatures(t *testing.T) {
	sk, kk := fixedKey(t, krb5.AES256CTSHMACSHA196, 1), fixedKey(t, krb5.RC4HMAC, 2)
	in, _ := TicketSigningInput(serviceTicket(t, "cifs/fs"))
	tgtPAC, err := userPAC(t).Sign(kk, kk, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Verify(tgtPAC, kk, kk, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.KDCChecksum.RODCIdentifier = []byte{1, 0}
	a, err := p.Sign(sk, kk, SignOptions{Ticket: in})
	if err != nil {
		t.Fatal(err)
	}
	b, err := userPAC(t).Sign(sk, kk, SignOptions{Ticket: in})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("re-signed PAC differs from a fresh one")
	}
}
