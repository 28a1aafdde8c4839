package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"hop/directory"
	"hop/directory/mem"
	"hop/kdc"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// S4U against a hop KDC, with a relay that can spoil the KDC's replies:
// the client accepts the genuine ones and refuses the others.

var svcB = krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "b$"), Realm: "EXAMPLE.TEST"}

// newS4UKDC runs a KDC with alice, the service b$ (whose key it returns)
// and c$ (cifs/c.example.test); b$ may delegate to cifs/c.example.test
// with protocol transition.
func newS4UKDC(t *testing.T) (*kdc.KDC, *crypto.Key) {
	t.Helper()
	ctx := context.Background()
	salt := crypto.DefaultSalt(alice)
	var aliceKeys, adminKeys, tgsKeys, bKeys, cKeys []directory.Key
	var bKey *crypto.Key
	for _, e := range client.DefaultETypes {
		k, err := crypto.StringToKey(e, alicePW, salt, nil)
		if err != nil {
			t.Fatal(err)
		}
		aliceKeys = append(aliceKeys, directory.NewKeyMaterial(e, salt, k.Material()))
		for _, dst := range []*[]directory.Key{&adminKeys, &tgsKeys, &bKeys, &cKeys} {
			r, err := crypto.RandomKey(e, nil)
			if err != nil {
				t.Fatal(err)
			}
			*dst = append(*dst, directory.NewKeyMaterial(e, "", r.Material()))
			if dst == &bKeys && e == client.DefaultETypes[0] {
				bKey = r
			}
		}
	}
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.Init(ctx, mem.New(), mk, alice.Realm, adminKeys, tgsKeys, directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		acct *directory.Account
		keys []directory.Key
	}{
		{&directory.Account{Name: "alice", Kind: directory.KindUser}, aliceKeys},
		{&directory.Account{Name: "b$", Kind: directory.KindComputer, DNSHostName: "b.example.test", SPNs: []string{"host/b.example.test"}}, bKeys},
		{&directory.Account{Name: "c$", Kind: directory.KindComputer, DNSHostName: "c.example.test", SPNs: []string{"cifs/c.example.test"}}, cKeys},
	} {
		if _, err := d.As(directory.LocalAdmin).CreateAccount(ctx, a.acct, a.keys); err != nil {
			t.Fatal(err)
		}
	}
	yes, spns := true, []string{"cifs/c.example.test"}
	if _, err := d.As(directory.LocalAdmin).SetDelegation(ctx, "b$", directory.DelegationChange{TrustedToAuthForDelegation: &yes, AllowedToDelegateTo: &spns}, 0); err != nil {
		t.Fatal(err)
	}
	k, err := kdc.New(kdc.Config{Directory: d})
	if err != nil {
		t.Fatal(err)
	}
	return k, bKey
}

// spoilReply rewrites a TGS-REP's outer fields.
func spoilReply(t *testing.T, rep []byte, mod func(*wire.KDCRep)) []byte {
	r, err := wire.ParseKDCRep(rep)
	if err != nil {
		return rep // a KRB-ERROR or an AS-REP passes unchanged
	}
	if r.MsgType != krb5.MsgTGSRep {
		return rep
	}
	mod(r)
	b, err := r.Marshal()
	if err != nil {
		t.Error(err)
		return rep
	}
	return b
}

func TestS4UAgainstHopKDC(t *testing.T) {
	k, bKey := newS4UKDC(t)
	ctx := context.Background()
	cifs := krb5.NewName(krb5.NTSrvInst, "cifs", "c.example.test")
	for _, tc := range []struct {
		name  string
		spoil func(*wire.KDCRep)
		ok    bool
	}{
		{name: "genuine", ok: true},
		{name: "PA-S4U-X509-USER removed", spoil: func(r *wire.KDCRep) { r.PAData = nil }},
		{name: "PA-S4U-X509-USER checksum changed", spoil: func(r *wire.KDCRep) {
			for i, p := range r.PAData {
				if x, err := wire.ParsePAS4UX509User(p.Value); err == nil {
					x.Cksum.Sum[0] ^= 1
					r.PAData[i].Value, _ = x.Marshal()
				}
			}
		}},
		{name: "cname of the service instead of the user", spoil: func(r *wire.KDCRep) { r.CName = svcB.Name }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client.Dial(relay(t, k, func(_ int, rep []byte) []byte {
				if tc.spoil == nil {
					return rep
				}
				return spoilReply(t, rep, tc.spoil)
			}), client.UDPOnly, 5*time.Second)
			defer c.Close()
			tgt, err := c.LoginWithKey(ctx, &client.Request{Client: svcB, Options: krb5.OptForwardable}, bKey)
			if err != nil {
				t.Fatal(err)
			}
			u := alice
			ev, err := c.ServiceTicket(ctx, tgt, &client.Request{Impersonate: &u, Options: krb5.OptForwardable, Subkey: true})
			if !tc.ok {
				if !errors.Is(err, client.ErrBadReply) {
					t.Fatalf("spoiled reply: err = %v, want ErrBadReply", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Client.String() != "alice@EXAMPLE.TEST" || ev.Server.String() != "b$@EXAMPLE.TEST" || !ev.Flags.Has(krb5.TktForwardable) {
				t.Fatalf("S4U2Self: %s to %s, flags %s", ev.Client, ev.Server, krb5.TicketFlagString(ev.Flags))
			}
			st, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: cifs, Evidence: ev})
			if err != nil {
				t.Fatal(err)
			}
			if st.Client.String() != "alice@EXAMPLE.TEST" || st.Server.String() != "cifs/c.example.test@EXAMPLE.TEST" {
				t.Errorf("S4U2Proxy: %s to %s", st.Client, st.Server)
			}
			// Not allowed: host/b.example.test is not in b$'s list, and
			// b$'s own resource-based delegation list is empty
			// (MS-SFU §3.2.5.2.3: STATUS_NOT_FOUND).
			_, err = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Evidence: ev, ResourceBased: true})
			var ke *client.Error
			if !errors.As(err, &ke) || ke.Code != 13 || !ke.HasStatus || uint32(ke.Status) != 0xC0000225 {
				t.Errorf("RBCD refusal: %v", err)
			}
		})
	}
}
