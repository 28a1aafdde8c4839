package service

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReplayCachePersist: an authenticator accepted before a restart is a
// replay after it (the captured-header case); entries that expired are
// dropped when the file is read; a record cut short by a crash is
// ignored; a file that is not a replay cache is refused and left as it
// was; when the file cannot be written the authenticator is refused.
func TestReplayCachePersist(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "replay.cache")
	ct := func(i byte) []byte { return []byte{'a', 'u', 't', 'h', i} }

	c1 := NewReplayCache(5 * time.Minute)
	if err := c1.Persist(path, t0); err != nil {
		t.Fatal(err)
	}
	for i := byte(1); i <= 2; i++ {
		if err := c1.add(ct(i), t0, 0, t0); err != nil {
			t.Fatal(err)
		}
	}
	c1.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the file: %v %v", fi, err)
	}
	// A crash in the middle of a record.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{1, 2, 3})
	f.Close()

	c2 := NewReplayCache(5 * time.Minute)
	if err := c2.Persist(path, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c2.add(ct(1), t0, 0, t0.Add(time.Minute)); !errors.Is(err, errReplay) {
		t.Errorf("an authenticator accepted before the restart: %v, want a replay", err)
	}
	if err := c2.add(ct(3), t0, 0, t0.Add(time.Minute)); err != nil {
		t.Errorf("a new authenticator: %v", err)
	}
	c2.Close()

	c3 := NewReplayCache(5 * time.Minute)
	if err := c3.Persist(path, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c3.Len() != 0 {
		t.Errorf("%d entries read after they all expired", c3.Len())
	}
	c3.Close()

	// Not a replay cache: refused, untouched.
	other := filepath.Join(t.TempDir(), "notes")
	os.WriteFile(other, []byte("my notes"), 0o644)
	if err := NewReplayCache(0).Persist(other, t0); err == nil {
		t.Error("a file that is not a replay cache was taken")
	}
	if b, _ := os.ReadFile(other); string(b) != "my notes" {
		t.Errorf("the other file was changed: %q", b)
	}

	// The file cannot be written: fail closed.
	c4 := NewReplayCache(5 * time.Minute)
	if err := c4.Persist(filepath.Join(t.TempDir(), "r"), t0); err != nil {
		t.Fatal(err)
	}
	c4.file.Close()
	if err := c4.add(ct(9), t0, 0, t0); err == nil || errors.Is(err, errReplay) {
		t.Errorf("an authenticator the file could not record: %v, want a refusal", err)
	}
	if err := c4.add(ct(9), t0, 0, t0); errors.Is(err, errReplay) {
		t.Error("an authenticator the file could not record is remembered as accepted")
	}
}

// TestReplayCacheCompacts: the file is rewritten without its expired
// entries once it holds four times the live ones.
func TestReplayCacheCompacts(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "replay.cache")
	c := NewReplayCache(time.Minute)
	if err := c.Persist(path, t0); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 6000 {
		now := t0.Add(time.Duration(i) * 100 * time.Millisecond) // 10 a second, each living a minute
		if err := c.add([]byte{byte(i), byte(i >> 8), 'x'}, now, 0, now); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if records := (fi.Size() - int64(len(replayFileMagic))) / replayRecord; records > 4*int64(c.Len())+1024 {
		t.Errorf("the file holds %d records for %d live entries", records, c.Len())
	}
}
