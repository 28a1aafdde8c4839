// Package audit records what hop decided: every ticket issued, every refusal
// and every pre-authentication failure or lockout, as one JSON object per
// line. Events name principals and rules, never keys, passwords or tickets.
package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Event is one audit record. Fields that do not apply are left empty.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`             // e.g. "as.issued", "tgs.issued", "as.refused", "preauth.failed", "account.locked"
	Client  string    `json:"client,omitempty"` // principal, user@REALM
	Service string    `json:"service,omitempty"`
	Addr    string    `json:"addr,omitempty"` // the peer's address
	EType   string    `json:"etype,omitempty"`
	Code    string    `json:"code,omitempty"` // KRB-ERROR code name on refusals
	Reason  string    `json:"reason,omitempty"`
	Flags   string    `json:"flags,omitempty"`
	Until   time.Time `json:"until,omitzero"`

	// Directory changes (Type "directory.*"): who asked, which object, and
	// each field's old and new value. Secrets are never recorded: a key or
	// password change records only that it happened (e.g. the new kvno).
	Actor   string   `json:"actor,omitempty"`
	Target  string   `json:"target,omitempty"`
	Changes []Change `json:"changes,omitempty"`
}

// Change is one field of a directory object changed from Old to New, both
// rendered as the hop CLI shows them ("" = unset).
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Sink receives events. Implementations must be safe for concurrent use and
// must not block for long: the KDC calls Emit on its hot path.
type Sink interface {
	Emit(Event)
}

// Discard drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Emit(Event) {}

// File appends events as JSON lines to a file. Writes are buffered and
// flushed at least every FlushInterval and on Close.
type File struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	err    error
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// FlushInterval bounds how long an event may sit in the buffer.
const FlushInterval = 200 * time.Millisecond

// OpenFile opens (creating 0600) path for appending.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open log: %w", err)
	}
	a := &File{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	a.enc = json.NewEncoder(a.w)
	go a.flusher()
	return a, nil
}

func (a *File) flusher() {
	defer close(a.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.mu.Lock()
			if a.err == nil && a.w.Buffered() > 0 {
				a.err = a.w.Flush()
			}
			a.mu.Unlock()
		}
	}
}

// Emit appends e. The first write error is kept and reported by Close.
func (a *File) Emit(e Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.err != nil {
		return
	}
	a.err = a.enc.Encode(e)
}

// Reopen flushes and closes the file and opens its path again, for log
// rotation (logrotate renames the file, then signals the KDC).
func (a *File) Reopen() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: reopen log: %w", err)
	}
	if a.err == nil {
		a.err = a.w.Flush()
	}
	a.f.Sync()
	a.f.Close()
	a.f = f
	a.w.Reset(f)
	err, a.err = a.err, nil
	if err != nil {
		return fmt.Errorf("audit: events before the reopen were lost: %w", err)
	}
	return nil
}

// Close flushes, syncs and closes the file.
func (a *File) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.err
	if ferr := a.w.Flush(); err == nil {
		err = ferr
	}
	if serr := a.f.Sync(); err == nil {
		err = serr
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Memory keeps events in memory, for tests and for callers that inspect them.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// Emit records e.
func (m *Memory) Emit(e Event) {
	m.mu.Lock()
	m.events = append(m.events, e)
	m.mu.Unlock()
}

// Events returns a copy of the recorded events.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}
