package kpasswd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// The framing of RFC 3244 §2, written out by hand: length, version, AP
// length, AP message, body.
func TestParseMessage(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		want    *Message
		wantErr string
	}{
		{"change request", unhex("000b 0001 0002 6e01 7502 00"),
			&Message{Version: VersionChange, AP: []byte{0x6e, 0x01}, Body: []byte{0x75, 0x02, 0x00}}, ""},
		{"set request", unhex("000a ff80 0001 6e 7501 00"),
			&Message{Version: VersionSet, AP: []byte{0x6e}, Body: []byte{0x75, 0x01, 0x00}}, ""},
		{"framed KRB-ERROR reply", unhex("0008 0001 0000 7e00"),
			&Message{Version: VersionChange, Body: []byte{0x7e, 0x00}}, ""},
		{"header only", unhex("0006 0001 0000"), &Message{Version: VersionChange}, ""},
		{"unknown version kept", unhex("0007 0002 0001 6e"), &Message{Version: 2, AP: []byte{0x6e}}, ""},
		{"AP fills the rest", unhex("0008 0001 0002 6e00"), &Message{Version: VersionChange, AP: []byte{0x6e, 0x00}}, ""},
		{"empty", nil, nil, "shorter than the 6-byte header"},
		{"five bytes", unhex("0005 0001 00"), nil, "shorter than the 6-byte header"},
		{"length too small", unhex("0006 0001 0001 6e"), nil, "says 6 bytes, the message has 7"},
		{"length too large", unhex("0100 0001 0000 7e00"), nil, "says 256 bytes, the message has 8"},
		{"AP length past the end", unhex("0008 0001 0003 6e00"), nil, "AP message length 3 exceeds the 2 bytes"},
		{"AP length ffff", unhex("0007 0001 ffff 6e"), nil, "AP message length 65535"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage(tc.b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("parsed %+v, want %+v", m, tc.want)
			}
			out, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, tc.b) {
				t.Fatalf("marshal % x, want % x", out, tc.b)
			}
		})
	}
}

func TestMarshalMessageTooLong(t *testing.T) {
	m := &Message{Version: VersionSet, AP: make([]byte, 40000), Body: make([]byte, 25529)}
	if _, err := m.Marshal(); err != nil {
		t.Fatalf("65535 bytes in all: %v", err)
	}
	m.Body = append(m.Body, 0)
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "16-bit length") {
		t.Fatalf("err = %v, want a length error", err)
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		want    Result
		wantErr string
	}{
		{"success, no text", unhex("0000"), Result{Code: Success}, ""},
		{"soft error", append(unhex("0004"), "too short"...), Result{Code: SoftError, Message: "too short"}, ""},
		{"initial flag needed", unhex("0007"), Result{Code: InitialFlagNeeded}, ""},
		{"UTF-8 kept", append(unhex("0005"), "für"...), Result{Code: AccessDenied, Message: "für"}, ""},
		{"invalid UTF-8 replaced", unhex("0002 41ff42"), Result{Code: HardError, Message: "A\uFFFDB"}, ""},
		{"code 8", unhex("0008"), Result{}, "unknown result code 8"},
		{"code 0xffff", unhex("ffff"), Result{}, "unknown result code 65535"},
		{"one byte", unhex("00"), Result{}, "needs 2 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResult(tc.b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || r != tc.want {
				t.Fatalf("ParseResult = %+v, %v; want %+v", r, err, tc.want)
			}
			if utf8.Valid(tc.b[2:]) {
				if out := r.Marshal(); !bytes.Equal(out, tc.b) {
					t.Fatalf("Marshal = % x, want % x", out, tc.b)
				}
			}
		})
	}
}

func TestResultMarshalBounded(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	out := Result{Code: SoftError, Message: long}.Marshal()
	if len(out) > 2+maxResultLen {
		t.Fatalf("%d bytes, want at most %d", len(out), 2+maxResultLen)
	}
	r, err := ParseResult(out)
	if err != nil || strings.ContainsRune(r.Message, '\uFFFD') || !strings.HasPrefix(long, r.Message) {
		t.Fatalf("cut message is not a valid prefix: %v", err)
	}
}

func TestResultErr(t *testing.T) {
	if err := (Result{Code: Success, Message: "ok"}).Err(); err != nil {
		t.Fatalf("Success.Err() = %v", err)
	}
	err := Result{Code: SoftError, Message: "the new password has 5 characters"}.Err()
	if !errors.Is(err, SoftError) || errors.Is(err, AccessDenied) {
		t.Fatalf("errors.Is fails for %v", err)
	}
	if got := err.Error(); got != "kpasswd: the password was refused: the new password has 5 characters" {
		t.Fatalf("Error() = %q", got)
	}
	if got := (Result{Code: InitialFlagNeeded}).Err(); got != InitialFlagNeeded {
		t.Fatalf("Err() = %v", got)
	}
	for c, name := range map[ResultCode]string{Success: "KRB5_KPASSWD_SUCCESS", Malformed: "KRB5_KPASSWD_MALFORMED",
		HardError: "KRB5_KPASSWD_HARDERROR", AuthError: "KRB5_KPASSWD_AUTHERROR", SoftError: "KRB5_KPASSWD_SOFTERROR",
		AccessDenied: "KRB5_KPASSWD_ACCESSDENIED", BadVersion: "KRB5_KPASSWD_BAD_VERSION",
		InitialFlagNeeded: "KRB5_KPASSWD_INITIAL_FLAG_NEEDED", 9: "KRB5_KPASSWD_9"} {
		if c.String() != name {
			t.Errorf("%d.String() = %q, want %q", uint16(c), c.String(), name)
		}
	}
}
