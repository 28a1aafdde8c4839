package pac

import (
	"testing"

	"hop/krb5"
)

// BenchmarkMarshalSign is the KDC's cost of a PAC for a service ticket: a
// typical user's PAC, aes256 server and krbtgt keys.
func BenchmarkMarshalSign(b *testing.B) {
	sk, kk := fixedKey(b, krb5.AES256CTSHMACSHA196, 1), fixedKey(b, krb5.AES256CTSHMACSHA196, 2)
	in, err := TicketSigningInput(serviceTicket(b, "cifs/fs"))
	if err != nil {
		b.Fatal(err)
	}
	p := userPAC(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Sign(sk, kk, SignOptions{Ticket: in}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the KDC's cost of checking the PAC of a ticket it
// receives.
func BenchmarkVerify(b *testing.B) {
	sk, kk := fixedKey(b, krb5.AES256CTSHMACSHA196, 1), fixedKey(b, krb5.AES256CTSHMACSHA196, 2)
	in, err := TicketSigningInput(serviceTicket(b, "cifs/fs"))
	if err != nil {
		b.Fatal(err)
	}
	signed, err := userPAC(b).Sign(sk, kk, SignOptions{Ticket: in})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(signed, sk, kk, SignOptions{Ticket: in}); err != nil {
			b.Fatal(err)
		}
	}
}
