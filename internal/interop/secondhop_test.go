package interop

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hop/agent"
	"hop/internal/scan"
	"hop/internal/thirdparty"
	"hop/krb5/ccache"
	"hop/krb5/keytab"
)

// hopLab is the second hop's lab on one machine, as scripts/lab builds it
// but with real local accounts: hop kdc, and two hop agents running as root
// for b.example.test (127.0.0.2) and c.example.test (127.0.0.3), both
// joined to the domain. alice is in b-remote-users and c-remote-users, bob
// only in b-remote-users; each maps to a local account of their own. Every
// host reads the same krb5.conf, which names the admin API and both agents'
// addresses, so that hop run in a session on B can reach C.
type hopLab struct {
	realm    string            // EXAMPLE.TEST
	domain   *labRealm         // the domain's folder and admin API; domain.conf is conf
	dir      string            // the lab's folder (0755): krb5.conf, bin/hop, run/
	conf     string            // krb5.conf of every host (0644)
	hop      string            // the hop binary sessions find on their PATH (0755)
	adminURL string            // the admin API
	b, c     *labHost          // the agents
	path     string            // the sessions' PATH
	alice    string            // the local account alice@REALM maps to
	bob      string            // the local account bob@REALM maps to
	home     map[string]string // the local accounts' home folders, by name
}

// labHost is one running hop agent of the lab.
type labHost struct {
	name       string // b.example.test
	addr       string // where it listens (krb5.conf's agent_address)
	dir        string // its folder (0700): agent.toml, keytab, host key, agent.log
	stateDir   string
	runtimeDir string // the sessions' brokers (runtime_dir, under the lab's folder)
	auditLog   string
	pid        int // the hop agent process
}

// labUserSeq makes the names of the lab's local accounts unique within
// the test process; the pid makes them unique on the machine.
var labUserSeq atomic.Int32

// secondHopLab starts the lab until the test ends. It needs root (the
// agents switch to the local accounts, which it creates with useradd and
// removes with userdel -r at the end): without it the test is skipped.
// bConf, if any, goes into B's agent.toml: top-level keys before its
// first table, then its tables (endpoints) at the end.
func secondHopLab(t *testing.T, bConf ...string) *hopLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the second hop's lab needs root: its agents run sessions as real local accounts")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skipf("the second hop's lab creates local accounts with useradd: %v", err)
	}
	klist := thirdparty.Require(t, "klist")

	// The sessions' accounts read krb5.conf and run hop from this folder,
	// and traverse it to reach their brokers: t.TempDir() (0700) would
	// keep them out.
	dir, err := os.MkdirTemp("", "hop-secondhop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &hopLab{realm: realm, dir: dir, conf: filepath.Join(dir, "krb5.conf"), hop: filepath.Join(dir, "bin", "hop"), home: map[string]string{}}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	labCopyFile(t, hopBin, l.hop, 0o755)
	// MkdirTemp's parent (os.TempDir) must be traversable too.
	for p := filepath.Dir(dir); p != "/"; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("the lab's folder %s is under %s, which other accounts cannot traverse", dir, p)
		}
	}

	// The local accounts go after the agents (cleanups run last first).
	l.alice = l.addLocalUser(t, "alice")
	l.bob = l.addLocalUser(t, "bob")

	r := labStartRealm(t)
	l.domain, l.adminURL = r, r.adminURL
	r.conf = l.conf
	hop(t, bobPW+"\n", "account", "add", "bob", "--dir", r.dir, "--password-file", "-")
	hop(t, "", "group", "create", "c-remote-users", "--dir", r.dir)
	hop(t, "", "group", "add-member", "b-remote-users", "bob", "--dir", r.dir)
	hop(t, "", "group", "add-member", "c-remote-users", "alice", "--dir", r.dir)

	l.b = &labHost{name: "b.example.test", addr: fmt.Sprintf("127.0.0.2:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.2"))}
	l.c = &labHost{name: "c.example.test", addr: fmt.Sprintf("127.0.0.3:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.3"))}
	conf := hop(t, "", "client-config", "--dir", r.dir,
		"--agent-address", l.b.name+"="+l.b.addr, "--agent-address", l.c.name+"="+l.c.addr)
	for _, want := range []string{"admin_url = " + r.adminURL, l.b.name + " = " + l.b.addr, l.c.name + " = " + l.c.addr} {
		if !strings.Contains(conf, want) {
			t.Fatalf("hop client-config: no %q in\n%s", want, conf)
		}
	}
	if err := os.WriteFile(l.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	l.path = strings.Join([]string{filepath.Dir(l.hop), filepath.Dir(klist), agent.DefaultPath}, ":")
	l.startAgent(t, l.b, l.path, strings.Join(bConf, ""))
	l.startAgent(t, l.c, l.path, "")
	return l
}

// addHostD starts a third agent, d.example.test on 127.0.0.4, where alice
// (in d-remote-users) may log on, and adds it to krb5.conf's
// agent_address.
func (l *hopLab) addHostD(t *testing.T) *labHost {
	t.Helper()
	d := &labHost{name: "d.example.test", addr: fmt.Sprintf("127.0.0.4:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.4"))}
	hop(t, "", "group", "create", "d-remote-users", "--dir", l.domain.dir)
	hop(t, "", "group", "add-member", "d-remote-users", "alice", "--dir", l.domain.dir)
	conf, err := os.ReadFile(l.conf)
	if err != nil {
		t.Fatal(err)
	}
	line := "\t\t" + l.c.name + " = " + l.c.addr + "\n"
	if !strings.Contains(string(conf), line) {
		t.Fatalf("krb5.conf has no agent_address line for %s:\n%s", l.c.name, conf)
	}
	conf = []byte(strings.Replace(string(conf), line, line+"\t\t"+d.name+" = "+d.addr+"\n", 1))
	if err := os.WriteFile(l.conf, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	l.startAgent(t, d, l.path, "")
	return d
}

// startAgent writes h's configuration, with extra at its end, joins h
// with a one-time token and starts its agent.
func (l *hopLab) startAgent(t *testing.T, h *labHost, path, extra string) {
	t.Helper()
	short, _, _ := strings.Cut(h.name, ".")
	h.dir = filepath.Join(l.dir, short)
	h.stateDir = filepath.Join(h.dir, "state")
	h.auditLog = filepath.Join(h.dir, "audit.log")
	// The agent makes runtime_dir (0755) itself.
	h.runtimeDir = filepath.Join(l.dir, "run", short)
	if err := os.Mkdir(h.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// extra's lines before its first table are top-level keys: they go
	// before [user_map].
	top := ""
	if !strings.HasPrefix(extra, "[") {
		if i := strings.Index(extra, "\n["); i >= 0 {
			top, extra = extra[:i+1], extra[i+1:]
		} else {
			top, extra = extra, ""
		}
	}
	conf := fmt.Sprintf(`host = %q
listen = [%q]
krb5_conf = %q
keytab = %q
host_key = %q
state_dir = %q
runtime_dir = %q
audit_log = %q
transcript_dir = %q
logon_groups = [%q]
path = %q
%s[user_map]
alice = %q
bob = %q
`, h.name, h.addr, l.conf, filepath.Join(h.dir, "krb5.keytab"), filepath.Join(h.dir, "ssh_host_ed25519_key"), h.stateDir,
		h.runtimeDir, h.auditLog, filepath.Join(h.dir, "transcripts"), short+"-remote-users", path, top, l.alice, l.bob) + extra
	confPath := filepath.Join(h.dir, "agent.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(hop(t, "", "host", "token", "create", h.name, "--dir", l.domain.dir))
	if out, errOut, err := thirdparty.Run(t, []string{"KRB5_CONFIG=" + l.conf}, token+"\n", hopBin, "host", "join", "--agent-config", confPath, "--token-file", "-"); err != nil {
		t.Fatalf("hop host join %s: %v\n%s%s", h.name, err, out, errOut)
	}
	agentStart(t, h.dir, conf, h.addr)
	h.pid = labAgentPID(t, confPath)
}

// labAgentPID finds the hop agent process started with the configuration
// confPath.
func labAgentPID(t *testing.T, confPath string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 4 && args[0] == hopBin && args[1] == "agent" && args[2] == "--config" && args[3] == confPath {
			return pid
		}
	}
	t.Fatalf("no hop agent process runs with --config %s", confPath)
	return 0
}

// addLocalUser creates a local account hop-NAME-PID-N with useradd and
// removes it (its processes killed first) when the test ends.
func (l *hopLab) addLocalUser(t *testing.T, name string) string {
	t.Helper()
	local := fmt.Sprintf("hop-%s-%d-%d", name, os.Getpid()%100000, labUserSeq.Add(1))
	if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", local).CombinedOutput(); err != nil {
		t.Skipf("useradd %s: %v: %s", local, err, out)
	}
	t.Cleanup(func() {
		labKillUser(t, local)
		if out, err := exec.Command("userdel", "-r", local).CombinedOutput(); err != nil {
			t.Errorf("userdel -r %s: %v: %s", local, err, out)
		}
	})
	out, err := exec.Command("getent", "passwd", local).Output()
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	if err != nil || len(f) < 7 {
		t.Fatalf("getent passwd %s: %v %q", local, err, out)
	}
	l.home[local] = f[5]
	return local
}

// labKillUser kills the processes left running as the local account the
// lab created (a session's survivors), so that userdel can remove it.
func labKillUser(t *testing.T, local string) {
	out, err := exec.Command("id", "-u", local).Output()
	if err != nil {
		return
	}
	uid := strings.TrimSpace(string(out))
	for range 50 {
		left := 0
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || !labAlive(pid) {
				continue
			}
			st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(st), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "Uid:" && f[1] == uid {
					syscall.Kill(pid, syscall.SIGKILL)
					left++
				}
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("processes of %s still running", local)
}

// labCopyFile copies the file from to the file to, with mode.
func labCopyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}

// aliceEnv logs alice on (hop login, a FILE cache) and returns her
// environment on A.
func (l *hopLab) aliceEnv(t *testing.T) []string {
	t.Helper()
	return labAliceEnv(t, l.domain)
}

// bobEnv logs bob on and returns his environment on A.
func (l *hopLab) bobEnv(t *testing.T) []string {
	t.Helper()
	return labLoginEnv(t, l.domain, "bob", bobPW)
}

// run runs hop on A with env.
func (l *hopLab) run(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return thirdparty.Run(t, env, stdin, hopBin, args...)
}

// exitCode is err's exit status: 0 for nil, -1 when the program did not
// exit normally.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// tgtNeedles returns the TGT in the FILE cache of env (a hop login's
// environment) and its session key: what must never reach B in the modes
// none and constrained.
func (l *hopLab) tgtNeedles(t *testing.T, env []string) (ticket, key []byte) {
	t.Helper()
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "KRB5CCNAME="); ok {
			path = v
		}
	}
	c, err := ccache.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range c.Credentials {
		if comps := cr.Server.Name.Components; !cr.IsConfig() && len(comps) == 2 && comps[0] == "krbtgt" && comps[1] == l.realm {
			if len(cr.Ticket) == 0 || len(cr.Key) < 16 {
				t.Fatalf("the TGT in %s has no ticket or key", path)
			}
			return cr.Ticket, cr.Key
		}
	}
	t.Fatalf("no TGT in %s", path)
	return nil, nil
}

// TestSecondHopNone: alice's session on B runs as her local account with
// a broker in mode none (MIT's klist reads alice's cache over KCM, no
// ticket in it), and hop run inside it cannot reach C; alice reaches C
// directly, bob does not (he is not in c-remote-users).
func TestSecondHopNone(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)

	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--", "id -un")
	if err != nil || out != l.alice+"\n" {
		t.Fatalf("hop exec %s -- id -un: %v, stdout %q, stderr %q; want %s", l.b.name, err, out, errOut, l.alice)
	}
	out, errOut, err = l.run(t, alice, "", "exec", l.c.name, "--", "id -un")
	if err != nil || out != l.alice+"\n" {
		t.Fatalf("hop exec %s -- id -un: %v, stdout %q, stderr %q; want %s", l.c.name, err, out, errOut, l.alice)
	}

	out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--", `echo "KRB5CCNAME=$KRB5CCNAME"; echo "KRB5_CONFIG=$KRB5_CONFIG"; klist`)
	t.Logf("klist in alice's session on B: %v\n%s%s", err, out, errOut)
	if err != nil {
		t.Fatalf("klist in alice's session on B: %v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{
		"KRB5CCNAME=KCM:\n",
		"KRB5_CONFIG=" + l.b.runtimeDir + "/session-",
		"/krb5.conf:" + l.conf + "\n",
		"Ticket cache: KCM:",
		"Default principal: alice@" + l.realm + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("klist in alice's session on B: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "krbtgt/") || strings.Contains(out, "host/") {
		t.Errorf("klist in alice's session on B shows a ticket in mode none:\n%s", out)
	}

	// The nested hop is the one under test, found on the session's PATH.
	nested := "command -v hop; hop exec " + l.c.name + " -- id"
	out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--", nested)
	t.Logf("nested hop exec %s in alice's session on B: exit status %d\nstdout: %q\nstderr: %q", l.c.name, exitCode(err), out, errOut)
	if code := exitCode(err); code <= 0 {
		t.Errorf("nested hop exec %s: exit status %d (%v), want a failure", l.c.name, code, err)
	}
	if out != l.hop+"\n" {
		t.Errorf("nested hop exec %s: stdout %q, want only the path of the hop under test (%s)", l.c.name, out, l.hop)
	}
	msg := strings.TrimSpace(errOut)
	if msg == "" || strings.Count(msg, "\n") > 2 || !(strings.Contains(msg, l.c.name) || strings.Contains(strings.ToLower(msg), "ticket")) {
		t.Errorf("nested hop exec %s: stderr %q, want a short error naming %s or a ticket", l.c.name, errOut, l.c.name)
	}

	// Mode none: nothing of alice's TGT on B, in memory or on disk.
	// B's host key, which its agent holds to accept tickets, is the proof
	// that the scan reads the agent's memory.
	ticket, key := l.tgtNeedles(t, alice)
	kt, err := keytab.Load(filepath.Join(l.b.dir, "krb5.keytab"))
	if err != nil || len(kt.Entries) == 0 {
		t.Fatalf("B's keytab: %v", err)
	}
	switch found := scanProcessMemory(t, l.b.pid, ticket, key, kt.Entries[0].Key); {
	case len(found) == 0 || found[len(found)-1] != 2:
		t.Errorf("B's agent's memory does not hold B's own host key: the scan is blind")
	case len(found) > 1:
		t.Errorf("B's agent holds alice's TGT in memory (needles %v: 0 the ticket, 1 its session key)", found[:len(found)-1])
	}
	hostKeytab := filepath.Join(l.b.dir, "krb5.keytab")
	if hits := scanFiles(t, [][]byte{ticket, key, kt.Entries[0].Key}, l.b.dir, l.b.runtimeDir, l.home[l.alice]); len(hits) != 1 || hits[0] != (fileHit{Needle: 2, Path: hostKeytab}) {
		t.Errorf("B's folders: needles found %v, want only the host key in %s (0 is alice's TGT, 1 its session key)", hits, hostKeytab)
	}

	bob := l.bobEnv(t)
	out, errOut, err = l.run(t, bob, "", "exec", l.b.name, "--", "id -un")
	if err != nil || out != l.bob+"\n" {
		t.Fatalf("bob: hop exec %s -- id -un: %v, stdout %q, stderr %q; want %s", l.b.name, err, out, errOut, l.bob)
	}
	out, errOut, err = l.run(t, bob, "", "exec", l.c.name, "--", "id")
	if err == nil || out != "" || !strings.Contains(errOut, "bob is not in c-remote-users") {
		t.Errorf("bob: hop exec %s -- id: %v, stdout %q, stderr %q; want a refusal (bob is not in c-remote-users)", l.c.name, err, out, errOut)
	}
}

// TestSecondHopSessionEnds: when a session on B ends, its broker's folder
// and socket go with it; a process of the session that left its process
// group (setsid) ends with it when the session has a cgroup, and
// otherwise, outliving it, finds no cache through KCM any more.
func TestSecondHopSessionEnds(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)
	after := filepath.Join(l.home[l.alice], "after-session.txt")
	// The survivor leaves the session's process group (setsid), says so
	// (the session waits for that: the agent tears the group down as soon
	// as the shell exits), waits until the socket is gone (at most 10s),
	// then asks klist for the session's cache.
	script := `frag=${KRB5_CONFIG%%:*}
sock=$(sed -n 's/^[[:space:]]*kcm_socket = //p' "$frag")
echo "fragment=$frag"
echo "socket=$sock"
[ -S "$sock" ] && echo "socket-present"
klist >/dev/null && echo "klist-ok"
setsid sh -c 'echo $$ >"$2.pid"; i=0; while [ -S "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; klist >"$2.tmp" 2>&1; echo "rc=$?" >>"$2.tmp"; mv "$2.tmp" "$2"; exec sleep 30' sh "$sock" ` + after + ` </dev/null >/dev/null 2>&1 &
i=0; while [ ! -s ` + after + `.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "survivor=$(cat ` + after + `.pid)"
`
	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--", script)
	if err != nil {
		t.Fatalf("hop exec %s: %v\nstdout:\n%s\nstderr:\n%s", l.b.name, err, out, errOut)
	}
	t.Logf("the session on B:\n%s", out)
	vals := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[k] = v
		}
	}
	frag, sock := vals["fragment"], vals["socket"]
	sessionDir := filepath.Dir(frag)
	if filepath.Dir(sessionDir) != l.b.runtimeDir || !strings.HasPrefix(filepath.Base(sessionDir), "session-") || sock != filepath.Join(sessionDir, "kcm.sock") {
		t.Fatalf("the session's fragment %q and socket %q are not in a session folder of B's runtime_dir %s", frag, sock, l.b.runtimeDir)
	}
	for _, want := range []string{"socket-present\n", "klist-ok\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("in the session: no %q (the socket and the cache while the session runs)", want)
		}
	}
	survivor, err := strconv.Atoi(vals["survivor"])
	if err != nil || survivor <= 1 {
		t.Fatalf("the survivor's pid %q: %v", vals["survivor"], err)
	}
	t.Cleanup(func() { syscall.Kill(survivor, syscall.SIGKILL) })

	// The session's folder goes once the session has ended.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Lstat(sessionDir)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session's folder %s is still there 5s after the session ended (%v)", sessionDir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the session's socket %s: %v, want it gone", sock, err)
	}
	if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		c.Close()
		t.Errorf("the session's socket %s still accepts connections", sock)
	} else {
		t.Logf("connecting to the ended session's socket: %v", err)
	}

	// With a cgroup per session (the agent is root on a cgroup v2 host)
	// the process that left the session's process group ends with the
	// session too; without, it survives and must find no cache.
	agentLog, _ := os.ReadFile(filepath.Join(l.b.dir, "agent.log"))
	if !bytes.Contains(agentLog, []byte("sessions end by their process group only")) {
		deadline = time.Now().Add(5 * time.Second)
		for labAlive(survivor) {
			if time.Now().After(deadline) {
				t.Fatalf("the process that left the session's process group (pid %d) outlived the session, whose cgroup the agent kills", survivor)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return
	}
	// The survivor (setsid: outside the group the agent tears down).
	if !labAlive(survivor) {
		t.Fatalf("the process of the session that left its process group (pid %d) did not survive the session", survivor)
	}
	var got []byte
	deadline = time.Now().Add(15 * time.Second)
	for {
		got, err = os.ReadFile(after)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", survivor))
			ls, _ := exec.Command("ls", "-la", filepath.Dir(after)).CombinedOutput()
			t.Fatalf("the survivor (pid %d) wrote no %s: %v\n%s\n%s", survivor, after, err, st, ls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("klist in the process that outlived the session:\n%s", got)
	if strings.Contains(string(got), "rc=0\n") || strings.Contains(string(got), "alice@") {
		t.Errorf("the process that outlived the session still reads alice's cache:\n%s", got)
	}
}

// labAlive reports whether process pid runs (a zombie does not: in a
// container whose init does not reap, killed orphans stay zombies).
func labAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// scanProcessMemory reads the memory of process pid (as root) with
// scan.Memory and returns the indexes of the needles it holds. It fails
// the test when it could read nothing, so that "not found" means
// something.
func scanProcessMemory(t *testing.T, pid int, needles ...[]byte) (found []int) {
	t.Helper()
	found, n, err := scan.Memory(pid, needles)
	if err != nil {
		t.Fatalf("scan the memory of pid %d: %v", pid, err)
	}
	if n == 0 {
		t.Fatalf("scan the memory of pid %d: nothing could be read", pid)
	}
	t.Logf("scanned %d bytes of pid %d's memory: needles found %v", n, pid, found)
	return found
}

// fileHit is a needle found in a file.
type fileHit = scan.Hit

// scanFiles is scan.Files; a folder that does not exist fails the test.
func scanFiles(t *testing.T, needles [][]byte, dirs ...string) []fileHit {
	t.Helper()
	hits, files, err := scan.Files(needles, dirs...)
	if err != nil {
		t.Fatalf("scanFiles: %v", err)
	}
	t.Logf("scanFiles: %d files in %v", files, dirs)
	return hits
}
