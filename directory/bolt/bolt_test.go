package bolt_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hop/directory"
	"hop/directory/bolt"
	"hop/directory/storetest"
)

var ctx = context.Background()

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) directory.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "dir.db"), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "hop")
	path := filepath.Join(dir, "directory.db")
	if _, err := bolt.Open(path, bolt.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{path, 0o600}, {dir, 0o700}, {filepath.Dir(dir), 0o700}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s has mode %04o, want %04o", c.path, got, c.want)
		}
	}
	// A file others may read is refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(path, bolt.Options{})
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open of a 0644 file: %v, want a refusal that says chmod 600", err)
	}
}

func TestNoLockBetweenTransactions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.db")
	s, err := bolt.Open(path, bolt.Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	// Another process (here: a direct bbolt handle) can take the exclusive
	// lock at once while the Store is idle.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("the Store keeps the file locked between transactions: %v", err)
	}
	// While that handle holds the lock, the Store waits and then says why.
	err = s.View(ctx, func(directory.Tx) error { return nil })
	if !errors.Is(err, bbolt.ErrTimeout) || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("View while another handle holds the lock: %v, want a lock timeout that says so", err)
	}
	if err := s.Update(ctx, func(directory.Tx) error { return nil }); !errors.Is(err, bbolt.ErrTimeout) {
		t.Errorf("Update while another handle holds the lock: %v, want a lock timeout", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(directory.Tx) error { return nil }); err != nil {
		t.Errorf("View after the lock was released: %v", err)
	}
}

func TestContextDeadlineBoundsLockWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.db")
	s, err := bolt.Open(path, bolt.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Update(c, func(directory.Tx) error { return nil })
	if err == nil {
		t.Fatal("Update succeeded while the file was locked")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Update waited %s despite a 100ms context deadline", d)
	}
}

func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.db")
	a, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 50 {
		if err := b.Update(ctx, func(tx directory.Tx) error { return tx.Put("b", "k", []byte{byte('0' + i%2)}) }); err != nil {
			t.Fatal(err)
		}
		tok, err := a.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatalf("write %d by another handle did not change the token %q", i, tok)
		}
		seen[tok] = true
	}
}

func TestDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.db")
	junk := []byte(strings.Repeat("not a bolt file ", 1024))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bolt.Open(path, bolt.Options{}); err == nil {
		t.Error("Open of a damaged file succeeded")
	}
}

// TestKilledWriter runs a writer in a child process that is killed right
// after its Update returned: the write is there, and the lock is gone.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv("HOP_BOLT_CHILD"); path != "" {
		s, err := bolt.Open(path, bolt.Options{})
		if err == nil {
			err = s.Update(ctx, func(tx directory.Tx) error { return tx.Put("b", "acknowledged", []byte("yes")) })
		}
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("committed\n")
		// Start another write and get killed in it.
		_ = s.Update(ctx, func(tx directory.Tx) error {
			_ = tx.Put("b", "unacknowledged", []byte("no"))
			time.Sleep(time.Hour)
			return nil
		})
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "dir.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), "HOP_BOLT_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "committed\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q %v", line, err)
	}
	time.Sleep(50 * time.Millisecond) // let it enter the second write
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	s, err := bolt.Open(path, bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("the killed writer's lock survived it: %v", err)
	}
	err = s.View(ctx, func(tx directory.Tx) error {
		if v, err := tx.Get("b", "acknowledged"); err != nil || string(v) != "yes" {
			t.Errorf("acknowledged write = %q, %v", v, err)
		}
		if v, err := tx.Get("b", "unacknowledged"); err != nil || v != nil {
			t.Errorf("unfinished write = %q, %v; want nothing", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
