package agent

import (
	"bufio"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalAfterTheLeaderExited: once the session's leader has exited,
// "signal" requests are not sent to its process group (whose id may be
// reused); teardown deals with what is left.
func TestSignalAfterTheLeaderExited(t *testing.T) {
	p, err := startProcess(procSpec{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 30 >/dev/null 2>&1 </dev/null & echo $!"}, Dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.closeIO()
	line, _ := bufio.NewReader(p.stdout).ReadString('\n')
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q", line)
	}
	<-p.exited
	if p.forward(syscall.SIGKILL) {
		t.Error("forward after the leader exited reported that it signalled the group")
	}
	time.Sleep(100 * time.Millisecond)
	if syscall.Kill(child, 0) != nil {
		t.Error("a signal request after the leader exited reached its process group")
	}
	p.teardown()
	if !waitFor(3*time.Second, func() bool { return !p.groupAlive() }) {
		t.Error("teardown left the group alive")
	}

	// While the leader runs, signals do go to the group.
	p, err = startProcess(procSpec{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 30"}, Dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.closeIO()
	if !p.forward(syscall.SIGTERM) {
		t.Error("forward to a running leader did nothing")
	}
	<-p.exited
	if _, sig, _ := p.exitInfo(); sig != syscall.SIGTERM {
		t.Errorf("leader ended with signal %v, want TERM", sig)
	}
}
