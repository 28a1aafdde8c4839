package audit

import (
	"sync"
	"time"
)

// Event is one audit record. Fields that do not apply are left empty.
type Event struct {
	// Seq and Prev chain the lines of a log file (see the package
	// documentation). [File] sets them when it writes the event; they are
	// ignored in events given to Emit.
	Seq  uint64 `json:"seq,omitempty"`
	Prev string `json:"prev,omitempty"`

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

// Checker is a Sink that can say whether it is writing its events now:
// Failing returns the error of its last write while events are held or
// lost (nil when it writes). A server whose policy is to refuse unaudited
// work (audit_failure = refuse) asks it.
type Checker interface {
	Sink
	Failing() error
}

// Discard drops every event.
var Discard Sink = discard{}

type discard struct{}

func (discard) Emit(Event) {}

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
