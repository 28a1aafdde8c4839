package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

// TestAuditChainAcrossProcesses: a running hop kdc (tickets for MIT kinit
// and kvno) and hop commands run at the same time (directory changes)
// append to one hash chain, across a logrotate-style rotation signalled
// with SIGHUP, and hop audit verify accepts it; an edited line is found.
func TestAuditChainAcrossProcesses(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	kvno := thirdparty.Require(t, "kvno")
	r := newRealm(t, "")
	env, _ := r.env(t)
	log := filepath.Join(r.dir, "audit.log")

	round := func(n int) {
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range n {
				if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
					t.Errorf("kinit alice (%d): %v\n%s%s", i, err, out, errOut)
					return
				}
				if out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test"); err != nil {
					t.Errorf("kvno (%d): %v\n%s%s", i, err, out, errOut)
					return
				}
			}
		})
		wg.Go(func() {
			for i := range n {
				auditHop(t, "", "account", "set", "bob", "--dir", r.dir, "--description", fmt.Sprintf("round %d", i))
			}
		})
		wg.Wait()
	}
	round(4)
	time.Sleep(500 * time.Millisecond) // the KDC writes its events within 200ms (later ones go to the new file)
	// Rotate as logrotate does: rename, then SIGHUP the KDC.
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.dir, "kdc.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ PID int }
	if err := json.Unmarshal(b, &st); err != nil || st.PID == 0 {
		t.Fatalf("kdc.json %q: %v", b, err)
	}
	if err := syscall.Kill(st.PID, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	round(3)
	time.Sleep(500 * time.Millisecond) // the KDC flushes every 200ms

	out := auditHop(t, "", "audit", "verify", log+".1", log)
	if !strings.HasPrefix(out, "audit log OK: ") || strings.Contains(out, "note:") {
		t.Errorf("hop audit verify: %s", out)
	}
	issued := auditHop(t, "", "audit", "--file", log+".1", "--principal", "alice", "--type", "tgs.issued")
	if n := strings.Count(issued, "tgs.issued  alice@EXAMPLE.TEST → host/b.example.test@EXAMPLE.TEST"); n != 4 {
		t.Errorf("%d TGS events for alice before the rotation, want 4:\n%s", n, issued)
	}
	changes := auditHop(t, "", "audit", "--dir", r.dir, "--principal", "bob", "--type", "directory")
	if !strings.Contains(changes, `"round 3" → "round 0"`) { // the last change before the rotation, then the first after
		t.Errorf("bob's changes after the rotation:\n%s", changes)
	}

	// Edit a ticket event in the rotated file.
	lines := strings.SplitAfter(string(auditMustRead(t, log+".1")), "\n")
	for i, l := range lines {
		if strings.Contains(l, `"type":"as.issued"`) && i+1 < len(lines)-1 {
			lines[i] = strings.Replace(l, "alice", "mallory", 1)
			if err := os.WriteFile(log+".1", []byte(strings.Join(lines, "")), 0o600); err != nil {
				t.Fatal(err)
			}
			msg := auditHopFails(t, "audit", "verify", log+".1", log)
			if want := fmt.Sprintf("line %d (seq %d): edited — its hash does not match line %d's prev", i+1, i+1, i+2); !strings.Contains(msg, want) {
				t.Errorf("verify of an edited log: %q, want %q", msg, want)
			}
			return
		}
	}
	t.Fatal("no as.issued event in the rotated log")
}

func auditHop(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return hop(t, stdin, args...)
}

func auditHopFails(t *testing.T, args ...string) string { t.Helper(); return hopFails(t, "", args...) }

func auditMustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
