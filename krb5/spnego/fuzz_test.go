package spnego

import (
	"bytes"
	"encoding/asn1"
	"reflect"
	"testing"

	"hop/krb5/gssapi"
)

// FuzzParseNegTokenInit: no panic, and what parses survives Marshal and
// Parse (negHints aside, which hop does not keep).
func FuzzParseNegTokenInit(f *testing.F) {
	f.Add(unhex(vecInit))
	f.Add(unhex(vecInit2))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseNegTokenInit(b)
		if err != nil {
			return
		}
		again := &NegTokenInit{MechTypes: p.MechTypes, MechToken: p.MechToken, MechListMIC: p.MechListMIC}
		out, err := again.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		q, err := ParseNegTokenInit(out)
		if err != nil {
			t.Fatalf("Parse of Marshal output: %v", err)
		}
		if !reflect.DeepEqual(q.MechTypes, p.MechTypes) || !bytes.Equal(q.MechToken, p.MechToken) ||
			!bytes.Equal(q.MechListMIC, p.MechListMIC) || !bytes.Equal(q.RawMechTypes, p.RawMechTypes) {
			t.Fatalf("round trip changed the token:\n%+v\n%+v", p, q)
		}
	})
}

// FuzzParseNegTokenResp: no panic, and what parses survives Marshal and
// Parse.
func FuzzParseNegTokenResp(f *testing.F) {
	f.Add(unhex(vecResp))
	f.Add(unhex(vecResp2))
	f.Add(unhex("a1023000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseNegTokenResp(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		q, err := ParseNegTokenResp(out)
		if err != nil {
			t.Fatalf("Parse of Marshal output: %v", err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the token:\n%+v\n%+v", p, q)
		}
	})
}

// FuzzNegotiation runs the acceptor on two arbitrary tokens. Seeds: hop's
// NegTokenInit, an NTLM-first NegTokenInit and the Kerberos token that
// follows it.
func FuzzNegotiation(f *testing.F) {
	fx := newFixture(f)
	acc := &Acceptor{GSS: fx.gss}
	_, tok, err := Initiate(fx.cred(f), fx.opts(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok, []byte{})
	ntlm, _ := (&NegTokenInit{MechTypes: []asn1.ObjectIdentifier{OIDNTLM, gssapi.OIDKerberos}, MechToken: []byte("NTLMSSP")}).Marshal()
	fx.tick()
	_, ap, _ := gssapi.InitSecContext(fx.cred(f), fx.opts())
	second, _ := (&NegTokenResp{NegState: NoState, ResponseToken: ap}).Marshal()
	f.Add(ntlm, second)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		n := acc.Start(nil)
		if _, err := n.Step(a); err != nil || n.Done() {
			return
		}
		_, _ = n.Step(b)
	})
}

// FuzzInitiation feeds hop's initiator arbitrary replies. Seed: the
// acceptor's real reply.
func FuzzInitiation(f *testing.F) {
	fx := newFixture(f)
	c := fx.cred(f)
	_, tok, err := Initiate(c, fx.opts(), nil)
	if err != nil {
		f.Fatal(err)
	}
	out, err := (&Acceptor{GSS: fx.gss}).Start(nil).Step(tok)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(out)
	f.Add(unhex(vecResp))
	f.Fuzz(func(t *testing.T, b []byte) {
		ini, _, err := Initiate(c, fx.opts(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ini.Step(b); err != nil && ini.Done() {
			t.Fatal("done after an error")
		}
	})
}
