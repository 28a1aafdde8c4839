package bolt

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/directory"
)

// TestTokenCoarseTimes makes the file's stat identical before and after
// commits, as a coarse clock would: the token must still change while the
// times are recent, and must not open the file once they are old.
func TestTokenCoarseTimes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	frozen := fileStat{dev: 1, ino: 2, size: 32768, mtime: time.Unix(1_700_000_000, 0), ctime: time.Unix(1_700_000_000, 0)}
	s.stat = func(string) (fileStat, error) { return frozen, nil }
	now := frozen.mtime.Add(time.Second) // recent: within the window
	s.now = func() time.Time { return now }

	put := func(v string) {
		t.Helper()
		if err := s.Update(ctx, func(tx directory.Tx) error { return tx.Put("b", "k", []byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	tok := func() string {
		t.Helper()
		v, err := s.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t0 := tok()
	put("1")
	t1 := tok()
	put("2")
	t2 := tok()
	if t0 == t1 || t1 == t2 || t0 == t2 {
		t.Errorf("with identical stat, commits did not change the token: %q %q %q", t0, t1, t2)
	}
	if !strings.Contains(t2, ".g") {
		t.Errorf("recent token %q lacks the generation", t2)
	}

	// Old times: the token comes from stat alone (the file is not opened,
	// so a locked file does not slow it down).
	now = frozen.mtime.Add(recentWindow)
	s.path = filepath.Join(t.TempDir(), "absent.db") // opening it would fail
	old := tok()
	if strings.Contains(old, ".g") {
		t.Errorf("old token %q has a generation", old)
	}
	// A clock behind the file's times counts as recent.
	now = frozen.mtime.Add(-time.Hour)
	if _, err := s.Token(ctx); err == nil {
		t.Error("Token with a file time in the future did not read the generation")
	}
}
