package wire

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// TestDecodeFields checks the skeleton every SEQUENCE decoder runs on:
// components in increasing tag order, extensions skipped, the failing
// component named, the first missing required one reported.
func TestDecodeFields(t *testing.T) {
	names := []string{"zero", "", "two"}
	fail := errors.New("bad value")
	tests := []struct {
		name      string
		in        []byte
		required  uint64
		wantTags  []uint32
		wantError string
	}{
		{"all", seq(ctxInt(0, 1), ctxInt(1, 2), ctxInt(2, 3)), 0b101, []uint32{0, 1, 2}, ""},
		{"optional absent", seq(ctxInt(0, 1), ctxInt(2, 3)), 0b101, []uint32{0, 2}, ""},
		{"extensions skipped", seq(ctxInt(0, 1), ctxInt(2, 3), ctxInt(3, 4), der([]byte{0xbf, 40}, intRaw(5)), der([]byte{0xbf, 70}, intRaw(6))), 0b101, []uint32{0, 2}, ""},
		{"missing named", seq(ctxInt(0, 1)), 0b101, []uint32{0}, "missing two"},
		{"missing unnamed", seq(ctxInt(0, 1), ctxInt(2, 3)), 0b111, []uint32{0, 2}, "missing [1]"},
		{"repeated", seq(ctxInt(0, 1), ctxInt(0, 1)), 0b1, []uint32{0}, "component [0] repeated or out of order"},
		{"out of order", seq(ctxInt(2, 1), ctxInt(0, 1)), 0b1, []uint32{2}, "component [0] repeated or out of order"},
		{"repeated extension", seq(ctxInt(5, 1), ctxInt(5, 1)), 0, nil, "component [5] repeated or out of order"},
		{"not context", seq(ctxInt(0, 1), intRaw(1)), 0b1, []uint32{0}, "unexpected INTEGER in SEQUENCE"},
		{"implicit", seq(der([]byte{0x80}, []byte{1})), 0b1, nil, "component [0] is not explicitly tagged"},
		{"field error named", seq(ctxInt(0, 1), ctxInt(2, 0xff)), 0b101, []uint32{0, 2}, "two: bad value"},
		{"field error unnamed", seq(ctxInt(1, 0xff)), 0, []uint32{1}, "[1]: bad value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint32
			err := decodeSequence(tt.in, names, 0b111, tt.required, func(n uint32, v cryptobyte.String) error {
				got = append(got, n)
				if x, err := integer(v); err != nil || x == -1 {
					return fail
				}
				return nil
			})
			if tt.wantError == "" && err != nil || tt.wantError != "" && (err == nil || err.Error() != tt.wantError) {
				t.Errorf("err = %v, want %q", err, tt.wantError)
			}
			if tt.wantError == "two: bad value" && !errors.Is(err, fail) {
				t.Errorf("the field's error is not wrapped: %v", err)
			}
			if !reflect.DeepEqual(got, tt.wantTags) {
				t.Errorf("visited %v, want %v", got, tt.wantTags)
			}
		})
	}
	if err := decodeSequence(app(1, seq()), names, 1, 0, nil); err == nil {
		t.Error("decodeSequence accepts an [APPLICATION 1]")
	}
	if err := decodeMessage(app(1, seq(ctxInt(0, 1))), 2, names, 1, 1, nil); err == nil {
		t.Error("decodeMessage accepts the wrong application tag")
	}
}
