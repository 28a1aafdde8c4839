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
// generation gen of its change; it returns their keys.
func (t *txn) putOutbox(gen uint64) ([]string, error) {
	var keys []string
	for i, ev := range t.events {
		ev.Flags = addFlag(ev.Flags, "gen="+strconv.FormatUint(gen, 10))
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

// deliver gives the events of a committed change to the sink and, once
// the sink has written them, removes them from the outbox.
func (d *Directory) deliver(ctx context.Context, keys []string, events []audit.Event) error {
	for _, ev := range events {
		d.sink.Emit(ev)
	}
	if f, ok := d.sink.(flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("%w (%v): it stays in the directory and is written when the log can be", ErrUnaudited, err)
		}
	}
	return d.store.Update(ctx, func(tx Tx) error {
		for _, k := range keys {
			if err := tx.Delete(bucketOutbox, k); err != nil {
				return err
			}
		}
		return nil
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
// not yet in the log (hop audit verify reports them).
func (d *Directory) Outbox(ctx context.Context) (int, error) {
	n := 0
	err := d.store.View(ctx, func(tx Tx) error {
		return tx.ForEach(bucketOutbox, func(k string, _ []byte) error {
			if !strings.HasSuffix(k, "-000") {
				return nil
			}
			n++
			return nil
		})
	})
	return n, err
}
