package agent

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"hop/remoting"
)

// KillDelay is how long teardown waits after SIGTERM before SIGKILL.
const KillDelay = 2 * time.Second

// procSpec is what to run.
type procSpec struct {
	Path string   // absolute executable path
	Argv []string // argv, argv[0] included
	Env  []string
	Dir  string
	// User, when set, is the account to switch to (the agent is root).
	User *localUser
	// Pty, when set, runs the process on a new pseudo-terminal as the
	// leader of a new session; otherwise it leads a new process group.
	Pty *ptyRequest
	// KCMSocket is the session's broker socket. When it and User are set
	// (the agent is root) and User is not root, the process starts in a
	// mount namespace of its own where Heimdal's fixed KCM socket path is
	// this socket (heimdalkcm_linux.go). A session that runs as root
	// keeps the host's namespace, so that what it mounts is the host's.
	KCMSocket string
	// Cgroup, when set, is the session's cgroup: the process starts in it
	// (CLONE_INTO_CGROUP), and the teardown kills all it holds.
	Cgroup *sessionCgroup
}

// process is a running session process and its process group.
type process struct {
	cmd  *exec.Cmd
	pgid int

	ptmx   *os.File       // pty master (pty sessions)
	stdin  io.WriteCloser // pipe sessions
	stdout io.ReadCloser
	stderr io.ReadCloser // nil with a pty

	exited chan struct{} // closed once the leader is reaped
	state  *os.ProcessState
	werr   error

	// mu orders "signal" requests with the leader's exit: once leaderGone
	// is set they are ignored. It is set while the leader is still an
	// unreaped zombie, so its pid, the group's id, cannot have been given
	// to another process before.
	mu         sync.Mutex
	leaderGone bool

	tearOnce sync.Once
	cg       *sessionCgroup // nil: the process group only
	cgErr    error          // the cgroup's teardown failed
}

// startProcess starts spec's program.
func startProcess(spec procSpec) (*process, error) {
	cmd := &exec.Cmd{Path: spec.Path, Args: spec.Argv, Env: spec.Env, Dir: spec.Dir}
	attr := &syscall.SysProcAttr{}
	if spec.User != nil {
		attr.Credential = &syscall.Credential{Uid: spec.User.UID, Gid: spec.User.GID, Groups: spec.User.Groups}
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), cg: spec.Cgroup}
	if spec.Cgroup != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, spec.Cgroup.fd
	}
	var closeAfter []io.Closer
	fail := func(err error) (*process, error) {
		for _, c := range closeAfter {
			c.Close()
		}
		p.cg.kill()
		if p.ptmx != nil {
			p.ptmx.Close()
		}
		for _, c := range []io.Closer{p.stdin, p.stdout, p.stderr} {
			if c != nil {
				c.Close()
			}
		}
		return nil, err
	}
	if spec.Pty != nil {
		ptmx, tty, err := pty.Open()
		if err != nil {
			return nil, fmt.Errorf("agent: allocate a pty: %w", err)
		}
		p.ptmx = ptmx
		closeAfter = append(closeAfter, tty)
		if spec.User != nil {
			// The terminal belongs to the session's user, as sshd makes it.
			_ = tty.Chown(int(spec.User.UID), -1)
			_ = tty.Chmod(0o620)
		}
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: uint16(spec.Pty.Rows), Cols: uint16(spec.Pty.Cols), X: uint16(spec.Pty.XPix), Y: uint16(spec.Pty.YPix)}); err != nil {
			return fail(fmt.Errorf("agent: pty size: %w", err))
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		attr.Setsid, attr.Setctty, attr.Ctty = true, true, 0
	} else {
		inR, inW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			inR.Close()
			inW.Close()
			return nil, err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			inR.Close()
			inW.Close()
			outR.Close()
			outW.Close()
			return nil, err
		}
		p.stdin, p.stdout, p.stderr = inW, outR, errR
		closeAfter = append(closeAfter, inR, outW, errW)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
		attr.Setpgid = true
	}
	cmd.SysProcAttr = attr
	start := startChild
	if spec.KCMSocket != "" && spec.User != nil && spec.User.UID != 0 && sessionNamespaces() {
		start = func(cmd *exec.Cmd) error { return startWithKCMSocket(cmd, spec.KCMSocket) }
	}
	if err := start(cmd); err != nil {
		return fail(fmt.Errorf("agent: start %s: %w", spec.Path, err))
	}
	for _, c := range closeAfter {
		c.Close()
	}
	p.pgid = cmd.Process.Pid
	go func() {
		defer childReaped(p.pgid)
		waitExited(p.pgid)
		p.mu.Lock()
		p.leaderGone = true
		p.mu.Unlock()
		p.werr = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	return p, nil
}

// forward sends sig to the process group for a "signal" request, and
// reports whether it did: once the session's leader has exited it does
// not, since the group's id may be reused once the group is empty (the
// teardown that follows the leader's exit deals with what it left).
func (p *process) forward(sig syscall.Signal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leaderGone {
		return false
	}
	p.signal(sig)
	return true
}

// signal sends sig to the whole process group.
func (p *process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.pgid, sig)
}

// groupAlive reports whether any process of the group is left.
func (p *process) groupAlive() bool {
	return syscall.Kill(-p.pgid, 0) == nil
}

// teardown ends the process group: SIGHUP, SIGTERM, then after KillDelay
// SIGKILL; then every process left in the session's cgroup, if it has
// one; and returns once the leader is reaped. Only the first call acts;
// later ones wait for the leader.
func (p *process) teardown() {
	p.tearOnce.Do(func() {
		p.signal(syscall.SIGHUP)
		p.signal(syscall.SIGCONT)
		p.signal(syscall.SIGTERM)
		deadline := time.Now().Add(KillDelay)
		for p.groupAlive() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if p.groupAlive() {
			p.signal(syscall.SIGKILL)
		}
		// What left the process group (setsid) is still in the cgroup.
		p.cgErr = p.cg.kill()
	})
	<-p.exited
}

// closeIO closes the agent's ends of the process's I/O.
func (p *process) closeIO() {
	for _, c := range []io.Closer{p.ptmx, p.stdin, p.stdout, p.stderr} {
		if c != nil && !isNilFile(c) {
			c.Close()
		}
	}
}

func isNilFile(c io.Closer) bool {
	f, ok := c.(*os.File)
	return ok && f == nil
}

// exitInfo is how the leader ended: an exit status or a signal.
func (p *process) exitInfo() (status int, sig syscall.Signal, core bool) {
	if p.state == nil {
		return 255, 0, false
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal(), ws.CoreDump()
	}
	return p.state.ExitCode(), 0, false
}

// signals maps the names of RFC 4254 §6.10 ("signal" requests and
// "exit-signal") to the signals hop forwards.
var signals = map[string]syscall.Signal{
	"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "HUP": syscall.SIGHUP, "KILL": syscall.SIGKILL,
	"QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
}

// signalName is the RFC 4254 name of sig (without "SIG").
func signalName(sig syscall.Signal) string {
	for n, s := range signals {
		if s == sig {
			return n
		}
	}
	switch sig {
	case syscall.SIGABRT:
		return "ABRT"
	case syscall.SIGALRM:
		return "ALRM"
	case syscall.SIGFPE:
		return "FPE"
	case syscall.SIGILL:
		return "ILL"
	case syscall.SIGPIPE:
		return "PIPE"
	case syscall.SIGSEGV:
		return "SEGV"
	}
	return remoting.SignalName(int(sig))
}
