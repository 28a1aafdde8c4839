package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBoundNames: the unknown 16×1000-character name of a flood is cut in
// every field and where the reason quotes it: the line stays small, and
// says how long the name was and the start of its hash.
func TestBoundNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, _ := OpenFile(path)
	name := strings.Repeat("a", 16000) + "@EXAMPLE.TEST"
	a.Emit(Event{Time: when, Type: "as.preauth-required", Client: name, Service: "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", Addr: "192.0.2.1:5000",
		Reason: "no account " + name + "; and once more: " + name})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || len(lines[0]) > 1500 || bytes.Count(lines[0], []byte("…[16013 bytes, sha256 ")) != 3 {
		t.Errorf("a %d-byte line: %.600s", len(lines[0]), lines[0])
	}
}

// TestCoalesceRefusals: one source's flood of one kind of refusal is
// written as its first ten, then one event counting the rest with some of
// the names they carried; another source, another kind and events that
// are no refusals are written one by one; a window that ends with a later
// refusal is closed before it; the chain verifies.
func TestCoalesceRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, _ := OpenFile(path)
	for i := range 1000 {
		a.Emit(Event{Time: when.Add(time.Duration(i) * time.Millisecond), Type: "as.refused", Code: "KDC_ERR_C_PRINCIPAL_UNKNOWN", Addr: "192.0.2.1:1", Client: fmt.Sprintf("u%d@EXAMPLE.TEST", i)})
	}
	for i := range 3 {
		a.Emit(Event{Time: when, Type: "as.refused", Code: "KDC_ERR_C_PRINCIPAL_UNKNOWN", Addr: "192.0.2.2:1", Client: fmt.Sprintf("v%d@EXAMPLE.TEST", i)})
	}
	for range 12 {
		a.Emit(Event{Time: when, Type: "preauth.failed", Addr: "192.0.2.1:1", Client: "alice@EXAMPLE.TEST"})
	}
	a.Emit(Event{Time: when, Type: "as.issued", Addr: "192.0.2.1:1", Client: "bob@EXAMPLE.TEST"})
	// A window ends: the next refusal from the first source comes 11 s later.
	a.Emit(Event{Time: when.Add(11 * time.Second), Type: "as.refused", Code: "KDC_ERR_C_PRINCIPAL_UNKNOWN", Addr: "192.0.2.1:1", Client: "late@EXAMPLE.TEST"})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var evs []Event
	for _, l := range readLines(t, path) {
		var e Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	count := func(typ, addr, flags string) int {
		n := 0
		for _, e := range evs {
			if e.Type == typ && strings.HasPrefix(e.Addr, addr) && (flags == "" && e.Flags == "" || flags != "" && strings.HasPrefix(e.Flags, flags)) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		typ, addr, flags string
		want             int
	}{
		{"as.refused", "192.0.2.1", "", 11},             // ten, then the late one
		{"as.refused", "192.0.2.1", "coalesced=990", 1}, // the rest, counted
		{"as.refused", "192.0.2.2", "", 3},
		{"preauth.failed", "192.0.2.1", "", 10},
		{"preauth.failed", "192.0.2.1", "coalesced=2", 1},
		{"as.issued", "192.0.2.1", "", 1},
	} {
		if got := count(c.typ, c.addr, c.flags); got != c.want {
			t.Errorf("%s from %s (%q): %d events, want %d", c.typ, c.addr, c.flags, got, c.want)
		}
	}
	var summary Event
	at, lateAt := -1, -1
	for i, e := range evs {
		switch {
		case e.Flags == "coalesced=990":
			summary, at = e, i
		case e.Client == "late@EXAMPLE.TEST":
			lateAt = i
		}
	}
	if at < 0 || lateAt < at {
		t.Errorf("the summary (line %d) does not come before the refusal that ended its window (line %d)", at, lateAt)
	}
	if !strings.Contains(summary.Reason, "990 more as.refused events like the 10 above from 192.0.2.1:1") || !strings.Contains(summary.Reason, "they named u10@EXAMPLE.TEST, u11@EXAMPLE.TEST") || !strings.Contains(summary.Reason, "and 985 other names") {
		t.Errorf("the summary: %q", summary.Reason)
	}
	if _, err := Verify(path); err != nil {
		t.Error(err)
	}
}
