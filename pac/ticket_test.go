package pac

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"hop/krb5"
	"hop/krb5/wire"
)

func TestAuthorizationDataRoundTrip(t *testing.T) {
	pacBytes := []byte("pac bytes")
	ad, err := AuthorizationData(pacBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(ad) != 1 || ad[0].Type != krb5.ADIfRelevant {
		t.Fatalf("AuthorizationData = %+v", ad)
	}
	inner, err := wire.ParseAuthorizationData(ad[0].Data)
	if err != nil || len(inner) != 1 || inner[0].Type != krb5.ADWin2KPAC || !bytes.Equal(inner[0].Data, pacBytes) {
		t.Fatalf("inner %+v, %v", inner, err)
	}
	other := wire.ADEntry{Type: krb5.ADIfRelevant, Data: mustAD(t, wire.AuthorizationData{{Type: 141, Data: []byte("x")}})}
	got, ok, err := FromAuthorizationData(append(wire.AuthorizationData{other}, ad...))
	if err != nil || !ok || !bytes.Equal(got, pacBytes) {
		t.Errorf("FromAuthorizationData = %q, %v, %v", got, ok, err)
	}
	if _, ok, err := FromAuthorizationData(wire.AuthorizationData{other}); ok || err != nil {
		t.Errorf("no PAC: %v, %v", ok, err)
	}
	if _, ok, err := FromAuthorizationData(nil); ok || err != nil {
		t.Errorf("nil: %v, %v", ok, err)
	}
}

func TestFromAuthorizationDataErrors(t *testing.T) {
	ad, _ := AuthorizationData([]byte("a"))
	twoInOne := wire.ADEntry{Type: krb5.ADIfRelevant, Data: mustAD(t, wire.AuthorizationData{
		{Type: krb5.ADWin2KPAC, Data: []byte("a")}, {Type: krb5.ADWin2KPAC, Data: []byte("b")}})}
	for _, tc := range []struct {
		name string
		ad   wire.AuthorizationData
	}{
		{"two PACs", append(append(wire.AuthorizationData{}, ad...), ad...)},
		{"two PACs in one container", wire.AuthorizationData{twoInOne}},
		{"bare PAC", wire.AuthorizationData{{Type: krb5.ADWin2KPAC, Data: []byte("a")}}},
		{"bad container", wire.AuthorizationData{{Type: krb5.ADIfRelevant, Data: []byte{0x30, 0x05}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := FromAuthorizationData(tc.ad); !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
			etp := serviceTicket(t, "x")
			etp.AuthorizationData = tc.ad
			if tc.name == "two PACs in one container" || tc.name == "two PACs" || tc.name == "bare PAC" {
				if _, err := TicketSigningInput(etp); err == nil {
					t.Error("TicketSigningInput succeeded")
				}
			}
		})
	}
}

// TestKDCFlow is the KDC's use of the package: sign a PAC for a service
// ticket, put it first in the authorization data, and verify it as the KDC
// does when the ticket comes back (S4U2Proxy evidence, renewal).
func TestKDCFlow(t *testing.T) {
	sk, kk := fixedKey(t, krb5.AES256CTSHMACSHA384192, 1), fixedKey(t, krb5.AES256CTSHMACSHA196, 2)
	etp := serviceTicket(t, "cifs/fs")
	orig := *etp
	orig.AuthorizationData = append(wire.AuthorizationData(nil), etp.AuthorizationData...)
	in, err := TicketSigningInput(etp)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*etp, orig) {
		t.Error("TicketSigningInput modified its argument")
	}
	signed, err := userPAC(t).Sign(sk, kk, SignOptions{Ticket: in})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := AuthorizationData(signed)
	if err != nil {
		t.Fatal(err)
	}
	etp.AuthorizationData = append(ad, etp.AuthorizationData...)

	// The ticket travels; the KDC decodes it again.
	enc, err := etp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := wire.ParseEncTicketPart(enc)
	if err != nil {
		t.Fatal(err)
	}
	pacBytes, ok, err := FromAuthorizationData(back.AuthorizationData)
	if err != nil || !ok {
		t.Fatalf("FromAuthorizationData: %v, %v", ok, err)
	}
	in2, err := TicketSigningInput(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, in2) {
		t.Fatal("signing input differs once the PAC is in place")
	}
	if _, err := Verify(pacBytes, sk, kk, SignOptions{Ticket: in2}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// Bronze Bit: the ticket's flags changed after signing (forwardable set
	// by someone holding the service key) break the ticket signature.
	back.Flags |= krb5.TktForwarded
	in3, _ := TicketSigningInput(back)
	if _, err := Verify(pacBytes, sk, kk, SignOptions{Ticket: in3}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("modified ticket: %v", err)
	}
	// The same PAC with a service key re-signature cannot fix that: only
	// the KDC key makes the ticket signature.
	p, _ := Parse(pacBytes)
	forged, _ := p.Sign(sk, fixedKey(t, krb5.AES256CTSHMACSHA196, 7), SignOptions{Ticket: in3})
	if _, err := Verify(forged, sk, kk, SignOptions{Ticket: in3}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged PAC: %v", err)
	}
}
