package agent

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestSessionCgroupKillsEscapees: as root on a host with cgroup v2, a
// process that left the session's process group (setsid) ends with the
// session, and the session's cgroup is removed.
func TestSessionCgroupKillsEscapees(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	if f.agent.cgroups == nil {
		t.Skip("sessions have no cgroups here (not root, or no cgroup v2): they end by process group, as documented")
	}
	c := f.login(t)
	r := run(t, c, "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!", "", nil)
	pid, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatalf("the session printed %q", r.stdout)
	}
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); return err != nil }) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("process %d, started with setsid in the session, outlived it", pid)
	}
	if !waitFor(5*time.Second, func() bool {
		ents, _ := os.ReadDir(f.agent.cgroups.base)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "session-") {
				return false
			}
		}
		return true
	}) {
		t.Error("the session's cgroup is still there")
	}
}

// TestStaleSessionCgroups: the session cgroups an agent that crashed left
// are emptied and removed when an agent starts.
func TestStaleSessionCgroups(t *testing.T) {
	cg, err := newSessionCgroups()
	if err != nil {
		t.Skipf("no session cgroups here: %v", err)
	}
	defer cg.close()
	// A dead agent's folder: a pid that no process has.
	dead := 1 << 22
	for syscall.Kill(dead, 0) == nil {
		dead++
	}
	stale := filepath.Join(filepath.Dir(cg.base), fmt.Sprintf("hop-agent-%d", dead))
	sess := filepath.Join(stale, "session-x")
	if err := os.MkdirAll(sess, 0o755); err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "300")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleep.Process.Kill()
	if err := os.WriteFile(filepath.Join(sess, "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	again, err := newSessionCgroups()
	if err != nil {
		t.Fatal(err)
	}
	defer again.close()
	if err := sleep.Wait(); err == nil {
		t.Error("the stale session's process ended well, not killed")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale folder %s is still there: %v", stale, err)
	}
}
