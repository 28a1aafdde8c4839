package kpasswd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file holds the framing of RFC 3244 §2 (and of the protocol it
// extends, draft-ietf-cat-kerb-chg-password-02 §2) and the result carried in
// a reply's KRB-PRIV or KRB-ERROR.

// Protocol version numbers (the second 16-bit field of a message).
const (
	// VersionChange is the original change-password protocol: the
	// KRB-PRIV's user-data is the new password. Replies carry it too, in
	// both protocols (RFC 3244 §2, "Reply Message").
	VersionChange uint16 = 0x0001
	// VersionSet is RFC 3244's set-password protocol: the user-data is a
	// ChangePasswdData, which may name another principal.
	VersionSet uint16 = 0xff80
)

// Size limits. The message length is a 16-bit field, so no message exceeds
// MaxMessageSize.
const (
	headerSize     = 6
	MaxMessageSize = 0xffff
	// maxResultLen bounds the result string of a reply.
	maxResultLen = 4096
)

// ErrMalformed is wrapped by the errors of ParseMessage and ParseResult.
var ErrMalformed = errors.New("kpasswd: malformed message")

// malformedError is a message that does not decode; why says how, in
// words a reply can carry.
type malformedError struct{ why string }

func (e *malformedError) Error() string { return ErrMalformed.Error() + ": " + e.why }

// Unwrap returns ErrMalformed.
func (e *malformedError) Unwrap() error { return ErrMalformed }

func malformed(format string, args ...any) error {
	return &malformedError{why: fmt.Sprintf(format, args...)}
}

// Message is a request or a reply:
//
//	message length (16 bits, the whole message) | version (16 bits)
//	AP length (16 bits) | AP-REQ or AP-REP | KRB-PRIV or KRB-ERROR
//
// with every field big-endian. When AP is empty, Body is a KRB-ERROR
// (in a reply; a request always has an AP-REQ).
type Message struct {
	Version uint16
	AP      []byte // AP-REQ (request) or AP-REP (reply)
	Body    []byte // KRB-PRIV, or KRB-ERROR when AP is empty
}

// ParseMessage decodes the framing of a request or a reply. The message
// length field must equal len(b), and the AP length must fit. Version is
// returned as sent, whatever its value. The result aliases b.
func ParseMessage(b []byte) (*Message, error) {
	if len(b) < headerSize {
		return nil, malformed("%d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	if n := int(binary.BigEndian.Uint16(b)); n != len(b) {
		return nil, malformed("the length field says %d bytes, the message has %d", n, len(b))
	}
	m := &Message{Version: binary.BigEndian.Uint16(b[2:])}
	apLen := int(binary.BigEndian.Uint16(b[4:]))
	rest := b[headerSize:]
	if apLen > len(rest) {
		return nil, malformed("the AP message length %d exceeds the %d bytes that follow", apLen, len(rest))
	}
	if apLen > 0 {
		m.AP = rest[:apLen:apLen]
	}
	if len(rest) > apLen {
		m.Body = rest[apLen:]
	}
	return m, nil
}

// Marshal encodes m.
func (m *Message) Marshal() ([]byte, error) {
	n := headerSize + len(m.AP) + len(m.Body)
	if n > MaxMessageSize {
		return nil, fmt.Errorf("kpasswd: message of %d bytes exceeds the 16-bit length field", n)
	}
	out := make([]byte, headerSize, n)
	binary.BigEndian.PutUint16(out, uint16(n))
	binary.BigEndian.PutUint16(out[2:], m.Version)
	binary.BigEndian.PutUint16(out[4:], uint16(len(m.AP)))
	out = append(out, m.AP...)
	return append(out, m.Body...), nil
}

// ResultCode is the result of a request (RFC 3244 §2; codes 0-4 come from
// the original protocol). It implements error, so that errors.Is can tell
// refusals apart.
type ResultCode uint16

// Result codes.
const (
	Success           ResultCode = 0 // KRB5_KPASSWD_SUCCESS
	Malformed         ResultCode = 1 // KRB5_KPASSWD_MALFORMED
	HardError         ResultCode = 2 // KRB5_KPASSWD_HARDERROR
	AuthError         ResultCode = 3 // KRB5_KPASSWD_AUTHERROR
	SoftError         ResultCode = 4 // KRB5_KPASSWD_SOFTERROR: a policy refused the password
	AccessDenied      ResultCode = 5 // KRB5_KPASSWD_ACCESSDENIED
	BadVersion        ResultCode = 6 // KRB5_KPASSWD_BAD_VERSION
	InitialFlagNeeded ResultCode = 7 // KRB5_KPASSWD_INITIAL_FLAG_NEEDED
)

var resultNames = [...]string{
	"KRB5_KPASSWD_SUCCESS", "KRB5_KPASSWD_MALFORMED", "KRB5_KPASSWD_HARDERROR",
	"KRB5_KPASSWD_AUTHERROR", "KRB5_KPASSWD_SOFTERROR", "KRB5_KPASSWD_ACCESSDENIED",
	"KRB5_KPASSWD_BAD_VERSION", "KRB5_KPASSWD_INITIAL_FLAG_NEEDED",
}

var resultWords = [...]string{
	"password changed", "the request was malformed", "the server could not process the request",
	"authentication failed", "the password was refused", "access denied",
	"unsupported protocol version", "a ticket obtained with the password (INITIAL) is needed",
}

// String returns the RFC's name of c ("KRB5_KPASSWD_SOFTERROR").
func (c ResultCode) String() string {
	if int(c) < len(resultNames) {
		return resultNames[c]
	}
	return fmt.Sprintf("KRB5_KPASSWD_%d", uint16(c))
}

// Error describes c in words.
func (c ResultCode) Error() string {
	if int(c) < len(resultWords) {
		return "kpasswd: " + resultWords[c]
	}
	return fmt.Sprintf("kpasswd: result code %d", uint16(c))
}

// Result is the outcome of a request: the result code and the server's
// explanation (UTF-8).
type Result struct {
	Code    ResultCode
	Message string
}

// Err returns nil for Success, and otherwise an error that wraps the code and
// says what the server said.
func (r Result) Err() error {
	if r.Code == Success {
		return nil
	}
	if r.Message == "" {
		return r.Code
	}
	return &resultError{r}
}

type resultError struct{ r Result }

func (e *resultError) Error() string { return e.r.Code.Error() + ": " + e.r.Message }
func (e *resultError) Unwrap() error { return e.r.Code }

// Marshal encodes r as the user-data of a reply's KRB-PRIV or the e-data of
// its KRB-ERROR: the code in 16 bits, big-endian, then the message. A message
// longer than 4 KiB is cut at a character boundary.
func (r Result) Marshal() []byte {
	msg := r.Message
	if len(msg) > maxResultLen {
		msg = msg[:maxResultLen]
		for len(msg) > 0 && !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
	}
	out := make([]byte, 2, 2+len(msg))
	binary.BigEndian.PutUint16(out, uint16(r.Code))
	return append(out, msg...)
}

// ParseResult decodes a result. A code outside 0-7 is malformed, as MIT's
// client has it; a message that is not UTF-8 has its invalid bytes replaced.
func ParseResult(b []byte) (Result, error) {
	if len(b) < 2 {
		return Result{}, malformed("a result needs 2 bytes, got %d", len(b))
	}
	c := ResultCode(binary.BigEndian.Uint16(b))
	if c > InitialFlagNeeded {
		return Result{}, malformed("unknown result code %d", uint16(c))
	}
	msg := b[2:]
	if len(msg) > maxResultLen {
		msg = msg[:maxResultLen]
	}
	return Result{Code: c, Message: strings.ToValidUTF8(string(msg), "\uFFFD")}, nil
}
