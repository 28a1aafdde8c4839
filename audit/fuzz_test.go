package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseLine: ParseLine on untrusted bytes never panics, and what it
// accepts is a consistent event.
func FuzzParseLine(f *testing.F) {
	h := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{"seq":1,"prev":"` + Genesis + `","time":"2026-01-02T03:04:05Z","type":"tgs.issued","client":"alice@EXAMPLE.TEST","service":"host/b@EXAMPLE.TEST"}`,
		`{"time":"2026-01-02T03:04:05Z","type":"as.issued"}`,
		`{"seq":7,"prev":"` + h + `","time":"2026-01-02T03:04:05Z","type":"directory.account.set","actor":"x","target":"y","changes":[{"field":"f","old":"a","new":"b"}]}`,
		`{"seq":2}`, `null`, `[1,2]`, `{"seq":1e3,"prev":"` + h + `"}`, `{"until":"9999-12-31T23:59:59Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseLine(line)
		if err != nil {
			return
		}
		if (e.Seq == 0) != (e.Prev == "") || (e.Prev != "" && !isHash(e.Prev)) {
			t.Fatalf("ParseLine(%q) accepted seq %d prev %q", line, e.Seq, e.Prev)
		}
	})
}

// FuzzVerify: the verifier on an untrusted log never panics, and a log it
// passes ends where the head says when the head is taken from it.
func FuzzVerify(f *testing.F) {
	var log []byte
	st := chainState{}
	for _, body := range []string{`{"time":"2026-01-02T03:04:05Z","type":"a"}`, `{"time":"2026-01-02T03:04:06Z","type":"b","client":"c@R"}`} {
		log, st = appendChained(log, st, []byte(body))
	}
	f.Add(log, false)
	f.Add(log, true)
	f.Add([]byte(`{"time":"2026-01-02T03:04:05Z","type":"old"}`+"\n"), false)
	f.Add(append([]byte(`{"time":"2026-01-02T03:04:05Z","type":"old"}`+"\n"), log...), true)
	f.Add([]byte("\n\n"), false)
	f.Add([]byte(`{"seq":1,"prev":"`+Genesis+`"}`), true)
	f.Fuzz(func(t *testing.T, data []byte, withHead bool) {
		if len(data) > 1<<20 {
			return
		}
		var head *chainState
		if withHead && len(data) > 0 {
			// The head as a writer leaves it: the last line's seq and hash.
			trimmed := bytes.TrimSuffix(data, []byte{'\n'})
			last := trimmed[bytes.LastIndexByte(trimmed, '\n')+1:]
			s := chainState{hash: lineHash(last)}
			if e, err := ParseLine(last); err == nil {
				s.seq = e.Seq
			}
			head = &s
		}
		res, err := verifyBytes(data, head)
		if err != nil {
			var ce *ChainError
			if !errors.As(err, &ce) && !errors.Is(err, ErrNotChained) {
				t.Fatalf("verify: unexpected error type %T: %v", err, err)
			}
			return
		}
		if res.Events > 0 && (res.LastSeq < res.FirstSeq || res.LastSeq-res.FirstSeq+1 != uint64(res.Events)) {
			t.Fatalf("verify passed %d events with seq %d..%d", res.Events, res.FirstSeq, res.LastSeq)
		}
		_ = res.Summary()
	})
}

// FuzzParseHead: the head parser on untrusted bytes never panics and
// round-trips what it accepts.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte("hop-audit-head v1 seq=42 hash=" + strings.Repeat("0f", 32) + "\n"))
	f.Add([]byte(""))
	f.Add([]byte("hop-audit-head v1 seq=0 hash=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, ok, err := parseHead(b)
		if err != nil || !ok {
			return
		}
		if got := appendHead(nil, st); !bytes.Equal(got, b) {
			t.Fatalf("parseHead(%q) round-trips to %q", b, got)
		}
	})
}

// FuzzAppendEvent: appendEvent writes what encoding/json writes, for any
// field contents (escaping, invalid UTF-8, times).
func FuzzAppendEvent(f *testing.F) {
	f.Add(uint64(0), "", "as.issued", "alice@EXAMPLE.TEST", "krbtgt/EXAMPLE.TEST", "127.0.0.1:5", "aes256-cts-hmac-sha1-96", "", "", "renewable", "", "", "", "", int64(1764790000123456789), int64(0))
	f.Add(uint64(7), "ab", "directory.account.set", "", "", "", "", "KDC_ERR_x", "a \"quote\" \\ <b>&\n\t\u2028\xff", "gen=1", "bob", "alice", "description", "old\x01", int64(-62135596800), int64(253402300800))
	f.Fuzz(func(t *testing.T, seq uint64, prev, typ, client, service, addr, etype, code, reason, flags, actor, target, cfield, cold string, tsec, usec int64) {
		e := Event{Seq: seq, Prev: prev, Time: time.Unix(0, tsec).UTC(), Type: typ, Client: client, Service: service, Addr: addr,
			EType: etype, Code: code, Reason: reason, Flags: flags, Actor: actor, Target: target}
		if usec != 0 {
			e.Until = time.Unix(0, usec).In(time.FixedZone("x", int(usec%50000)))
		}
		if cfield != "" {
			e.Changes = []Change{{Field: cfield, Old: cold}, {Field: "f2", New: cold}}
		}
		var want bytes.Buffer
		err := json.NewEncoder(&want).Encode(e)
		got, ok := appendEvent(nil, &e)
		switch {
		case !ok:
			if err == nil && plainTime(e.Time) && plainTime(e.Until) {
				t.Fatalf("appendEvent refused an event encoding/json encodes")
			}
		case err != nil:
			t.Fatalf("appendEvent encoded an event encoding/json refuses (%v): %s", err, got)
		case !bytes.Equal(got, want.Bytes()):
			t.Fatalf("appendEvent:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
	})
}
