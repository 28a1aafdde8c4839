package mitfile

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func TestReaderFields(t *testing.T) {
	in := []byte{
		0x07,       // u8
		0x01, 0x02, // u16
		0x01, 0x02, 0x03, 0x04, // u32
		0, 0, 0, 2, 'a', 'b', // Data32
		0, 0, 0, 0, // empty Data32
		0, 3, 'x', 'y', 'z', // Data16
	}
	r := NewReader(in, binary.BigEndian)
	if v := r.U8("a"); v != 7 {
		t.Errorf("U8 = %d", v)
	}
	if v := r.U16("b"); v != 0x0102 {
		t.Errorf("U16 = %#x", v)
	}
	if v := r.U32("c"); v != 0x01020304 {
		t.Errorf("U32 = %#x", v)
	}
	if v := r.Data32("d", 2); string(v) != "ab" {
		t.Errorf("Data32 = %q", v)
	}
	if v := r.Data32("e", 2); v != nil {
		t.Errorf("empty Data32 = %#v, want nil", v)
	}
	if v := r.Data16("f", 3); string(v) != "xyz" {
		t.Errorf("Data16 = %q", v)
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Errorf("Err = %v, Len = %d", r.Err(), r.Len())
	}
}

func TestReaderLittleEndian(t *testing.T) {
	r := NewReader([]byte{0x02, 0x01, 0x04, 0x03, 0x02, 0x01}, binary.LittleEndian)
	if v := r.U16("a"); v != 0x0102 {
		t.Errorf("U16 = %#x", v)
	}
	if v := r.U32("b"); v != 0x01020304 {
		t.Errorf("U32 = %#x", v)
	}
}

// TestReaderBounds checks that every length read from the input is held
// against what is left and against the caller's limit, with the error
// naming the field.
func TestReaderBounds(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader)
		want string
	}{
		{"truncated u32", []byte{1, 2, 3}, func(r *Reader) { r.U32("flags") }, "flags: truncated"},
		{"Data32 over limit", []byte{0, 0, 0, 5, 1, 2, 3, 4, 5}, func(r *Reader) { r.Data32("key", 4) }, "key is 5 bytes, more than 4"},
		{"Data32 past end", []byte{0xff, 0xff, 0xff, 0xff, 1}, func(r *Reader) { r.Data32("ticket", 1<<40) }, "ticket: truncated"},
		{"Data32 short length", []byte{0, 0}, func(r *Reader) { r.Data32("realm", 10) }, "realm length: truncated"},
		{"Data16 empty", []byte{0, 0}, func(r *Reader) { r.Data16("realm", 10) }, "realm length 0 is outside 1..10"},
		{"Data16 over limit", []byte{0, 11}, func(r *Reader) { r.Data16("realm", 10) }, "realm length 11 is outside 1..10"},
		{"Data16 past end", []byte{0, 3, 'a'}, func(r *Reader) { r.Data16("key", 10) }, "key: truncated"},
		{"Count does not fit", []byte{0, 0, 0, 3, 1, 2, 3, 4, 5}, func(r *Reader) { r.Count("addresses", 2) }, "3 addresses do not fit in the 5 bytes left"},
		{"Sub past end", []byte{1}, func(r *Reader) { r.Sub(2, "header") }, "header: truncated"},
		{"first failure sticks", []byte{1}, func(r *Reader) {
			r.U16("first")
			r.Fail("second")
		}, "first: truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.in, binary.BigEndian)
			tt.read(r)
			if r.Err() == nil || r.Err().Error() != tt.want {
				t.Fatalf("Err = %v, want %q", r.Err(), tt.want)
			}
			if v := r.U32("after"); v != 0 {
				t.Errorf("read after a failure = %d, want 0", v)
			}
		})
	}
}

func TestCountFits(t *testing.T) {
	r := NewReader([]byte{0, 0, 0, 2, 1, 2, 3, 4}, binary.BigEndian)
	if n := r.Count("entries", 2); n != 2 || r.Err() != nil {
		t.Fatalf("Count = %d, %v", n, r.Err())
	}
}

func TestData32Copies(t *testing.T) {
	in := []byte{0, 0, 0, 1, 'a'}
	v := NewReader(in, binary.BigEndian).Data32("x", 1)
	in[4] = 'b'
	if !bytes.Equal(v, []byte("a")) {
		t.Fatalf("Data32 aliases its input: %q", v)
	}
}

func TestUnix32(t *testing.T) {
	if !FromUnix32(0).IsZero() {
		t.Error("FromUnix32(0) is not the zero time")
	}
	max := time.Date(2106, 2, 7, 6, 28, 15, 0, time.UTC)
	if got := FromUnix32(0xffffffff); !got.Equal(max) {
		t.Errorf("FromUnix32(max) = %v, want %v", got, max)
	}
	if s, err := ToUnix32("time", time.Time{}); s != 0 || err != nil {
		t.Errorf("ToUnix32(zero) = %d, %v", s, err)
	}
	if s, err := ToUnix32("time", max.Add(999*time.Millisecond)); s != 0xffffffff || err != nil {
		t.Errorf("ToUnix32(max) = %d, %v", s, err)
	}
	_, err := ToUnix32("timestamp", max.Add(time.Second))
	if want := "timestamp 2106-02-07T06:28:16Z is outside 1970..2106"; err == nil || err.Error() != want {
		t.Errorf("ToUnix32(past 2106) = %v, want %q", err, want)
	}
	if _, err := ToUnix32("time", time.Unix(-1, 0)); err == nil {
		t.Error("ToUnix32 accepts a time before 1970")
	}
}
