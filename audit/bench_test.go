package audit

import (
	"path/filepath"
	"testing"
	"time"
)

// benchEvent is a typical TGS event.
var benchEvent = Event{
	Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Type: "tgs.issued",
	Client: "alice@EXAMPLE.TEST", Service: "HTTP/web.example.test@EXAMPLE.TEST", Addr: "192.0.2.10:51234",
	EType: "aes256-cts-hmac-sha1-96", Flags: "forwardable,renewable,pre-authent", Reason: "constrained delegation: b$ may delegate to HTTP/web.example.test",
	Until: time.Date(2026, 1, 2, 13, 4, 5, 0, time.UTC),
}

// BenchmarkEmit measures the KDC's hot-path cost of one event.
func BenchmarkEmit(b *testing.B) {
	a, err := OpenFile(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Emit(benchEvent)
	}
	b.StopTimer()
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEmitParallel is BenchmarkEmit from many goroutines, as the KDC's
// request handlers call it.
func BenchmarkEmitParallel(b *testing.B) {
	a, err := OpenFile(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Emit(benchEvent)
		}
	})
	b.StopTimer()
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFlush measures the writer's cost per event at flush time
// (numbering, hashing and writing), in batches of 1000 events.
func BenchmarkFlush(b *testing.B) {
	a, err := OpenFile(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		a.Emit(benchEvent)
		if n++; n%1000 == 0 {
			if err := a.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
}
