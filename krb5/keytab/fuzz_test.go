package keytab

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseKeytab checks that Parse never panics and that whatever it
// accepts survives Marshal and Parse unchanged. Seeds: the MIT-made files
// in testdata, hop's own encoding and the corpus in testdata/fuzz.
func FuzzParseKeytab(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.keytab")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	b, err := sampleKeytab(f).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{5, 2})
	f.Add([]byte{5, 1, 0, 0, 0, 0})
	f.Add([]byte{5, 2, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		kt, err := Parse(b)
		if err != nil {
			return
		}
		out, err := kt.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed keytab: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse of Marshal output: %v", err)
		}
		if len(kt.Entries) == 0 && len(back.Entries) == 0 {
			return
		}
		if !reflect.DeepEqual(back, kt) {
			t.Fatalf("round trip changed the keytab:\n got %v\nwant %v", back.Entries, kt.Entries)
		}
	})
}
