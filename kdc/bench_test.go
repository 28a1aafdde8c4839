package kdc

import (
	"context"
	"testing"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/wire"
)

// benchRequests returns a pre-authenticated AS-REQ and a TGS-REQ as hop's
// client sends them, offering etypes (nil: hop's default, all AES types),
// and the KDC that answers them.
func benchRequests(b *testing.B, etypes ...krb5.EncType) (k *KDC, as, tgs []byte) {
	d, _ := newDirectory(b)
	k, err := New(Config{Directory: d})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var xerr error
	msgs, err := capture(k, func(c *client.Conn) {
		tgt, _, err := c.Login(ctx, &client.Request{Client: alice(), Options: krb5.OptForwardable, ETypes: etypes}, alicePW)
		if err != nil {
			xerr = err
			return
		}
		_, xerr = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), ETypes: etypes})
	})
	if err != nil || xerr != nil || len(msgs) != 3 {
		b.Fatal(err, xerr, len(msgs))
	}
	return k, msgs[1], msgs[2]
}

func benchmarkHandle(b *testing.B, k *KDC, msg []byte, want krb5.MsgType) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rep := k.Handle(ctx, msg, "bench", 0)
			if mt, _ := wire.MsgTypeOf(rep); mt != want {
				b.Errorf("reply type %d", mt)
				return
			}
		}
	})
}

// BenchmarkHandleAS measures the KDC's work for one pre-authenticated AS
// exchange, without the network.
func BenchmarkHandleAS(b *testing.B) {
	k, as, _ := benchRequests(b)
	benchmarkHandle(b, k, as, krb5.MsgASRep)
}

// BenchmarkHandleTGS measures the KDC's work for one TGS exchange.
func BenchmarkHandleTGS(b *testing.B) {
	k, _, tgs := benchRequests(b)
	benchmarkHandle(b, k, tgs, krb5.MsgTGSRep)
}

// BenchmarkHandleASSHA1 and BenchmarkHandleTGSSHA1: the same, offering
// aes256-cts-hmac-sha1-96 only, as MIT's and Heimdal's default clients and
// the neutral load generator do, so tickets, reply and session keys are of
// that type.
func BenchmarkHandleASSHA1(b *testing.B) {
	k, as, _ := benchRequests(b, krb5.AES256CTSHMACSHA196)
	benchmarkHandle(b, k, as, krb5.MsgASRep)
}

func BenchmarkHandleTGSSHA1(b *testing.B) {
	k, _, tgs := benchRequests(b, krb5.AES256CTSHMACSHA196)
	benchmarkHandle(b, k, tgs, krb5.MsgTGSRep)
}
