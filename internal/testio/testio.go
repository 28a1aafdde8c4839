// Package testio holds I/O helpers for tests: a Buffer that a command or
// a goroutine writes while the test reads it, a wait for what it should
// come to hold, and a folder other users may traverse. Only tests import it.
package testio

import (
	"bytes"
	"os"
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

// TraversableDir returns a new folder, removed when the test ends, that
// every user may traverse (0755 under the system's temporary folder):
// t.TempDir's folders are 0700, closed to a session's user when the test
// runs as root.
func TraversableDir(t testing.TB, pattern string) string {
	t.Helper()
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		os.RemoveAll(d)
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
