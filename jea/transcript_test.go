package jea

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedClock() func() time.Time {
	t0 := time.Date(2025, 11, 23, 12, 0, 0, 0, time.FixedZone("X", 3600))
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
}

func readRecords(t *testing.T, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// summary renders records compactly: type, seq and the interesting field.
func summary(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		s := r["type"].(string)
		if seq, ok := r["seq"]; ok {
			s += " " + strings.TrimSuffix(strings.TrimSuffix(jsonString(seq), ".0"), "")
		}
		switch r["type"] {
		case "start":
			s += " " + r["user"].(string) + " " + r["endpoint"].(string)
		case "command":
			s += " " + r["command"].(string)
		case "output":
			s += " " + r["stream"].(string) + " "
			if d, ok := r["data"]; ok {
				s += jsonString(d)
			} else {
				b, _ := base64.StdEncoding.DecodeString(r["data_b64"].(string))
				s += "b64:" + string(b)
			}
		case "exit":
			s += " exit=" + jsonString(r["exit"]) + " omitted=" + jsonString(r["omitted"])
		}
		out = append(out, s)
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTranscript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "transcripts")
	tr, err := OpenTranscriptWith(TranscriptConfig{Dir: dir, Session: "s-1", User: "alice@EXAMPLE.TEST", Endpoint: "dns-ops",
		RunAs: "hop-dns", MaxOutput: 10, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	// Begin/End: the command is on disk before its output.
	tr.Begin([]string{"/usr/sbin/rndc", "status"})
	tr.Output("stdout", []byte("server is up\n")) // 13 bytes: 10 kept, 3 omitted
	tr.Output("stderr", []byte("x"))              // omitted
	tr.End(0)
	// Refused command: no output.
	tr.Command([]string{"rndc", "reload; rm -rf /"}, 126)
	// Output first, then Command (the agent's order when it logs afterwards).
	w := tr.Writer("stderr")
	w.Write([]byte("bad\xff"))
	tr.Command([]string{"/usr/sbin/rndc", "reload"}, 1)
	tr.Command([]string{"/usr/sbin/rndc", "reload"}, 0)
	// Begin then Command: only the exit is added.
	tr.Begin([]string{"/usr/sbin/rndc", "reload", "x"})
	tr.Command([]string{"/usr/sbin/rndc", "reload", "x"}, 2)
	// A command still open at Close.
	tr.Begin([]string{"sleep"})
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	tr.Output("stdout", []byte("late")) // ignored after Close
	tr.Command([]string{"late"}, 0)

	name := filepath.Join(dir, "s-1.jsonl")
	recs := readRecords(t, name)
	want := []string{
		"start alice@EXAMPLE.TEST dns-ops",
		"command 1 /usr/sbin/rndc status",
		`output 1 stdout "server is "`,
		"exit 1 exit=0 omitted=4",
		`command 2 rndc 'reload; rm -rf /'`,
		"exit 2 exit=126 omitted=0",
		"output 3 stderr b64:bad\xff",
		"command 3 /usr/sbin/rndc reload",
		"exit 3 exit=1 omitted=0",
		"command 4 /usr/sbin/rndc reload",
		"exit 4 exit=0 omitted=0",
		"command 5 /usr/sbin/rndc reload x",
		"exit 5 exit=2 omitted=0",
		"command 6 sleep",
		"exit 6 exit=-1 omitted=0",
		"end",
	}
	if got := summary(recs); !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if recs[0]["time"] != "2025-11-23T11:00:01Z" || recs[0]["run_as"] != "hop-dns" || recs[0]["session"] != "s-1" {
		t.Errorf("start record %v", recs[0])
	}
	if argv := recs[4]["argv"].([]any); len(argv) != 2 || argv[1] != "reload; rm -rf /" {
		t.Errorf("argv %v", argv)
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("transcript mode %v, %v", fi.Mode(), err)
	}
	di, err := os.Stat(dir)
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v", di.Mode(), err)
	}
}

func TestTranscriptOpen(t *testing.T) {
	base := t.TempDir()
	// An existing directory open to others is restricted.
	loose := filepath.Join(base, "loose")
	os.Mkdir(loose, 0o755)
	os.Chmod(loose, 0o777)
	tr, err := OpenTranscript(loose, "a", "alice", "e")
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if fi, _ := os.Stat(loose); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %04o, want 0700", fi.Mode().Perm())
	}
	// The same session twice is refused, never appended to or truncated.
	if _, err := OpenTranscript(loose, "a", "mallory", "e"); err == nil {
		t.Error("second transcript of the same session opened")
	}
	if recs := readRecords(t, filepath.Join(loose, "a.jsonl")); len(recs) != 2 || recs[0]["user"] != "alice" {
		t.Errorf("records %v", recs)
	}
	// A symbolic link planted at the transcript's name is not followed.
	os.Symlink(filepath.Join(base, "victim"), filepath.Join(loose, "b.jsonl"))
	if _, err := OpenTranscript(loose, "b", "alice", "e"); err == nil {
		t.Error("transcript opened through a symbolic link")
	}
	if _, err := os.Stat(filepath.Join(base, "victim")); err == nil {
		t.Error("symlink target created")
	}
	for _, s := range []string{"", ".hidden", "../x", "a/b", "a b", strings.Repeat("x", 129), "a\x00"} {
		if _, err := OpenTranscript(loose, s, "alice", "e"); err == nil || !strings.HasPrefix(err.Error(), "jea: ") {
			t.Errorf("session %q: err %v", s, err)
		}
	}
	if _, err := OpenTranscript("", "s", "alice", "e"); err == nil {
		t.Error("empty directory accepted")
	}
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := OpenTranscript(file, "s", "alice", "e"); err == nil {
		t.Error("a file accepted as directory")
	}
}

func TestTranscriptConcurrent(t *testing.T) {
	dir := t.TempDir()
	tr, err := OpenTranscriptWith(TranscriptConfig{Dir: dir, Session: "c", User: "u", Endpoint: "e", MaxOutput: 1000})
	if err != nil {
		t.Fatal(err)
	}
	tr.Begin([]string{"x"})
	var wg sync.WaitGroup
	for _, s := range []string{"stdout", "stderr"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				tr.Output(s, []byte("0123456789"))
			}
		}()
	}
	wg.Wait()
	tr.End(0)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	kept := 0
	var omitted float64
	for _, r := range readRecords(t, filepath.Join(dir, "c.jsonl")) {
		if r["type"] == "output" {
			kept += len(r["data"].(string))
		}
		if r["type"] == "exit" {
			omitted = r["omitted"].(float64)
		}
	}
	if kept != 1000 || omitted != 1000 {
		t.Errorf("kept %d, omitted %v; want 1000 and 1000", kept, omitted)
	}
}

func TestTranscriptNoOutput(t *testing.T) {
	dir := t.TempDir()
	tr, err := OpenTranscriptWith(TranscriptConfig{Dir: dir, Session: "n", User: "u", Endpoint: "e", MaxOutput: -1})
	if err != nil {
		t.Fatal(err)
	}
	tr.Output("stdout", []byte("secret"))
	tr.Command([]string{"x"}, 0)
	tr.Close()
	got := summary(readRecords(t, filepath.Join(dir, "n.jsonl")))
	want := []string{"start u e", "command 1 x", "exit 1 exit=0 omitted=6", "end"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
}
