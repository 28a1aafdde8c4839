//go:build linux

package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// children are the pids of the processes the agent started itself
// (startChild), whose exit status belongs to their exec.Cmd: the orphan
// reaper leaves them alone. mu is held while one is started and while the
// reaper reaps, so that a child that exits at once is never taken for an
// orphan.
var children = struct {
	mu   sync.Mutex
	pids map[int]bool
}{pids: map[int]bool{}}

// startChild starts cmd as one of the agent's own children.
func startChild(cmd *exec.Cmd) error {
	children.mu.Lock()
	defer children.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	children.pids[cmd.Process.Pid] = true
	return nil
}

// childReaped forgets a child of startChild once cmd.Wait has reaped it.
func childReaped(pid int) {
	children.mu.Lock()
	defer children.mu.Unlock()
	delete(children.pids, pid)
}

// waitExited returns once the child pid has exited, leaving it waitable
// (a zombie: its pid is not reused until cmd.Wait reaps it).
func waitExited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// siginfoPid is si_pid of a SIGCHLD siginfo_t: the first field of the
// union that follows si_signo, si_errno and si_code, aligned like a
// pointer (offset 16 on 64-bit systems, 12 on 32-bit ones).
func siginfoPid(info *unix.Siginfo) int {
	const word = unsafe.Sizeof(uintptr(0))
	const off = (12 + word - 1) &^ (word - 1)
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(info), off)))
}

// reapInterval is how often the reaper looks for orphans besides on
// SIGCHLD (a SIGCHLD may arrive while a child of startChild heads the
// queue).
const reapInterval = time.Second

// reapOrphans makes the agent a child subreaper (prctl
// PR_SET_CHILD_SUBREAPER) and reaps the orphaned processes reparented to
// it until ctx ends: an agent that is PID 1 in a container is the init of
// every process its sessions leave behind, and must collect them lest
// they stay zombies.
func reapOrphans(ctx context.Context) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("agent: become a child subreaper: %w", err)
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGCHLD)
	defer signal.Stop(sigc)
	t := time.NewTicker(reapInterval)
	defer t.Stop()
	for {
		reapPass()
		select {
		case <-ctx.Done():
			return nil
		case <-sigc:
		case <-t.C:
		}
	}
}

// reapPass reaps the exited children that are not the agent's own
// (orphans), up to the first that is: that one is left to its exec.Cmd,
// and the rest to the next pass. It returns how many it reaped.
func reapPass() int {
	children.mu.Lock()
	defer children.mu.Unlock()
	n := 0
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		pid := siginfoPid(&info)
		if err != nil || pid <= 0 || children.pids[pid] {
			return n
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err != nil && !errors.Is(err, unix.EINTR) {
			return n
		}
		n++
	}
}
