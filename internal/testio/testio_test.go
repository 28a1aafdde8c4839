package testio

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestBufferConcurrentWriteAndRead(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			fmt.Fprintf(&b, "%d,", i)
		}
	}()
	b.WaitFor(t, "99,", 10*time.Second)
	wg.Wait()
	if got := b.String(); len(got) != 290 || got[:4] != "0,1," {
		t.Errorf("String = %q", got)
	}
}

// fatalRecorder records a Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

func TestWaitForFailsWithTheContent(t *testing.T) {
	var b Buffer
	b.Write([]byte("hello"))
	r := &fatalRecorder{TB: t}
	b.WaitFor(r, "bye", 50*time.Millisecond)
	if r.msg != `no "bye" in "hello"` {
		t.Errorf("Fatalf(%q)", r.msg)
	}
}
