package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// This file holds the DER encoding primitives, on cryptobyte.Builder.
// They write DER only: minimal lengths and integers, BOOLEAN TRUE as 0xFF,
// KerberosFlags as 32 bits, KerberosTime as "YYYYMMDDHHMMSSZ" in UTC and
// KerberosString as GeneralString.

func explicit(n int) asn1.Tag { return asn1.Tag(n).ContextSpecific().Constructed() }

func application(n int) asn1.Tag { return asn1.Tag(0x60 | n) }

// addApplication writes [APPLICATION n] SEQUENCE { f }.
func addApplication(b *cryptobyte.Builder, n int, f cryptobyte.BuilderContinuation) {
	b.AddASN1(application(n), func(b *cryptobyte.Builder) { b.AddASN1(asn1.SEQUENCE, f) })
}

// addRaw writes raw, which must be a single element of tag want.
func addRaw(b *cryptobyte.Builder, raw []byte, want tag, what string) {
	s := cryptobyte.String(raw)
	var t tag
	var c, full cryptobyte.String
	if !readTLV(&s, &t, &c, &full) || t != want || !s.Empty() {
		b.SetError(fmt.Errorf("%s is not a single %v element", what, want))
		return
	}
	b.AddBytes(raw)
}

// Leaf fields ([n] EXPLICIT around a primitive) are written as bytes with
// headers computed here rather than through nested AddASN1 calls: each of
// those costs cryptobyte a child Builder allocation, and leaves are most
// of a message.

// appendHeader appends a DER identifier octet and the minimal length.
func appendHeader(dst []byte, id byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, id, byte(n))
	case n < 0x100:
		return append(dst, id, 0x81, byte(n))
	case n < 0x10000:
		return append(dst, id, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(dst, id, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, id, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// idSequence is the identifier octet of a SEQUENCE.
const idSequence = 0x30

const maxLeaf = 1<<31 - 64 // keeps every length within four octets

// addLeafHeaders writes the headers of [n] EXPLICIT { id <size bytes> };
// the caller writes the contents.
func addLeafHeaders(b *cryptobyte.Builder, n int, id byte, size int) bool {
	if size > maxLeaf {
		b.SetError(fmt.Errorf("field [%d] is too long", n))
		return false
	}
	var buf [12]byte
	inner := appendHeader(buf[6:6], id, size)
	outer := appendHeader(buf[:0], 0xa0|byte(n), len(inner)+size)
	b.AddBytes(outer)
	b.AddBytes(inner)
	return true
}

// addLeaf writes [n] EXPLICIT { id contents }.
func addLeaf(b *cryptobyte.Builder, n int, id byte, contents []byte) {
	if addLeafHeaders(b, n, id, len(contents)) {
		b.AddBytes(contents)
	}
}

// tlvLen is the size of an element with n bytes of contents (one
// identifier octet).
func tlvLen(n int) int {
	switch {
	case n < 0x80:
		return 2 + n
	case n < 0x100:
		return 3 + n
	case n < 0x10000:
		return 4 + n
	case n < 0x1000000:
		return 5 + n
	}
	return 6 + n
}

// intLen is the size of the minimal encoding of v.
func intLen(v int64) int {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	return n
}

// appendInt appends the minimal two's complement encoding of v.
func appendInt(dst []byte, v int64) []byte {
	for i := intLen(v) - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

func addInt(b *cryptobyte.Builder, n int, v int64) {
	var buf [9]byte
	addLeaf(b, n, byte(tagInteger), appendInt(buf[:0], v))
}

// addUint writes a UInt32 as a non-negative INTEGER.
func addUint(b *cryptobyte.Builder, n int, v uint32) { addInt(b, n, int64(v)) }

func addOctets(b *cryptobyte.Builder, n int, v []byte) { addLeaf(b, n, byte(tagOctetString), v) }

func addBool(b *cryptobyte.Builder, n int, v bool) {
	c := [1]byte{0}
	if v {
		c[0] = 0xff
	}
	addLeaf(b, n, byte(tagBoolean), c[:])
}

// addFlags writes KerberosFlags as 32 bits.
func addFlags(b *cryptobyte.Builder, n int, f krb5.Flags) {
	c := [5]byte{0, byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	addLeaf(b, n, byte(tagBitString), c[:])
}

// addStringBytes writes s through a stack buffer: converting it to a
// []byte would allocate.
func addStringBytes(b *cryptobyte.Builder, s string) {
	var chunk [64]byte
	for len(s) > 0 {
		k := copy(chunk[:], s)
		b.AddBytes(chunk[:k])
		s = s[k:]
	}
}

// addGeneralString writes a GeneralString element (no explicit tag).
func addGeneralString(b *cryptobyte.Builder, s string) {
	var buf [6]byte
	b.AddBytes(appendHeader(buf[:0], byte(tagGeneralString), len(s)))
	addStringBytes(b, s)
}

// addString writes [n] EXPLICIT KerberosString.
func addString(b *cryptobyte.Builder, n int, s string) {
	if addLeafHeaders(b, n, byte(tagGeneralString), len(s)) {
		addStringBytes(b, s)
	}
}

func addRealm(b *cryptobyte.Builder, n int, r krb5.Realm) {
	if len(r) > maxRealmLen {
		b.SetError(fmt.Errorf("realm longer than %d bytes", maxRealmLen))
		return
	}
	addString(b, n, string(r))
}

// addTime writes a KerberosTime, whole seconds in UTC.
func addTime(b *cryptobyte.Builder, n int, t time.Time) {
	t = t.UTC()
	year := t.Year()
	if year < 0 || year > 9999 {
		b.SetError(fmt.Errorf("time %v outside KerberosTime's years 0000-9999", t))
		return
	}
	var buf [15]byte
	put := func(i, v, w int) {
		for j := i + w - 1; j >= i; j-- {
			buf[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	put(4, int(t.Month()), 2)
	put(6, t.Day(), 2)
	put(8, t.Hour(), 2)
	put(10, t.Minute(), 2)
	put(12, t.Second(), 2)
	buf[14] = 'Z'
	addLeaf(b, n, byte(tagGeneralizedTime), buf[:])
}

// addOptTime writes t when it is not the zero time.
func addOptTime(b *cryptobyte.Builder, n int, t time.Time) {
	if !t.IsZero() {
		addTime(b, n, t)
	}
}

// checkCount fails the builder when a SEQUENCE OF would exceed its bound.
func checkCount(b *cryptobyte.Builder, what string, n, max int) bool {
	if n > max {
		b.SetError(fmt.Errorf("%s has %d entries, more than %d", what, n, max))
		return false
	}
	return true
}

// finish returns the bytes of b; errors set while building are named
// once here.
func finish(b *cryptobyte.Builder, what string) ([]byte, error) {
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("wire: marshal %s: %w", what, err)
	}
	return out, nil
}

// newBuilder returns a builder with room for about n bytes.
func newBuilder(n int) *cryptobyte.Builder {
	return cryptobyte.NewBuilder(make([]byte, 0, n))
}
