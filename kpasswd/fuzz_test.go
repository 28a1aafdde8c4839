package kpasswd

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hop/krb5/wire"
)

// Seeds come from f.Add and from testdata/fuzz/FuzzXxx, which
// `go test -run TestFuzzCorpus -update-corpus` rewrites from frameSeeds.
// The corpus files hold framing-level messages only: a valid request needs a
// ticket sealed in this run's random kadmin/changepw key, so FuzzHandle adds
// real requests with f.Add at run time.

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz from the seeds")

// frameSeeds are requests and replies whose framing is right (or nearly),
// with AP and body fields that look like the real messages' starts.
func frameSeeds() [][]byte {
	frame := func(version uint16, ap, body []byte) []byte {
		b, err := (&Message{Version: version, AP: ap, Body: body}).Marshal()
		if err != nil {
			panic(err)
		}
		return b
	}
	krbError, err := (&wire.KRBError{ErrorCode: 41, Realm: "EXAMPLE.TEST", SName: changepwName,
		EData: Result{Code: Malformed, Message: "x"}.Marshal()}).Marshal()
	if err != nil {
		panic(err)
	}
	priv, err := (&wire.KRBPriv{EncPart: wire.EncryptedData{EType: 18, Cipher: bytes.Repeat([]byte{7}, 60)}}).Marshal()
	if err != nil {
		panic(err)
	}
	return [][]byte{
		frame(VersionChange, []byte{0x6e, 0x82, 0x01, 0x00}, priv),
		frame(VersionSet, []byte{0x6e, 0x00}, priv),
		frame(VersionChange, nil, krbError),
		krbError,
		frame(2, []byte{0x6e}, []byte{0x75}),
		{0x00, 0x06, 0x00, 0x01, 0x00, 0x00},
		{0x00, 0x07, 0xff, 0x80, 0xff, 0xff, 0x00},
	}
}

// TestFuzzCorpus checks (or with -update-corpus rewrites) the seed corpus of
// both targets.
func TestFuzzCorpus(t *testing.T) {
	for _, target := range []string{"FuzzHandle", "FuzzParseMessage"} {
		dir := filepath.Join("testdata", "fuzz", target)
		seeds := frameSeeds()
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i, s := range seeds {
				var b strings.Builder
				b.WriteString("go test fuzz v1\n[]byte(\"")
				for _, c := range s {
					fmt.Fprintf(&b, "\\x%02x", c)
				}
				b.WriteString("\")\n")
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) < len(seeds) {
			t.Errorf("%s: %d corpus files, want %d (go test -run TestFuzzCorpus -update-corpus)", dir, len(files), len(seeds))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n[]byte(") {
				t.Errorf("%s is not a corpus file: %v", f, err)
			}
		}
	}
}

// FuzzParseMessage: the framing parser and the result parser never panic,
// and what parses marshals back to the same bytes.
func FuzzParseMessage(f *testing.F) {
	for _, s := range frameSeeds() {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err == nil {
			out, err := m.Marshal()
			if err != nil {
				t.Fatalf("parsed %+v but cannot marshal it: %v", m, err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("round trip % x, want % x", out, b)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		r, err := ParseResult(b)
		if err == nil {
			r2, err := ParseResult(r.Marshal())
			if err != nil || r2.Code != r.Code || (len(r.Message) <= maxResultLen && r2.Message != r.Message) {
				t.Fatalf("result round trip %+v -> %+v, %v", r, r2, err)
			}
		}
	})
}

// FuzzHandle feeds untrusted bytes to the server: it must never panic, and
// must answer every non-empty message with a reply that parses as a framed
// message or a bare KRB-ERROR.
func FuzzHandle(f *testing.F) {
	fx := newFixture(f)
	for _, s := range frameSeeds() {
		f.Add(s)
	}
	cred := fx.initial("alice", alicePW)
	for _, o := range []reqOpts{
		{userData: []byte("x")}, // too short: no directory write
		{version: VersionSet, userData: setpw(f, "y", ptr(principal("bob")))},
		{version: VersionSet, userData: setpw(f, "z", nil), noSubkey: true},
	} {
		msg, _ := buildRequest(f, cred, o)
		f.Add(msg)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		reply := fx.srv.Handle(ctx, b, "192.0.2.1:464")
		if len(b) == 0 {
			if reply != nil {
				t.Fatal("empty message answered")
			}
			return
		}
		if len(reply) == 0 {
			t.Fatal("no reply")
		}
		if reply[0] == 0x7e {
			if _, err := wire.ParseKRBError(reply); err != nil {
				t.Fatalf("bare reply is not a KRB-ERROR: %v", err)
			}
			return
		}
		m, err := ParseMessage(reply)
		if err != nil || m.Version != VersionChange {
			t.Fatalf("reply does not parse: %v", err)
		}
	})
}
