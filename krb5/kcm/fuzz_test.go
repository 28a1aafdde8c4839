package kcm

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora in testdata/fuzz from the round-trip tables")

// FuzzDecodeRequest checks that no input makes DecodeRequest panic or
// allocate beyond its bounds, and that what it accepts re-encodes to the
// same bytes.
func FuzzDecodeRequest(f *testing.F) {
	for _, req := range requests() {
		if b, err := req.Marshal(); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := req.Marshal()
		if err != nil {
			return // e.g. a time MIT wrote that Go's encoder refuses; decoding is what is fuzzed
		}
		if req2, err := DecodeRequest(again); err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		} else if again2, _ := req2.Marshal(); !bytes.Equal(again, again2) {
			t.Fatalf("encoding is not stable:\n%x\n%x", again, again2)
		}
	})
}

// FuzzDecodeReply does the same for replies, which a client reads from a
// server it may not trust.
func FuzzDecodeReply(f *testing.F) {
	for _, tc := range replies() {
		if b, err := tc.rep.Marshal(tc.op); err == nil {
			f.Add(uint16(tc.op), b)
		}
	}
	f.Fuzz(func(t *testing.T, op uint16, b []byte) {
		rep, err := DecodeReply(Op(op), b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		_ = rep.String()
	})
}

// TestFuzzCorpus keeps testdata/fuzz in step with the round-trip tables;
// go test -run TestFuzzCorpus -update-corpus rewrites it.
func TestFuzzCorpus(t *testing.T) {
	files := map[string]string{}
	for i, req := range requests() {
		b, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Join("FuzzDecodeRequest", fmt.Sprintf("seed-%02d-op%d", i, uint16(req.Op)))] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
	}
	for i, tc := range replies() {
		b, err := tc.rep.Marshal(tc.op)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Join("FuzzDecodeReply", fmt.Sprintf("seed-%02d-op%d", i, uint16(tc.op)))] = fmt.Sprintf("go test fuzz v1\nuint16(%d)\n[]byte(%q)\n", uint16(tc.op), b)
	}
	checkCorpus(t, files)
}

// checkCorpus compares the seed files (path under testdata/fuzz →
// content) with testdata/fuzz, or rewrites them with -update-corpus.
func checkCorpus(t *testing.T, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join("testdata", "fuzz", name)
		if *updateCorpus {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is missing or stale (%v); run go test -run TestFuzzCorpus -update-corpus", path, err)
		}
	}
}
