package scan

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// needle is a random hex string: it can sit in an environment.
func needle(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte(hex.EncodeToString(b))
}

// TestMemory: a needle in a child's environment (its stack) is found, in
// large chunks and in chunks smaller than the needle (across their
// boundaries); a needle the child never saw is not.
func TestMemory(t *testing.T) {
	held, absent := needle(t), needle(t)
	cmd := exec.Command("sleep", "30")
	cmd.Env = []string{"HOP_NEEDLE=" + string(held)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// sleep has exec'd once its maps name it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", cmd.Process.Pid))
		if bytes.Contains(b, []byte("sleep")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sleep did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, n, err := Memory(cmd.Process.Pid, [][]byte{absent, held})
	if os.IsPermission(err) {
		t.Skipf("this process may not read its child's memory: %v", err)
	}
	if err != nil || n == 0 || len(got) != 1 || got[0] != 1 {
		t.Errorf("Memory: found %v in %d bytes (%v), want [1] (only the needle in the environment)", got, n, err)
	}
	for _, chunk := range []int{7, 4096} {
		got, n, err := memory(cmd.Process.Pid, chunk, [][]byte{held, absent})
		if err != nil || n == 0 || len(got) != 1 || got[0] != 0 {
			t.Errorf("memory in chunks of %d: found %v in %d bytes (%v), want [0]", chunk, got, n, err)
		}
	}
	if _, _, err := Memory(cmd.Process.Pid, [][]byte{held, {}}); err == nil {
		t.Error("an empty needle was accepted")
	}
}

// TestFiles: a needle planted in a nested file is found with the file's
// name; a needle written nowhere is not; a file outside the folders (behind
// a symbolic link) is not read; a missing folder is an error.
func TestFiles(t *testing.T) {
	held, absent, outside := needle(t), needle(t), needle(t)
	dir := t.TempDir()
	nested := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(nested, 0o700); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(nested, "state.db")
	if err := os.WriteFile(planted, append(append([]byte("prefix\x00"), held...), "\x00suffix"...), 0o600); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "x"), outside, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, files, err := Files([][]byte{absent, held, outside}, dir)
	if err != nil || files != 1 || len(got) != 1 || got[0] != (Hit{1, planted}) {
		t.Errorf("Files: %v in %d files (%v), want only needle 1 in %s", got, files, err, planted)
	}
	if _, _, err := Files([][]byte{held}, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder was not an error")
	}
}
