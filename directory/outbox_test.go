package directory_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"hop/audit"
	"hop/directory"
)

// flakySink is an audit sink whose Flush fails while err is set (the log
// cannot be written).
type flakySink struct {
	audit.Memory
	mu  sync.Mutex
	err error
}

func (s *flakySink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// fail makes the log fail with err from now on (nil: work again).
func (s *flakySink) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// openFlaky opens e's directory again with a flakySink as its log.
func openFlaky(t *testing.T, e *env) (*directory.Directory, *flakySink) {
	t.Helper()
	sink := &flakySink{}
	d, err := directory.Open(ctx, e.store, e.mk, directory.Options{Now: e.clock.Now, Audit: sink})
	if err != nil {
		t.Fatal(err)
	}
	return d, sink
}

// TestOutbox: a change and its audit event commit together. When the log
// can be written, the change is acknowledged, its event carries the
// change's generation, and nothing stays in the outbox. When it cannot,
// the change is made but not acknowledged (ErrUnaudited), and its event
// stays in the outbox until the directory opens again with a log that
// works, which writes it, marked recovered.
func TestOutbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		d, sink := openFlaky(t, e)
		as := d.As(directory.LocalAdmin)
		if _, err := as.CreateAccount(ctx, &directory.Account{Name: "carol", Kind: directory.KindUser}, nil); err != nil {
			t.Fatal(err)
		}
		evs := sink.Events()
		if len(evs) != 1 || evs[0].Type != "directory.account.create" || !strings.HasPrefix(evs[0].Flags, "gen=") {
			t.Errorf("events of a change: %+v", evs)
		}
		if n, err := d.Outbox(ctx); err != nil || n != 0 {
			t.Errorf("outbox after a delivered change: %d, %v", n, err)
		}

		sink.fail(syscall.ENOSPC)
		_, err := as.CreateAccount(ctx, &directory.Account{Name: "dave", Kind: directory.KindUser}, nil)
		if !errors.Is(err, directory.ErrUnaudited) || !strings.Contains(err.Error(), "written when the log can be") {
			t.Fatalf("a change whose event cannot be written: %v", err)
		}
		if _, err := d.Account(ctx, "dave"); err != nil {
			t.Errorf("the change was not made: %v", err)
		}
		if n, _ := d.Outbox(ctx); n != 1 {
			t.Errorf("outbox: %d changes, want 1", n)
		}

		// Open again with a log that works: the event is written.
		good := &audit.Memory{}
		d2, err := directory.Open(ctx, e.store, e.mk, directory.Options{Now: e.clock.Now, Audit: good})
		if err != nil {
			t.Fatal(err)
		}
		var got []audit.Event
		for _, ev := range good.Events() {
			if ev.Target == "dave" {
				got = append(got, ev)
			}
		}
		if len(got) != 1 || got[0].Type != "directory.account.create" || !strings.HasSuffix(got[0].Flags, ",recovered") {
			t.Errorf("recovered events: %+v", got)
		}
		if n, _ := d2.Outbox(ctx); n != 0 {
			t.Errorf("outbox after recovery: %d", n)
		}
	})
}

// TestOutboxCatchesUp: once the log can be written again, the next change
// also writes the events earlier changes left in the outbox, without
// waiting for the directory to be opened again; every change is numbered
// among the audited ones, and ReadAuditState sees what waits.
func TestOutboxCatchesUp(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		d, sink := openFlaky(t, e)
		as := d.As(directory.LocalAdmin)
		sink.fail(syscall.ENOSPC)
		for _, name := range []string{"dave", "erin"} {
			if _, err := as.CreateAccount(ctx, &directory.Account{Name: name, Kind: directory.KindUser}, nil); !errors.Is(err, directory.ErrUnaudited) {
				t.Fatalf("%s while the log fails: %v", name, err)
			}
		}
		st, err := directory.ReadAuditState(ctx, e.store)
		if err != nil {
			t.Fatal(err)
		}
		var waiting []string
		for _, ev := range st.Waiting {
			n, _ := directory.ChangeNumber(&ev)
			waiting = append(waiting, fmt.Sprintf("%d:%s", n, ev.Target))
		}
		if want := []string{fmt.Sprintf("%d:dave", st.Changes-1), fmt.Sprintf("%d:erin", st.Changes)}; !slices.Equal(waiting, want) {
			t.Errorf("waiting %q, want %q", waiting, want)
		}
		chk := st.Check(map[uint64]bool{}, false)
		if chk.From != st.Changes-1 || chk.To != st.Changes || chk.MissingCount != 0 {
			t.Errorf("check of a rotated log holding nothing: %+v", chk)
		}
		chk = st.Check(map[uint64]bool{}, true)
		if chk.From != 1 || chk.MissingCount != st.Changes-2 {
			t.Errorf("check of an empty complete log: %+v, want changes 1..%d missing", chk, st.Changes-2)
		}

		sink.fail(nil)
		before := len(sink.Events())
		if _, err := as.CreateAccount(ctx, &directory.Account{Name: "frank", Kind: directory.KindUser}, nil); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range sink.Events()[before:] {
			got = append(got, ev.Target+" "+ev.Flags[strings.LastIndex(ev.Flags, ",")+1:])
		}
		if want := []string{"frank change=" + strconv.FormatUint(st.Changes+1, 10), "dave recovered", "erin recovered"}; !slices.Equal(got, want) {
			t.Errorf("events once the log works: %q, want %q", got, want)
		}
		if n, _ := d.Outbox(ctx); n != 0 {
			t.Errorf("outbox after catching up: %d", n)
		}
	})
}
