package gssapi

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"hop/krb5/service"
	"hop/krb5/service/servicetest"
)

// FuzzParseInitialToken: no panic, and what parses frames again to the
// same bytes.
func FuzzParseInitialToken(f *testing.F) {
	f.Add([]byte("\x60\x0e\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01\x00\xab"))
	f.Add([]byte("\x60\x06\x06\x06\x2b\x06\x01\x05\x05\x02"))
	f.Add([]byte("\x60\x81\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		oid, inner, err := ParseInitialToken(b)
		if err != nil {
			return
		}
		out, err := MarshalInitialToken(oid, inner)
		if err != nil {
			t.Fatalf("MarshalInitialToken of a parsed token: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x", b, out)
		}
	})
}

// FuzzParseAuthenticatorChecksum: no panic, and parse, marshal, parse gives
// the same value.
func FuzzParseAuthenticatorChecksum(f *testing.F) {
	f.Add([]byte("\x10\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x3f\x00\x00\x00\x01\x00\x03\x00KRB\x00\x00\x00\x02\x00\x00\x00\x02\xab\xcd"))
	f.Add(make([]byte, 24))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseAuthenticatorChecksum(b)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		c2, err := ParseAuthenticatorChecksum(out)
		if err != nil {
			t.Fatalf("Parse of Marshal output %x: %v", out, err)
		}
		if !reflect.DeepEqual(normalize(c), normalize(c2)) {
			t.Fatalf("round trip changed the checksum:\n%+v\n%+v", c, c2)
		}
	})
}

func normalize(c *AuthenticatorChecksum) *AuthenticatorChecksum {
	n := *c
	for i := range n.Extensions {
		if len(n.Extensions[i].Data) == 0 {
			n.Extensions[i].Data = nil
		}
	}
	return &n
}

// FuzzAccept feeds the acceptor arbitrary initial tokens. Seeds: tokens of
// hop's initiator (mutual, delegation, bare AP-REQ, the Microsoft OID).
func FuzzAccept(f *testing.F) {
	fx := newFixture(f)
	c := fx.cred(f, servicetest.TicketOptions{})
	for _, o := range []*InitOptions{{Flags: FlagMutual | FlagReplay}, {}, {Mech: OIDKerberosMS}} {
		_, tok := fx.init(f, c, o)
		f.Add(tok)
	}
	_, tok := fx.init(f, c, nil)
	_, inner, _ := ParseInitialToken(tok)
	f.Add(inner[2:])
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, out, err := fx.acc.Accept(b, nil)
		if err != nil {
			if ctx != nil || out != nil {
				t.Fatal("a refusal returned a context or a token")
			}
			return
		}
		if ctx.Client().String() != "alice@EXAMPLE.TEST" {
			t.Fatalf("accepted %s", ctx.Client())
		}
	})
}

// FuzzUnwrap feeds an established acceptor context arbitrary per-message
// tokens (Unwrap and VerifyMIC). Seeds: the initiator's Wrap tokens, sealed
// and not, and a MIC.
func FuzzUnwrap(f *testing.F) {
	fx := newFixture(f)
	ic, ac := fx.pair(f, &InitOptions{Flags: FlagMutual | FlagReplay | FlagSequence}, nil)
	for _, conf := range []bool{true, false} {
		tok, err := ic.Wrap([]byte("seed message"), conf)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	mic, _ := ic.MakeMIC([]byte("seed message"))
	f.Add(mic)
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, _, err := ac.Unwrap(b)
		if err != nil && !supplementary(err) && msg != nil {
			t.Fatal("Unwrap returned a message with a refusal")
		}
		_ = ac.VerifyMIC([]byte("seed message"), b)
	})
}

// FuzzContinue feeds an initiator waiting for the AP-REP arbitrary replies.
// Seeds: the acceptor's AP-REP token, a bare AP-REP and a KRB-ERROR token.
func FuzzContinue(f *testing.F) {
	fx := newFixture(f)
	c := fx.cred(f, servicetest.TicketOptions{})
	_, tok := fx.init(f, c, &InitOptions{Flags: FlagMutual})
	_, out, err := fx.acc.Accept(tok, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(out)
	_, inner, _ := ParseInitialToken(out)
	f.Add(inner[2:])
	etok, _ := fx.acc.ErrorToken(&service.Error{Code: 37}, fx.web)
	f.Add(etok)
	f.Fuzz(func(t *testing.T, b []byte) {
		ic, _ := fx.init(t, c, &InitOptions{Flags: FlagMutual})
		err := ic.Continue(b)
		var ke *KRBError
		if err == nil || errors.As(err, &ke) {
			return
		}
		if ic.Established() {
			t.Fatal("a refused AP-REP established the context")
		}
	})
}
