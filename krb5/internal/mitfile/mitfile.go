// Package mitfile reads and writes the fields that MIT krb5's binary file
// formats share: the credential cache (FILE: ccache, ccache_file_format.rst)
// and the keytab (keytab_file_format.rst). Both are sequences of fixed-size
// integers and counted octet strings; the formats around them stay in
// krb5/ccache and krb5/keytab. Every length read from a file is checked
// against the bytes left and against a bound the caller gives.
package mitfile

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Reader walks the fields of a byte slice in one byte order. Its first
// failure sticks: a parser reads a whole record and checks Err once, and
// every read after a failure returns a zero value.
type Reader struct {
	b     []byte
	order binary.ByteOrder
	err   error
}

// NewReader returns a Reader of b in the byte order order.
func NewReader(b []byte, order binary.ByteOrder) *Reader {
	return &Reader{b: b, order: order}
}

// Err returns the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns the number of bytes left.
func (r *Reader) Len() int { return len(r.b) }

// Fail records a failure unless one is recorded already.
func (r *Reader) Fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// Bytes reads n bytes; the result aliases the input and has no spare
// capacity. what names the field in the error.
func (r *Reader) Bytes(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.Fail("%s: truncated", what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Sub reads n bytes and returns a Reader of them in the same byte order.
func (r *Reader) Sub(n uint64, what string) *Reader {
	return &Reader{b: r.Bytes(n, what), order: r.order}
}

// U8 reads one byte.
func (r *Reader) U8(what string) uint8 {
	if b := r.Bytes(1, what); b != nil {
		return b[0]
	}
	return 0
}

// U16 reads a 16-bit number.
func (r *Reader) U16(what string) uint16 {
	if b := r.Bytes(2, what); b != nil {
		return r.order.Uint16(b)
	}
	return 0
}

// U32 reads a 32-bit number.
func (r *Reader) U32(what string) uint32 {
	if b := r.Bytes(4, what); b != nil {
		return r.order.Uint32(b)
	}
	return 0
}

// Data32 reads a string counted by 32 bits, of at most limit bytes, as a
// credential cache stores them, and returns a copy; an empty string reads
// as nil.
func (r *Reader) Data32(what string, limit int) []byte {
	n := r.U32(what + " length")
	if r.err == nil && uint64(n) > uint64(limit) {
		r.Fail("%s is %d bytes, more than %d", what, n, limit)
	}
	b := r.Bytes(uint64(n), what)
	if len(b) == 0 {
		return nil // absent and empty read alike, as nil
	}
	return append([]byte(nil), b...)
}

// Data16 reads a string counted by 16 bits, of 1 to limit bytes, as a
// keytab stores them. The result aliases the input.
func (r *Reader) Data16(what string, limit int) []byte {
	n := int(r.U16(what + " length"))
	if r.err != nil {
		return nil
	}
	if n == 0 || n > limit {
		r.Fail("%s length %d is outside 1..%d", what, n, limit)
		return nil
	}
	return r.Bytes(uint64(n), what)
}

// Count reads a 32-bit element count, each element taking at least size
// bytes, and fails when that many elements cannot fit in what is left.
func (r *Reader) Count(what string, size int) int {
	n := r.U32(what + " count")
	if r.err == nil && uint64(n)*uint64(size) > uint64(len(r.b)) {
		r.Fail("%d %s do not fit in the %d bytes left", n, what, len(r.b))
		return 0
	}
	return int(n)
}

// FromUnix32 turns a stored time (seconds since 1970, unsigned, as MIT
// reads them) into a time.Time; 0 means absent.
func FromUnix32(s uint32) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

// ToUnix32 is the inverse of FromUnix32; sub-second parts are dropped. The
// error, for a time outside 1970..2106, calls t what ("time", "timestamp").
func ToUnix32(what string, t time.Time) (uint32, error) {
	if t.IsZero() {
		return 0, nil
	}
	s := t.Unix()
	if s < 0 || s > math.MaxUint32 {
		return 0, fmt.Errorf("%s %s is outside 1970..2106", what, t.UTC().Format(time.RFC3339))
	}
	return uint32(s), nil
}
