//go:build linux

package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// procState is the state letter of /proc/PID/stat ("" once the process
// is gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// TestReapOrphans: as a child subreaper (an agent that is PID 1), the
// agent reaps the orphans its sessions leave, and leaves the exit status
// of its own children to them.
func TestReapOrphans(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reapOrphans(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	}()
	time.Sleep(50 * time.Millisecond) // prctl done
	p, err := startProcess(procSpec{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 0.3 >/dev/null 2>&1 </dev/null & echo $!; exit 7"}, Dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.closeIO()
	line, _ := bufio.NewReader(p.stdout).ReadString('\n')
	orphan, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("orphan pid %q", line)
	}
	<-p.exited
	if code, _, _ := p.exitInfo(); code != 7 || p.state == nil {
		t.Fatalf("the session leader's exit status was lost: %d (%v)", code, p.werr)
	}
	if !waitFor(5*time.Second, func() bool { return procState(orphan) == "" }) {
		t.Fatalf("the orphan %d was not reaped (state %s)", orphan, procState(orphan))
	}
}
