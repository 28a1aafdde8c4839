package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds on channel request payloads.
const (
	maxCommandLen = 64 << 10
	maxEnvName    = 256
	maxEnvValue   = 4 << 10
	maxEnvVars    = 64
	maxTermLen    = 64
	maxTermModes  = 4 << 10
	maxWindowDim  = 10000
)

var errPayload = errors.New("agent: malformed channel request payload")

// reader reads the SSH data types of RFC 4251 §5.
type reader struct{ b []byte }

func (r *reader) uint32() (uint32, bool) {
	if len(r.b) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v, true
}

func (r *reader) bool() (bool, bool) {
	if len(r.b) < 1 {
		return false, false
	}
	v := r.b[0] != 0
	r.b = r.b[1:]
	return v, true
}

func (r *reader) string(max int) (string, bool) {
	n, ok := r.uint32()
	if !ok || n > uint32(max) || int(n) > len(r.b) {
		return "", false
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s, true
}

func (r *reader) done() bool { return len(r.b) == 0 }

// ptyRequest is "pty-req" (RFC 4254 §6.2).
type ptyRequest struct {
	Term                   string
	Cols, Rows, XPix, YPix uint32
	Modes                  string
}

// windowChange is "window-change" (RFC 4254 §6.7).
type windowChange struct {
	Cols, Rows, XPix, YPix uint32
}

// envRequest is "env" (RFC 4254 §6.4).
type envRequest struct{ Name, Value string }

func parsePtyRequest(b []byte) (*ptyRequest, error) {
	r := &reader{b}
	var p ptyRequest
	var ok [6]bool
	p.Term, ok[0] = r.string(maxTermLen)
	p.Cols, ok[1] = r.uint32()
	p.Rows, ok[2] = r.uint32()
	p.XPix, ok[3] = r.uint32()
	p.YPix, ok[4] = r.uint32()
	p.Modes, ok[5] = r.string(maxTermModes)
	if ok != [6]bool{true, true, true, true, true, true} || !r.done() {
		return nil, fmt.Errorf("%w: pty-req", errPayload)
	}
	if !printable(p.Term) {
		return nil, fmt.Errorf("%w: pty-req terminal type %q", errPayload, p.Term)
	}
	if p.Cols > maxWindowDim || p.Rows > maxWindowDim || p.XPix > 0xffff || p.YPix > 0xffff {
		return nil, fmt.Errorf("%w: pty-req window %dx%d", errPayload, p.Cols, p.Rows)
	}
	return &p, nil
}

func parseWindowChange(b []byte) (*windowChange, error) {
	r := &reader{b}
	var w windowChange
	var ok [4]bool
	w.Cols, ok[0] = r.uint32()
	w.Rows, ok[1] = r.uint32()
	w.XPix, ok[2] = r.uint32()
	w.YPix, ok[3] = r.uint32()
	if ok != [4]bool{true, true, true, true} || !r.done() {
		return nil, fmt.Errorf("%w: window-change", errPayload)
	}
	if w.Cols > maxWindowDim || w.Rows > maxWindowDim || w.XPix > 0xffff || w.YPix > 0xffff {
		return nil, fmt.Errorf("%w: window %dx%d", errPayload, w.Cols, w.Rows)
	}
	return &w, nil
}

func parseEnvRequest(b []byte) (*envRequest, error) {
	r := &reader{b}
	name, ok1 := r.string(maxEnvName)
	value, ok2 := r.string(maxEnvValue)
	if !ok1 || !ok2 || !r.done() {
		return nil, fmt.Errorf("%w: env", errPayload)
	}
	if name == "" || strings.ContainsAny(name, "=\x00") || strings.IndexByte(value, 0) >= 0 {
		return nil, fmt.Errorf("%w: env %q", errPayload, name)
	}
	return &envRequest{name, value}, nil
}

// parseString reads a payload that is one string: "exec" (RFC 4254
// §6.5), "signal" (§6.9). NUL is refused: no exec
// argument can carry one.
func parseString(b []byte, max int, what string) (string, error) {
	r := &reader{b}
	s, ok := r.string(max)
	if !ok || !r.done() {
		return "", fmt.Errorf("%w: %s", errPayload, what)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("%w: %s contains NUL", errPayload, what)
	}
	return s, nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// acceptedEnv reports whether a client may set the variable name:
// LANG, LC_*, TERM and HOP_* except the ones the agent sets.
func acceptedEnv(name string) bool {
	switch name {
	case "HOP_SESSION_ID", "HOP_CLIENT", "HOP_ENDPOINT":
		return false
	case "LANG", "TERM":
		return true
	}
	if strings.HasPrefix(name, "LC_") || strings.HasPrefix(name, "HOP_") {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
				return false
			}
		}
		return true
	}
	return false
}

// exitStatusPayload is "exit-status" (RFC 4254 §6.10).
func exitStatusPayload(code uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, code)
}

// exitSignalPayload is "exit-signal" (RFC 4254 §6.10): the signal name
// without "SIG", core dumped, an error message and a language tag.
func exitSignalPayload(sig string, core bool, msg string) []byte {
	b := appendString(nil, sig)
	if core {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, msg)
	return appendString(b, "")
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
