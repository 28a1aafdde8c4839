package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var when = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// readLines returns the lines of a file, without newlines.
func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", path)
	}
	return bytes.Split(b[:len(b)-1], []byte{'\n'})
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkChain checks the chain independently of Verify: seq counts from
// first, and prev is the SHA-256 of the previous line (Genesis for seq 1
// when prevHash is empty).
func checkChain(t *testing.T, lines [][]byte, first uint64, prevHash string) {
	t.Helper()
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %d %q: %v", i+1, l, err)
		}
		if !bytes.HasPrefix(l, []byte(`{"seq":`)) {
			t.Errorf("line %d does not begin with seq: %q", i+1, l)
		}
		if got, want := m["seq"], float64(first+uint64(i)); got != want {
			t.Errorf("line %d: seq %v, want %v", i+1, got, want)
		}
		want := prevHash
		if want == "" {
			want = strings.Repeat("0", 64)
		}
		if m["prev"] != want {
			t.Errorf("line %d: prev %v, want %s", i+1, m["prev"], want)
		}
		sum := sha256.Sum256(l)
		prevHash = hex.EncodeToString(sum[:])
	}
}

func TestFileWritesChainedJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Time: when, Type: "as.issued", Client: "alice@EXAMPLE.TEST", Service: "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", Seq: 99, Prev: "forged"})
	a.Emit(Event{Time: when, Type: "preauth.failed", Client: "bob@EXAMPLE.TEST", Code: "KDC_ERR_PREAUTH_FAILED"})
	a.Emit(Event{Time: when, Type: "directory.account.set", Actor: "the local domain administrator", Target: "alice",
		Changes: []Change{{Field: "description", Old: "", New: "x"}}})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, HeadPath(path)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	lines := readLines(t, path)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	checkChain(t, lines, 1, "")
	var got []Event
	for _, l := range lines {
		e, err := ParseLine(l)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if got[0].Client != "alice@EXAMPLE.TEST" || got[0].Seq != 1 || got[1].Code != "KDC_ERR_PREAUTH_FAILED" || !got[0].Time.Equal(when) ||
		len(got[2].Changes) != 1 || got[2].Changes[0].New != "x" {
		t.Fatalf("events = %+v", got)
	}
	sum := sha256.Sum256(lines[2])
	head, _ := os.ReadFile(HeadPath(path))
	if want := "hop-audit-head v1 seq=3 hash=" + hex.EncodeToString(sum[:]) + "\n"; string(head) != want {
		t.Errorf("head = %q, want %q", head, want)
	}
	res, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary() != "audit log OK: 3 events, seq 1..3" {
		t.Errorf("summary %q", res.Summary())
	}
	a.Emit(Event{Type: "after-close"}) // must not panic or write
	if n := len(readLines(t, path)); n != 3 {
		t.Errorf("%d lines after an Emit after Close", n)
	}
}

// TestTwoWritersInterleaved: two Files on one path (as the KDC and a hop
// command) continue each other's chain; no event is lost or repeated.
func TestTwoWritersInterleaved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 20 {
		w, name := a, "a"
		if i%3 == 0 {
			w, name = b, "b"
		}
		for j := range i % 4 {
			id := fmt.Sprintf("%s-%d-%d", name, i, j)
			want[id] = true
			w.Emit(Event{Time: when, Type: "test", Reason: id})
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// And concurrently, with the flushers running.
	var wg sync.WaitGroup
	for k, w := range []*File{a, b} {
		wg.Go(func() {
			for i := range 300 {
				w.Emit(Event{Time: when, Type: "test", Reason: fmt.Sprintf("c%d-%d", k, i)})
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
		for i := range 300 {
			want[fmt.Sprintf("c%d-%d", k, i)] = true
		}
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	checkChain(t, lines, 1, "")
	seen := map[string]bool{}
	for _, l := range lines {
		e, err := ParseLine(l)
		if err != nil {
			t.Fatal(err)
		}
		if seen[e.Reason] {
			t.Errorf("event %s written twice", e.Reason)
		}
		seen[e.Reason] = true
	}
	if len(seen) != len(want) {
		t.Errorf("%d events written, want %d", len(seen), len(want))
	}
	if res, err := Verify(path); err != nil || res.Events != len(want) || res.Head != HeadOK {
		t.Errorf("Verify = %+v, %v", res, err)
	}
}

// TestTwoProcesses: a child process appends while this one does.
func TestTwoProcesses(t *testing.T) {
	if path := os.Getenv("HOP_AUDIT_CHILD"); path != "" {
		a, err := OpenFile(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for i := range 400 {
			a.Emit(Event{Time: when, Type: "child", Reason: strconv.Itoa(i)})
			if i%40 == 0 {
				if err := a.Flush(); err != nil {
					fmt.Println(err)
					os.Exit(1)
				}
			}
		}
		if err := a.Close(); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcesses$")
	cmd.Env = append(os.Environ(), "HOP_AUDIT_CHILD="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		a.Emit(Event{Time: when, Type: "parent", Reason: strconv.Itoa(i)})
		if i%40 == 0 {
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	lines := readLines(t, path)
	checkChain(t, lines, 1, "")
	count := map[string]int{}
	for _, l := range lines {
		e, err := ParseLine(l)
		if err != nil {
			t.Fatal(err)
		}
		count[e.Type]++
	}
	if count["parent"] != 400 || count["child"] != 400 {
		t.Errorf("events by writer: %v, want 400 each", count)
	}
	if res, err := Verify(path); err != nil || res.Events != 800 {
		t.Errorf("Verify = %+v, %v", res, err)
	}
}

// writeLog writes n chained events to a new log and returns its path.
func writeLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		a.Emit(Event{Time: when, Type: "tgs.issued", Client: "alice@EXAMPLE.TEST", Service: "host/b@EXAMPLE.TEST", Reason: strconv.Itoa(i + 1)})
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVerifyDetectsTampering(t *testing.T) {
	edit := func(l []byte) []byte { return bytes.Replace(l, []byte("alice"), []byte("mallory"), 1) }
	for _, tc := range []struct {
		name   string
		tamper func(lines [][]byte) [][]byte
		head   func(path string) // changes to the head file
		want   string
	}{
		{name: "edited middle line", tamper: func(l [][]byte) [][]byte { l[41] = edit(l[41]); return l },
			want: "audit.log: line 42 (seq 42): edited — its hash does not match line 43's prev"},
		{name: "edited first line", tamper: func(l [][]byte) [][]byte { l[0] = edit(l[0]); return l },
			want: "line 1 (seq 1): edited — its hash does not match line 2's prev"},
		{name: "edited seq", tamper: func(l [][]byte) [][]byte {
			l[9] = bytes.Replace(l[9], []byte(`"seq":10,`), []byte(`"seq":11,`), 1)
			return l
		}, want: "line 10 (seq 11): edited — its prev matches the line before, whose seq is 9"},
		{name: "deleted middle line", tamper: func(l [][]byte) [][]byte { return append(l[:41], l[42:]...) },
			want: "line 42 (seq 43): seq jumps from 41 to 43: line(s) deleted"},
		{name: "deleted middle lines", tamper: func(l [][]byte) [][]byte { return append(l[:10], l[20:]...) },
			want: "seq jumps from 10 to 21: line(s) deleted"},
		{name: "swapped lines", tamper: func(l [][]byte) [][]byte { l[4], l[5] = l[5], l[4]; return l },
			want: "line 5 (seq 6): seq jumps from 4 to 6: line(s) deleted"},
		{name: "repeated line", tamper: func(l [][]byte) [][]byte { return append(l[:6], append([][]byte{l[4]}, l[6:]...)...) },
			want: "line 7 (seq 5): seq 5 follows seq 6: lines repeated or reordered"},
		{name: "deleted last lines", tamper: func(l [][]byte) [][]byte { return l[:40] },
			want: "the log ends at seq 40 but the head records seq 45: the last lines were deleted"},
		{name: "edited last line", tamper: func(l [][]byte) [][]byte { l[44] = edit(l[44]); return l },
			want: "line 45 (seq 45): edited — its hash does not match the head file's"},
		{name: "all lines deleted", tamper: func(l [][]byte) [][]byte { return nil },
			want: "the log holds no chained line but the head records seq 45"},
		{name: "unchained line inserted", tamper: func(l [][]byte) [][]byte {
			return append(l[:30], append([][]byte{[]byte(`{"time":"2026-01-02T03:04:05Z","type":"x"}`)}, l[30:]...)...)
		}, want: "line 31: not chained (no seq and prev) although earlier lines are"},
		{name: "garbage line", tamper: func(l [][]byte) [][]byte { l[2] = []byte("hello"); return l },
			want: "line 3: not a JSON object"},
		{name: "bad prev", tamper: func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte(`"prev":"`), []byte(`"prev":"X`), 1)
			return l
		}, want: "line 3: prev is not 64 lower-case hex digits"},
		{name: "first lines deleted then last", tamper: func(l [][]byte) [][]byte { return l[5:44] },
			want: "the log ends at seq 44 but the head records seq 45"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeLog(t, 45)
			writeLines(t, path, tc.tamper(readLines(t, path)))
			res, err := Verify(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %+v, %v; want an error with %q", res, err, tc.want)
			}
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *ChainError", err)
			}
		})
	}
	// An incomplete last line (no newline).
	path := writeLog(t, 3)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":4,"prev":"`)
	f.Close()
	if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), "line 4: incomplete last line") {
		t.Errorf("Verify of a log with an incomplete line: %v", err)
	}
}

// TestFirstLinesDeleted: without the earlier file, a log that starts mid
// chain is reported, not failed (it may be a rotated log's successor).
func TestFirstLinesDeleted(t *testing.T) {
	path := writeLog(t, 10)
	writeLines(t, path, readLines(t, path)[3:])
	res, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Continued || res.FirstSeq != 4 || res.Events != 7 || !strings.Contains(res.Summary(), "lines 1..3 were deleted") {
		t.Errorf("Verify = %+v\n%s", res, res.Summary())
	}
}

func TestNoHead(t *testing.T) {
	path := writeLog(t, 5)
	if err := os.Remove(HeadPath(path)); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(path)
	if err != nil || res.Head != HeadMissing || !strings.Contains(res.Summary(), "no head file") {
		t.Errorf("Verify = %+v, %v", res, err)
	}
	// A damaged head is an error, not a pass.
	os.WriteFile(HeadPath(path), []byte("hop-audit-head v1 seq=x\n"), 0o600)
	if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), "head file is damaged") {
		t.Errorf("Verify with a damaged head: %v", err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	kdc, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		kdc.Emit(Event{Time: when, Type: "before", Reason: strconv.Itoa(i)})
	}
	if err := kdc.Flush(); err != nil {
		t.Fatal(err)
	}
	kdc.Emit(Event{Time: when, Type: "buffered-at-rotation"})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	// Another writer (a hop command) writes first, into the new file.
	cmd, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Emit(Event{Time: when, Type: "command"})
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := kdc.Reopen(); err != nil {
		t.Fatal(err)
	}
	kdc.Emit(Event{Time: when, Type: "after"})
	// Second rotation, noticed by the KDC at its next flush without Reopen.
	if err := kdc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".0"); err != nil {
		t.Fatal(err)
	}
	kdc.Emit(Event{Time: when, Type: "after-second"})
	if err := kdc.Close(); err != nil {
		t.Fatal(err)
	}
	old, mid, cur := readLines(t, path+".1"), readLines(t, path+".0"), readLines(t, path)
	if len(old) != 5 || len(mid) != 3 || len(cur) != 1 {
		t.Fatalf("lines: %d %d %d, want 5 3 1", len(old), len(mid), len(cur))
	}
	last := func(ls [][]byte) string { s := sha256.Sum256(ls[len(ls)-1]); return hex.EncodeToString(s[:]) }
	checkChain(t, old, 1, "")
	checkChain(t, mid, 6, last(old))
	checkChain(t, cur, 9, last(mid))
	res, err := Verify(path+".1", path+".0", path)
	if err != nil || res.Events != 9 || res.FirstSeq != 1 || res.LastSeq != 9 || res.Continued || res.Head != HeadOK {
		t.Errorf("Verify across rotation = %+v, %v", res, err)
	}
	// Alone, the current file continues a chain.
	if res, err := Verify(path); err != nil || !res.Continued || res.FirstSeq != 9 {
		t.Errorf("Verify of the current file alone = %+v, %v", res, err)
	}
	// In the wrong order, the chain breaks.
	if _, err := Verify(path+".0", path+".1", path); err == nil {
		t.Error("Verify of rotated files in the wrong order passed")
	}
	// A rotated file with its last line deleted breaks the chain at the
	// next file's first line.
	writeLines(t, path+".1", old[:4])
	if _, err := Verify(path+".1", path+".0", path); err == nil || !strings.Contains(err.Error(), "seq jumps from 4 to 6") {
		t.Errorf("Verify with the rotated file's last line deleted: %v", err)
	}
}

func TestUnchainedLogs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	legacy := [][]byte{
		[]byte(`{"time":"2025-01-02T03:04:05Z","type":"as.issued","client":"alice@EXAMPLE.TEST"}`),
		[]byte(`{"time":"2025-01-02T03:04:06Z","type":"tgs.issued","client":"alice@EXAMPLE.TEST"}`),
	}
	writeLines(t, path, legacy)
	_, err := Verify(path)
	var nc *NotChainedError
	if !errors.Is(err, ErrNotChained) || !errors.As(err, &nc) || nc.Unchained != 2 || !strings.Contains(err.Error(), "2 line(s) were written by a hop that did not chain") {
		t.Errorf("Verify of an unchained log: %v", err)
	}
	// A new writer chains on from the old lines.
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Time: when, Type: "new"})
	a.Emit(Event{Time: when, Type: "new"})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	s := sha256.Sum256(legacy[1])
	checkChain(t, lines[2:], 1, hex.EncodeToString(s[:]))
	res, err := Verify(path)
	if err != nil || res.Unchained != 2 || res.Events != 2 || !strings.Contains(res.Summary(), "the first 2 lines are not chained") {
		t.Errorf("Verify = %+v, %v", res, err)
	}
	// Deleting the last old line is noticed too.
	writeLines(t, path, append(lines[:1:1], lines[2:]...))
	if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), "line 1: edited — its hash does not match line 2's prev") {
		t.Errorf("Verify after deleting an old line: %v", err)
	}
}

// TestChainFromHead: after the last lines were deleted, a writer continues
// from the head, so the deletion stays visible; after a crash that left
// the head behind, it continues from the log.
func TestChainFromHead(t *testing.T) {
	path := writeLog(t, 10)
	lines := readLines(t, path)
	writeLines(t, path, lines[:7])
	a, _ := OpenFile(path)
	a.Emit(Event{Time: when, Type: "later"})
	a.Close()
	if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), "seq jumps from 7 to 11") {
		t.Errorf("Verify after tail deletion and a new write: %v", err)
	}

	path = writeLog(t, 3)
	lines = readLines(t, path)
	head, _ := os.ReadFile(HeadPath(path))
	b, _ := OpenFile(path)
	b.Emit(Event{Time: when, Type: "x"})
	b.Close()
	os.WriteFile(HeadPath(path), head, 0o600) // the head lost its last update
	if res, err := Verify(path); err != nil || res.Head != HeadBehind || res.HeadSeq != 3 {
		t.Errorf("Verify with the head behind = %+v, %v", res, err)
	}
	c, _ := OpenFile(path)
	c.Emit(Event{Time: when, Type: "y"})
	c.Close()
	if res, err := Verify(path); err != nil || res.Head != HeadOK || res.LastSeq != 5 {
		t.Errorf("Verify after the next write = %+v, %v", res, err)
	}
	// An incomplete line left by a crash is removed by the next writer.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":6,"prev":"00`)
	f.Close()
	d, _ := OpenFile(path)
	d.Emit(Event{Time: when, Type: "z"})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := Verify(path); err != nil || res.LastSeq != 6 {
		t.Errorf("Verify after a crash fragment = %+v, %v", res, err)
	}
}

// TestWriteFailureRetried: events emitted while the log cannot be written
// are held and written once it can; if it never can, Close says so.
func TestWriteFailureRetried(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "logs")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Time: when, Type: "one"})
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Time: when, Type: "two"})
	a.Emit(Event{Time: when, Type: "three"})
	if err := a.Flush(); err == nil {
		t.Fatal("Flush into a missing folder succeeded")
	}
	os.Mkdir(dir, 0o700)
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	cur := readLines(t, path)
	if len(cur) != 2 {
		t.Fatalf("%d lines after the retry, want 2", len(cur))
	}
	if res, err := Verify(filepath.Join(dir+".old", "audit.log"), path); err != nil || res.Events != 3 {
		t.Errorf("Verify = %+v, %v", res, err)
	}

	b, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	b.Emit(Event{Time: when, Type: "lost"})
	if err := b.Close(); err == nil || !strings.Contains(err.Error(), "1 events could not be written") {
		t.Errorf("Close with an unwritable log: %v", err)
	}
}

func TestTailFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	write := func(p string, s string) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	// Not following: complete lines only.
	write(path, "a\nb\npart")
	var got []string
	err := Tail(context.Background(), path, TailOptions{}, func(l []byte) error { got = append(got, string(l)); return nil })
	if err != nil || strings.Join(got, ",") != "a,b" {
		t.Fatalf("Tail = %q, %v", got, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- Tail(ctx, path, TailOptions{Follow: true, Poll: 5 * time.Millisecond}, func(l []byte) error {
			lines <- string(l)
			return nil
		})
	}()
	expect := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case g := <-lines:
				if g != w {
					t.Fatalf("line %q, want %q", g, w)
				}
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %q", w)
			}
		}
	}
	expect("a", "b")
	write(path, "ial\nc\n")
	expect("partial", "c")
	// Rotation: the last line of the old file, then the new file.
	write(path, "d\n")
	os.Rename(path, path+".1")
	write(path+".1", "e\n") // a writer still on the old file
	time.Sleep(20 * time.Millisecond)
	write(path, "f\n")
	expect("d", "e", "f")
	// Truncation in place.
	os.Truncate(path, 0)
	time.Sleep(20 * time.Millisecond)
	write(path, "g\n")
	expect("g")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Tail after cancel: %v", err)
	}
}

// TestTailFromEnd: with FromEnd, Tail skips what the log holds when it
// opens it, but not the line being written then, nor a log created later.
func TestTailFromEnd(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 5000) // across endOfLastLine's reads
	for _, tc := range []struct {
		content string
		want    int64
	}{
		{"", 0},
		{"a\n", 2},
		{"a\nb\npart", 4},
		{"part", 0},
		{"a\n" + long, 2},
		{"a\n" + long + "\n", int64(3 + len(long))},
	} {
		path := filepath.Join(dir, "log")
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := endOfLastLine(f)
		f.Close()
		if err != nil || got != tc.want {
			t.Errorf("endOfLastLine(%.20q…) = %d, %v; want %d", tc.content, got, err, tc.want)
		}
	}

	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte("a\nb\n"), 0o600)
	var got []string
	if err := Tail(context.Background(), path, TailOptions{FromEnd: true}, func(l []byte) error { got = append(got, string(l)); return nil }); err != nil || got != nil {
		t.Errorf("Tail from the end of a log = %q, %v; want nothing", got, err)
	}

	// A log that does not exist yet is read from its start once it does.
	later := filepath.Join(dir, "later.log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- Tail(ctx, later, TailOptions{Follow: true, FromEnd: true, Poll: 5 * time.Millisecond}, func(l []byte) error {
			lines <- string(l)
			return nil
		})
	}()
	time.Sleep(20 * time.Millisecond)
	os.WriteFile(later, []byte("first\n"), 0o600)
	select {
	case l := <-lines:
		if l != "first" {
			t.Errorf("line %q, want first", l)
		}
	case <-ctx.Done():
		t.Fatal("timed out waiting for the new log's first line")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Tail after cancel: %v", err)
	}
}

func TestParseLine(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{`{"seq":1,"prev":"` + Genesis + `","time":"2026-01-02T03:04:05Z","type":"x"}`, true},
		{`{"time":"2026-01-02T03:04:05Z","type":"x"}`, true},
		{`{"seq":2,"prev":"` + h + `"}`, true},
		{`{"seq":2}`, false},
		{`{"prev":"` + h + `"}`, false},
		{`{"seq":2,"prev":"` + strings.ToUpper(h) + `"}`, false},
		{`{"seq":-1,"prev":"` + h + `"}`, false},
		{`{"seq":1.5,"prev":"` + h + `"}`, false},
		{`null`, false},
		{`[]`, false},
		{``, false},
		{`{"time":"yesterday"}`, false},
		{`{} {}`, false},
		{`{"seq":1,"prev":"` + h + `"`, false},
	} {
		_, err := ParseLine([]byte(tc.line))
		if (err == nil) != tc.ok {
			t.Errorf("ParseLine(%q) = %v, want ok=%v", tc.line, err, tc.ok)
		}
		var le *LineError
		if err != nil && (!errors.As(err, &le) || le.Reason == "" || strings.HasPrefix(le.Reason, "audit:")) {
			t.Errorf("ParseLine(%q): %#v is not a *LineError with a reason of its own", tc.line, err)
		}
	}
	if _, err := ParseLine(bytes.Repeat([]byte(" "), MaxLineSize+1)); err == nil {
		t.Error("ParseLine accepted an overlong line")
	}
}

func TestParseHead(t *testing.T) {
	h := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		in  string
		seq uint64
		ok  bool
		err bool
	}{
		{"", 0, false, false},
		{"hop-audit-head v1 seq=7 hash=" + h + "\n", 7, true, false},
		{"hop-audit-head v1 seq=18446744073709551615 hash=" + h + "\n", 1<<64 - 1, true, false},
		{"hop-audit-head v1 seq=18446744073709551616 hash=" + h + "\n", 0, false, true},
		{"hop-audit-head v1 seq=0 hash=" + h + "\n", 0, false, true},
		{"hop-audit-head v1 seq=07 hash=" + h + "\n", 0, false, true},
		{"hop-audit-head v1 seq=7 hash=" + h, 0, false, true},
		{"hop-audit-head v2 seq=7 hash=" + h + "\n", 0, false, true},
		{"hop-audit-head v1 seq=7 hash=" + h[:62] + "\n", 0, false, true},
		{"hop-audit-head v1 seq=+7 hash=" + h + "\n", 0, false, true},
	} {
		st, ok, err := parseHead([]byte(tc.in))
		if ok != tc.ok || (err != nil) != tc.err || st.seq != tc.seq {
			t.Errorf("parseHead(%q) = %d %v %v", tc.in, st.seq, ok, err)
		}
		if ok {
			if got := string(appendHead(nil, st)); got != tc.in {
				t.Errorf("appendHead(parseHead(%q)) = %q", tc.in, got)
			}
		}
	}
}

// TestOversizeEvent: a field too long is cut, with its length and hash; an
// event still too large for a line (many changes) is replaced by a note.
func TestOversizeEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, _ := OpenFile(path)
	a.Emit(Event{Time: when, Type: "big", Reason: strings.Repeat("x", MaxLineSize)})
	var many []Change
	for range MaxLineSize / 1000 {
		many = append(many, Change{Field: "description", New: strings.Repeat("y", 1000)})
	}
	a.Emit(Event{Time: when, Type: "directory.account.changed", Changes: many})
	a.Emit(Event{Time: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), Type: "far"})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 3 || len(lines[0]) > 2048 || !bytes.Contains(lines[0], []byte(fmt.Sprintf("…[%d bytes, sha256 ", MaxLineSize))) ||
		!bytes.Contains(lines[1], []byte("too large to record")) || !bytes.Contains(lines[2], []byte("time not recordable")) {
		t.Errorf("lines = %.300q", lines)
	}
	if _, err := Verify(path); err != nil {
		t.Error(err)
	}
}

// TestLongLastLine: a writer that finds the log grown by another (and no
// head file) chains on from a last line longer than its first read.
func TestLongLastLine(t *testing.T) {
	for _, size := range []int{100, 8 << 10, 20 << 10, 300 << 10} {
		path := filepath.Join(t.TempDir(), "audit.log")
		a, _ := OpenFile(path)
		a.Emit(Event{Time: when, Type: "short"})
		a.Emit(Event{Time: when, Type: "long", Reason: strings.Repeat("r", size)})
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		os.Remove(HeadPath(path))
		b, _ := OpenFile(path)
		b.Emit(Event{Time: when, Type: "next"})
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		checkChain(t, readLines(t, path), 1, "")
		if res, err := Verify(path); err != nil || res.Events != 3 {
			t.Errorf("size %d: Verify = %+v, %v", size, res, err)
		}
	}
}
