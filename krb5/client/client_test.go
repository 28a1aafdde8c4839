package client_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"hop/directory"
	"hop/directory/mem"
	"hop/kdc"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
)

var alice = krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "EXAMPLE.TEST"}

const alicePW = "Alice-Pass-1"

// newKDC runs a hop KDC for EXAMPLE.TEST with alice in process.
func newKDC(t *testing.T) *kdc.KDC {
	t.Helper()
	ctx := context.Background()
	keys := func(name, pw string) []directory.Key {
		var out []directory.Key
		salt := crypto.DefaultSalt(krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: alice.Realm})
		for _, e := range client.DefaultETypes {
			var k *crypto.Key
			var err error
			if pw == "" {
				k, err = crypto.RandomKey(e, nil)
			} else {
				k, err = crypto.StringToKey(e, pw, salt, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, directory.NewKeyMaterial(e, salt, k.Material()))
		}
		return out
	}
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.Init(ctx, mem.New(), mk, alice.Realm, keys("Administrator", "x"), keys("krbtgt", ""), directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: "alice", Kind: directory.KindUser}, keys("alice", alicePW)); err != nil {
		t.Fatal(err)
	}
	k, err := kdc.New(kdc.Config{Directory: d})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// relay answers over UDP with k, letting tamper rewrite the n-th reply.
func relay(t *testing.T, k *kdc.KDC, tamper func(n int, rep []byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for n := 0; ; n++ {
			m, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			rep := k.Handle(context.Background(), append([]byte(nil), buf[:m]...), "test", 0)
			pc.WriteTo(tamper(n, rep), from)
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return pc.LocalAddr().String()
}

func TestLoginAndServiceTicket(t *testing.T) {
	k := newKDC(t)
	c := client.Dial(relay(t, k, func(_ int, rep []byte) []byte { return rep }), client.UDPOnly, 5*time.Second)
	defer c.Close()
	ctx := context.Background()
	tgt, key, err := c.Login(ctx, &client.Request{Client: alice}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if key.EncType() != krb5.AES256CTSHMACSHA384192 || tgt.Server.String() != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" {
		t.Errorf("key %s, server %s", key.EncType(), tgt.Server)
	}
	st, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Subkey: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.SessionKey.Equal(tgt.SessionKey) {
		t.Error("the TGS reply reused the TGT's session key")
	}
	_, _, err = c.Login(ctx, &client.Request{Client: alice}, "wrong")
	var ke *client.Error
	if !errors.As(err, &ke) || ke.Code != krb5.KDCErrPreauthFailed || !errors.Is(err, krb5.KDCErrPreauthFailed) {
		t.Errorf("wrong password: %v", err)
	}
}

// A reply to another request (a replay, or a KDC mix-up) is rejected.
func TestReplayedReplyIsRejected(t *testing.T) {
	k := newKDC(t)
	var first []byte
	addr := relay(t, k, func(n int, rep []byte) []byte {
		switch n {
		case 1: // the first pre-authenticated AS-REP
			first = rep
		case 2:
			return first
		}
		return rep
	})
	c := client.Dial(addr, client.UDPOnly, 5*time.Second)
	defer c.Close()
	ctx := context.Background()
	info, err := c.PreauthInfo(ctx, &client.Request{Client: alice})
	if err != nil {
		t.Fatal(err)
	}
	key, err := client.KeyFromPassword(alice, alicePW, info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoginWithKey(ctx, &client.Request{Client: alice}, key); err != nil {
		t.Fatal(err)
	}
	_, err = c.LoginWithKey(ctx, &client.Request{Client: alice}, key)
	if !errors.Is(err, client.ErrBadReply) {
		t.Fatalf("replayed reply: err = %v, want ErrBadReply", err)
	}
}

func TestParseTransport(t *testing.T) {
	for in, want := range map[string]client.Transport{"": client.UDPThenTCP, "auto": client.UDPThenTCP, "udp": client.UDPOnly, "tcp": client.TCPOnly} {
		if got, err := client.ParseTransport(in); err != nil || got != want {
			t.Errorf("ParseTransport(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := client.ParseTransport("sctp"); err == nil {
		t.Error("ParseTransport(sctp) succeeded")
	}
}
