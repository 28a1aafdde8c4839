package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/audit"
	"hop/internal/testio"
	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/kcm"
	"hop/krb5/keytab"
	"hop/krb5/spnego"
)

// Issue 10's tests: A → B → C in each delegation mode, with hop itself and
// with unmodified Kerberos programs in the session on B. A is this test;
// B and C are the agents of secondHopLab, as root, running sessions as
// real local accounts.

// setAccount changes an account of the lab's domain while hop kdc runs
// (hop account set NAME ARGS --dir): the KDC applies it at its next
// request.
func (l *hopLab) setAccount(t *testing.T, name string, args ...string) {
	t.Helper()
	hop(t, "", append(append([]string{"account", "set", name}, args...), "--dir", l.domain.dir)...)
}

// onB runs script in a session on B opened with --delegate mode (hop exec
// on A as env).
func (l *hopLab) onB(t *testing.T, env []string, mode, script string) (stdout, stderr string, err error) {
	t.Helper()
	return l.run(t, env, "", "exec", l.b.name, "--delegate", mode, "--", script)
}

// nestedC is the nested hop exec to C that sessions on B run, with its
// exit status on a line of its own.
func (l *hopLab) nestedC() string {
	return "hop exec " + l.c.name + " -- id -un 2>&1; echo \"rc=$?\""
}

// bgSession is a hop exec to B running in the background while the test
// acts: it steps through script, which waits for the test between steps.
type bgSession struct {
	cmd            *exec.Cmd
	stdout, stderr testio.Buffer
	done           chan struct{}
	err            error
	home           string // where the steps' files are: the session user's home
	tag            string // makes the step files unique
}

// stepScript is the shell functions of a session that steps with the
// test: step N touches $HOME/TAG-step-N and waits (at most 10s) for the
// test's $HOME/TAG-go-N.
func stepScript(tag string) string {
	return fmt.Sprintf(`step() {
	touch "$HOME/%[1]s-step-$1"
	i=0
	while [ ! -e "$HOME/%[1]s-go-$1" ]; do
		i=$((i+1)); [ $i -gt 200 ] && { echo "step $1: the test did not answer"; exit 99; }
		sleep 0.05
	done
}
`, tag)
}

// startOnB starts hop exec B --delegate mode -- script on A as env,
// stepScript(s.tag) in front of script; the session ends (killed) when
// the test does.
func (l *hopLab) startOnB(t *testing.T, env []string, mode, tag, script string) *bgSession {
	t.Helper()
	s := &bgSession{home: l.home[l.alice], tag: tag, done: make(chan struct{})}
	s.cmd = exec.Command(hopBin, "exec", l.b.name, "--delegate", mode, "--", stepScript(tag)+script)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
	return s
}

// waitStep waits (at most 15s) until the session has reached step n.
func (s *bgSession) waitStep(t *testing.T, n int) {
	t.Helper()
	p := filepath.Join(s.home, fmt.Sprintf("%s-step-%d", s.tag, n))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(p); err == nil {
			return
		}
		select {
		case <-s.done:
			t.Fatalf("the session on B ended before step %d: %v\nstdout:\n%s\nstderr:\n%s", n, s.err, s.stdout.String(), s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session on B did not reach step %d", n)
		}
	}
}

// next lets the session go on from step n.
func (s *bgSession) next(t *testing.T, n int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.home, fmt.Sprintf("%s-go-%d", s.tag, n)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// wait waits (at most 20s) for the session to end and returns its output.
func (s *bgSession) wait(t *testing.T) (stdout, stderr string, err error) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		t.Fatalf("the session on B did not end\nstdout:\n%s\nstderr:\n%s", s.stdout.String(), s.stderr.String())
	}
	return s.stdout.String(), s.stderr.String(), s.err
}

// tries splits a session's output into the outputs of its tries: the text
// after each line "== NAME" up to the next.
func tries(out string) map[string]string {
	m := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(out, "\n") {
		if n, ok := strings.CutPrefix(line, "== "); ok {
			name = strings.TrimSpace(n)
			continue
		}
		if name != "" {
			m[name] += line
		}
	}
	return m
}

// auditEvents reads the agent's audit log (JSON lines) and returns the
// events of the given type prefix.
func (h *labHost) auditEvents(t *testing.T, prefix string) []audit.Event {
	t.Helper()
	// The agent writes its events within moments; read until they stop
	// changing briefly is not needed: the tests read after the sessions end.
	b, err := os.ReadFile(h.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	var evs []audit.Event
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s: %v in %q", h.auditLog, err, line)
		}
		if strings.HasPrefix(e.Type, prefix) {
			evs = append(evs, e)
		}
	}
	return evs
}

// waitAudit waits (at most 5s) until B's audit log holds n events of the
// type prefix with Reason containing sub, and returns them.
func (h *labHost) waitAudit(t *testing.T, prefix, sub string, n int) []audit.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got []audit.Event
		for _, e := range h.auditEvents(t, prefix) {
			if strings.Contains(e.Reason, sub) {
				got = append(got, e)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// knownHosts writes the lab's known_hosts (hop known-hosts) where the
// sessions' accounts can read it, once, and returns its path.
func (l *hopLab) knownHosts(t *testing.T) string {
	t.Helper()
	p := filepath.Join(l.dir, "known_hosts")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	out := hop(t, "", "known-hosts", "--dir", l.domain.dir)
	for _, h := range []string{l.b.name, l.c.name} {
		if !strings.Contains(out, h+",") {
			t.Fatalf("hop known-hosts: no line for %s:\n%s", h, out)
		}
	}
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// explain runs hop delegation explain with args on the domain and
// returns its output: what the KDC decides, in the words it refuses with.
func (l *hopLab) explain(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := l.run(t, nil, "", append(append([]string{"delegation", "explain"}, args...), "--dir", l.domain.dir)...)
	// A refusal exits non-zero; only a failure to explain has no verdict.
	if !strings.Contains(out, "ALLOWED") && !strings.Contains(out, "DENIED") {
		t.Fatalf("hop delegation explain %v: %v\n%s%s", args, err, out, errOut)
	}
	return out
}

// namedExplain runs the hop delegation explain command that a message
// names (up to a parenthesis or a semicolon) against the lab's domain: it
// must work and deny. It returns the explanation ("" when the message
// names no command).
func (l *hopLab) namedExplain(t *testing.T, msg string) string {
	t.Helper()
	_, cmd, ok := strings.Cut(msg, "hop delegation explain ")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(cmd, ");\n"); i >= 0 {
		cmd = cmd[:i]
	}
	ex := l.explain(t, strings.Fields(cmd)...)
	if !strings.Contains(ex, "DENIED") {
		t.Errorf("hop delegation explain %s (as the message says): no DENIED in\n%s", cmd, ex)
	}
	return ex
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// sessionValue is the value of the first line "key=value" of out.
func sessionValue(out, key string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return ""
}

// sessionInfo prints, in a session, its ID and its broker's socket.
const sessionInfo = `echo "session=$HOP_SESSION_ID"
echo "socket=$(sed -n 's/^[[:space:]]*kcm_socket = //p' "${KRB5_CONFIG%%:*}")"
`

// nestedTry is a try of the nested hop exec to C in a session's script:
// "== NAME", its output and its exit status. args go between hop exec and
// the host (--known-hosts FILE).
func (l *hopLab) nestedTry(name string, args ...string) string {
	a := ""
	for _, x := range args {
		a += " " + x
	}
	return fmt.Sprintf("echo '== %s'; hop exec%s %s -- id -un 2>&1; echo \"rc=$?\"\n", name, a, l.c.name)
}

// wantWorked checks that a try printed alice's local account on C.
func (l *hopLab) wantWorked(t *testing.T, name, got string) {
	t.Helper()
	if got != l.alice+"\nrc=0\n" {
		t.Errorf("%s: the nested hop exec %s printed %q, want %q (alice's account on C) and exit status 0", name, l.c.name, got, l.alice+"\nrc=0\n")
	}
}

// wantRefused checks that a try failed with one line of hop's that starts
// with prefix and holds every want.
func (l *hopLab) wantRefused(t *testing.T, name, got, prefix string, wants ...string) {
	t.Helper()
	msg, rc, _ := strings.Cut(got, "rc=")
	if rc == "0\n" || rc == "" {
		t.Errorf("%s: the nested hop exec %s did not fail: %q", name, l.c.name, got)
		return
	}
	msg = strings.TrimSuffix(msg, "\n")
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, prefix) {
		t.Errorf("%s: the nested hop exec %s printed\n%s\nwant one line starting with\n%s", name, l.c.name, msg, prefix)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: the nested hop exec's message has no %q:\n%s", name, w, msg)
		}
	}
}

// noTGTOnB checks that neither B's agent's memory nor B's folders (the
// agent's folder with its state, the runtime folder of the brokers, the
// session user's home) hold alice's TGT or its session key (from her cache
// on A, env). B's host key, which the agent holds and its keytab stores,
// proves that both scans see what is there.
func (l *hopLab) noTGTOnB(t *testing.T, env []string) {
	t.Helper()
	ticket, key := l.tgtNeedles(t, env)
	hostKeytab := filepath.Join(l.b.dir, "krb5.keytab")
	kt, err := keytab.Load(hostKeytab)
	if err != nil || len(kt.Entries) == 0 {
		t.Fatalf("B's keytab: %v", err)
	}
	hostKey := kt.Entries[0].Key
	switch found := scanProcessMemory(t, l.b.pid, ticket, key, hostKey); {
	case len(found) == 0 || found[len(found)-1] != 2:
		t.Errorf("B's agent's memory does not hold B's own host key: the scan is blind")
	case len(found) > 1:
		t.Errorf("B's agent holds alice's TGT in memory (needles %v: 0 the ticket, 1 its session key)", found[:len(found)-1])
	}
	if hits := scanFiles(t, [][]byte{ticket, key, hostKey}, l.b.dir, l.b.stateDir, l.b.runtimeDir, l.home[l.alice]); len(hits) == 0 || slices.ContainsFunc(hits, func(h fileHit) bool { return h.Needle != 2 }) {
		t.Errorf("B's folders: needles found %v, want only the host key (needle 2) in %s (0 is alice's TGT, 1 its session key)", hits, hostKeytab)
	}
}

// TestSecondHopModeNoneNested: in mode none (the default, and named), a
// nested hop exec to C in the session on B fails with the broker's
// explanation: the mode, and --delegate constrained with the hop
// delegation explain command to run, which works. While such a session is
// open, B holds nothing of alice's TGT, in memory or on disk.
func TestSecondHopModeNoneNested(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)
	prefix := "hop: " + l.c.name + ": no delegated credential on this hop: the session on " + l.b.name +
		" was opened with --delegate none; use --delegate constrained ("

	for _, args := range [][]string{{"exec", l.b.name}, {"exec", l.b.name, "--delegate", "none"}} {
		start := time.Now()
		out, errOut, err := l.run(t, alice, "", append(args, "--", l.nestedTry("nested"))...)
		t.Logf("hop %s -- hop exec %s (%v): %v\n%s%s", strings.Join(args, " "), l.c.name, time.Since(start).Round(time.Millisecond), err, out, errOut)
		if err != nil {
			t.Fatalf("hop %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		got := tries(out)["nested"]
		l.wantRefused(t, strings.Join(args, " "), got, prefix, "--delegate constrained", "hop delegation explain --user alice")
		l.namedExplain(t, got)
	}

	// A session stays open while B is searched.
	s := l.startOnB(t, alice, "none", "none", l.nestedTry("open")+programTry("kvno", "kvno", "host/"+l.c.name)+"step 1\n")
	s.waitStep(t, 1)
	l.noTGTOnB(t, alice)
	s.next(t, 1)
	out, errOut, err := s.wait(t)
	if err != nil {
		t.Fatalf("the session on B: %v\n%s%s", err, out, errOut)
	}
	got := tries(out)
	l.wantRefused(t, "open session", got["open"], prefix)
	// A third-party program gets its ordinary error: no ticket.
	t.Logf("kvno in mode none: %q", got["kvno"])
	if strings.HasSuffix(got["kvno"], "rc=0\n") || !strings.Contains(got["kvno"], "kvno: ") {
		t.Errorf("kvno host/%s in mode none: %q, want kvno's own error", l.c.name, got["kvno"])
	}
}

// TestSecondHopConstrained: mode constrained, with the directory changed
// while the sessions run. Without a setting the KDC refuses, and the
// nested hop exec says so in the KDC's words (those of hop delegation
// explain); classic constrained delegation (b$ allowed to delegate to
// host/c.example.test) lets the very next try in the same session work;
// cleared, the next session is refused at once; resource-based delegation
// (c$ allows b$, set by bob, a manager of c$, through the admin API)
// works, in the same session that was just refused, and stops when
// removed. B's audit log names each chain; while a session is
// open, B holds nothing of alice's TGT.
//
// The nested hop exec checks C's host key with --known-hosts (hop
// known-hosts); TestSecondHopConstrainedHostKeys reads it from the
// directory.
func TestSecondHopConstrained(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)
	known := "--known-hosts " + l.knownHosts(t)
	refusedPrefix := "hop: " + l.c.name + ": the KDC refused to let host/" + l.b.name + " reach host/" + l.c.name +
		" on behalf of alice@" + l.realm + " "
	denied := lastLine(l.explain(t, "--user", "alice", "--service", "b$", "--target", "host/"+l.c.name))
	if !strings.Contains(denied, "hop account set c$ --allowed-to-act +b$") {
		t.Fatalf("hop delegation explain without a setting: %q names no --allowed-to-act", denied)
	}
	// The KDC's words, as hop delegation explain prints them.
	wantRule := func(t *testing.T, name, got, rule string) {
		t.Helper()
		l.wantRefused(t, name, got, refusedPrefix, rule, "see why with: hop delegation explain ")
		if ex := l.namedExplain(t, got); ex != "" && !strings.Contains(got, lastLine(ex)) {
			t.Errorf("%s: the refusal does not give the reason the explain command it names prints (%q)", name, lastLine(ex))
		}
	}

	// Session 1: refused; KCD set; the next try works.
	start := time.Now()
	s := l.startOnB(t, alice, "constrained", "s1", sessionInfo+l.nestedTry("denied", known)+"step 1\n"+
		l.nestedTry("kcd", known)+"echo '== klist'; klist\nstep 2\n")
	s.waitStep(t, 1)
	t.Logf("session 1 refused after %v", time.Since(start).Round(time.Millisecond))
	// Checked now: the explain command it names must deny as it did.
	wantRule(t, "session 1, no setting", tries(s.stdout.String())["denied"], denied)
	l.setAccount(t, "b$", "--allowed-to-delegate-to", "host/"+l.c.name)
	s.next(t, 1)
	s.waitStep(t, 2)
	t.Logf("session 1 allowed after %v", time.Since(start).Round(time.Millisecond))
	// The session is open, and has reached C through the broker.
	l.noTGTOnB(t, alice)
	s.next(t, 2)
	out, errOut, err := s.wait(t)
	t.Logf("session 1 on B (%v): %v\n%s%s", time.Since(start).Round(time.Millisecond), err, out, errOut)
	if err != nil {
		t.Fatalf("session 1 on B: %v", err)
	}
	got := tries(out)
	l.wantWorked(t, "session 1, KCD", got["kcd"])
	mustContain(t, "klist in session 1", got["klist"], "Default principal: alice@"+l.realm, "host/"+l.c.name+"@"+l.realm)
	if strings.Contains(got["klist"], "krbtgt/") {
		t.Errorf("klist in a constrained session shows a TGT:\n%s", got["klist"])
	}
	s1 := sessionValue(out, "session")

	// Cleared: the next session is refused at once; RBCD set: the next
	// try in that same session works.
	l.setAccount(t, "b$", "--allowed-to-delegate-to", "none")
	l.setAccount(t, "c$", "--managed-by", "bob")
	bob := l.bobEnv(t)
	deniedAgain := lastLine(l.explain(t, "--user", "alice", "--service", "b$", "--target", "host/"+l.c.name))
	start = time.Now()
	s = l.startOnB(t, alice, "constrained", "s2", sessionInfo+l.nestedTry("cleared", known)+"step 1\n"+l.nestedTry("rbcd", known))
	s.waitStep(t, 1)
	wantRule(t, "session 2, KCD cleared", tries(s.stdout.String())["cleared"], deniedAgain)
	// bob, a manager of C, allows it through the admin API.
	if out, errOut, err := l.run(t, bob, "", "account", "set", "c$", "--allowed-to-act", "+b$", "--server", l.adminURL); err != nil {
		t.Fatalf("bob: hop account set c$ --allowed-to-act +b$ --server: %v\n%s%s", err, out, errOut)
	}
	s.next(t, 1)
	out, errOut, err = s.wait(t)
	t.Logf("session 2 on B (%v): %v\n%s%s", time.Since(start).Round(time.Millisecond), err, out, errOut)
	if err != nil {
		t.Fatalf("session 2 on B: %v", err)
	}
	got = tries(out)
	l.wantWorked(t, "session 2, RBCD", got["rbcd"])
	s2 := sessionValue(out, "session")

	// RBCD removed: refused.
	l.setAccount(t, "c$", "--allowed-to-act", "-b$")
	out, errOut, err = l.onB(t, alice, "constrained", sessionInfo+l.nestedTry("removed", known)+programTry("kvno", "kvno", "host/"+l.c.name))
	if err != nil {
		t.Fatalf("session 3 on B: %v\n%s%s", err, out, errOut)
	}
	wantRule(t, "session 3, RBCD removed", tries(out)["removed"], deniedAgain)
	// MIT's kvno gets its ordinary error: the cache has no such ticket.
	if got := tries(out)["kvno"]; strings.HasSuffix(got, "rc=0\n") || !strings.Contains(got, "kvno: ") {
		t.Errorf("kvno host/%s after RBCD was removed: %q, want kvno's own error", l.c.name, got)
	} else {
		t.Logf("kvno refused: %q", got)
	}
	s3 := sessionValue(out, "session")

	// B's audit log: each ticket issued or refused, with its chain.
	chain := func(session string) string {
		return "alice@" + l.realm + " via " + l.b.name + " (session " + session + ", mode constrained, endpoint default) to host/" + l.c.name + "@" + l.realm + ": "
	}
	for _, w := range []struct {
		typ, session, outcome string
	}{
		{"broker.refused", s1, "refused: "},
		{"broker.issued", s1, "issued"},
		{"broker.refused", s2, "refused: "},
		{"broker.issued", s2, "issued"},
		{"broker.refused", s3, "refused: "},
	} {
		if w.session == "" {
			t.Errorf("a session printed no HOP_SESSION_ID")
			continue
		}
		evs := l.b.waitAudit(t, w.typ, chain(w.session)+w.outcome, 1)
		if len(evs) == 0 {
			all, _ := os.ReadFile(l.b.auditLog)
			t.Errorf("B's audit log: no %s event %q in\n%s", w.typ, chain(w.session)+w.outcome, all)
			continue
		}
		e := evs[0]
		t.Logf("%s: %s", e.Type, e.Reason)
		if e.Client != "alice@"+l.realm || e.Target != "host/"+l.c.name+"@"+l.realm {
			t.Errorf("%s event: client %q target %q, want alice and host/%s", e.Type, e.Client, e.Target, l.c.name)
		}
		if w.typ == "broker.refused" && (e.Code == "" || !strings.Contains(e.Reason, "may not delegate to c$")) {
			t.Errorf("%s event: code %q, reason %q: want the KDC's code and rule", e.Type, e.Code, e.Reason)
		}
	}
}

// TestSecondHopConstrainedHostKeys: in mode constrained with b$ allowed
// to delegate to host/c.example.test only, a plain nested hop exec to C
// (C's host key from the directory, the default) works: the domain allows
// the hop, and the session must not need a second delegation to the admin
// API to read a public key.
func TestSecondHopConstrainedHostKeys(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)
	l.setAccount(t, "b$", "--allowed-to-delegate-to", "host/"+l.c.name)
	out, errOut, err := l.onB(t, alice, "constrained", l.nestedTry("nested"))
	t.Logf("nested hop exec without --known-hosts: %v\n%s%s", err, out, errOut)
	if err != nil {
		t.Fatalf("hop exec %s: %v\n%s%s", l.b.name, err, out, errOut)
	}
	l.wantWorked(t, "constrained, C's key from the directory", tries(out)["nested"])
}

// sessionTGT reads, as root, the TGT the broker of a session holds (its
// socket sock, its cache name from klist's "Ticket cache: KCM:NAME"):
// what the agent has in memory in mode forward.
func (l *hopLab) sessionTGT(t *testing.T, sock, klistOut string) ccache.Credential {
	t.Helper()
	name := ""
	for _, line := range strings.Split(klistOut, "\n") {
		if v, ok := strings.CutPrefix(line, "Ticket cache: KCM:"); ok {
			name = strings.TrimSpace(v)
		}
	}
	if sock == "" || name == "" {
		t.Fatalf("the session printed no socket (%q) or no KCM cache (klist:\n%s)", sock, klistOut)
	}
	ctx := context.Background()
	c, err := kcm.Dial(ctx, sock)
	if err != nil {
		t.Fatalf("connect to the session's broker %s: %v", sock, err)
	}
	defer c.Close()
	creds, err := c.Credentials(ctx, name)
	if err != nil {
		t.Fatalf("the session's cache KCM:%s: %v", name, err)
	}
	for _, cr := range creds {
		if comps := cr.Server.Name.Components; !cr.IsConfig() && len(comps) == 2 && comps[0] == "krbtgt" && comps[1] == l.realm && len(cr.Key) >= 16 {
			return cr
		}
	}
	t.Fatalf("the session's cache KCM:%s holds no TGT", name)
	return ccache.Credential{}
}

// TestSecondHopForward: mode forward. To a host the domain does not trust
// for delegation (no OK-AS-DELEGATE on its ticket) hop refuses on A, names
// the flag, and sends nothing to B; once b$ is trusted (hop asks the KDC
// again instead of trusting its cached ticket to B), the session on B holds a forwarded TGT (klist shows
// krbtgt/EXAMPLE.TEST) and a nested hop exec to C works, C's host key
// read from the directory with it. While that session is open the agent's
// memory holds the TGT's session key: the scan that finds nothing in the
// other modes finds it here. OpenSSH's ssh -K (GSSAPIDelegateCredentials)
// with a ticket from MIT's kinit -f lands in mode forward too.
func TestSecondHopForward(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)

	before, err := os.ReadFile(l.b.auditLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out, errOut, err := l.onB(t, alice, "forward", "echo reached")
	t.Logf("--delegate forward to an untrusted host: %v\nstdout %q\nstderr %q", err, out, errOut)
	if err == nil || out != "" {
		t.Fatalf("hop exec --delegate forward to an untrusted %s: %v, stdout %q: want a refusal", l.b.name, err, out)
	}
	mustContain(t, "the refusal", errOut, "hop: "+l.b.name+": --delegate forward refused here, on this host", "OK-AS-DELEGATE",
		"hop account set 'b$' --trusted-for-delegation", "nothing was sent")
	time.Sleep(300 * time.Millisecond) // what B would have logged
	if after, _ := os.ReadFile(l.b.auditLog); !bytes.Equal(after, before) {
		t.Errorf("B's audit log changed when the client refused to forward:\n%s", after[len(before):])
	}

	l.setAccount(t, "b$", "--trusted-for-delegation=true")
	// alice's cached ticket to B was issued before: it lacks the flag, and
	// hop asks the KDC again rather than refuse what the domain now allows.
	out, errOut, err = l.onB(t, alice, "forward", "echo reached")
	if err != nil || out != "reached\n" {
		t.Errorf("with the ticket to B from before the change: %v, stdout %q, stderr %q; want a fresh ticket and the session", err, out, errOut)
	}

	start := time.Now()
	s := l.startOnB(t, alice, "forward", "fwd", sessionInfo+"echo '== klist'; klist\n"+l.nestedTry("nested")+"step 1\n")
	s.waitStep(t, 1)
	t.Logf("the forward session reached C after %v", time.Since(start).Round(time.Millisecond))
	// The session is open: its broker holds the forwarded TGT.
	sock := sessionValue(s.stdout.String(), "socket")
	tgt := l.sessionTGT(t, sock, tries(s.stdout.String())["klist"])
	if !tgt.Flags.Has(krb5.TktForwarded) {
		t.Errorf("the session's TGT is not flagged FORWARDED (%v)", tgt.Flags)
	}
	if found := scanProcessMemory(t, l.b.pid, tgt.Key); len(found) != 1 {
		t.Errorf("B's agent's memory does not hold the forwarded TGT's session key while the session is open: the scan is blind")
	}
	s.next(t, 1)
	out, errOut, err = s.wait(t)
	t.Logf("the forward session on B (%v): %v\n%s%s", time.Since(start).Round(time.Millisecond), err, out, errOut)
	if err != nil {
		t.Fatalf("the forward session on B: %v", err)
	}
	got := tries(out)
	mustContain(t, "klist in the forward session", got["klist"], "Default principal: alice@"+l.realm, "krbtgt/"+l.realm+"@"+l.realm)
	l.wantWorked(t, "forward", got["nested"])
	id := sessionValue(out, "session")
	if evs := l.b.waitAudit(t, "broker.issued", "(session "+id+", mode forward, endpoint default) to host/"+l.c.name+"@"+l.realm+": issued", 1); len(evs) == 0 {
		t.Errorf("B's audit log: no broker.issued event for host/%s in session %s (mode forward)", l.c.name, id)
	}

	t.Run("ssh -K", func(t *testing.T) {
		ssh := agentSSH(t)
		kinit := thirdparty.Require(t, "kinit")
		env := thirdparty.ClientEnv(l.conf, filepath.Join(t.TempDir(), "alice.cc"))
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "-f", "alice@"+l.realm); err != nil {
			t.Fatalf("kinit -f alice: %v\n%s%s", err, out, errOut)
		}
		host, port, _ := strings.Cut(l.b.addr, ":")
		args := append(sshOptions(l.knownHosts(t), l.b.name, host, port), "-o", "GSSAPIDelegateCredentials=yes", "-l", "alice", l.b.name,
			sessionInfo+"echo '== klist'; klist\n"+l.nestedTry("nested"))
		start := time.Now()
		out, errOut, err := thirdparty.Run(t, env, "", ssh, args...)
		t.Logf("ssh -K (%v): %v\n%s%s", time.Since(start).Round(time.Millisecond), err, out, errOut)
		if err != nil {
			t.Fatalf("ssh -K: %v\n%s%s", err, out, errOut)
		}
		got := tries(out)
		mustContain(t, "klist in the ssh -K session", got["klist"], "Default principal: alice@"+l.realm, "krbtgt/"+l.realm+"@"+l.realm)
		l.wantWorked(t, "ssh -K", got["nested"])
		id := sessionValue(out, "session")
		if evs := l.b.waitAudit(t, "broker.issued", "(session "+id+", mode forward, endpoint default)", 1); len(evs) == 0 {
			t.Errorf("B's audit log: no broker.issued event of session %s in mode forward", id)
		}
	})
}

// sshOptions are OpenSSH's options to reach the agent of host at
// addr:port with GSSAPI, checking its key against known, reading no
// configuration file: the session's user has no ~/.ssh.
func sshOptions(known, host, addr, port string) []string {
	return []string{"-F", "/dev/null",
		"-o", "HostName=" + addr, "-o", "Port=" + port,
		"-o", "GSSAPIAuthentication=yes", "-o", "GSSAPIServerIdentity=" + host,
		"-o", "PreferredAuthentications=gssapi-with-mic",
		"-o", "UserKnownHostsFile=" + known, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=" + host,
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"}
}

// delegableB makes the domain allow b$ both ways, trusted for delegation
// and allowed to delegate to host/c.example.test, and returns the nested
// hop exec's --known-hosts option. Only
// tickets issued afterwards carry OK-AS-DELEGATE: log on after it.
func (l *hopLab) delegableB(t *testing.T) string {
	t.Helper()
	l.setAccount(t, "b$", "--trusted-for-delegation=true", "--allowed-to-delegate-to", "host/"+l.c.name)
	return "--known-hosts " + l.knownHosts(t)
}

// nestedWorks checks that a nested hop exec to C (with args) from a
// session on B in mode reaches C.
func (l *hopLab) nestedWorks(t *testing.T, env []string, mode string, args ...string) {
	t.Helper()
	out, errOut, err := l.onB(t, env, mode, l.nestedTry("nested", args...))
	if err != nil {
		t.Fatalf("hop exec %s --delegate %s: %v\n%s%s", l.b.name, mode, err, out, errOut)
	}
	l.wantWorked(t, "--delegate "+mode, tries(out)["nested"])
}

// TestSecondHopSensitive: an account marked sensitive, and a member of
// Protected Users, cannot be delegated, whatever the domain allows B:
// with b$ trusted for delegation and allowed to delegate to
// host/c.example.test, forward is refused on A (the TGT is not
// forwardable) and constrained is refused by the KDC with its rule;
// --pass-credential still works.
func TestSecondHopSensitive(t *testing.T) {
	l := secondHopLab(t)
	known := l.delegableB(t)
	// The domain allows both, for an ordinary account.
	l.nestedWorks(t, l.aliceEnv(t), "forward", known)

	for _, tt := range []struct {
		name       string
		set, unset func(t *testing.T)
	}{
		{"sensitive",
			func(t *testing.T) { l.setAccount(t, "alice", "--sensitive=true") },
			func(t *testing.T) { l.setAccount(t, "alice", "--sensitive=false") }},
		{"Protected Users",
			func(t *testing.T) {
				hop(t, "", "group", "add-member", "Protected Users", "alice", "--dir", l.domain.dir)
			},
			func(t *testing.T) {
				hop(t, "", "group", "remove-member", "Protected Users", "alice", "--dir", l.domain.dir)
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.set(t)
			defer tt.unset(t)
			alice := l.aliceEnv(t)
			out, errOut, err := l.onB(t, alice, "forward", "echo reached")
			t.Logf("forward: %v\nstdout %q\nstderr %q", err, out, errOut)
			if err == nil || out != "" {
				t.Errorf("hop exec --delegate forward as a %s alice: %v, stdout %q: want a refusal on A", tt.name, err, out)
			}
			mustContain(t, "forward refused", errOut, "hop: "+l.b.name+": --delegate forward refused here, on this host", "not forwardable")

			rule := lastLine(l.explain(t, "--user", "alice", "--service", "b$", "--target", "host/"+l.c.name))
			out, errOut, err = l.onB(t, alice, "constrained", l.nestedTry("constrained", known))
			t.Logf("constrained: %v\n%s%s", err, out, errOut)
			if err != nil {
				t.Fatalf("hop exec %s --delegate constrained: %v\n%s%s", l.b.name, err, out, errOut)
			}
			l.wantRefused(t, tt.name+", constrained", tries(out)["constrained"],
				"hop: "+l.c.name+": the KDC refused to let host/"+l.b.name+" reach host/"+l.c.name+" on behalf of alice@"+l.realm+" ", rule)
			if evs := l.b.waitAudit(t, "broker.refused", rule, 1); len(evs) == 0 || !strings.HasPrefix(evs[0].Reason, "alice@"+l.realm+" via "+l.b.name+" (session ") {
				t.Errorf("B's audit log: no broker.refused event of alice via %s with the rule %q (%v)", l.b.name, rule, evs)
			}

			// What is left to such an account: an explicit credential.
			pw := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pw, []byte(alicePW+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--pass-credential", "alice", "--password-file", pw, "--",
				l.nestedTry("passed", "--credential", "alice", known))
			if err != nil {
				t.Fatalf("hop exec --pass-credential as a %s alice: %v\n%s%s", tt.name, err, out, errOut)
			}
			l.wantWorked(t, tt.name+", --pass-credential", tries(out)["passed"])
		})
	}
}

// shQuote quotes s for the shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// programTry is a try of a program in a session's script: "== NAME", its
// output (standard error too) and its exit status.
func programTry(name string, argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shQuote(a)
	}
	return fmt.Sprintf("echo '== %s'; %s 2>&1; echo \"rc=$?\"\n", name, strings.Join(q, " "))
}

// cHTTPServer serves, on 127.0.0.3, a handler behind hop's HTTPAuth with
// the keytab of HTTP/c.example.test (a service account of the lab's
// domain), answering as negotiateWhoAmI does.
func (l *hopLab) cHTTPServer(t *testing.T) (port string) {
	t.Helper()
	hop(t, "", "account", "add-service", "web-c", "--spn", "HTTP/"+l.c.name, "--random-key", "--dir", l.domain.dir)
	kt := filepath.Join(t.TempDir(), "web-c.keytab")
	hop(t, "", "keytab", "export", "web-c", "-o", kt, "--dir", l.domain.dir)
	auth := &spnego.HTTPAuth{Acceptor: gssKeytabAcceptor(t, kt)}
	srv := httptest.NewUnstartedServer(auth.Wrap(negotiateWhoAmI))
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port
}

// TestSecondHopPrograms: unmodified Kerberos programs in a session on B in
// modes constrained (b$ allowed to delegate to C's host, HTTP and postgres
// services), remote-guard and credssp: MIT's kvno and klist, OpenSSH's ssh
// to C's agent, curl --negotiate to an HTTP service on C, and psql to
// PostgreSQL on C as alice — the web server on B reads the database on C
// as the user. In constrained and remote-guard each gets its ticket from
// the broker at the moment it asks (KCM), which B's audit log records; in
// credssp the programs use the TGT the agent got with the password.
func TestSecondHopPrograms(t *testing.T) {
	ssh := agentSSH(t)
	curl := adminRequireCurl(t)
	psql := thirdparty.RequirePsql(t)
	kvno := thirdparty.Require(t, "kvno")
	l := secondHopLab(t, "credssp = true\n")

	hop(t, pgSvcPW+"\n", "account", "add-service", "svc-pg", "--spn", "postgres/"+l.c.name, "--dir", l.domain.dir)
	pgKeytab := filepath.Join(t.TempDir(), "pg.keytab")
	hop(t, "", "keytab", "export", "svc-pg", "-o", pgKeytab, "--dir", l.domain.dir)
	pg := thirdparty.StartPostgres(t, thirdparty.PostgresOptions{Addr: "127.0.0.3", Keytab: pgKeytab, Realm: l.realm, Roles: []string{"alice"}})
	httpPort := l.cHTTPServer(t)
	l.setAccount(t, "b$", "--allowed-to-delegate-to", "host/"+l.c.name+",HTTP/"+l.c.name+",postgres/"+l.c.name)

	cHost, cPort, _ := strings.Cut(l.c.addr, ":")
	url := "http://" + l.c.name + ":" + httpPort + "/"
	conninfo := "host=" + l.c.name + " hostaddr=" + pg.Addr() + " port=" + fmt.Sprint(pg.Port()) +
		" user=alice dbname=alice gssencmode=require connect_timeout=10"
	const query = "select current_user, gss_authenticated, encrypted, principal from pg_stat_gssapi where pid = pg_backend_pid()"
	script := sessionInfo +
		programTry("kvno", kvno, "host/"+l.c.name) +
		programTry("ssh", append(append([]string{ssh}, sshOptions(l.knownHosts(t), l.c.name, cHost, cPort)...), "-l", "alice", l.c.name, "id -un; echo $HOP_CLIENT")...) +
		programTry("curl", curl, "--silent", "--show-error", "--noproxy", "*", "--negotiate", "-u", ":",
			"--resolve", l.c.name+":"+httpPort+":127.0.0.3", "--write-out", "status=%{http_code}\n", url) +
		"export LC_ALL=C PGCONNECT_TIMEOUT=10\n" +
		programTry("psql", psql, "-X", "-A", "-t", "-F", " ", "-d", conninfo, "-c", query) +
		"echo '== klist'; klist\n"
	alice := l.aliceEnv(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(alicePW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(l.conf)
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(fresh, append(conf, "\tallow_fresh_credentials = host/*.example.test\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"constrained", "remote-guard", "credssp"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"exec", l.b.name, "--delegate", mode}
			env := alice
			if mode == "credssp" {
				args = append(args, "--password-file", pw)
				env = append(append([]string{}, alice...), "KRB5_CONFIG="+fresh)
			}
			start := time.Now()
			out, errOut, err := l.run(t, env, "", append(args, "--", script)...)
			t.Logf("the session on B (%v): %v\n%s%s", time.Since(start).Round(time.Millisecond), err, out, errOut)
			if err != nil {
				t.Fatalf("the session on B: %v", err)
			}
			got := tries(out)
			for _, w := range []struct{ name, want string }{
				{"kvno", "host/" + l.c.name + "@" + l.realm + ": kvno = "},
				{"ssh", l.alice + "\nalice@" + l.realm + "\nrc=0\n"},
				// Nothing reusable reaches C either: curl delegates nothing.
				{"curl", "client=alice@" + l.realm + " server=HTTP/" + l.c.name + "@" + l.realm + " pac=alice delegated=false\nstatus=200\nrc=0\n"},
				{"psql", "alice t t alice@" + l.realm + "\nrc=0\n"},
			} {
				if !strings.Contains(got[w.name], w.want) || !strings.HasSuffix(got[w.name], "rc=0\n") {
					t.Errorf("%s in the session on B: %q, want %q and exit status 0", w.name, got[w.name], w.want)
				}
			}
			mustContain(t, "klist in the session on B", got["klist"], "Default principal: alice@"+l.realm,
				"host/"+l.c.name+"@"+l.realm, "HTTP/"+l.c.name+"@"+l.realm, "postgres/"+l.c.name+"@"+l.realm)
			// Only credssp puts a TGT on B.
			if tgt := strings.Contains(got["klist"], "krbtgt/"); tgt != (mode == "credssp") {
				t.Errorf("klist in a %s session on B (a TGT: %v):\n%s", mode, tgt, got["klist"])
			}
			if mode == "credssp" {
				return // the programs used the TGT: the broker obtained nothing
			}
			id := sessionValue(out, "session")
			for _, svc := range []string{"host", "HTTP", "postgres"} {
				sub := "(session " + id + ", mode " + mode + ", endpoint default) to " + svc + "/" + l.c.name + "@" + l.realm + ": issued"
				if evs := l.b.waitAudit(t, "broker.issued", sub, 1); len(evs) == 0 {
					t.Errorf("B's audit log: no broker.issued event %q", sub)
				}
			}
		})
	}
}

// TestSecondHopEndpointModes: the agent's configuration allows delegation
// modes per endpoint. B's default endpoint allows none and constrained
// only, its endpoint ops none only: a mode an endpoint does not allow is
// refused with the modes it does, though the domain would allow it, and a
// session in mode none there says so to a nested hop exec.
func TestSecondHopEndpointModes(t *testing.T) {
	l := secondHopLab(t, `
[endpoints.default]
type = "default"
delegation = ["none", "constrained"]

[endpoints.ops]
type = "default"
delegation = ["none"]
`)
	known := l.delegableB(t)
	alice := l.aliceEnv(t)
	l.nestedWorks(t, alice, "constrained", known)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--delegate", "forward"}, "the endpoint default on " + l.b.name + " does not allow --delegate forward; it allows none, constrained"},
		{[]string{"--config", "ops", "--delegate", "constrained"}, "the endpoint ops on " + l.b.name + " does not allow --delegate constrained; it allows none"},
		{[]string{"--config", "ops", "--delegate", "forward"}, "the endpoint ops on " + l.b.name + " does not allow --delegate forward; it allows none"},
	} {
		args := append(append([]string{"exec", l.b.name}, tt.args...), "--", "echo reached")
		out, errOut, err := l.run(t, alice, "", args...)
		t.Logf("hop %s: %v\nstdout %q\nstderr %q", strings.Join(args, " "), err, out, errOut)
		if err == nil || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("hop %s: %v, stdout %q, stderr %q; want a refusal with %q", strings.Join(args, " "), err, out, errOut, tt.want)
		}
	}

	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--config", "ops", "--", l.nestedTry("none", known))
	if err != nil {
		t.Fatalf("hop exec --config ops: %v\n%s%s", err, out, errOut)
	}
	// An endpoint that allows no delegation does not offer it.
	l.wantRefused(t, "endpoint ops", tries(out)["none"], "hop: "+l.c.name+": no delegated credential on this hop: the endpoint ops on "+l.b.name+" passes no credential of yours (hop endpoints "+l.b.name+"); pass one with --pass-credential ACCOUNT")
}

// TestSecondHopForwardKeyGone: when a session in mode forward has ended
// (its client gone too), B's agent's memory no longer holds the forwarded
// TGT's session key: "when the session ends the broker stops: keys
// zeroed". The session ran klist and the test read its cache through KCM
// as root, as any program of the session may.
func TestSecondHopForwardKeyGone(t *testing.T) {
	l := secondHopLab(t)
	l.setAccount(t, "b$", "--trusted-for-delegation=true")
	s := l.startOnB(t, l.aliceEnv(t), "forward", "gone", sessionInfo+"echo '== klist'; klist\nstep 1\n")
	s.waitStep(t, 1)
	tgt := l.sessionTGT(t, sessionValue(s.stdout.String(), "socket"), tries(s.stdout.String())["klist"])
	if found := scanProcessMemory(t, l.b.pid, tgt.Key); len(found) != 1 {
		t.Fatalf("B's agent's memory does not hold the forwarded TGT's session key while the session is open: the scan is blind")
	}
	s.next(t, 1)
	if out, errOut, err := s.wait(t); err != nil {
		t.Fatalf("the session on B: %v\n%s%s", err, out, errOut)
	}
	// The agent ends the connection after the session.
	deadline := time.Now().Add(3 * time.Second)
	for {
		found := scanProcessMemory(t, l.b.pid, tgt.Key)
		if len(found) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's agent's memory still holds the forwarded TGT's session key 3s after the session ended")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestSecondHopPassCredential: an explicit credential (PowerShell's
// $using:cred) passed into a session in mode none: the password, typed on
// A (here from a file), goes inside the encrypted connection; on B, hop
// exec --credential uses it, hop login --credential makes it the session's
// default for every program (MIT's klist shows its TGT, a plain nested hop
// exec works); nothing is written to B's disk, the audit names the account
// and never the secret, and a wrong password refuses the session.
func TestSecondHopPassCredential(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(alicePW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := l.nestedTry("plain") + l.nestedTry("credential", "--credential", "alice") +
		"echo '== login'; hop login --credential alice 2>&1; echo \"rc=$?\"\n" +
		"echo '== klist'; klist 2>&1\n" + l.nestedTry("after login")
	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--pass-credential", "alice", "--password-file", pwFile, "--", script)
	if err != nil {
		t.Fatalf("hop exec --pass-credential: %v\n%s%s", err, out, errOut)
	}
	got := tries(out)
	l.wantRefused(t, "without --credential", got["plain"], "hop: "+l.c.name+": no delegated credential on this hop")
	l.wantWorked(t, "--credential alice", got["credential"])
	if got["login"] != "rc=0\n" {
		t.Errorf("hop login --credential alice: %q", got["login"])
	}
	mustContain(t, "klist after hop login --credential", got["klist"], "Default principal: alice@"+l.realm, "krbtgt/"+l.realm+"@"+l.realm)
	l.wantWorked(t, "after hop login --credential", got["after login"])
	if hits := scanFiles(t, [][]byte{[]byte(alicePW)}, l.b.dir, l.b.runtimeDir, l.home[l.alice]); len(hits) != 0 {
		t.Errorf("the password is on B's disk: %v", hits)
	}
	evs := l.b.waitAudit(t, "session.credential", "a credential for alice@"+l.realm+" was passed", 1)
	if len(evs) != 1 {
		t.Errorf("B's audit has %d session.credential events for alice", len(evs))
	}
	if b, _ := os.ReadFile(l.b.auditLog); bytes.Contains(b, []byte(alicePW)) {
		t.Error("B's audit log holds the password")
	}

	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("Not-Her-Pass-9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--pass-credential", "alice", "--password-file", bad, "--", "echo ran")
	if err == nil || strings.Contains(out, "ran") || !strings.Contains(errOut, "the credential passed for alice@"+l.realm+" was refused by the KDC") {
		t.Errorf("a wrong password: %v, stdout %q, stderr %q", err, out, errOut)
	}
	// In a session without it, --credential names what to do.
	out, _, _ = l.run(t, alice, "", "exec", l.b.name, "--", l.nestedTry("missing", "--credential", "svc-sql"))
	l.wantRefused(t, "--credential without a passed credential", tries(out)["missing"], "hop: no credential for svc-sql was passed into this hop session")
}
