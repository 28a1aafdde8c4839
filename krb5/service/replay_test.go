package service

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestReplayCache(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewReplayCache(5 * time.Minute)
	c.SetLimit(3)
	ct := func(i byte) []byte { return []byte{'a', 'u', 't', 'h', i} }
	if err := c.add(ct(1), t0, 0, t0); err != nil {
		t.Fatal(err)
	}
	if err := c.add(ct(1), t0, 0, t0.Add(time.Minute)); !errors.Is(err, errReplay) {
		t.Fatalf("replay: %v", err)
	}
	// An entry lives until ctime + window, inclusive.
	if err := c.add(ct(1), t0, 0, t0.Add(5*time.Minute)); !errors.Is(err, errReplay) {
		t.Fatalf("replay at the end of the window: %v", err)
	}
	for i := byte(2); i <= 3; i++ {
		if err := c.add(ct(i), t0, 0, t0); err != nil {
			t.Fatal(err)
		}
	}
	// Full of live entries: refuse, and do not forget any.
	if err := c.add(ct(4), t0, 0, t0.Add(time.Minute)); !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("full cache: %v", err)
	}
	if err := c.add(ct(2), t0, 0, t0.Add(2*time.Minute)); !errors.Is(err, errReplay) {
		t.Fatalf("an entry was dropped from the full cache: %v", err)
	}
	// Once they expire there is room again.
	later := t0.Add(5*time.Minute + time.Nanosecond)
	if err := c.add(ct(4), later, 0, later); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d after the sweep, want 1", c.Len())
	}
	// An expired authenticator may be seen again (the skew check refuses
	// it long before).
	if err := c.add(ct(1), later, 0, later); err != nil {
		t.Errorf("expired entry: %v", err)
	}
}

// A window shorter than the acceptor's skew is stretched to the skew.
func TestReplayCacheSkewWins(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewReplayCache(time.Second)
	if err := c.add([]byte("x"), t0, 5*time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if err := c.add([]byte("x"), t0, 5*time.Minute, t0.Add(4*time.Minute)); !errors.Is(err, errReplay) {
		t.Fatalf("replay within the skew: %v", err)
	}
}

func TestReplayCacheConcurrent(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewReplayCache(time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if c.add([]byte{byte(i), byte(i >> 8)}, t0, 0, t0) == nil {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if accepted != 500 {
		t.Errorf("%d authenticators accepted by 8 goroutines sending the same 500, want 500", accepted)
	}
}

func BenchmarkReplayCacheAdd(b *testing.B) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewReplayCache(5 * time.Minute)
	ct := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ct[0], ct[1], ct[2], ct[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		if err := c.add(ct, t0, 0, t0); err != nil {
			b.Fatal(err)
		}
	}
}
