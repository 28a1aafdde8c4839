package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// MaxLineSize bounds one line of an audit log, without its newline. Longer
// lines are not audit events; [File] never writes one.
const MaxLineSize = 1 << 20

// Genesis is the prev of the first line of a new chain: 64 zeros.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainState is the end of a chain: the seq and hash of its last line.
// seq 0 with a zero hash is the state before the first line.
type chainState struct {
	seq  uint64
	hash [sha256.Size]byte
}

func (s chainState) hex() string { return hex.EncodeToString(s.hash[:]) }

// lineHash is what the next line's prev holds: the SHA-256 of the line's
// bytes as they are on disk, without the newline.
func lineHash(line []byte) [sha256.Size]byte { return sha256.Sum256(line) }

// appendChained appends body (a JSON object encoded without seq and prev) as
// a line of the chain that ends at st, and returns the new end. The line is
// body with `"seq":N,"prev":"HEX",` inserted after its opening brace.
func appendChained(dst []byte, st chainState, body []byte) ([]byte, chainState) {
	start := len(dst)
	st.seq++
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, st.seq, 10)
	dst = append(dst, `,"prev":"`...)
	dst = hex.AppendEncode(dst, st.hash[:])
	dst = append(dst, `",`...)
	dst = append(dst, body[1:]...)
	st.hash = lineHash(dst[start:])
	return append(dst, '\n'), st
}

// LineError says why a line is not an audit event. Reason is the text a
// user sees after the line's place ("not a JSON object").
type LineError struct {
	Reason string
	Err    error // the JSON decoder's error, if that is the reason
}

func (e *LineError) Error() string { return "audit: " + e.Reason }
func (e *LineError) Unwrap() error { return e.Err }

func badLine(format string, args ...any) error {
	return &LineError{Reason: fmt.Sprintf(format, args...)}
}

// ParseLine decodes one line of an audit log (without its newline). It
// accepts chained lines (seq and prev both set) and the unchained lines of
// older hop versions (neither set); anything else, including a line longer
// than [MaxLineSize], is a *[LineError]. The line is untrusted input.
func ParseLine(line []byte) (Event, error) {
	var e Event
	if len(line) > MaxLineSize {
		return e, badLine("line of %d bytes is longer than %d: not an audit event", len(line), MaxLineSize)
	}
	if t := bytes.TrimLeft(line, " \t\r"); len(t) == 0 || t[0] != '{' {
		return e, badLine("not a JSON object")
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return Event{}, &LineError{Reason: "not an audit event: " + err.Error(), Err: err}
	}
	switch {
	case e.Seq == 0 && e.Prev == "":
	case e.Seq == 0 || e.Prev == "":
		return Event{}, badLine("a line with only one of seq and prev")
	case !isHash(e.Prev):
		return Event{}, badLine("prev is not 64 lower-case hex digits")
	}
	return e, nil
}

func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// The head file: one line "hop-audit-head v1 seq=N hash=HEX".
const (
	headMagic   = "hop-audit-head v1"
	maxHeadSize = 256
)

// HeadPath returns the head file of the log at path.
func HeadPath(path string) string { return path + ".head" }

func appendHead(dst []byte, st chainState) []byte {
	dst = append(dst, headMagic+" seq="...)
	dst = strconv.AppendUint(dst, st.seq, 10)
	dst = append(dst, " hash="...)
	dst = hex.AppendEncode(dst, st.hash[:])
	return append(dst, '\n')
}

// parseHead decodes a head file; ok is false for an empty one (no flush
// yet).
func parseHead(b []byte) (st chainState, ok bool, err error) {
	if len(b) == 0 {
		return st, false, nil
	}
	bad := errors.New("audit: the head file is damaged (not \"" + headMagic + " seq=N hash=HEX\")")
	if len(b) > maxHeadSize {
		return st, false, bad
	}
	rest, found := bytes.CutPrefix(b, []byte(headMagic+" seq="))
	if !found {
		return st, false, bad
	}
	num, rest, found := bytes.Cut(rest, []byte(" hash="))
	if !found || len(num) == 0 || len(num) > 20 || (num[0] == '0' && len(num) > 1) {
		return st, false, bad
	}
	seq, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil || seq == 0 {
		return st, false, bad
	}
	h, found := bytes.CutSuffix(rest, []byte("\n"))
	if !found || !isHash(string(h)) {
		return st, false, bad
	}
	st.seq = seq
	hex.Decode(st.hash[:], h)
	return st, true, nil
}
