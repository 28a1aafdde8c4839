package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"hop/internal/scan"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/kcm"
	"hop/remoting"
)

// kinds orders the kinds of material, from most to least reusable.
var kinds = []string{kcm.HoldPassword, kcm.HoldTGT, kcm.HoldAccountKey, kcm.HoldEvidence, kcm.HoldServiceTicket}

// probeRun is one session's probe as it ran.
type probeRun struct {
	sections map[string]string // "c", "kvno", "tickets", "login" → their output
	stderr   string
	err      error
	status   *kcm.BrokerStatus
	loot     []ccache.Credential // what the broker held, as an attacker on B took it
	scan     []string            // secrets found during the session
	scanned  int64
	socket   string
}

// cell performs m for u: the session on B, its probe, the scans, and the
// tries after it ended.
func (l *lab) cell(ctx context.Context, m *method, u *user) (Cell, error) {
	t0 := time.Now()
	c := Cell{User: u.name, Reached: []string{}, Holds: []kcm.Holding{}}
	stepFile := l.path("steps", m.id+"-"+u.name)
	os.Remove(stepFile)
	args := append(append([]string{"exec", hostB}, m.flags(l, u)...), "--", l.probe, stepFile)
	if m.credential {
		args = append(args, u.name)
	}
	env := l.env(u)
	if m.freshCredentials {
		env = append(env, "KRB5_CONFIG="+l.freshConf())
	}
	needles, names, err := l.userNeedles(u)
	if err != nil {
		return c, l.fail(m.id+" for "+u.name, err)
	}
	pr := l.probeSession(ctx, m, u, env, args, stepFile, needles, names)

	if pr.sections["tickets"] == "" && pr.err != nil {
		c.Session = "refused: " + lastLines(pr.stderr, 1)
		c.Reason = c.Session
	} else {
		c.Session = "opened"
		c.SecondHop, c.CSaw, c.Reason = secondHop(pr.sections)
		if k, ok := pr.sections["kvno"]; ok && strings.TrimSpace(k) != "missing" {
			out, rc := splitRC(k)
			c.Kvno = &Outcome{OK: rc == "0", Detail: lastLines(out, 1)}
		}
	}
	if pr.status != nil {
		c.Holds = pr.status.Holds
		for _, k := range kinds {
			for _, h := range pr.status.Holds {
				if h.Kind == k && !slices.Contains(c.Reached, k) && h.Principal != "" {
					c.Reached = append(c.Reached, k)
				}
			}
		}
	}
	c.Scan.During, c.Scan.Bytes = pr.scan, pr.scanned
	if pr.socket != "" {
		l.waitSessionEnd(pr.socket)
	}
	// After the session: what is left of the user's on B, and what B can
	// still do with what it held, or holds anyway.
	lootNeedles, lootNames := lootSecrets(pr.loot)
	after, scanned := l.scanB(u, append(needles, lootNeedles...), append(names, lootNames...))
	c.Scan.After = after
	c.Scan.Bytes = max(c.Scan.Bytes, scanned)
	c.Scan.Agrees = len(after) == 0 && explained(c.Scan.During, c.Reached)
	c.After = l.tryAfter(ctx, m, u, pr, c.Reached)
	c.Seconds = seconds(t0)
	return c, nil
}

// probeSession runs the session and its probe; when the probe pauses, it
// takes what B's broker holds as an attacker on B would and scans B.
func (l *lab) probeSession(ctx context.Context, m *method, u *user, env, args []string, stepFile string, needles [][]byte, names []string) *probeRun {
	pr := &probeRun{sections: map[string]string{}}
	ctx, cancel := context.WithTimeout(ctx, cellTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.hop, args...)
	cmd.Env = append(l.baseEnv(), env...)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		pr.err = err
		return pr
	}
	var transcript strings.Builder
	if err := cmd.Start(); err != nil {
		pr.err = err
		return pr
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	section := ""
	for sc.Scan() {
		line := sc.Text()
		transcript.WriteString(line + "\n")
		if name, ok := strings.CutPrefix(line, "== "); ok {
			section = name
			if section == "scan" {
				l.duringSession(ctx, pr, u, needles, names)
				if err := os.WriteFile(stepFile, nil, 0o644); err != nil {
					l.log("write " + stepFile + ": " + err.Error())
				}
			}
			continue
		}
		pr.sections[section] += line + "\n"
	}
	pr.err = cmd.Wait()
	pr.stderr = stderr.String()
	l.log(fmt.Sprintf("$ hop %s%s    # %s for %s\n%s%s", display(args), exitNote(pr.err), m.id, u.name, transcript.String(), pr.stderr))
	return pr
}

// duringSession reads the broker's report from the probe's hop tickets
// --json, takes every credential its KCM socket gives (as root on B
// could), and scans B for the user's secrets.
func (l *lab) duringSession(ctx context.Context, pr *probeRun, u *user, needles [][]byte, names []string) {
	var tj struct {
		Broker *kcm.BrokerStatus `json:"broker"`
	}
	if err := json.Unmarshal([]byte(pr.sections["tickets"]), &tj); err == nil && tj.Broker != nil {
		pr.status = tj.Broker
		pr.socket = filepath.Join(l.b.runtime, "session-"+tj.Broker.Session, "kcm.sock")
		pr.loot = l.takeFromBroker(ctx, pr.socket, tj.Broker)
	}
	lootNeedles, lootNames := lootSecrets(pr.loot)
	pr.scan, pr.scanned = l.scanB(u, append(needles, lootNeedles...), append(names, lootNames...))
}

// takeFromBroker lists every credential of the session's caches through
// its KCM socket: what an attacker with root on B takes during a session.
func (l *lab) takeFromBroker(ctx context.Context, socket string, st *kcm.BrokerStatus) []ccache.Credential {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := kcm.Dial(ctx, socket)
	if err != nil {
		l.log("take from the broker " + socket + ": " + err.Error())
		return nil
	}
	defer c.Close()
	var out []ccache.Credential
	// The session's own cache is named by its uid (the socket's owner);
	// the one root gets by default holds only what the session started
	// with.
	caches := []string{}
	if fi, err := os.Stat(socket); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			caches = append(caches, strconv.FormatUint(uint64(st.Uid), 10))
		}
	}
	if name, err := c.DefaultCache(ctx); err == nil && !slices.Contains(caches, name) {
		caches = append(caches, name)
	}
	for _, n := range st.Credentials {
		caches = append(caches, remoting.CredentialCache(n))
	}
	seen := map[string]bool{}
	for _, name := range caches {
		creds, err := c.Credentials(ctx, name)
		if err != nil {
			continue
		}
		for _, cr := range creds {
			if k := cr.Client.String() + " " + cr.Server.String(); !cr.IsConfig() && !seen[k] {
				seen[k] = true
				out = append(out, cr)
			}
		}
	}
	return out
}

// userNeedles are the secrets of u's that must be accounted for when found
// on B: the password, and the TGT u holds on A (its ticket and session
// key). They are read from A's cache at each cell: a login may renew it.
func (l *lab) userNeedles(u *user) ([][]byte, []string, error) {
	needles := [][]byte{[]byte(u.password)}
	names := []string{"password"}
	cc, err := ccache.Load(l.ccache(u))
	if err != nil {
		return nil, nil, err
	}
	for _, cr := range cc.Credentials {
		if comps := cr.Server.Name.Components; !cr.IsConfig() && len(comps) == 2 && comps[0] == "krbtgt" && len(cr.Key) >= 16 {
			needles = append(needles, cr.Key, cr.Ticket)
			names = append(names, "A's TGT (its session key)", "A's TGT (the ticket)")
		}
	}
	return needles, names, nil
}

// lootSecrets are the session keys of what was taken from the broker: in
// the agent's memory while the session runs, gone once it ended.
func lootSecrets(loot []ccache.Credential) ([][]byte, []string) {
	var needles [][]byte
	var names []string
	for _, cr := range loot {
		if len(cr.Key) < 16 {
			continue
		}
		kind := "service ticket"
		if comps := cr.Server.Name.Components; len(comps) == 2 && comps[0] == "krbtgt" {
			kind = "TGT"
		}
		needles = append(needles, cr.Key)
		names = append(names, fmt.Sprintf("the broker's %s of %s for %s (its session key)", kind, cr.Client, cr.Server))
	}
	return needles, names
}

// scanMu serializes the scans of B: each reads all of the agent's memory.
var scanMu sync.Mutex

// scanB searches B's agent's memory and B's files (the sessions' folders,
// the agent's folder, the user's home) for the needles and returns the
// names of those found, and how much memory it read.
func (l *lab) scanB(u *user, needles [][]byte, names []string) ([]string, int64) {
	scanMu.Lock()
	defer scanMu.Unlock()
	found := []string{}
	add := func(i int, where string) {
		s := names[i] + " in " + where
		if !slices.Contains(found, s) {
			found = append(found, s)
		}
	}
	idx, n, err := scan.Memory(l.b.cmd.Process.Pid, needles)
	if err != nil {
		l.log("scan B's agent's memory: " + err.Error())
	}
	for _, i := range idx {
		add(i, "the agent's memory")
	}
	dirs := []string{l.b.runtime, l.b.dir}
	if l.root {
		dirs = append(dirs, l.path("home", u.local), l.path("home", l.svcLocal()))
	}
	hits, _, err := scan.Files(needles, dirs...)
	if err != nil {
		l.log("scan B's files: " + err.Error())
	}
	for _, h := range hits {
		add(h.Needle, h.Path)
	}
	return found, n
}

// explained reports whether every secret found on B during the session is
// one the broker reported: a password only where it said a password
// reached B; A's own TGT never (hop forwards a new one).
func explained(found, reached []string) bool {
	for _, f := range found {
		switch {
		case strings.HasPrefix(f, "password "):
			if !slices.Contains(reached, kcm.HoldPassword) {
				return false
			}
		case strings.HasPrefix(f, "A's TGT"):
			return false
		}
	}
	return true
}

// waitSessionEnd waits until the session's broker has closed (its socket
// is gone), at most a few seconds.
func (l *lab) waitSessionEnd(socket string) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(socket); errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.log("the broker's socket " + socket + " is still there 5 s after the session ended")
}

// secondHop reads the probe's hop exec c.lab.test: whether it worked,
// whom C saw, and the error when not.
func secondHop(sections map[string]string) (ok bool, saw, reason string) {
	if strings.Contains(sections["login"], "rc=") {
		if out, rc := splitRC(sections["login"]); rc != "0" {
			return false, "", "hop login --credential: " + lastLines(out, 1)
		}
	}
	out, rc := splitRC(sections["c"])
	if rc == "0" {
		return true, strings.TrimSpace(out), ""
	}
	return false, "", strings.TrimPrefix(lastLines(out, 1), "hop: ")
}

// splitRC splits a probe section into its output and the exit status on
// its last line ("rc=N").
func splitRC(s string) (out, rc string) {
	s = strings.TrimRight(s, "\n")
	i := strings.LastIndex(s, "\n")
	last := s[i+1:]
	if r, ok := strings.CutPrefix(last, "rc="); ok {
		if i < 0 {
			return "", r
		}
		return s[:i], r
	}
	return s, ""
}

// principalOf is the principal in a realm-qualified name ("alice" →
// alice@LAB.TEST).
func principalOf(name string) krb5.Principal {
	p, err := krb5.ParsePrincipal(name)
	if err != nil {
		return krb5.Principal{}
	}
	if p.Realm == "" {
		p.Realm = realm
	}
	return p
}
