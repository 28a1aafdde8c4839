package kpasswd

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// TestClient runs the Client against the Server over UDP and TCP.
func TestClient(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- f.srv.ListenAndServe(ctx, "127.0.0.1:0", func(u, _ net.Addr) { ready <- u }) }()
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	}()
	tests := []struct {
		network string
		do      func(c *Client) (Result, error)
		want    ResultCode
		login   [2]string
	}{
		{"udp", func(c *Client) (Result, error) {
			return c.Change(ctx, addr, f.initial("alice", alicePW), "Alice-Udp-Pass-1")
		}, Success, [2]string{"alice", "Alice-Udp-Pass-1"}},
		{"tcp", func(c *Client) (Result, error) {
			return c.Change(ctx, addr, f.initial("alice", "Alice-Udp-Pass-1"), "Alice-Tcp-Pass-2")
		}, Success, [2]string{"alice", "Alice-Tcp-Pass-2"}},
		{"tcp", func(c *Client) (Result, error) {
			return c.Change(ctx, addr, f.initial("alice", "Alice-Tcp-Pass-2"), "tiny")
		}, SoftError, [2]string{"alice", "Alice-Tcp-Pass-2"}},
		{"udp", func(c *Client) (Result, error) {
			return c.Set(ctx, addr, f.initial("Administrator", adminPW), principal("bob"), "Bob-Udp-Set-1")
		}, Success, [2]string{"bob", "Bob-Udp-Set-1"}},
		{"tcp", func(c *Client) (Result, error) {
			return c.Set(ctx, addr, f.initial("bob", "Bob-Udp-Set-1"), principal("carol"), "Carol-By-Bob-1")
		}, AccessDenied, [2]string{"carol", carolPW}},
		{"tcp", func(c *Client) (Result, error) {
			return c.Change(ctx, addr, f.fromTGT("carol", carolPW, changepwName), "Carol-Tgt-Pass-1")
		}, InitialFlagNeeded, [2]string{"carol", carolPW}},
	}
	for i, tc := range tests {
		c := &Client{Network: tc.network, Now: fixedNow}
		res, err := tc.do(c)
		if err != nil {
			t.Fatalf("%d (%s): %v", i, tc.network, err)
		}
		if res.Code != tc.want {
			t.Fatalf("%d (%s): %v %q, want %v", i, tc.network, res.Code, res.Message, tc.want)
		}
		if (res.Err() == nil) != (tc.want == Success) || (tc.want != Success && !errors.Is(res.Err(), tc.want)) {
			t.Fatalf("%d: Err() = %v", i, res.Err())
		}
		if !f.canLogin(tc.login[0], tc.login[1]) {
			t.Fatalf("%d: %s cannot log in with %q", i, tc.login[0], tc.login[1])
		}
	}
	// A client whose clock is an hour off is refused in a KRB-ERROR, which
	// the client reports as a result.
	late := &Client{Now: func() time.Time { return t0.Add(time.Hour) }}
	res, err := late.Change(ctx, addr, f.initial("alice", "Alice-Tcp-Pass-2"), "Alice-Late-Pass-1")
	if err != nil || res.Code != AuthError || !strings.Contains(res.Message, "clock") {
		t.Fatalf("Change with a skewed clock: %+v, %v", res, err)
	}
	// A credential for another service is refused before sending.
	web := f.fromTGT("alice", "Alice-Tcp-Pass-2", krb5.NewName(krb5.NTSrvHst, "HTTP", "web.example.test"))
	if _, err := Change(ctx, addr, web, "x"); err == nil || !strings.Contains(err.Error(), "kadmin/changepw") {
		t.Fatalf("Change with an HTTP ticket: %v", err)
	}
	if _, err := Set(ctx, addr, nil, principal("bob"), "x"); err == nil {
		t.Fatal("Set without a credential sent a request")
	}
	if _, err := (&Client{Network: "sctp"}).Change(ctx, addr, f.initial("alice", "Alice-Tcp-Pass-2"), "x"); err == nil {
		t.Fatal("unknown network accepted")
	}
}

// TestClientChecksReplies: the client accepts only replies that prove
// knowledge of the session key and the subkey, and never a KRB-ERROR that
// claims success.
func TestClientChecksReplies(t *testing.T) {
	mustKey := func() *crypto.Key {
		k, err := crypto.RandomKey(krb5.AES256CTSHMACSHA196, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	sessionKey, subkey, other := mustKey(), mustKey(), mustKey()
	ss := &session{cred: &client.Credential{SessionKey: sessionKey}, subkey: subkey, ctime: t0, cusec: 4242}
	u32 := func(v uint32) *uint32 { return &v }
	type replyOpts struct {
		apKey, privKey *crypto.Key
		ctime          time.Time
		apSeq, privSeq *uint32
		result         []byte
		version        uint16
	}
	build := func(o replyOpts) []byte {
		ep := wire.EncAPRepPart{CTime: o.ctime, Cusec: 4242, SeqNumber: o.apSeq}
		plain, err := ep.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		c, err := o.apKey.Encrypt(nil, krb5.UsageAPRepEncPart, plain)
		if err != nil {
			t.Fatal(err)
		}
		ap, err := (&wire.APRep{EncPart: wire.EncryptedData{EType: o.apKey.EncType(), Cipher: c}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		part := wire.EncKRBPrivPart{UserData: o.result, SeqNumber: o.privSeq}
		if plain, err = part.Marshal(); err != nil {
			t.Fatal(err)
		}
		if c, err = o.privKey.Encrypt(nil, krb5.UsageKRBPrivEncPart, plain); err != nil {
			t.Fatal(err)
		}
		priv, err := (&wire.KRBPriv{EncPart: wire.EncryptedData{EType: o.privKey.EncType(), Cipher: c}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		v := o.version
		if v == 0 {
			v = VersionChange
		}
		b, err := (&Message{Version: v, AP: ap, Body: priv}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0, apSeq: u32(77), privSeq: u32(77),
		result: Result{Code: SoftError, Message: "too short"}.Marshal()}
	krbErr := func(edata []byte) []byte {
		b, err := (&wire.KRBError{ErrorCode: krb5.KRBErrGeneric, Realm: realm, SName: changepwName, EData: edata}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	framedErr, err := (&Message{Version: VersionChange, Body: krbErr(Result{Code: AuthError, Message: "no"}.Marshal())}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		reply   []byte
		want    Result
		wantErr string
	}{
		{"good", build(good), Result{Code: SoftError, Message: "too short"}, ""},
		{"no sequence numbers (MIT omits 0)", build(replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0,
			result: Result{}.Marshal()}), Result{Code: Success}, ""},
		{"version 0xff80 accepted", build(replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0, apSeq: u32(1), privSeq: u32(1),
			result: Result{}.Marshal(), version: VersionSet}), Result{Code: Success}, ""},
		{"AP-REP in another key", build(replyOpts{apKey: other, privKey: subkey, ctime: t0, apSeq: u32(1), privSeq: u32(1),
			result: Result{}.Marshal()}), Result{}, "session key"},
		{"AP-REP with another time", build(replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0.Add(time.Second),
			apSeq: u32(1), privSeq: u32(1), result: Result{}.Marshal()}), Result{}, "time"},
		{"KRB-PRIV in the session key", build(replyOpts{apKey: sessionKey, privKey: sessionKey, ctime: t0,
			apSeq: u32(1), privSeq: u32(1), result: Result{}.Marshal()}), Result{}, "subkey"},
		{"sequence numbers differ", build(replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0,
			apSeq: u32(1), privSeq: u32(2), result: Result{}.Marshal()}), Result{}, "sequence number"},
		{"result code 9", build(replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0,
			result: []byte{0, 9}}), Result{}, "unknown result code"},
		{"version 2", build(replyOpts{apKey: sessionKey, privKey: subkey, ctime: t0, result: Result{}.Marshal(), version: 2}),
			Result{}, "protocol version"},
		{"bare KRB-ERROR", krbErr(Result{Code: AccessDenied, Message: "no"}.Marshal()), Result{Code: AccessDenied, Message: "no"}, ""},
		{"framed KRB-ERROR", framedErr, Result{Code: AuthError, Message: "no"}, ""},
		{"KRB-ERROR claiming success", krbErr(Result{Code: Success}.Marshal()), Result{}, "claims success"},
		{"KRB-ERROR without result", krbErr(nil), Result{}, "without a result"},
		{"truncated", build(good)[:40], Result{}, "length field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ss.readReply(tc.reply)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadReply) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readReply = %+v, %v; want ErrBadReply with %q", res, err, tc.wantErr)
				}
				return
			}
			if err != nil || res != tc.want {
				t.Fatalf("readReply = %+v, %v; want %+v", res, err, tc.want)
			}
		})
	}
}
