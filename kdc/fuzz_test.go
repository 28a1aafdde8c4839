package kdc

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// FuzzHandle feeds arbitrary bytes to the KDC's request handler, which must
// answer with a well-formed message or nothing, and never panic or hang.
func FuzzHandle(f *testing.F) {
	d, bKeys := newDirectory(f)
	k, err := New(Config{Directory: d})
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: the requests of a real exchange by hop's client (AS without and
	// with pre-authentication, TGS, S4U2Self, S4U2Proxy with PA-PAC-OPTIONS),
	// here and the wire package's captures of MIT and impacket messages, also
	// in testdata/fuzz/FuzzHandle.
	ctx := context.Background()
	var xerr error
	msgs, err := capture(k, func(c *client.Conn) {
		tgt, _, err := c.Login(ctx, &client.Request{Client: alice(), Options: krb5.OptForwardable}, alicePW)
		if err != nil {
			xerr = err
			return
		}
		if _, xerr = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test")}); xerr != nil {
			return
		}
		bKey, err := crypto.NewKey(bKeys[0].EncType, bKeys[0].Material())
		if err != nil {
			xerr = err
			return
		}
		bTGT, err := c.LoginWithKey(ctx, &client.Request{Client: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "b$"), Realm: realm}, Options: krb5.OptForwardable}, bKey)
		if err != nil {
			xerr = err
			return
		}
		u := alice()
		ev, err := c.ServiceTicket(ctx, bTGT, &client.Request{Impersonate: &u, Options: krb5.OptForwardable, Subkey: true})
		if err != nil {
			xerr = err
			return
		}
		// Refused (b$ may not delegate): the seed covers the request.
		c.ServiceTicket(ctx, bTGT, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b"), Evidence: ev, ResourceBased: true})
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
