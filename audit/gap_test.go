package audit

import (
	"encoding/json"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withFileSizeLimit runs f with RLIMIT_FSIZE at limit bytes, which makes
// writes beyond it fail (EFBIG) as a full disk would (ENOSPC).
func withFileSizeLimit(t *testing.T, limit uint64, f func()) {
	t.Helper()
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: old.Max}); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	f()
}

// TestWriteWhatFitsAndGaps: when the log cannot grow, the events are held;
// when a little room returns, what fits is written (line by line), the
// chain intact; events beyond what can be held are lost, and once writing
// works again an audit.gap event says how many, of which types, and why;
// hop audit verify counts the gaps.
func TestWriteWhatFitsAndGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Time: when, Type: "first"})
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	start := uint64(fi.Size())

	old := maxRetained
	defer func() { maxRetained = old }()
	withFileSizeLimit(t, start, func() {
		for range 5 {
			a.Emit(Event{Time: when, Type: "held"})
		}
		if err := a.Flush(); err == nil {
			t.Fatal("a write past the limit succeeded")
		}
		if a.Failing() == nil {
			t.Error("Failing is nil while the log cannot be written")
		}
		// Room for about two more lines: what fits is written.
		syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: start + 400, Max: ^uint64(0)})
		a.Flush()
		// Nothing more can be held: what is left of the batch is lost.
		maxRetained = 0
		a.Emit(Event{Time: when, Type: "dropped"})
		a.Flush()
	})
	maxRetained = old
	a.Emit(Event{Time: when, Type: "after"})
	if err := a.Flush(); err != nil || a.Failing() != nil {
		t.Errorf("once the log can be written: Flush %v, Failing %v", err, a.Failing())
	}
	if err := a.Close(); err == nil || !strings.Contains(err.Error(), "events were lost") {
		t.Errorf("Close: %v, want it to report the lost events", err)
	}
	var types []string
	var gap Event
	for _, l := range readLines(t, path) {
		var e Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Type)
		if e.Type == TypeGap {
			gap = e
		}
	}
	got := strings.Join(types, " ")
	if !strings.HasPrefix(got, "first held held") || !strings.HasSuffix(got, TypeGap+" after") {
		t.Errorf("the log's events: %s", got)
	}
	res, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	held := strings.Count(got, "held")
	if res.Gaps != 1 || res.Lost != 6-held || !strings.Contains(gap.Reason, "held×") || !strings.Contains(gap.Reason, "dropped×1") ||
		!strings.Contains(res.Summary(), "1 gap(s)") {
		t.Errorf("%d held written; verify: %+v; the gap: %q", held, res, gap.Reason)
	}
}
