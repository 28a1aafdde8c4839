package kdc

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/wire"
)

// FuzzHandle feeds arbitrary bytes to the KDC's request handler, which must
// answer with a well-formed message or nothing, and never panic or hang.
func FuzzHandle(f *testing.F) {
	d, _ := newDirectory(f)
	k, err := New(Config{Directory: d})
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: the requests of a real exchange by hop's client (AS without and
	// with pre-authentication, TGS), here and the wire package's captures of
	// MIT and impacket messages, also in testdata/fuzz/FuzzHandle.
	ctx := context.Background()
	var xerr error
	msgs, err := capture(k, func(c *client.Conn) {
		tgt, _, err := c.Login(ctx, &client.Request{Client: alice(), Options: krb5.OptForwardable}, alicePW)
		if err != nil {
			xerr = err
			return
		}
		_, xerr = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test")})
	})
	if err != nil || xerr != nil {
		f.Fatal(err, xerr)
	}
	for _, m := range msgs {
		f.Add(m)
	}
	files, _ := filepath.Glob("../krb5/wire/testdata/*.der")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		rep := k.Handle(ctx, msg, "fuzz", DefaultMaxUDPReply)
		if rep == nil {
			return
		}
		mt, ok := wire.MsgTypeOf(rep)
		if !ok {
			t.Fatalf("reply is not a Kerberos message: %x", rep)
		}
		switch mt {
		case krb5.MsgKRBError:
			if _, err := wire.ParseKRBError(rep); err != nil {
				t.Fatalf("malformed KRB-ERROR: %v", err)
			}
		case krb5.MsgASRep, krb5.MsgTGSRep:
			if _, err := wire.ParseKDCRep(rep); err != nil {
				t.Fatalf("malformed reply: %v", err)
			}
		default:
			t.Fatalf("reply of type %d", mt)
		}
	})
}
