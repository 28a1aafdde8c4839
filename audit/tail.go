package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// TailOptions configures [Tail].
type TailOptions struct {
	// Follow keeps reading as the log grows, across rotation, until the
	// context ends, as tail -F does.
	Follow bool
	// Poll is how often a followed log is checked for growth and
	// rotation; 0 means 250ms.
	Poll time.Duration
	// FromEnd skips the lines the log holds when Tail opens it, as tail
	// -f -n 0 does: only lines written afterwards are passed on (a line
	// being written at that moment counts as written afterwards). A log
	// that does not exist yet, or a new file after rotation, is read from
	// its start.
	FromEnd bool
}

// Tail calls fn with every complete line of the log at path (without its
// newline; the slice is valid only during the call), in order. With Follow
// it then waits for more lines: when the log is renamed (rotated) it reads
// the old file to its end and goes on with the new file at path from its
// start; when the log is truncated it starts again from the beginning. It
// returns nil when ctx ends, or fn's first error. A line longer than
// MaxLineSize is an error.
func Tail(ctx context.Context, path string, o TailOptions, fn func(line []byte) error) error {
	poll := o.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	wait := func() bool {
		t := time.NewTimer(poll)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	var f *os.File
	fromEnd := o.FromEnd // a log that appears later is read from its start
	for f == nil {
		var err error
		f, err = os.Open(path)
		if err == nil {
			break
		}
		if !o.Follow || !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("audit: %w", err)
		}
		fromEnd = false
		if !wait() {
			return nil
		}
	}
	defer func() { f.Close() }()
	t := &tailer{fn: fn, buf: make([]byte, 64<<10)}
	if fromEnd {
		off, err := endOfLastLine(f)
		if err != nil {
			return err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		t.off = off
	}
	for {
		if err := t.drain(f); err != nil {
			return err
		}
		if !o.Follow {
			return nil
		}
		if !wait() {
			return nil
		}
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if fi.Size() < t.off { // truncated in place (copytruncate)
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			t.off, t.partial = 0, t.partial[:0]
			continue
		}
		pi, err := os.Stat(path)
		if err != nil || os.SameFile(fi, pi) {
			continue // not rotated, or the new file is not there yet
		}
		// Rotated: finish the old file, then go on with the new one.
		if err := t.drain(f); err != nil {
			return err
		}
		nf, err := os.Open(path)
		if err != nil {
			continue
		}
		f.Close()
		f, t.off, t.partial = nf, 0, t.partial[:0]
	}
}

type tailer struct {
	fn      func([]byte) error
	buf     []byte
	partial []byte // an incomplete line read so far
	off     int64  // bytes read from the current file
}

// drain reads f to its current end, passing on complete lines.
func (t *tailer) drain(f *os.File) error {
	for {
		n, err := f.Read(t.buf)
		t.off += int64(n)
		chunk := t.buf[:n]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				if len(t.partial)+len(chunk) > MaxLineSize {
					return fmt.Errorf("audit: %s: a line longer than %d bytes: not an audit log", f.Name(), MaxLineSize)
				}
				t.partial = append(t.partial, chunk...)
				break
			}
			line := chunk[:i]
			if len(t.partial) > 0 {
				if len(t.partial)+i > MaxLineSize {
					return fmt.Errorf("audit: %s: a line longer than %d bytes: not an audit log", f.Name(), MaxLineSize)
				}
				t.partial = append(t.partial, line...)
				line = t.partial
			}
			if len(line) > MaxLineSize {
				return fmt.Errorf("audit: %s: a line longer than %d bytes: not an audit log", f.Name(), MaxLineSize)
			}
			if err := t.fn(line); err != nil {
				return err
			}
			t.partial = t.partial[:0]
			chunk = chunk[i+1:]
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("audit: read %s: %w", f.Name(), err)
		}
	}
}

// endOfLastLine returns the offset just after the last newline of f (0 if
// there is none), looking back at most MaxLineSize bytes: where the next
// line, or the one being written, starts.
func endOfLastLine(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	end := fi.Size()
	buf := make([]byte, 4096)
	for pos := end; pos > 0 && end-pos <= MaxLineSize; {
		n := int64(len(buf))
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("audit: read %s: %w", f.Name(), err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	if end > MaxLineSize {
		return end, nil // no newline near the end: not a log Tail can read anyway
	}
	return 0, nil
}
