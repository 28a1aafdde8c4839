package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// FlushInterval bounds how long an event may sit in the buffer.
const FlushInterval = 200 * time.Millisecond

const (
	// kickSize of buffered events wakes the flusher before its tick.
	kickSize = 256 << 10
	// syncSize of buffered events makes Emit flush itself: it then waits
	// for the disk rather than let memory grow without bound.
	syncSize = 2 << 20
	// maxBody: an event that encodes to more is replaced by a short note,
	// so that every line stays within MaxLineSize with its seq and prev.
	maxBody = MaxLineSize - 256
	// writeChunk is the size of the writes a flush makes.
	writeChunk = 256 << 10
)

// maxRetained bounds the events kept for another try while writes fail;
// beyond it, events are dropped, counted, recorded by an audit.gap event
// once writing works again, and reported by Close. (A variable for the
// tests.)
var maxRetained = 64 << 20

// Options configures a [File].
type Options struct {
	// Logger receives write errors when they happen (Close reports what
	// they cost); nil discards them.
	Logger *slog.Logger
	// MaxSize is the size at which the log is rotated (renamed
	// path.1, older ones shifted), and MaxFiles how many rotated files
	// are kept; 0 means DefaultMaxSize and DefaultMaxFiles, a negative
	// MaxSize never rotates (an external logrotate does).
	MaxSize  int64
	MaxFiles int
	// MinFree is the free space on the log's filesystem below which the
	// log raises an alarm; 0 means DefaultMinFree, negative none.
	MinFree int64
}

// File appends events to a hash-chained log shared by several processes
// (see the package documentation). Emit only encodes the event into a
// buffer; the buffer is written at least every FlushInterval, when it grows
// large, and by Flush, Reopen and Close.
type File struct {
	path, headPath string
	logger         *slog.Logger

	mu      sync.Mutex // guards the fields up to flushMu
	pending []byte     // encoded events without seq and prev, one per line
	enc     *json.Encoder
	closed  bool
	dropped int // events lost (and never written)
	dropErr error
	bursts  map[burstKey]*burst // refusals being coalesced, by source and kind

	maxSize, minFree         int64
	maxFiles                 int
	statFree                 func(dir string) (uint64, error)
	spaceChecked, spaceAlarm time.Time
	lost                     lostEvents // events lost since the last audit.gap

	flushMu  sync.Mutex // serialises writes; guards the fields below
	f        *os.File   // the log, as last opened at path
	head     *os.File
	spare    []byte // a buffer for pending
	out      []byte // the lines of a batch
	size     int64  // the log's size after this File's last write; -1: unknown
	last     chainState
	haveLast bool
	wrote    bool  // this File wrote lines (Close syncs only then)
	failed   error // the first failure that Close must report
	retrying error // the error of the last write, while its events wait

	kick, stop, done chan struct{}

	failing atomic.Pointer[error] // the last write's error while events wait; nil when writing works
}

// Failing implements Checker: the error of the last write while events
// are held or were lost, nil once a write succeeded.
func (a *File) Failing() error {
	if p := a.failing.Load(); p != nil {
		return *p
	}
	return nil
}

// OpenFile opens (creating 0600) the log at path and its head file for
// appending, with default Options.
func OpenFile(path string) (*File, error) { return Open(path, Options{}) }

// Open opens (creating 0600) the log at path and its head file (see
// [HeadPath]) for appending.
func Open(path string, o Options) (*File, error) {
	a := &File{path: path, headPath: HeadPath(path), logger: o.Logger, size: -1,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		maxSize: o.MaxSize, maxFiles: o.MaxFiles, minFree: o.MinFree, statFree: statFree}
	if a.maxSize == 0 {
		a.maxSize = DefaultMaxSize
	}
	if a.maxFiles <= 0 {
		a.maxFiles = DefaultMaxFiles
	}
	if a.minFree == 0 {
		a.minFree = DefaultMinFree
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if a.f, err = openLog(path); err != nil {
		return nil, err
	}
	if a.head, err = os.OpenFile(a.headPath, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		a.f.Close()
		return nil, fmt.Errorf("audit: open the head file: %w", err)
	}
	a.enc = json.NewEncoder((*pendingWriter)(a))
	go a.flusher()
	return a, nil
}

func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open log: %w", err)
	}
	return f, nil
}

// pendingWriter appends to File.pending; File.mu is held.
type pendingWriter File

func (w *pendingWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	return len(p), nil
}

// Emit buffers e. It does not wait for the disk unless a large backlog has
// built up. Seq and Prev in e are ignored.
func (a *File) Emit(e Event) {
	e.Seq, e.Prev = 0, ""
	bound(&e)
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	if !a.admit(&e) {
		a.mu.Unlock()
		return
	}
	a.encode(e)
	n := len(a.pending)
	a.mu.Unlock()
	if n >= kickSize {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
	if n >= syncSize {
		a.Flush()
	}
}

// encode appends e to the pending lines. a.mu is held.
func (a *File) encode(e Event) {
	n0 := len(a.pending)
	var err error
	var ok bool
	if a.pending, ok = appendEvent(a.pending, &e); !ok {
		err = a.enc.Encode(e)
	}
	if err != nil {
		// Only a time outside years 0-9999 fails to encode; keep the event.
		e.Reason = fmt.Sprintf("%s (time not recordable: %v)", e.Reason, e.Time)
		e.Time, e.Until = time.Time{}, time.Time{}
		err = a.enc.Encode(e)
	}
	switch {
	case err != nil:
		a.pending = a.pending[:n0]
		a.dropped++
		if a.dropErr == nil {
			a.dropErr = fmt.Errorf("audit: encode event: %w", err)
		}
	case len(a.pending)-n0 > maxBody:
		n := len(a.pending) - n0
		a.pending = a.pending[:n0]
		a.enc.Encode(Event{Time: e.Time, Type: truncate(e.Type, 128), Client: truncate(e.Client, 1024), Actor: truncate(e.Actor, 1024),
			Reason: fmt.Sprintf("event of %d bytes too large to record", n)})
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
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
			if !a.closed {
				a.closeBursts(time.Now())
			}
			a.mu.Unlock()
		case <-a.kick:
		}
		a.Flush() // a failed write is logged, and retried at the next tick
	}
}

// Flush writes the buffered events now.
func (a *File) Flush() error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	return a.flushLocked()
}

func (a *File) flushLocked() error {
	a.mu.Lock()
	a.gapEvent()
	a.checkSpace(time.Now())
	batch := a.pending
	a.pending, a.spare = a.spare[:0], nil
	a.mu.Unlock()
	if len(batch) == 0 {
		a.spare = batch
		return nil
	}
	rest, undone, err := a.write(batch)
	if err == nil {
		if cap(batch) <= 2*syncSize { // (larger only after write errors)
			a.spare = batch[:0]
		}
		if a.retrying != nil {
			a.logger.Info("audit log writable again; the held events are written", "file", a.path)
			a.retrying = nil
		}
		a.failing.Store(nil)
		return nil
	}
	a.failing.Store(&err)
	n := bytes.Count(rest, []byte{'\n'})
	if !undone {
		// Some of the batch may be in the log: writing it again could
		// duplicate events, so it is given up.
		a.fail(fmt.Errorf("audit: %d events may be only partly written: %w", n, err))
		a.logger.Error("audit log write failed and could not be undone", "file", a.path, "events", n, "err", err)
		a.mu.Lock()
		a.lose(rest, err)
		a.mu.Unlock()
		a.spare = nil
		return err
	}
	rest = append([]byte(nil), rest...)
	a.mu.Lock()
	if len(rest)+len(a.pending) > maxRetained {
		a.lose(rest, err)
		a.logger.Error("audit log write failed; events dropped", "file", a.path, "events", n, "err", err)
	} else {
		a.pending = append(rest, a.pending...)
		if a.retrying == nil {
			a.logger.Error("audit log write failed; holding the events to retry", "file", a.path, "events", n, "err", err)
		}
	}
	a.mu.Unlock()
	a.retrying = err
	return err
}

func (a *File) fail(err error) {
	if a.failed == nil {
		a.failed = err
	}
}

// write appends batch to the chain under the head file's lock. undone is
// false when a failed write could not be taken back.
func (a *File) write(batch []byte) (rest []byte, undone bool, err error) {
	if err := a.lockHead(); err != nil {
		return batch, true, err
	}
	defer funlock(a.head)
	if err := a.currentLog(); err != nil {
		return batch, true, err
	}
	fi, err := a.f.Stat()
	if err != nil {
		return batch, true, fmt.Errorf("audit: %w", err)
	}
	if fi.Size() >= a.maxSize && a.maxSize > 0 {
		// The chain's end is read before the file goes: the new file's
		// first line follows it.
		end, _, err := a.chainEnd(fi.Size())
		if err != nil {
			return batch, true, err
		}
		a.last, a.haveLast = end, true
		if err := a.rotateIfFull(fi.Size()); err != nil {
			return batch, true, err
		}
		if fi, err = a.f.Stat(); err != nil {
			return batch, true, fmt.Errorf("audit: %w", err)
		}
	}
	st, size, err := a.chainEnd(fi.Size())
	if err != nil {
		return batch, true, err
	}
	// Lines go out in chunks of writeChunk bytes, from one reused buffer;
	// after a failed write, one line at a time, so that what fits when
	// space returns is written.
	chunk := writeChunk
	if a.retrying != nil {
		chunk = 1
	}
	out := a.out[:0]
	written := int64(0)
	good, goodSt := batch, st // the lines not yet written, and the chain before them
	for len(batch) > 0 {
		i := bytes.IndexByte(batch, '\n')
		out, st = appendChained(out, st, batch[:i])
		batch = batch[i+1:]
		if len(out) >= chunk || len(batch) == 0 {
			n, err := a.f.Write(out)
			if err != nil {
				// Take back the part of this chunk that went out; the
				// chunks before it stay, whole lines of the chain.
				a.size = -1
				if terr := a.f.Truncate(size + written); terr != nil {
					return good, false, fmt.Errorf("audit: write log: %w (and undoing it: %v)", err, terr)
				}
				if written > 0 {
					a.size, a.last, a.haveLast, a.wrote = size+written, goodSt, true, true
					a.writeHead(goodSt)
				}
				return good, true, fmt.Errorf("audit: write log: %w", err)
			}
			written += int64(n)
			good, goodSt = batch, st
			out = out[:0]
		}
	}
	a.size, a.last, a.haveLast, a.wrote = size+written, st, true, true
	if cap(out) <= 2*writeChunk+MaxLineSize {
		a.out = out[:0]
	} else {
		a.out = nil
	}
	if err := a.writeHead(st); err != nil {
		a.fail(fmt.Errorf("audit: update the head file %s: %w (deleting the log's last lines would go unnoticed)", a.headPath, err))
		a.logger.Error("audit head file not updated", "file", a.headPath, "err", err)
	}
	return nil, true, nil
}

// lockHead opens the head file if needed and takes its exclusive lock,
// making sure that the file locked is still the one at headPath.
func (a *File) lockHead() error {
	for range 3 {
		if a.head == nil {
			h, err := os.OpenFile(a.headPath, os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				return fmt.Errorf("audit: open the head file: %w", err)
			}
			a.head = h
		}
		if err := flock(a.head, true); err != nil {
			return err
		}
		same, err := samePath(a.head, a.headPath)
		if err == nil && same {
			return nil
		}
		funlock(a.head)
		a.head.Close()
		a.head = nil
	}
	return fmt.Errorf("audit: the head file %s keeps being replaced", a.headPath)
}

// currentLog reopens the log when its path no longer names the open file:
// it was rotated (renamed) or removed.
func (a *File) currentLog() error {
	if a.f != nil {
		same, err := samePath(a.f, a.path)
		if err != nil {
			return err
		}
		if same {
			return nil
		}
		if err := a.f.Sync(); err != nil {
			a.logger.Warn("syncing the rotated audit log", "err", err)
		}
		a.f.Close()
		a.f = nil
	}
	f, err := openLog(a.path)
	if err != nil {
		return err
	}
	a.f, a.size = f, -1
	return nil
}

// samePath reports whether path still names the open file f.
func samePath(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	pi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	return os.SameFile(fi, pi), nil
}

// chainEnd finds where the next line continues the chain, with the log of
// the given size: the later of the head file's record and the log's last
// line (the head wins a tie, so that an edited last line stays visible to
// Verify). An incomplete last line — a write cut short by a crash, which its
// writer never recorded in the head — is removed; the log's new size is
// returned.
func (a *File) chainEnd(size int64) (chainState, int64, error) {
	var file chainState
	haveFile := false
	if size > 0 {
		if size == a.size && a.haveLast {
			file, haveFile = a.last, true
		} else {
			line, end, err := lastLine(a.f, size)
			if err != nil {
				return file, size, err
			}
			if end < size {
				if err := a.f.Truncate(end); err != nil {
					return file, size, fmt.Errorf("audit: remove the incomplete last line of the log: %w", err)
				}
				a.logger.Warn("removed an incomplete last line from the audit log", "file", a.path, "bytes", size-end)
				size = end
			}
			if line != nil {
				file.hash, haveFile = lineHash(line), true
				if e, err := ParseLine(line); err == nil {
					file.seq = e.Seq
				}
			}
		}
	}
	head, haveHead, err := readHead(a.head)
	if err != nil {
		a.logger.Warn("ignoring the audit head file", "file", a.headPath, "err", err)
	}
	switch {
	case haveHead && (!haveFile || head.seq >= file.seq):
		return head, size, nil
	case haveFile:
		return file, size, nil
	case a.haveLast: // the log was rotated and the head file removed
		return a.last, size, nil
	}
	return chainState{}, size, nil
}

// lastLine returns the last complete line of the log (nil if there is none,
// or if it is too long to be an audit line) and the offset just after it.
func lastLine(f *os.File, size int64) ([]byte, int64, error) {
	const limit = 2*MaxLineSize + 2
	for n := int64(8 << 10); ; n *= 2 {
		n = min(n, size, limit)
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, size-n); err != nil {
			return nil, 0, fmt.Errorf("audit: read the log's last line: %w", err)
		}
		i := bytes.LastIndexByte(buf, '\n')
		if i < 0 {
			if n == size {
				return nil, 0, nil // no complete line at all
			}
			if n == limit {
				return nil, 0, fmt.Errorf("audit: the log ends with %d bytes or more without a newline: it is damaged; move it away", limit)
			}
			continue
		}
		end := size - n + int64(i) + 1
		j := bytes.LastIndexByte(buf[:i], '\n')
		if j < 0 && n < size && n < limit {
			continue
		}
		if j < 0 && n < size {
			return nil, end, nil // longer than any audit line
		}
		return buf[j+1 : i], end, nil
	}
}

func readHead(h *os.File) (chainState, bool, error) {
	var buf [maxHeadSize + 1]byte
	n, err := h.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return chainState{}, false, fmt.Errorf("audit: read the head file: %w", err)
	}
	return parseHead(buf[:n])
}

func (a *File) writeHead(st chainState) error {
	b := appendHead(make([]byte, 0, 128), st)
	if _, err := a.head.WriteAt(b, 0); err != nil {
		return err
	}
	return a.head.Truncate(int64(len(b)))
}

// Reopen writes the buffered events and makes sure the log open is the
// file at its path, for log rotation (logrotate renames the file, then
// signals the KDC). Writers notice a renamed log at their next flush anyway;
// in both cases the new file continues the chain of the old one.
func (a *File) Reopen() error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return nil
	}
	if err := a.flushLocked(); err != nil {
		return fmt.Errorf("audit: reopen log: %w (the events are held and retried)", err)
	}
	return a.currentLog()
}

// Close writes the buffered events, syncs and closes the files. It reports
// every event that could not be written, and a head file that could not be
// updated.
func (a *File) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	// What a burst held back is written before the log closes.
	a.closeBursts(time.Time{})
	a.closed = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	var errs []error
	if err := a.flushLocked(); err != nil {
		a.mu.Lock()
		n := bytes.Count(a.pending, []byte{'\n'})
		a.mu.Unlock()
		errs = append(errs, fmt.Errorf("audit: %d events could not be written to %s: %w", n, a.path, err))
	}
	a.mu.Lock()
	if a.dropped > 0 {
		errs = append(errs, fmt.Errorf("audit: %d events were lost: %w", a.dropped, a.dropErr))
	}
	a.mu.Unlock()
	if a.failed != nil {
		errs = append(errs, a.failed)
	}
	for _, f := range []*os.File{a.f, a.head} {
		if f == nil {
			continue
		}
		if a.wrote {
			if err := f.Sync(); err != nil {
				errs = append(errs, fmt.Errorf("audit: sync %s: %w", f.Name(), err))
			}
		}
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("audit: close %s: %w", f.Name(), err))
		}
	}
	a.f, a.head = nil, nil
	return errors.Join(errs...)
}
