package keytab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"hop/krb5"
	"hop/krb5/internal/mitfile"
)

// File format versions (the two bytes at the start of the file).
const (
	version1 = 0x0501
	version2 = 0x0502
)

// MaxRecordSize bounds the length of one record that Parse accepts and
// Marshal writes. Real entries are well under a kilobyte.
const MaxRecordSize = 64 << 10

// maxDataLen is the largest counted string MIT reads: it reads the 16-bit
// lengths as signed numbers and rejects negative ones.
const maxDataLen = math.MaxInt16

// ErrMalformed is wrapped by every error Parse returns for bad input.
var ErrMalformed = errors.New("keytab: malformed file")

// Parse decodes a keytab file of version 1 or 2.
func Parse(b []byte) (*Keytab, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: file is shorter than its version number", ErrMalformed)
	}
	var order binary.ByteOrder
	switch v := binary.BigEndian.Uint16(b); v {
	case version1:
		order = binary.NativeEndian
	case version2:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: unknown version 0x%04x (not a keytab file?)", ErrMalformed, v)
	}
	v1 := b[1] == 1
	kt := &Keytab{}
	off := 2
	for off < len(b) {
		if len(b)-off < 4 {
			return nil, fmt.Errorf("%w: record length at offset %d: truncated", ErrMalformed, off)
		}
		size := int32(order.Uint32(b[off:]))
		start := off + 4
		switch {
		case size == 0:
			return kt, nil
		case size == math.MinInt32:
			return nil, fmt.Errorf("%w: record at offset %d has length %d", ErrMalformed, off, size)
		case size < 0:
			if int64(-size) > int64(len(b)-start) {
				return nil, fmt.Errorf("%w: hole at offset %d runs past the end of the file", ErrMalformed, off)
			}
			off = start + int(-size)
			continue
		case size > MaxRecordSize:
			return nil, fmt.Errorf("%w: record at offset %d is %d bytes, more than %d", ErrMalformed, off, size, MaxRecordSize)
		case int(size) > len(b)-start:
			return nil, fmt.Errorf("%w: record at offset %d runs past the end of the file", ErrMalformed, off)
		}
		e, err := parseEntry(b[start:start+int(size)], order, v1)
		if err != nil {
			return nil, fmt.Errorf("%w: record at offset %d: %v", ErrMalformed, off, err)
		}
		kt.Entries = append(kt.Entries, e)
		off = start + int(size)
	}
	return kt, nil
}

func parseEntry(rec []byte, order binary.ByteOrder, v1 bool) (Entry, error) {
	r := mitfile.NewReader(rec, order)
	var e Entry
	n := int(r.U16("component count"))
	if v1 {
		n-- // version 1 counts the realm too
	}
	if r.Err() == nil && (n < 1 || n > krb5.MaxNameComponents) {
		r.Fail("principal has %d components, want 1..%d", n, krb5.MaxNameComponents)
	}
	realm := r.Data16("realm", krb5.MaxComponentLen)
	comps := make([]string, 0, max(0, min(n, krb5.MaxNameComponents)))
	for i := 0; i < n && r.Err() == nil; i++ {
		comps = append(comps, string(r.Data16("name component", krb5.MaxComponentLen)))
	}
	if !v1 {
		e.Principal.Name.Type = krb5.NameType(int32(r.U32("name type")))
	}
	ts := r.U32("timestamp")
	vno8 := r.U8("key version")
	etype := int16(r.U16("encryption type"))
	key := r.Data16("key", maxDataLen)
	if r.Err() != nil {
		return Entry{}, r.Err()
	}
	e.Principal.Realm = krb5.Realm(realm)
	e.Principal.Name.Components = comps
	e.Timestamp = mitfile.FromUnix32(ts)
	e.KVNO = uint32(vno8)
	e.EncType = krb5.EncType(etype)
	e.Key = append([]byte(nil), key...)
	if r.Len() >= 4 {
		if vno := r.U32("key version"); vno != 0 {
			e.KVNO = vno
		}
	}
	return e, nil
}

// Marshal encodes the keytab in format version 2, each entry in a record of
// exactly its size, with the 32-bit key version always present. The limits
// on names and keys keep every record well under MaxRecordSize (about
// 50 KiB at most), so whatever Parse accepts, Marshal can write.
func (k *Keytab) Marshal() ([]byte, error) {
	out := binary.BigEndian.AppendUint16(nil, version2)
	for i := range k.Entries {
		rec, err := appendEntry(nil, &k.Entries[i])
		if err != nil {
			return nil, fmt.Errorf("keytab: entry %d (%s): %w", i, k.Entries[i], err)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(rec)))
		out = append(out, rec...)
	}
	return out, nil
}

func appendData(b []byte, what string, v []byte, limit int) ([]byte, error) {
	if len(v) == 0 || len(v) > limit {
		return nil, fmt.Errorf("%s is %d bytes, want 1..%d", what, len(v), limit)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

func appendEntry(b []byte, e *Entry) ([]byte, error) {
	comps := e.Principal.Name.Components
	if len(comps) < 1 || len(comps) > krb5.MaxNameComponents {
		return nil, fmt.Errorf("principal has %d components, want 1..%d", len(comps), krb5.MaxNameComponents)
	}
	if e.EncType < math.MinInt16 || e.EncType > math.MaxInt16 {
		return nil, fmt.Errorf("encryption type %d does not fit in 16 bits", int32(e.EncType))
	}
	ts, err := mitfile.ToUnix32("timestamp", e.Timestamp)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(comps)))
	if b, err = appendData(b, "realm", []byte(e.Principal.Realm), krb5.MaxComponentLen); err != nil {
		return nil, err
	}
	for _, c := range comps {
		if b, err = appendData(b, "name component", []byte(c), krb5.MaxComponentLen); err != nil {
			return nil, err
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(int32(e.Principal.Name.Type)))
	b = binary.BigEndian.AppendUint32(b, ts)
	b = append(b, byte(e.KVNO))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(e.EncType)))
	if b, err = appendData(b, "key", e.Key, maxDataLen); err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint32(b, e.KVNO), nil
}
