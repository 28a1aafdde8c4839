// Package testio holds I/O helpers for tests: a Buffer that a command or
// a goroutine writes while the test reads it, and a wait for what it
// should come to hold. Only tests import it.
package testio

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for one goroutine writing while another
// reads. The zero value is empty and ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor waits up to d for the buffer to contain want, and fails the
// test with what it holds if it does not.
func (s *Buffer) WaitFor(t testing.TB, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, s.String())
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
