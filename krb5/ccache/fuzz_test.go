package ccache

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseCCache checks that Parse never panics and that whatever it
// accepts survives Marshal and Parse unchanged. Seeds: the MIT-made caches
// in testdata, hop's own encoding and the corpus in testdata/fuzz.
func FuzzParseCCache(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ccache")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, version := range []int{3, 4} {
		c := sampleCache(f)
		c.Version = version
		if version == 3 {
			c.HasTimeOffset = false
		}
		b, err := c.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{5, 4, 0, 0})
	f.Add([]byte{5, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 'R', 0, 0, 0, 1, 'u'})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed cache: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse of Marshal output: %v", err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the cache:\n got %#v\nwant %#v", back, c)
		}
	})
}

// FuzzDecodeCredential checks that DecodeCredential (a credential a peer
// sent: remote-guard's ticket@hop reply) never panics and that what it
// accepts re-encodes to the same bytes. Seeds: the credentials of the
// MIT-made caches in testdata.
func FuzzDecodeCredential(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ccache")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		c, err := Parse(b)
		if err != nil {
			continue
		}
		for i := range c.Credentials {
			if enc, err := AppendCredential(nil, &c.Credentials[i]); err == nil {
				f.Add(enc)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCredential(b)
		if err != nil {
			return
		}
		if _, err := AppendCredential(nil, &c); err != nil {
			return // e.g. a time the encoder refuses; decoding is what is fuzzed
		}
	})
}
