//go:build linux

package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hop/internal/thirdparty"
)

// requireSessionNamespaces skips a test unless sessions get their own
// mount namespace here: the agent is root with CAP_SYS_ADMIN.
func requireSessionNamespaces(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 || !sessionNamespaces() {
		t.Skip("sessions get a mount namespace only from an agent that is root with CAP_SYS_ADMIN")
	}
}

// mountNS is the mount namespace of a task of this process.
func mountNS(t *testing.T, task string) string {
	t.Helper()
	ns, err := os.Readlink(filepath.Join(task, "ns", "mnt"))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestSessionMountNamespace runs a default session and checks from inside
// it that Heimdal's KCM socket path is a bind mount of the session's
// broker socket, in a namespace of the session's own, as the session's
// account; and that no thread of the agent was left in that namespace.
func TestSessionMountNamespace(t *testing.T) {
	requireSessionNamespaces(t)
	agentNS := mountNS(t, "/proc/self")
	f := newFixture(t, fixtureOptions{})
	u, err := lookupLocalUser(f.alice)
	if err != nil {
		t.Fatal(err)
	}
	c := f.login(t)
	r := run(t, c, `echo "conf=${KRB5_CONFIG%%:*}"; id -u; readlink /proc/self/ns/mnt; cat /proc/self/mountinfo`, "", nil)
	if r.status != 0 {
		t.Fatalf("exit %d, stderr %q", r.status, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if len(lines) < 4 {
		t.Fatalf("output %q", r.stdout)
	}
	conf := strings.TrimPrefix(lines[0], "conf=")
	if lines[1] != strconv.FormatUint(uint64(u.UID), 10) {
		t.Errorf("the session runs as uid %s, want %s's, %d", lines[1], f.alice, u.UID)
	}
	sessionNS := lines[2]
	if !strings.HasPrefix(sessionNS, "mnt:[") || sessionNS == agentNS {
		t.Errorf("the session's mount namespace is %q, the agent's %q: want one of its own", sessionNS, agentNS)
	}
	// mountinfo: ID parent dev root mount-point ...; the bind's root is
	// the socket's path inside its filesystem.
	target, err := filepath.EvalSymlinks("/var/run")
	if err != nil {
		t.Fatal(err)
	}
	target = filepath.Join(target, ".heim_org.h5l.kcm-socket")
	wantRoot := "/" + filepath.Base(filepath.Dir(conf)) + "/kcm.sock"
	found := false
	for _, l := range lines[3:] {
		fields := strings.Fields(l)
		if len(fields) >= 5 && fields[4] == target {
			found = true
			if !strings.HasSuffix(fields[3], wantRoot) {
				t.Errorf("%s is a mount of %s, not of the session's socket (…%s)", target, fields[3], wantRoot)
			}
		}
	}
	if !found {
		t.Errorf("no mount on %s in the session:\n%s", target, strings.Join(lines[3:], "\n"))
	}

	// The agent is where it was: every thread in its own namespace, and
	// no bind mount of a session's socket in its mount table.
	if !waitFor(5*time.Second, func() bool {
		tasks, _ := filepath.Glob("/proc/self/task/*")
		for _, task := range tasks {
			if ns, err := os.Readlink(filepath.Join(task, "ns", "mnt")); err == nil && ns != agentNS {
				return false
			}
		}
		return true
	}) {
		t.Error("a thread of the agent stayed in a session's mount namespace")
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mi), "/kcm.sock ") {
		t.Errorf("a session's socket is mounted in the agent's namespace:\n%s", mi)
	}
	if ev := f.eventsOf("session.end"); len(ev) != 1 || !strings.HasSuffix(ev[0].Reason, "; exit 0") {
		t.Errorf("audit %+v", ev)
	}
}

// TestSessionHeimdalKlist runs Heimdal's klist in a default session: with
// KRB5CCNAME=KCM: it reads the session's broker through the fixed socket
// path, and sees the session's principal.
func TestSessionHeimdalKlist(t *testing.T) {
	requireSessionNamespaces(t)
	h := thirdparty.RequireHeimdal(t)
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	r := run(t, c, strings.Join(h.Env, " ")+" "+h.Klist+"; echo klist=$?", "", nil)
	t.Logf("session output:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	for _, w := range []string{"Credentials cache: KCM:", "Principal: alice@EXAMPLE.TEST", "klist=0"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("Heimdal's klist in the session lacks %q", w)
		}
	}
}

func TestUnescapeMountInfo(t *testing.T) {
	for in, want := range map[string]string{
		"/run":               "/run",
		`/mnt/a\040b`:        "/mnt/a b",
		`/mnt/tab\011x\134y`: "/mnt/tab\tx\\y",
		`/mnt/short\04`:      `/mnt/short\04`,
		`/mnt/not\089`:       `/mnt/not\089`,
	} {
		if got := unescapeMountInfo(in); got != want {
			t.Errorf("unescapeMountInfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDisposableThread runs many namespace changes at once: none runs on
// the main thread, each thread ends with its function, and every thread
// left is in the process's namespace.
func TestDisposableThread(t *testing.T) {
	requireSessionNamespaces(t)
	agentNS := mountNS(t, "/proc/self")
	const n = 32
	tids := make(chan int, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- onDisposableThread(func() error {
				if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
					return err
				}
				tids <- unix.Gettid()
				return nil
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(tids)
	for tid := range tids {
		if tid == unix.Getpid() {
			t.Error("a namespace was made on the main thread")
		}
		if !waitFor(5*time.Second, func() bool { _, err := os.Stat(filepath.Join("/proc/self/task", strconv.Itoa(tid))); return err != nil }) {
			t.Errorf("thread %d outlived its function", tid)
		}
	}
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, task := range tasks {
		if ns, err := os.Readlink(filepath.Join(task, "ns", "mnt")); err == nil && ns != agentNS {
			t.Errorf("thread %s is in the namespace %s, not the process's %s", filepath.Base(task), ns, agentNS)
		}
	}
}
