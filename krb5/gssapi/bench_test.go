package gssapi

import (
	"testing"
	"time"

	"hop/krb5/service/servicetest"
)

// BenchmarkAccept measures the acceptor on hop's initiator's token with
// mutual authentication: Accept plus the AP-REP with a fresh subkey.
func BenchmarkAccept(b *testing.B) {
	f := newFixture(b)
	c := f.cred(b, servicetest.TicketOptions{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f.clock = now.Add(time.Duration(i) * time.Microsecond)
		_, tok := f.init(b, c, &InitOptions{Flags: FlagMutual})
		b.StartTimer()
		if _, _, err := f.acc.Accept(tok, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrapUnwrap seals and opens 1 KiB messages (aes256-cts-hmac-sha1-96).
func BenchmarkWrapUnwrap(b *testing.B) {
	f := newFixture(b)
	ic, ac := f.pair(b, &InitOptions{Flags: FlagMutual}, nil)
	msg := make([]byte, 1024)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		tok, err := ic.Wrap(msg, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ac.Unwrap(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMIC makes and verifies a MIC over an SSH session identifier
// (32 bytes), as gssapi-with-mic does once per login.
func BenchmarkMIC(b *testing.B) {
	f := newFixture(b)
	ic, ac := f.pair(b, &InitOptions{Flags: FlagMutual}, nil)
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		mic, err := ic.MakeMIC(msg)
		if err != nil {
			b.Fatal(err)
		}
		if err := ac.VerifyMIC(msg, mic); err != nil {
			b.Fatal(err)
		}
	}
}
