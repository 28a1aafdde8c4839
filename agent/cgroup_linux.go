package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Each session's processes run in a cgroup of their own (cgroup v2), when
// the agent is root and the host has the unified hierarchy: the session's
// end kills the whole cgroup (cgroup.kill), so that a process that left
// the session's process group (setsid, a double fork) goes with it.
// Without cgroups, the teardown signals the process group only, as
// OpenSSH without a cgroup-aware init does.

// cgroupKillWait bounds how long a teardown waits for a killed cgroup to
// empty.
const cgroupKillWait = 5 * time.Second

// sessionCgroups makes the sessions' cgroups under base, the agent's own
// folder in the unified hierarchy.
type sessionCgroups struct {
	base string
}

// newSessionCgroups makes the agent's folder of session cgroups below the
// agent's own cgroup; an error says why sessions cannot have cgroups here.
func newSessionCgroups() (*sessionCgroups, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the agent is not root")
	}
	mount, err := cgroup2Mount()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroup()
	if err != nil {
		return nil, err
	}
	parent := filepath.Join(mount, own)
	removeStale(parent)
	base := filepath.Join(parent, "hop-agent-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(base, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("make %s: %w", base, err)
	}
	if _, err := os.Stat(filepath.Join(base, "cgroup.kill")); err != nil {
		os.Remove(base)
		return nil, fmt.Errorf("the kernel has no cgroup.kill (Linux 5.14 or later): %w", err)
	}
	return &sessionCgroups{base: base}, nil
}

// cgroup2Mount is where the unified hierarchy is mounted
// (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host).
func cgroup2Mount() (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// id parent major:minor root mountpoint options... - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup2" {
			return f[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}

// ownCgroup is this process's cgroup in the unified hierarchy ("0::PATH").
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("this process is in no cgroup v2")
}

// sessionCgroup is one session's cgroup.
type sessionCgroup struct {
	dir string
	fd  int // the folder, open: the child starts in it (CLONE_INTO_CGROUP)
}

// session makes the cgroup of session id.
func (s *sessionCgroups) session(id string) (*sessionCgroup, error) {
	dir := filepath.Join(s.base, "session-"+id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: make the session's cgroup: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("agent: open the session's cgroup: %w", err)
	}
	return &sessionCgroup{dir: dir, fd: fd}, nil
}

// kill kills every process left in the cgroup, waits (cgroupKillWait at
// most) until it is empty, and removes it.
func (c *sessionCgroup) kill() error {
	if c == nil {
		return nil
	}
	if c.fd >= 0 {
		unix.Close(c.fd)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		return fmt.Errorf("agent: kill the session's cgroup: %w", err)
	}
	deadline := time.Now().Add(cgroupKillWait)
	for {
		b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.events"))
		if err != nil || bytes.Contains(b, []byte("populated 0")) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agent: the session's cgroup %s still holds processes %v after it was killed", c.dir, cgroupKillWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.Remove(c.dir); err != nil {
		return fmt.Errorf("agent: remove the session's cgroup: %w", err)
	}
	return nil
}

// close removes the agent's folder (its sessions' cgroups are gone).
func (s *sessionCgroups) close() {
	if s != nil {
		os.Remove(s.base)
	}
}

// removeStale removes the session cgroups an agent that is gone left in
// parent (it crashed): what still runs in them is killed, as the agent
// would have at the sessions' end.
func removeStale(parent string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, ok := strings.CutPrefix(e.Name(), "hop-agent-")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n == os.Getpid() || unix.Kill(n, 0) == nil {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		sessions, _ := os.ReadDir(dir)
		for _, s := range sessions {
			if s.IsDir() && strings.HasPrefix(s.Name(), "session-") {
				(&sessionCgroup{dir: filepath.Join(dir, s.Name()), fd: -1}).kill()
			}
		}
		os.Remove(dir)
	}
}
