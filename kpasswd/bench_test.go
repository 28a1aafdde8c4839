package kpasswd

import (
	"context"
	"testing"
)

// The cost of refusing what an unauthenticated peer can send: a request whose
// AP-REQ does not decode, and a replayed request (which is decrypted and
// checked in full before the replay cache refuses it).
func BenchmarkHandleRefused(b *testing.B) {
	f := newFixture(b)
	good, _ := buildRequest(b, f.initial("alice", alicePW), reqOpts{userData: []byte("short")})
	m, err := ParseMessage(good)
	if err != nil {
		b.Fatal(err)
	}
	garbage, err := (&Message{Version: VersionChange, AP: []byte{0x6e, 0x00}, Body: m.Body}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	f.srv.Handle(ctx, good, "peer") // from now on, a replay
	for _, bc := range []struct {
		name string
		msg  []byte
	}{{"bad-ap-req", garbage}, {"replay", good}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if f.srv.Handle(ctx, bc.msg, "peer") == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}

// BenchmarkHandleChange is a successful password change: the directory
// derives the keys of every encryption type (PBKDF2) and checks the history.
func BenchmarkHandleChange(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	pw := alicePW
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		next := "Alice-Bench-Pass-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		msg, ss := buildRequest(b, f.initial("alice", pw), reqOpts{userData: []byte(next)})
		b.StartTimer()
		res := readPrivReply(b, f.srv.Handle(ctx, msg, "peer"), ss)
		if res.Code != Success {
			b.Fatalf("%v: %s", res.Code, res.Message)
		}
		pw = next
	}
}
