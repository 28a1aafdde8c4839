package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"hop/audit"
)

// A directory change and its audit event commit together: the event is
// written into the outbox (bucketOutbox) in the change's own transaction,
// then given to the audit sink, and removed from the outbox once the sink
// has written it (a sink with Flush, as audit.File). A process that dies
// in between, or a log that cannot be written, leaves it in the outbox;
// the next Open delivers what it holds (marked "recovered"). So no change
// is left without its event, and a change whose event is not yet in the
// log is not acknowledged: the caller gets ErrUnaudited.

// bucketOutbox holds the audit events of committed changes not yet
// written to the log, keyed by the generation of their change.
const bucketOutbox = "audit-outbox"

// ErrUnaudited is wrapped by the error of a change that is made but
// whose audit event could not be written to the log yet.
var ErrUnaudited = errors.New("directory: the change is made, but its audit event is not yet in the audit log")

// flusher is a sink that can write its buffered events now.
type flusher interface{ Flush() error }

// record adds ev to the events of the transaction's change, delivered
// through the outbox.
func (t *txn) record(ev audit.Event) { t.events = append(t.events, ev) }

// putOutbox writes the transaction's events into the outbox under the
// generation gen of its change, numbers the change among the audited ones
// (flag change=N, which hop audit verify --dir matches with the log), and
// returns their keys.
func (t *txn) putOutbox(gen uint64) ([]string, error) {
	if len(t.events) == 0 {
		return nil, nil
	}
	n, err := t.auditChanges()
	if err != nil {
		return nil, err
	}
	n++
	if err := t.Put(bucketMeta, metaAuditChanges, encodeUint(n)); err != nil {
		return nil, err
	}
	flags := "gen=" + strconv.FormatUint(gen, 10) + "," + changeFlag + strconv.FormatUint(n, 10)
	var keys []string
	for i, ev := range t.events {
		ev.Flags = addFlag(ev.Flags, flags)
		t.events[i] = ev
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		k := fmt.Sprintf("%020d-%03d", gen, i)
		if err := t.Put(bucketOutbox, k, b); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func addFlag(flags, f string) string {
	if flags == "" {
		return f
	}
	return flags + "," + f
}

// changeFlag starts the flag that numbers a change among the audited
// ones.
const changeFlag = "change="

// auditChanges is the number of audited changes so far.
func (t *txn) auditChanges() (uint64, error) {
	v, err := t.Get(bucketMeta, metaAuditChanges)
	if err != nil || v == nil {
		return 0, err
	}
	return decodeUint(bucketMeta, metaAuditChanges, v)
}

// ChangeNumber returns the number of the directory change ev records
// (its flag change=N); false for other events and for events of
// directories that did not number their changes yet.
func ChangeNumber(ev *audit.Event) (uint64, bool) {
	for f := range strings.SplitSeq(ev.Flags, ",") {
		if v, ok := strings.CutPrefix(f, changeFlag); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			return n, err == nil && n > 0
		}
	}
	return 0, false
}

// deliver gives the events of a committed change to the sink and, once
// the sink has written them, removes them from the outbox. When earlier
// changes' events could not be written, it writes those too.
func (d *Directory) deliver(ctx context.Context, keys []string, events []audit.Event) error {
	for _, ev := range events {
		d.sink.Emit(ev)
	}
	if f, ok := d.sink.(flusher); ok {
		if err := f.Flush(); err != nil {
			d.behind.Store(true)
			return fmt.Errorf("%w (%v): it stays in the directory and is written when the log can be", ErrUnaudited, err)
		}
	}
	if err := d.removeOutbox(ctx, keys); err != nil {
		return err
	}
	if d.behind.CompareAndSwap(true, false) {
		if err := d.drainOutbox(ctx); err != nil {
			d.behind.Store(true)
			return fmt.Errorf("the change and its audit event are made, but writing the events of earlier changes failed: %w", err)
		}
	}
	return nil
}

// removeOutbox removes the outbox entries keys, whose events the log has.
func (d *Directory) removeOutbox(ctx context.Context, keys []string) error {
	return d.store.Update(ctx, func(tx Tx) error {
		for _, k := range keys {
			if err := tx.Delete(bucketOutbox, k); err != nil {
				return err
			}
		}
		// An update that changes no record a snapshot holds.
		return writeChangeLog(tx, nil)
	})
}

// drainOutbox delivers the events a change left in the outbox (the
// process died, or the log could not be written), marked recovered: one
// may already be in the log when the process died after writing it and
// before removing it.
func (d *Directory) drainOutbox(ctx context.Context) error {
	var keys []string
	var events []audit.Event
	err := d.store.View(ctx, func(tx Tx) error {
		return tx.ForEach(bucketOutbox, func(k string, v []byte) error {
			var ev audit.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("directory: outbox entry %s: %w", k, err)
			}
			ev.Flags = addFlag(ev.Flags, "recovered")
			keys, events = append(keys, k), append(events, ev)
			return nil
		})
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	return d.deliver(ctx, keys, events)
}

// Outbox returns the number of committed changes whose audit events are
// not yet in the log.
func (d *Directory) Outbox(ctx context.Context) (int, error) {
	st, err := ReadAuditState(ctx, d.store)
	if err != nil {
		return 0, err
	}
	return len(st.Waiting), nil
}

// AuditState is what a directory says about the audit events of its
// changes.
type AuditState struct {
	// Changes is the number of audited changes made: their events carry
	// change=1 to change=Changes (0 before the directory numbered them).
	Changes uint64
	// Waiting are the first events of the changes whose events are not
	// yet in the log (the outbox), by change number.
	Waiting []audit.Event
}

// ReadAuditState reads the audit state of the directory in s, read-only:
// it needs no master key and, unlike Open, delivers nothing, so that hop
// audit verify can compare it with a log it does not change.
func ReadAuditState(ctx context.Context, s Store) (*AuditState, error) {
	st := &AuditState{}
	err := s.View(ctx, func(tx Tx) error {
		t := &txn{Tx: tx}
		var err error
		if st.Changes, err = t.auditChanges(); err != nil {
			return err
		}
		return tx.ForEach(bucketOutbox, func(k string, v []byte) error {
			if !strings.HasSuffix(k, "-000") {
				return nil
			}
			var ev audit.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return corrupt(bucketOutbox, k, err)
			}
			st.Waiting = append(st.Waiting, ev)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// AuditCheck is the result of AuditState.Check.
type AuditCheck struct {
	// From and To bound the changes checked (none when From > To): To is
	// the last change, From the first whose event the log must hold.
	From, To uint64
	// Missing are the first (at most maxMissingListed) changes in From..To
	// whose events are neither in the log nor waiting in the outbox: the
	// log lost them, or was replaced. MissingCount counts them all.
	Missing      []uint64
	MissingCount uint64
}

// maxMissingListed bounds AuditCheck.Missing.
const maxMissingListed = 20

// Check compares the state with the change numbers a log holds (inLog).
// complete says the log starts at its first line (seq 1), so it must hold
// every change from the first; otherwise older files were rotated away,
// and the check starts at the lowest change the log holds.
func (st *AuditState) Check(inLog map[uint64]bool, complete bool) AuditCheck {
	c := AuditCheck{From: 1, To: st.Changes}
	if !complete {
		c.From = st.Changes + 1
		for n := range inLog {
			c.From = min(c.From, n)
		}
		for _, ev := range st.Waiting {
			if n, ok := ChangeNumber(&ev); ok {
				c.From = min(c.From, n)
			}
		}
	}
	waiting := map[uint64]bool{}
	for _, ev := range st.Waiting {
		if n, ok := ChangeNumber(&ev); ok {
			waiting[n] = true
		}
	}
	for n := c.From; n <= c.To; n++ {
		if !inLog[n] && !waiting[n] {
			if c.MissingCount++; len(c.Missing) < maxMissingListed {
				c.Missing = append(c.Missing, n)
			}
		}
	}
	return c
}
