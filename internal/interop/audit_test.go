package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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

// TestAuditDirectoryChangesSurviveKill: hop account add processes killed
// with SIGKILL at spread moments (before, during and after their commit)
// leave no directory change without its audit event: hop audit verify
// --dir passes at once (events of changes whose process died before
// writing them wait in the directory), and after the next command, which
// writes them, every account that exists has its creation event in the
// log — checked here by reading both, not only by the verifier. A first
// round finds when a run commits; a second kills densely around then.
func TestAuditDirectoryChangesSurviveKill(t *testing.T) {
	r := newDomain(t)
	const n = 40
	exists := func() map[string]bool {
		var accounts []struct{ Name string }
		if err := json.Unmarshal([]byte(auditHop(t, "", "account", "list", "--dir", r.dir, "--json")), &accounts); err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, a := range accounts {
			if strings.HasPrefix(a.Name, "kill-") {
				m[a.Name] = true
			}
		}
		return m
	}
	run := func(name string, after time.Duration) {
		cmd := exec.Command(hopBin, "account", "add", name, "--dir", r.dir, "--password-file", "-")
		cmd.Stdin = strings.NewReader(bobPW + "\n")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		cmd.Process.Kill()
		cmd.Wait()
	}
	// Round 1: 0 to 60 ms (a run takes about 25 ms).
	commitAt := time.Duration(-1)
	for i := range n {
		run(fmt.Sprintf("kill-a%02d", i), time.Duration(i)*1500*time.Microsecond)
	}
	made := exists()
	for i := range n {
		if made[fmt.Sprintf("kill-a%02d", i)] {
			commitAt = time.Duration(i) * 1500 * time.Microsecond
			break
		}
	}
	if commitAt < 0 || len(made) == n {
		t.Fatalf("%d of %d runs killed within 60 ms made their account: the kills did not fall across the commits", len(made), n)
	}
	// Round 2: within 2 ms before and after the first run seen to commit.
	for i := range n {
		run(fmt.Sprintf("kill-b%02d", i), max(0, commitAt-2*time.Millisecond+time.Duration(i)*100*time.Microsecond))
	}

	out := auditHop(t, "", "audit", "verify", "--dir", r.dir)
	if !strings.Contains(out, "each have their audit event") {
		t.Errorf("hop audit verify --dir after the kills:\n%s", out)
	}
	waiting := strings.Count(out, "\n  change ")
	made = exists() // opens the directory: writes what waits
	out = auditHop(t, "", "audit", "verify", "--dir", r.dir)
	if !strings.Contains(out, "each have their audit event\n") || strings.Contains(out, "waiting") {
		t.Errorf("hop audit verify --dir after the next command:\n%s", out)
	}
	created, recovered := map[string]bool{}, 0
	for _, line := range strings.Split(strings.TrimSpace(string(auditMustRead(t, filepath.Join(r.dir, "audit.log")))), "\n") {
		var ev struct{ Type, Target, Flags string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev.Type == "directory.account.create" {
			created[ev.Target] = true
			if strings.Contains(ev.Flags, "recovered") {
				recovered++
			}
		}
	}
	for name := range made {
		if !created[name] {
			t.Errorf("account %s exists but the log has no directory.account.create for it", name)
		}
	}
	for name := range created {
		if strings.HasPrefix(name, "kill-") && !made[name] {
			t.Errorf("the log records the creation of %s, which does not exist", name)
		}
	}
	t.Logf("%d of %d killed runs made their account (first commit seen %s after start); %d events waited in the directory at the end; %d were written by a later command, marked recovered",
		len(made), 2*n, commitAt, waiting, recovered)
}
