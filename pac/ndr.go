package pac

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"

	"hop/sid"
)

// This file holds the parts of NDR ([MS-RPCE] §2.2.6, C706 chapter 14) that
// the PAC's NDR-encoded buffers use: type serialization version 1 headers,
// little-endian primitives aligned to their size, unique pointers numbered as
// Windows numbers them, conformant (varying) arrays, RPC_UNICODE_STRING and
// RPC_SID.

const (
	ndrHeaderLen  = 16         // common header (8) + private header (8)
	firstReferent = 0x00020000 // Windows' first referent ID
	maxSubAuths   = 15         // [MS-DTYP] §2.4.2
)

// ndrWriter builds one type-serialized NDR buffer. Alignment is relative to
// the start of the buffer, which is that of the stream since the headers
// take 16 bytes.
type ndrWriter struct {
	b   []byte
	ref uint32
}

func newNDRWriter(sizeHint int) *ndrWriter {
	w := &ndrWriter{b: make([]byte, ndrHeaderLen, ndrHeaderLen+sizeHint), ref: firstReferent}
	return w
}

func (w *ndrWriter) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *ndrWriter) u16(v uint16) {
	w.align(2)
	w.b = binary.LittleEndian.AppendUint16(w.b, v)
}

func (w *ndrWriter) u32(v uint32) {
	w.align(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

func (w *ndrWriter) zeros(n int) {
	w.b = append(w.b, make([]byte, n)...)
}

// ptr writes a unique pointer: the next referent ID, or 0 for null.
func (w *ndrWriter) ptr(present bool) {
	if !present {
		w.u32(0)
		return
	}
	w.u32(w.ref)
	w.ref += 4
}

// reserve sets aside n referent IDs and returns the first. Windows numbers
// the pointers embedded in an array (the SIDs of ExtraSids) right after the
// pointer to the array, before the pointers that follow it in the structure.
func (w *ndrWriter) reserve(n int) uint32 {
	first := w.ref
	w.ref += 4 * uint32(n)
	return first
}

// filetime writes a FILETIME (two little-endian DWORDs: the low part first).
func (w *ndrWriter) filetime(v uint64) {
	w.u32(uint32(v))
	w.u32(uint32(v >> 32))
}

// ustring is a string as RPC_UNICODE_STRING carries it.
type ustring []uint16

func toUTF16(s string) (ustring, error) {
	u := utf16.Encode([]rune(s))
	if 2*len(u) > maxNameLen {
		return nil, fmt.Errorf("string of %d UTF-16 code units is too long", len(u))
	}
	return u, nil
}

// stringHeader writes RPC_UNICODE_STRING's Length, MaximumLength (both in
// bytes) and Buffer pointer; the pointer is never null, as Windows writes
// empty strings. spare is how many UTF-16 units MaximumLength counts beyond
// Length: Windows leaves room for a terminating NUL (spare 1) in the
// LogonServer and LogonDomainName of KERB_VALIDATION_INFO, and none
// elsewhere.
func (w *ndrWriter) stringHeader(u ustring, spare int) {
	w.u16(uint16(2 * len(u)))
	w.u16(uint16(2 * (len(u) + spare)))
	w.ptr(true)
}

// stringBody writes the deferred conformant varying array of a string.
func (w *ndrWriter) stringBody(u ustring, spare int) {
	w.u32(uint32(len(u) + spare)) // MaximumCount
	w.u32(0)                      // Offset
	w.u32(uint32(len(u)))         // ActualCount
	for _, c := range u {
		w.b = binary.LittleEndian.AppendUint16(w.b, c)
	}
}

// sid writes an RPC_SID: its conformance (the sub-authority count) first.
func (w *ndrWriter) sid(s sid.SID) {
	b := s.Bytes()
	w.u32(uint32(b[1]))
	w.b = append(w.b, b...)
}

// groups writes a conformant array of GROUP_MEMBERSHIP.
func (w *ndrWriter) groups(g []GroupMembership) {
	w.u32(uint32(len(g)))
	for _, m := range g {
		w.u32(m.RID)
		w.u32(m.Attributes)
	}
}

// finish pads the stream to 8 bytes and fills in the headers ([MS-RPCE]
// §2.2.6.1 and §2.2.6.2).
func (w *ndrWriter) finish() ([]byte, error) {
	w.align(8)
	n := len(w.b) - ndrHeaderLen
	if uint64(n) > 0xFFFFFFFF {
		return nil, fmt.Errorf("NDR stream of %d bytes is too long", n)
	}
	h := w.b[:ndrHeaderLen]
	h[0] = 1    // Version
	h[1] = 0x10 // Endianness: little-endian
	binary.LittleEndian.PutUint16(h[2:], 8)
	binary.LittleEndian.PutUint32(h[4:], 0xCCCCCCCC) // Filler
	binary.LittleEndian.PutUint32(h[8:], uint32(n))  // ObjectBufferLength
	binary.LittleEndian.PutUint32(h[12:], 0)         // Filler
	return w.b, nil
}

// ndrReader decodes one type-serialized NDR buffer. Errors are sticky: after
// the first, every read returns zero values and err holds the cause.
type ndrReader struct {
	b   []byte
	off int
	err error
}

// newNDRReader checks the headers of a type-serialized buffer and returns a
// reader confined to its object buffer.
func newNDRReader(b []byte) (*ndrReader, error) {
	if len(b) < ndrHeaderLen {
		return nil, malformed("NDR buffer of %d bytes", len(b))
	}
	if b[0] != 1 {
		return nil, malformed("NDR type serialization version %d", b[0])
	}
	if b[1] != 0x10 {
		return nil, malformed("NDR stream is not little-endian (0x%02x)", b[1])
	}
	if l := binary.LittleEndian.Uint16(b[2:]); l != 8 {
		return nil, malformed("NDR common header length %d", l)
	}
	n := binary.LittleEndian.Uint32(b[8:])
	if uint64(n) > uint64(len(b)-ndrHeaderLen) {
		return nil, malformed("NDR object buffer of %d bytes in %d", n, len(b)-ndrHeaderLen)
	}
	return &ndrReader{b: b[:ndrHeaderLen+int(n)], off: ndrHeaderLen}, nil
}

func (r *ndrReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = malformed(format, args...)
	}
}

func (r *ndrReader) remaining() int { return len(r.b) - r.off }

func (r *ndrReader) align(n int) {
	if r.err != nil {
		return
	}
	a := (r.off + n - 1) / n * n
	if a > len(r.b) {
		r.fail("NDR stream ends at %d", len(r.b))
		return
	}
	r.off = a
}

func (r *ndrReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.fail("NDR stream ends at %d, need %d more bytes at %d", len(r.b), n, r.off)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *ndrReader) u16() uint16 {
	r.align(2)
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *ndrReader) u32() uint32 {
	r.align(4)
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *ndrReader) filetime() uint64 {
	lo := r.u32()
	hi := r.u32()
	return uint64(hi)<<32 | uint64(lo)
}

// ptr reads a unique pointer and reports whether it is non-null.
func (r *ndrReader) ptr() bool { return r.u32() != 0 }

// count reads the conformance of an array whose elements take at least
// elemSize bytes, and checks that so many elements can fit in what is left,
// so that nothing is allocated for counts the input cannot back.
func (r *ndrReader) count(elemSize int) int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if uint64(n)*uint64(elemSize) > uint64(r.remaining()) {
		r.fail("NDR array of %d elements in %d bytes", n, r.remaining())
		return 0
	}
	return int(n)
}

// stringHeader is the fixed part of an RPC_UNICODE_STRING.
type stringHeader struct {
	length, maxLength uint16
	present           bool
}

func (r *ndrReader) stringHeader() stringHeader {
	return stringHeader{length: r.u16(), maxLength: r.u16(), present: r.ptr()}
}

// stringBody reads the deferred conformant varying array of h. The array
// must match the header's lengths, as Samba's NDR code requires too.
func (r *ndrReader) stringBody(h stringHeader) string {
	if !h.present || r.err != nil {
		return ""
	}
	if h.length%2 != 0 || h.maxLength%2 != 0 || h.length > h.maxLength {
		r.fail("RPC_UNICODE_STRING lengths %d/%d", h.length, h.maxLength)
		return ""
	}
	maxCount := r.u32()
	offset := r.u32()
	actual := r.u32()
	if r.err != nil {
		return ""
	}
	if maxCount != uint32(h.maxLength/2) || offset != 0 || actual != uint32(h.length/2) {
		r.fail("RPC_UNICODE_STRING array %d/%d/%d does not match lengths %d/%d", maxCount, offset, actual, h.length, h.maxLength)
		return ""
	}
	b := r.bytes(2 * int(actual))
	if b == nil {
		return ""
	}
	return decodeUTF16(b)
}

// sid reads an RPC_SID.
func (r *ndrReader) sid() sid.SID {
	n := r.u32()
	hdr := r.bytes(8)
	if r.err != nil {
		return sid.SID{}
	}
	if hdr[0] != 1 || uint32(hdr[1]) != n || n > maxSubAuths {
		r.fail("RPC_SID revision %d with %d/%d sub-authorities", hdr[0], hdr[1], n)
		return sid.SID{}
	}
	subs := r.bytes(4 * int(n))
	if r.err != nil {
		return sid.SID{}
	}
	s, err := sid.ParseBytes(append(append([]byte(nil), hdr...), subs...))
	if err != nil {
		r.fail("RPC_SID: %v", err)
		return sid.SID{}
	}
	return s
}

// groups reads a conformant array of GROUP_MEMBERSHIP holding want elements.
func (r *ndrReader) groups(want uint32) []GroupMembership {
	n := r.count(8)
	if r.err != nil {
		return nil
	}
	if uint32(n) != want {
		r.fail("GROUP_MEMBERSHIP array of %d elements, count says %d", n, want)
		return nil
	}
	if n == 0 {
		return nil
	}
	g := make([]GroupMembership, n)
	for i := range g {
		g[i] = GroupMembership{RID: r.u32(), Attributes: r.u32()}
	}
	return g
}

func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func appendUTF16(b []byte, u ustring) []byte {
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// FILETIME: 100-nanosecond intervals since 1601-01-01 UTC ([MS-DTYP] §2.3.3).
const (
	fileTimeNever     = 0x7FFFFFFFFFFFFFFF
	epochDelta        = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	ticksPerSecond    = 10000000
	maxFileTimeSecond = (1<<64 - 1) / ticksPerSecond
)

// toFileTime converts t; the zero time is "never".
func toFileTime(t time.Time) (uint64, error) {
	if t.IsZero() {
		return fileTimeNever, nil
	}
	s := t.Unix() + epochDelta
	if s < 0 || uint64(s) >= maxFileTimeSecond {
		return 0, fmt.Errorf("time %v is outside the FILETIME range", t)
	}
	return uint64(s)*ticksPerSecond + uint64(t.Nanosecond()/100), nil
}

// fromFileTime converts a FILETIME; "never" is the zero time.
func fromFileTime(v uint64) time.Time {
	if v == fileTimeNever {
		return time.Time{}
	}
	return time.Unix(int64(v/ticksPerSecond)-epochDelta, int64(v%ticksPerSecond)*100).UTC()
}
