package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// VerifyResult describes a log whose chain holds.
type VerifyResult struct {
	// Events is the number of chained lines checked, from FirstSeq to
	// LastSeq.
	Events            int
	FirstSeq, LastSeq uint64
	// Unchained counts the lines written before the log was chained (by
	// hop versions without seq and prev); they cannot be verified.
	Unchained int
	// Continued: the first chained line continues a chain from a file
	// that was not given (a rotated log), or the lines before it were
	// deleted; the two cannot be told apart.
	Continued bool
	// Head is what the head file says: HeadOK, HeadMissing or HeadBehind.
	Head    HeadState
	HeadSeq uint64
	// Gaps counts the audit.gap events: places where the writer lost
	// events it could not write; Lost is how many it lost in all.
	Gaps, Lost int
}

// HeadState is how the head file compares with the end of the log.
type HeadState int

const (
	// HeadOK: the head records the log's last line.
	HeadOK HeadState = iota
	// HeadMissing: there is no head file (or it was never written), so the
	// deletion of the last lines cannot be detected.
	HeadMissing
	// HeadBehind: the log has lines after the one the head records — a
	// writer stopped between writing the log and its head.
	HeadBehind
)

// Summary is the one-line report of a verified log, followed by notes on
// what could not be checked.
func (r *VerifyResult) Summary() string {
	var b strings.Builder
	if r.Events == 0 {
		b.WriteString("audit log OK: no events")
	} else {
		fmt.Fprintf(&b, "audit log OK: %d events, seq %d..%d", r.Events, r.FirstSeq, r.LastSeq)
	}
	if r.Unchained > 0 {
		fmt.Fprintf(&b, "\nnote: the first %d lines are not chained (written by a hop that did not chain its log); they cannot be verified", r.Unchained)
	}
	if r.Continued {
		fmt.Fprintf(&b, "\nnote: the log starts at seq %d, continuing a chain from an earlier file: give the rotated files first to check them too (if there are none, lines 1..%d were deleted)", r.FirstSeq, r.FirstSeq-1)
	}
	if r.Gaps > 0 {
		fmt.Fprintf(&b, "\nnote: %d gap(s): %d events were lost when the log could not be written (hop audit --type %s shows when and which)", r.Gaps, r.Lost, TypeGap)
	}
	switch r.Head {
	case HeadMissing:
		b.WriteString("\nnote: no head file: the deletion of the last lines cannot be detected")
	case HeadBehind:
		fmt.Fprintf(&b, "\nnote: the head file records seq %d, before the last line: a writer stopped between writing the log and its head (the next write updates it)", r.HeadSeq)
	}
	return b.String()
}

// ChainError names the first line at which a log fails verification.
type ChainError struct {
	File string
	Line int    // 1-based, in File; 0 when the problem is not one line
	Seq  uint64 // the seq of that line, 0 if it has none
	Msg  string // what is wrong, e.g. "edited — its hash does not match line 43's prev"
}

func (e *ChainError) Error() string {
	switch {
	case e.Line == 0:
		return e.File + ": " + e.Msg
	case e.Seq == 0:
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: line %d (seq %d): %s", e.File, e.Line, e.Seq, e.Msg)
}

// ErrNotChained is returned (wrapped, in a *[NotChainedError]) by Verify
// for a log without any chained line.
var ErrNotChained = errors.New("audit: the log is not chained")

// NotChainedError is Verify's error for a log whose lines were all written
// by a hop that did not chain its log.
type NotChainedError struct {
	Unchained int // how many lines there are
}

func (e *NotChainedError) Error() string { return ErrNotChained.Error() + ": " + e.Reason() }

// Reason says what is wrong, without the "log is not chained" heading.
func (e *NotChainedError) Reason() string {
	return fmt.Sprintf("its %d line(s) were written by a hop that did not chain its log (no seq and prev); they cannot be verified", e.Unchained)
}

func (e *NotChainedError) Unwrap() error { return ErrNotChained }

// Verify checks the chain of the log files given in order (rotated files
// first, the current log last) and compares its end with the head file of
// the last one. It returns a *ChainError naming the first bad line, or an
// error wrapping ErrNotChained when no line is chained. Lines appended
// while it runs are not checked.
func Verify(paths ...string) (*VerifyResult, error) { return VerifyEach(nil, paths...) }

// VerifyEach is Verify that also gives each event of the log, in order, to
// each (when not nil), once its line has been checked.
func VerifyEach(each func(*Event), paths ...string) (*VerifyResult, error) {
	if len(paths) == 0 {
		return nil, errors.New("audit: no log file given")
	}
	files := make([]*os.File, len(paths))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		files[i] = f
	}
	// Under the writers' lock, read the head and note how far the files
	// go, so that the head and the lines are one consistent state.
	sizes := make([]int64, len(paths))
	head, haveHead, err := func() (chainState, bool, error) {
		h, err := os.Open(HeadPath(paths[len(paths)-1]))
		if errors.Is(err, os.ErrNotExist) {
			return chainState{}, false, statAll(files, sizes)
		}
		if err != nil {
			return chainState{}, false, fmt.Errorf("audit: %w", err)
		}
		defer h.Close()
		if err := flock(h, false); err != nil {
			return chainState{}, false, err
		}
		defer funlock(h)
		st, ok, err := readHead(h)
		if err != nil {
			return st, ok, err
		}
		return st, ok, statAll(files, sizes)
	}()
	if err != nil {
		return nil, err
	}
	v := &verifier{each: each}
	for i, f := range files {
		if err := v.read(paths[i], io.LimitReader(f, sizes[i])); err != nil {
			return nil, err
		}
	}
	var hp *chainState
	if haveHead {
		hp = &head
	}
	return v.finish(hp)
}

func statAll(files []*os.File, sizes []int64) error {
	for i, f := range files {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		sizes[i] = fi.Size()
	}
	return nil
}

// verifier checks lines as they come, file after file.
type verifier struct {
	res     VerifyResult
	chained bool // a chained line was seen
	started bool // any line was seen
	prev    chainState
	prevAt  lineRef
	file    string // the file being (or last) read
	each    func(*Event)
}

type lineRef struct {
	file string
	line int
}

func (r lineRef) in(other lineRef) string {
	if r.file == other.file {
		return fmt.Sprintf("line %d", r.line)
	}
	return fmt.Sprintf("%s line %d", r.file, r.line)
}

// file checks the lines read from r, the contents of the named file.
func (v *verifier) read(name string, r io.Reader) error {
	v.file = name
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= MaxLineSize+1 {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			if len(long) > MaxLineSize+1 {
				return &ChainError{File: name, Line: n, Msg: fmt.Sprintf("longer than %d bytes: not an audit line", MaxLineSize)}
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("audit: read %s: %w", name, err)
		}
		if len(line) == 0 {
			return nil
		}
		if line[len(line)-1] != '\n' {
			return &ChainError{File: name, Line: n, Msg: "incomplete last line (no newline): a write was cut short, or the line was edited"}
		}
		if err := v.line(lineRef{name, n}, line[:len(line)-1]); err != nil {
			return err
		}
	}
}

func (v *verifier) line(at lineRef, line []byte) error {
	e, err := ParseLine(line)
	var le *LineError
	if errors.As(err, &le) {
		return &ChainError{File: at.file, Line: at.line, Msg: le.Reason}
	} else if err != nil {
		return err
	}
	h := lineHash(line)
	if e.Seq == 0 {
		if v.chained {
			return &ChainError{File: at.file, Line: at.line, Msg: "not chained (no seq and prev) although earlier lines are: inserted, or written by a hop that does not chain"}
		}
		v.res.Unchained++
		v.started, v.prev, v.prevAt = true, chainState{0, h}, at
		if v.each != nil {
			v.each(&e)
		}
		return nil
	}
	bad := func(line int, seq uint64, msg string) error {
		return &ChainError{File: at.file, Line: line, Seq: seq, Msg: msg}
	}
	var prevHash [sha256.Size]byte
	hex.Decode(prevHash[:], []byte(e.Prev))
	switch {
	case !v.started:
		if e.Prev == Genesis {
			if e.Seq != 1 {
				return bad(at.line, e.Seq, "edited — the first line of a log has seq 1")
			}
		} else {
			v.res.Continued = true
		}
	case subtle.ConstantTimeCompare(prevHash[:], v.prev.hash[:]) != 1:
		switch {
		case e.Seq == v.prev.seq+1:
			return &ChainError{File: v.prevAt.file, Line: v.prevAt.line, Seq: v.prev.seq,
				Msg: fmt.Sprintf("edited — its hash does not match %s's prev", at.in(v.prevAt))}
		case e.Seq > v.prev.seq+1:
			return bad(at.line, e.Seq, fmt.Sprintf("seq jumps from %d to %d: line(s) deleted", v.prev.seq, e.Seq))
		default:
			return bad(at.line, e.Seq, fmt.Sprintf("seq %d follows seq %d: lines repeated or reordered", e.Seq, v.prev.seq))
		}
	case e.Seq != v.prev.seq+1:
		return bad(at.line, e.Seq, fmt.Sprintf("edited — its prev matches the line before, whose seq is %d", v.prev.seq))
	}
	if !v.chained {
		v.res.FirstSeq = e.Seq
	}
	if e.Type == TypeGap {
		v.res.Gaps++
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Flags, "lost=")); err == nil {
			v.res.Lost += n
		}
	}
	v.chained, v.started = true, true
	v.res.Events++
	v.res.LastSeq = e.Seq
	v.prev, v.prevAt = chainState{e.Seq, h}, at
	if v.each != nil {
		v.each(&e)
	}
	return nil
}

// finish compares the end of the chain with the head (nil: no head file).
func (v *verifier) finish(head *chainState) (*VerifyResult, error) {
	res := v.res
	if head == nil {
		res.Head = HeadMissing
	} else {
		res.HeadSeq = head.seq
	}
	if !v.chained {
		if head != nil && head.seq > 0 {
			return nil, &ChainError{File: v.file, Msg: fmt.Sprintf("the log holds no chained line but the head records seq %d: its lines were deleted (if it was just rotated, give the rotated files first)", head.seq)}
		}
		if res.Unchained > 0 {
			return nil, &NotChainedError{Unchained: res.Unchained}
		}
		return &res, nil
	}
	if head == nil {
		return &res, nil
	}
	switch {
	case head.seq > v.prev.seq:
		return nil, &ChainError{File: v.prevAt.file, Msg: fmt.Sprintf("the log ends at seq %d but the head records seq %d: the last lines were deleted", v.prev.seq, head.seq)}
	case head.seq == v.prev.seq && subtle.ConstantTimeCompare(head.hash[:], v.prev.hash[:]) != 1:
		return nil, &ChainError{File: v.prevAt.file, Line: v.prevAt.line, Seq: v.prev.seq, Msg: "edited — its hash does not match the head file's"}
	case head.seq < v.prev.seq:
		res.Head = HeadBehind
	}
	return &res, nil
}

// verifyBytes runs the verifier over one file's contents (for fuzzing).
func verifyBytes(data []byte, head *chainState) (*VerifyResult, error) {
	v := &verifier{}
	if err := v.read("log", bytes.NewReader(data)); err != nil {
		return nil, err
	}
	return v.finish(head)
}
