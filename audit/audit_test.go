package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileWritesJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a.Emit(Event{Time: when, Type: "as.issued", Client: "alice@EXAMPLE.TEST", Service: "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"})
	a.Emit(Event{Time: when, Type: "preauth.failed", Client: "bob@EXAMPLE.TEST", Code: "KDC_ERR_PREAUTH_FAILED"})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Client != "alice@EXAMPLE.TEST" || got[1].Code != "KDC_ERR_PREAUTH_FAILED" || !got[0].Time.Equal(when) {
		t.Fatalf("events = %+v", got)
	}
	a.Emit(Event{Type: "after-close"}) // must not panic or write
}

func TestReopenAfterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Type: "before"})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Reopen(); err != nil {
		t.Fatal(err)
	}
	a.Emit(Event{Type: "after"})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), `"before"`) || strings.Contains(string(old), `"after"`) || !strings.Contains(string(cur), `"after"`) {
		t.Fatalf("rotated: %q, current: %q", old, cur)
	}
}
