package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendEvent appends e as one JSON line, byte for byte what encoding/json's
// Encoder writes for it (the same fields, order, omissions and escaping,
// HTML characters included), without reflection: the KDC writes an event
// for every ticket, and this is most of what that costs. ok is false for
// an event whose times encoding/json would not encode the same way (a
// year outside 0-9999, an offset of seconds); the caller then uses
// encoding/json.
func appendEvent(dst []byte, e *Event) (out []byte, ok bool) {
	if !plainTime(e.Time) || !plainTime(e.Until) {
		return dst, false
	}
	dst = append(dst, '{')
	if e.Seq != 0 {
		dst = append(dst, `"seq":`...)
		dst = strconv.AppendUint(dst, e.Seq, 10)
		dst = append(dst, ',')
	}
	dst = field(dst, `"prev":`, e.Prev)
	dst = append(dst, `"time":"`...)
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","type":`...)
	dst = appendString(dst, e.Type)
	dst = append(dst, ',')
	dst = field(dst, `"client":`, e.Client)
	dst = field(dst, `"service":`, e.Service)
	dst = field(dst, `"addr":`, e.Addr)
	dst = field(dst, `"etype":`, e.EType)
	dst = field(dst, `"code":`, e.Code)
	dst = field(dst, `"reason":`, e.Reason)
	dst = field(dst, `"flags":`, e.Flags)
	if !e.Until.IsZero() {
		dst = append(dst, `"until":"`...)
		dst = e.Until.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `",`...)
	}
	dst = field(dst, `"actor":`, e.Actor)
	dst = field(dst, `"target":`, e.Target)
	if len(e.Changes) > 0 {
		dst = append(dst, `"changes":[`...)
		for i, c := range e.Changes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"field":`...)
			dst = appendString(dst, c.Field)
			dst = append(dst, ',')
			dst = field(dst, `"old":`, c.Old)
			dst = field(dst, `"new":`, c.New)
			dst = dst[:len(dst)-1] // the last comma
			dst = append(dst, '}')
		}
		dst = append(dst, `],`...)
	}
	dst[len(dst)-1] = '}' // the last comma
	return append(dst, '\n'), true
}

// plainTime: t is zero, or encoding/json writes it as AppendFormat with
// RFC3339Nano does (time.Time.MarshalJSON refuses years outside 0-9999 and
// offsets that are not whole minutes).
func plainTime(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	_, off := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && off%60 == 0
}

// field appends name and the string v and a comma, when v is not empty.
func field(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, name...)
	return append(appendString(dst, v), ',')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json escapes
// it: quotes, backslashes and control characters; <, > and & (HTML-safe);
// invalid UTF-8 as U+FFFD; U+2028 and U+2029.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
