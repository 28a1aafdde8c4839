package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBuiltInRotation: a log that reaches MaxSize is renamed .1 (older ones
// shifted, the oldest beyond MaxFiles removed), the new file's first line
// continues the chain, and the kept files verify together.
func TestBuiltInRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := Open(path, Options{MaxSize: 2000, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		a.Emit(Event{Time: when, Type: "as.issued", Client: fmt.Sprintf("user%d@EXAMPLE.TEST", i), Reason: strings.Repeat("r", 100)})
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	files := Rotated(path)
	if len(files) != 3 || files[0] != path+".2" || files[2] != path {
		t.Fatalf("files %v, want .2, .1 and the log", files)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third rotated file was kept: %v", err)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Size() > 2000+600 {
			t.Errorf("%s has %d bytes, beyond the bound and a line", f, fi.Size())
		}
	}
	res, err := Verify(files...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Continued || res.LastSeq != 60 || res.Events != int(res.LastSeq-res.FirstSeq+1) {
		t.Errorf("verify across the kept files: %+v", res)
	}
}

// TestSpaceAlarm: a filesystem below MinFree raises one alarm (an error
// line and an audit.space event) per hour, not one per write.
func TestSpaceAlarm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := Open(path, Options{MinFree: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	a.statFree = func(string) (uint64, error) { return 10 << 20, nil }
	for range 3 {
		a.Emit(Event{Time: when, Type: "as.issued"})
		a.mu.Lock()
		a.spaceChecked = time.Time{} // as if the check interval had passed
		a.mu.Unlock()
		a.Flush()
	}
	a.Close()
	n := 0
	for _, l := range readLines(t, path) {
		if strings.Contains(string(l), `"type":"audit.space"`) {
			n++
			if !strings.Contains(string(l), "has 10 MiB free, less than 1024 MiB") {
				t.Errorf("the alarm: %s", l)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d audit.space events, want 1", n)
	}
}
