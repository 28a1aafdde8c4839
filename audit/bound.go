package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on what one event records, so that a request cannot make the log
// grow by more than a few hundred bytes: a name is whatever a client sent.
const (
	maxNameField   = 256  // Client, Service, Actor, Target, Addr, EType, Code, Flags
	maxReasonField = 1024 // Reason, and a change's Old and New
)

// bound cuts e's fields to their bounds. A cut value keeps its start and
// says how long it was and the start of its SHA-256, so that two long
// values can still be told apart; a cut name is also shortened where the
// reason quotes it.
func bound(e *Event) {
	var long map[string]string // made only when a field is cut: Emit is on the KDC's hot path
	cut := func(s *string, n int) {
		if len(*s) > n {
			short := cutField(*s, n)
			if long == nil {
				long = map[string]string{}
			}
			long[*s] = short
			*s = short
		}
	}
	for _, f := range []*string{&e.Client, &e.Service, &e.Actor, &e.Target, &e.Addr, &e.EType, &e.Code, &e.Flags, &e.Type} {
		cut(f, maxNameField)
	}
	// Longest first, so that a name inside another is replaced after it.
	names := make([]string, 0, len(long))
	for k := range long {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, k := range names {
		e.Reason = strings.ReplaceAll(e.Reason, k, long[k])
	}
	cut(&e.Reason, maxReasonField)
	for i := range e.Changes {
		cut(&e.Changes[i].Field, maxNameField)
		cut(&e.Changes[i].Old, maxReasonField)
		cut(&e.Changes[i].New, maxReasonField)
	}
}

// cutField is s cut to about n bytes: its start, then "…[N bytes, sha256
// 0123abcd]".
func cutField(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	mark := fmt.Sprintf("…[%d bytes, sha256 %s]", len(s), hex.EncodeToString(sum[:4]))
	keep := max(n-len(mark), 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + mark
}

// Coalescing: a source that makes many refusals of one kind (a password
// guesser, a flood of unknown names) gets its first coalesceBurst of each
// coalesceWindow recorded one by one, and the rest as one event when the
// window ends: "N more … from ADDR", with a few of the names they carried.
const (
	coalesceWindow = 10 * time.Second
	coalesceBurst  = 10
	coalesceKeys   = 4096 // sources and kinds followed at once; beyond, every window is closed
	coalesceNames  = 5    // names kept as examples
)

// coalesced reports whether events of e's type are refusals to coalesce.
func coalesced(e *Event) bool {
	return e.Addr != "" && (strings.HasSuffix(e.Type, ".refused") || e.Type == "preauth.failed")
}

// burstKey is one source's refusals of one kind.
type burstKey struct{ typ, addr, code string }

// burst counts them within a window.
type burst struct {
	start      time.Time
	written    int
	suppressed int
	first      time.Time // of the suppressed ones
	last       time.Time
	names      []string // examples of the clients they named
	others     int      // distinct clients beyond the examples
	service    string
}

// admit decides whether e is written one by one (true), or counted in its
// source's burst (false). a.mu is held. A window that ended is closed
// first: its summary is written before e.
func (a *File) admit(e *Event) bool {
	if !coalesced(e) {
		return true
	}
	if a.bursts == nil {
		a.bursts = map[burstKey]*burst{}
	}
	k := burstKey{e.Type, e.Addr, e.Code}
	b := a.bursts[k]
	if b != nil && e.Time.Sub(b.start) >= coalesceWindow {
		a.closeBurst(k, b)
		b = nil
	}
	if b == nil {
		if len(a.bursts) >= coalesceKeys {
			a.closeBursts(time.Time{})
		}
		b = &burst{start: e.Time}
		a.bursts[k] = b
	}
	if b.written < coalesceBurst {
		b.written++
		return true
	}
	if b.suppressed == 0 {
		b.first = e.Time
	}
	b.suppressed++
	b.last = e.Time
	b.service = e.Service
	if c := e.Client; c != "" {
		switch {
		case slices.Contains(b.names, c):
		case len(b.names) < coalesceNames:
			b.names = append(b.names, c)
		default:
			b.others++
		}
	}
	return false
}

// closeBursts closes every window that ended by now (all with a zero now).
// a.mu is held.
func (a *File) closeBursts(now time.Time) {
	for k, b := range a.bursts {
		if now.IsZero() || now.Sub(b.start) >= coalesceWindow {
			a.closeBurst(k, b)
		}
	}
}

// closeBurst writes the summary of b, if it held anything back, and
// forgets it. a.mu is held.
func (a *File) closeBurst(k burstKey, b *burst) {
	delete(a.bursts, k)
	if b.suppressed == 0 {
		return
	}
	names := strings.Join(b.names, ", ")
	if b.others > 0 {
		names += fmt.Sprintf(" and %d other names", b.others)
	}
	reason := fmt.Sprintf("%d more %s events like the %d above from %s between %s and %s, not recorded one by one", b.suppressed, k.typ, b.written, k.addr,
		b.first.UTC().Format(time.RFC3339), b.last.UTC().Format(time.RFC3339))
	if names != "" {
		reason += "; they named " + names
	}
	e := Event{Time: b.last, Type: k.typ, Addr: k.addr, Code: k.code, Service: b.service, Reason: reason, Flags: fmt.Sprintf("coalesced=%d", b.suppressed)}
	bound(&e)
	a.encode(e)
}

// lostEvents counts the events a File lost (could not write, and could not
// keep) since its last audit.gap record.
type lostEvents struct {
	n           int
	types       map[string]int
	first, last time.Time
	err         string
}

// lose counts the lines of batch as lost. a.mu is held.
func (a *File) lose(batch []byte, err error) {
	now := time.Now()
	g := &a.lost
	if g.n == 0 {
		g.first, g.types = now, map[string]int{}
	}
	for len(batch) > 0 {
		i := bytes.IndexByte(batch, '\n')
		if i < 0 {
			break
		}
		var e struct {
			Type string `json:"type"`
		}
		json.Unmarshal(batch[:i], &e)
		g.types[e.Type]++
		g.n++
		a.dropped++
		batch = batch[i+1:]
	}
	g.last, g.err = now, err.Error()
	if a.dropErr == nil {
		a.dropErr = err
	}
}

// gapEvent puts, before the pending events, an audit.gap event that says
// how many events of which types were lost, when and why, so that the log
// says where it is incomplete (hop audit verify counts them). a.mu is
// held.
func (a *File) gapEvent() {
	g := a.lost
	if g.n == 0 {
		return
	}
	a.lost = lostEvents{}
	kinds := make([]string, 0, len(g.types))
	for k, n := range g.types {
		kinds = append(kinds, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(kinds)
	n0 := len(a.pending)
	a.encode(Event{Time: time.Now(), Type: TypeGap, Flags: fmt.Sprintf("lost=%d", g.n),
		Reason: fmt.Sprintf("%d events were lost between %s and %s: the log could not be written (%s); they were: %s", g.n,
			g.first.UTC().Format(time.RFC3339), g.last.UTC().Format(time.RFC3339), g.err, strings.Join(kinds, ", "))})
	line := append([]byte(nil), a.pending[n0:]...)
	a.pending = append(line, a.pending[:n0]...)
}

// TypeGap is the type of the event that records lost events.
const TypeGap = "audit.gap"
