package lab

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"hop/internal/atomicfile"
)

// user is an account of the lab, with its password and its cache on A.
type user struct {
	name, kind, about string
	password          string
	local             string // the local account its sessions on B run as
}

// the users every method is performed for, in the tables' order.
var labUsers = []struct{ name, kind, about string }{
	{"alice", "normal", "an ordinary user"},
	{"sam", "sensitive", `"account is sensitive and cannot be delegated" (hop account set sam --sensitive)`},
	{"pat", "protected", "a member of Protected Users"},
	{"helen", "helpdesk", "a helpdesk administrator: in helpdesk, B's admin_groups"},
}

// pwFile is where u's password is (0600), for --password-file.
func (l *lab) pwFile(u *user) string { return l.path("a", u.name+".pw") }

// ccache is u's credential cache on A.
func (l *lab) ccache(u *user) string { return l.path("a", u.name+".cc") }

// env is u's environment on A: its cache, and state and cache folders of
// its own (hop's client policy cache and client audit log).
func (l *lab) env(u *user) []string {
	home := l.path("a", u.name)
	return []string{"KRB5CCNAME=FILE:" + l.ccache(u), "HOME=" + home,
		"XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
}

// agentHost is one of the lab's agents.
type agentHost struct {
	name, short string // b.lab.test, b
	ip          string // 127.0.0.2
	addr        string // where it listens, once started
	dir         string // dir/b: agent.toml, keytabs, host key, logs
	runtime     string // dir/run/b: the sessions' brokers
	cmd         *exec.Cmd
}

func (h *agentHost) conf() string     { return filepath.Join(h.dir, "agent.toml") }
func (h *agentHost) logPath() string  { return filepath.Join(h.dir, "agent.log") }
func (h *agentHost) keytab() string   { return filepath.Join(h.dir, "krb5.keytab") }
func (h *agentHost) auditLog() string { return filepath.Join(h.dir, "audit.log") }

// setup stands the domain up: accounts, the KDC, B and C joined, their
// agents running, everyone's krb5.conf, and every user logged on at A.
func (l *lab) setup(ctx context.Context) error {
	l.step("the lab's folder: %s (log: %s)", l.dir, l.path("lab.log"))
	for _, d := range []string{"bin", "a", "b", "c", "run", "steps", "home"} {
		if err := os.MkdirAll(l.path(d), 0o755); err != nil {
			return l.fail("create the lab's folders", err)
		}
	}
	for _, d := range []string{"a", "b", "c"} {
		if err := os.Chmod(l.path(d), 0o700); err != nil {
			return l.fail("create the lab's folders", err)
		}
	}
	if err := l.installBinaries(); err != nil {
		return err
	}
	l.conf = l.path("krb5.conf")
	if err := l.makeUsers(); err != nil {
		return err
	}
	if err := l.makeDomain(ctx); err != nil {
		return err
	}
	if err := l.startKDC(ctx); err != nil {
		return err
	}
	if err := l.writeConf(ctx); err != nil {
		return err
	}
	l.b = &agentHost{name: hostB, short: "b", ip: addrB, dir: l.path("b"), runtime: l.path("run", "b")}
	l.c = &agentHost{name: hostC, short: "c", ip: addrC, dir: l.path("c"), runtime: l.path("run", "c")}
	for _, u := range append([]*user{l.admin, l.carol}, l.users...) {
		if _, err := l.run(ctx, command{step: "log " + u.name + " on at A", env: l.env(u), args: []string{"login", u.name, "--password-file", l.pwFile(u)}}); err != nil {
			return err
		}
	}
	if err := l.joinHosts(ctx); err != nil {
		return err
	}
	for _, h := range []*agentHost{l.b, l.c} {
		if err := l.startAgent(ctx, h); err != nil {
			return err
		}
	}
	// Now that the agents listen: every host's krb5.conf says where.
	return l.writeConf(ctx)
}

// installBinaries copies hop into the lab's folder, where every local
// account may run it, and writes the probe the sessions run.
func (l *lab) installBinaries() error {
	src := l.opts.Hop
	if src == "" {
		exe, err := os.Executable()
		if err != nil {
			return l.fail("find the hop binary", err)
		}
		src = exe
	}
	l.hop = l.path("bin", "hop")
	in, err := os.Open(src)
	if err != nil {
		return l.fail("copy the hop binary", err)
	}
	defer in.Close()
	out, err := os.OpenFile(l.hop, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return l.fail("copy the hop binary", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return l.fail("copy the hop binary", err)
	}
	if err := out.Close(); err != nil {
		return l.fail("copy the hop binary", err)
	}
	l.probe = l.path("bin", "hop-lab-probe")
	if err := os.WriteFile(l.probe, []byte(probeScript), 0o755); err != nil {
		return l.fail("write the probe", err)
	}
	// The sessions find kvno on their PATH, which the agents set.
	for _, d := range filepath.SplitList(l.sessionPath()) {
		if fi, err := os.Stat(filepath.Join(d, "kvno")); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			l.kvno = filepath.Join(d, "kvno")
			break
		}
	}
	if l.kvno == "" {
		l.fidelity = append(l.fidelity, "MIT's kvno is not installed (Debian package krb5-user): the sessions ran no third-party program; the kvno cells are empty")
	}
	return nil
}

// sessionPath is the PATH of the sessions on B and C: the lab's hop and
// probe first, then the system's usual folders.
func (l *lab) sessionPath() string {
	return l.path("bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// probeScript runs in every session on B: the second hop by hop and by
// MIT's kvno, what the session's broker holds, then a pause until the lab,
// having scanned B, creates the file $1. $2, for explicit credentials, is
// the credential passed into the session, made its default first.
const probeScript = `#!/bin/sh
# hop lab's probe: run in a session on b.lab.test.
step=$1
if [ -n "$2" ]; then
	echo "== login"
	hop login --credential "$2" 2>&1
	echo "rc=$?"
fi
echo "== c"
hop exec c.lab.test -- printenv HOP_CLIENT 2>&1
echo "rc=$?"
echo "== kvno"
if command -v kvno >/dev/null 2>&1; then
	kvno host/c.lab.test 2>&1
	echo "rc=$?"
else
	echo "missing"
fi
echo "== tickets"
hop tickets --json 2>&1
echo "== scan"
i=0
while [ ! -e "$step" ] && [ "$i" -lt 1200 ]; do
	sleep 0.05
	i=$((i + 1))
done
echo "== end"
`

// newSecret is a random password of the lab's (hex: it never needs
// quoting).
func newSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "Lab-" + hex.EncodeToString(b), nil
}

// makeUsers chooses the users' passwords and, as root, makes a local
// account for each, and one for the service sessions.
func (l *lab) makeUsers() error {
	mk := func(name, kind, about string) (*user, error) {
		pw, err := newSecret()
		if err != nil {
			return nil, l.fail("choose passwords", err)
		}
		u := &user{name: name, kind: kind, about: about, password: pw}
		if err := os.WriteFile(l.pwFile(u), []byte(pw+"\n"), 0o600); err != nil {
			return nil, l.fail("choose passwords", err)
		}
		return u, nil
	}
	var err error
	if l.admin, err = mk("Administrator", "", ""); err != nil {
		return err
	}
	if l.carol, err = mk("carol", "", "manages c$"); err != nil {
		return err
	}
	for _, lu := range labUsers {
		u, err := mk(lu.name, lu.kind, lu.about)
		if err != nil {
			return err
		}
		l.users = append(l.users, u)
	}
	if !l.root {
		me, err := osuser.Current()
		if err != nil {
			return l.fail("find the current user", err)
		}
		for _, u := range l.users {
			u.local = me.Username
		}
		l.fidelity = append(l.fidelity,
			"not root: every session ran as "+me.Username+", the agents too; as root each user's sessions run as a local account of their own and restricted-admin sessions as root",
			"not root: B's files were scanned in the lab's folders only (not the users' home folders)")
		return nil
	}
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		return l.fail("choose local account names", err)
	}
	l.prefix = "hl" + hex.EncodeToString(b)
	for _, u := range l.users {
		u.local = l.prefix + "-" + u.name
	}
	for _, name := range append(l.localNames(), l.svcLocal()) {
		if err := l.addLocal(name); err != nil {
			return err
		}
	}
	return nil
}

// localNames are the users' local accounts.
func (l *lab) localNames() []string {
	var out []string
	for _, u := range l.users {
		out = append(out, u.local)
	}
	return out
}

// svcLocal is the local account of RunAs and JEA sessions and of the
// service principals' sessions on C.
func (l *lab) svcLocal() string {
	if !l.root {
		return l.users[0].local
	}
	return l.prefix + "-svc"
}

// localComment marks the local accounts the lab made, for Down.
func localComment(dir string) string { return "hop lab " + dir }

// addLocal makes a local account with a home folder in the lab's folder.
func (l *lab) addLocal(name string) error {
	home := l.path("home", name)
	out, err := exec.Command("useradd", "-M", "-d", home, "-s", "/bin/sh", "-c", localComment(l.dir), name).CombinedOutput()
	l.log(fmt.Sprintf("$ useradd -M -d %s -s /bin/sh -c %s %s%s\n%s", home, shellQuote(localComment(l.dir)), name, exitNote(err), out))
	if err != nil {
		return l.fail("make the local account "+name, fmt.Errorf("useradd: %v: %s", err, strings.TrimSpace(string(out))))
	}
	l.locals = append(l.locals, name)
	if err := l.saveState(); err != nil {
		return l.fail("make the local account "+name, err)
	}
	u, err := osuser.Lookup(name)
	if err != nil {
		return l.fail("make the local account "+name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Mkdir(home, 0o700); err != nil {
		return l.fail("make the local account "+name, err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		return l.fail("make the local account "+name, err)
	}
	return nil
}

// removeLocal removes a local account the lab in dir made (its comment
// says so); another account of that name is left alone.
func removeLocal(name, dir string) error {
	out, err := exec.Command("getent", "passwd", name).Output()
	if err != nil {
		return nil // gone already
	}
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	if len(f) < 5 || f[4] != localComment(dir) {
		return fmt.Errorf("lab: the local account %s was not made by the lab in %s: left alone", name, dir)
	}
	if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
		return fmt.Errorf("lab: userdel %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// makeDomain creates the domain, its accounts and groups, with the
// directory's own tools on the KDC's host (before the KDC runs).
func (l *lab) makeDomain(ctx context.Context) error {
	l.step("the domain %s: accounts alice, sam (sensitive), pat (Protected Users), helen (helpdesk), carol; groups; service accounts", realm)
	dom := []string{"--dir", l.path("domain")}
	steps := [][]string{
		append([]string{"domain", "init", "--realm", realm, "--admin-password-file", l.pwFile(l.admin), "--admin-name", "kdc." + domain, "--admin-name", "localhost"}, dom...),
	}
	for _, u := range append([]*user{l.carol}, l.users...) {
		steps = append(steps, append([]string{"account", "add", u.name, "--password-file", l.pwFile(u), "--description", u.about}, dom...))
	}
	steps = append(steps,
		append([]string{"account", "set", "sam", "--sensitive"}, dom...),
		append([]string{"group", "add-member", "Protected Users", "pat"}, dom...),
		append([]string{"account", "add-service", "svc-runas", "--spn", "runas/" + hostB, "--random-key"}, dom...),
		append([]string{"account", "add-service", "svc-jea", "--spn", "jea/" + hostB, "--random-key"}, dom...),
	)
	for _, g := range []string{"b-remote-users", "c-remote-users", "helpdesk"} {
		steps = append(steps, append([]string{"group", "create", g}, dom...))
	}
	for _, u := range l.users {
		steps = append(steps,
			append([]string{"group", "add-member", "b-remote-users", u.name}, dom...),
			append([]string{"group", "add-member", "c-remote-users", u.name}, dom...))
	}
	steps = append(steps,
		append([]string{"group", "add-member", "helpdesk", "helen"}, dom...),
		append([]string{"group", "add-member", "c-remote-users", "svc-runas"}, dom...),
		append([]string{"group", "add-member", "c-remote-users", "svc-jea"}, dom...),
		append([]string{"keytab", "export", "svc-runas", "-o", l.path("b", "svc-runas.keytab")}, dom...),
		append([]string{"keytab", "export", "svc-jea", "-o", l.path("b", "svc-jea.keytab")}, dom...),
	)
	for _, args := range steps {
		if _, err := l.run(ctx, command{step: "create the domain", args: args}); err != nil {
			return err
		}
	}
	return nil
}

// kdcState is the part of the KDC's state file (kdc.json) the lab reads.
type kdcState struct {
	Listen   []string `json:"listen"`
	AdminURL string   `json:"admin_url"`
}

// startKDC runs hop kdc on free ports of 127.0.0.1 and waits for its
// state file.
func (l *lab) startKDC(ctx context.Context) error {
	step := "start the KDC"
	logPath := l.path("kdc.log")
	cmd, err := l.startDaemon(step, logPath, "kdc", "--dir", l.path("domain"),
		"--listen", addrKDC+":0", "--kpasswd-listen", addrKDC+":0", "--admin-listen", addrKDC+":0",
		"--admin-name", "localhost", "--admin-name", "kdc."+domain)
	if err != nil {
		return err
	}
	var st kdcState
	err = waitFor(ctx, 20*time.Second, cmd, func() bool {
		b, err := os.ReadFile(l.path("domain", "kdc.json"))
		return err == nil && json.Unmarshal(b, &st) == nil && st.AdminURL != "" && len(st.Listen) > 0
	})
	if err != nil {
		return l.fail(step, err, logPath)
	}
	l.adminURL, l.kdcAddrs = st.AdminURL, st.Listen
	l.step("the KDC listens on %s; its admin API on %s", strings.Join(st.Listen, ", "), st.AdminURL)
	return nil
}

// waitFor polls ok until it holds, cmd exits, or the time is up.
func waitFor(ctx context.Context, limit time.Duration, cmd *exec.Cmd, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if !alive(cmd.Process.Pid) {
			return errors.New("it exited")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return nil
}

// writeConf writes every host's krb5.conf: hop client-config's, with the
// agents' addresses once they listen (names resolve through it, not
// through /etc/hosts).
func (l *lab) writeConf(ctx context.Context) error {
	args := []string{"client-config", "--dir", l.path("domain")}
	for _, h := range []*agentHost{l.b, l.c} {
		if h != nil && h.addr != "" {
			args = append(args, "--agent-address", h.name+"="+h.addr)
		}
	}
	out, err := l.run(ctx, command{step: "write krb5.conf", args: args})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(l.conf, []byte(out), 0o644); err != nil {
		return l.fail("write krb5.conf", err)
	}
	return nil
}

// joinHosts writes B's and C's agent configurations and joins both hosts
// with one-time tokens a Domain Admin created; then the Domain Admin lets
// C accept B's own identity (restricted-admin's second hop) and makes
// carol a manager of c$.
func (l *lab) joinHosts(ctx context.Context) error {
	l.step("hosts B and C: agent configurations, joined with one-time tokens")
	for _, h := range []*agentHost{l.b, l.c} {
		for _, d := range []string{h.runtime} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return l.fail("join "+h.name, err)
			}
		}
		if err := os.WriteFile(h.conf(), []byte(l.agentConf(h)), 0o600); err != nil {
			return l.fail("join "+h.name, err)
		}
		token, err := l.run(ctx, command{step: "join " + h.name, args: []string{"host", "token", "create", h.name, "--dir", l.path("domain")}})
		if err != nil {
			return err
		}
		tokenFile := filepath.Join(h.dir, "join-token")
		if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
			return l.fail("join "+h.name, err)
		}
		if _, err := l.run(ctx, command{step: "join " + h.name, args: []string{"host", "join", "--agent-config", h.conf(), "--token-file", tokenFile, "--server", l.adminURL}}); err != nil {
			return err
		}
	}
	admin := l.env(l.admin)
	for _, args := range [][]string{
		{"group", "add-member", "c-remote-users", "b$", "--server", l.adminURL},
		{"account", "set", "c$", "--managed-by", "carol", "--server", l.adminURL},
	} {
		if _, err := l.run(ctx, command{step: "a Domain Admin's settings", env: admin, args: args}); err != nil {
			return err
		}
	}
	return nil
}

// agentConf is the agent configuration of h. B has every endpoint and
// mode a method needs: RunAs, JEA, restricted-admin for helpdesk, and
// fresh credentials (CredSSP); C has the default endpoint.
func (l *lab) agentConf(h *agentHost) string {
	var b strings.Builder
	q := strconv.Quote
	fmt.Fprintf(&b, "host = %s\nlisten = [%s]\nkrb5_conf = %s\nkeytab = %s\nhost_key = %s\nstate_dir = %s\nruntime_dir = %s\n",
		q(h.name), q(h.ip+":0"), q(l.conf), q(h.keytab()), q(filepath.Join(h.dir, "ssh_host_ed25519_key")), q(filepath.Join(h.dir, "state")), q(h.runtime))
	fmt.Fprintf(&b, "audit_log = %s\ntranscript_dir = %s\nlogon_groups = [%s]\nidle_timeout = \"10m\"\npath = %s\n",
		q(h.auditLog()), q(filepath.Join(h.dir, "transcripts")), q(h.short+"-remote-users"), q(l.sessionPath()))
	if h == l.b {
		b.WriteString("admin_groups = [\"helpdesk\"]\nrestricted_admin = true\ncredssp = true\n")
		if !l.root {
			fmt.Fprintf(&b, "restricted_admin_account = %s\n", q(l.svcLocal()))
		}
	}
	b.WriteString("[user_map]\n")
	for _, u := range l.users {
		fmt.Fprintf(&b, "%s = %s\n", u.name, q(u.local))
	}
	if h == l.c {
		for _, p := range []string{"svc-runas", "svc-jea", "host/" + hostB + "@" + realm} {
			fmt.Fprintf(&b, "%s = %s\n", q(p), q(l.svcLocal()))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "[endpoints.runas]\ntype = \"runas\"\nrun_as = %s\nkeytab = %s\ngroups = [\"b-remote-users\"]\n",
		q(l.svcLocal()), q(filepath.Join(h.dir, "svc-runas.keytab")))
	fmt.Fprintf(&b, "[endpoints.c-ops]\ntype = \"jea\"\nrun_as = %s\nnetwork_keytab = %s\nnetwork_identity = \"svc-jea\"\n", q(l.svcLocal()), q(filepath.Join(h.dir, "svc-jea.keytab")))
	b.WriteString("description = \"operations on c.lab.test, as svc-jea\"\n[[endpoints.c-ops.roles]]\ngroups = [\"b-remote-users\"]\n[[endpoints.c-ops.roles.commands]]\n")
	fmt.Fprintf(&b, "path = %s\nargs = [ { regex = %s } ]\ndescription = \"the lab's probe: the second hop to c.lab.test, by hop and kvno\"\n",
		q(l.probe), q(regexp.QuoteMeta(l.path("steps"))+"/[a-z0-9-]+"))
	return b.String()
}

// readyLine finds the JSON log line (hop agent --log-format json) the
// agent writes once it listens, and returns its first address.
func readyLine(line string) (addr string, ok bool) {
	var rec struct {
		Msg    string `json:"msg"`
		Listen string `json:"listen"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "hop agent ready" || rec.Listen == "" {
		return "", false
	}
	return strings.Split(rec.Listen, ",")[0], true
}

// startAgent runs h's agent and waits until it listens.
func (l *lab) startAgent(ctx context.Context, h *agentHost) error {
	step := "start the agent of " + h.name
	cmd, err := l.startDaemon(step, h.logPath(), "agent", "--config", h.conf(), "--log-format", "json")
	if err != nil {
		return err
	}
	h.cmd = cmd
	err = waitFor(ctx, 20*time.Second, cmd, func() bool {
		f, err := os.Open(h.logPath())
		if err != nil {
			return false
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if addr, ok := readyLine(sc.Text()); ok {
				h.addr = addr
				return true
			}
		}
		return false
	})
	if err != nil {
		return l.fail(step, err, h.logPath(), h.conf())
	}
	l.step("%s: hop agent on %s", h.name, h.addr)
	return nil
}

// report is the Report's description of the lab.
func (l *lab) report() *Report {
	r := &Report{Realm: realm, Dir: l.dir, Root: l.root, Fidelity: append([]string{}, l.fidelity...), Kvno: l.kvno,
		Hosts: []Host{
			{Name: "a (here)", Role: "the client: hop exec, as each user"},
			{Name: "kdc." + domain, Role: "the KDC, kpasswd and the admin API (hop kdc)", Addr: strings.Join(l.kdcAddrs, ", ")},
			{Name: hostB, Role: "hop agent: endpoints default, runas, c-ops (JEA); restricted-admin and credssp enabled", Addr: l.b.addr},
			{Name: hostC, Role: "hop agent: the second hop's target", Addr: l.c.addr},
		}}
	for _, u := range l.users {
		r.Users = append(r.Users, User{Name: u.name, Kind: u.kind, About: u.about, Local: u.local})
	}
	return r
}

// kept is how to use the lab left running. Its ssh_config block lets
// OpenSSH's ssh reach B's agent as the first user: the agent's address,
// the SPN to ask a ticket for (the lab's names do not resolve), the user
// name the agent accepts, and B's registered key from hop known-hosts.
func (l *lab) kept() *Kept {
	u := l.users[0]
	i := strings.LastIndexByte(l.b.addr, ':')
	known := l.path("a", "known_hosts")
	return &Kept{
		Env: []string{"PATH=" + l.path("bin") + ":$PATH", "KRB5_CONFIG=" + l.conf, "KRB5CCNAME=FILE:" + l.ccache(u)},
		Commands: []string{
			"hop exec " + hostB + " -- id",
			"hop exec " + hostB + " --delegate remote-guard -- hop exec " + hostC + " -- id",
			"hop exec " + hostB + " --config c-ops -- help",
			"hop shell " + hostB,
			"hop audit --file " + l.b.auditLog() + " --since 10m",
			"hop login sam --password-file " + l.pwFile(l.users[1]) + "    # passwords: " + l.path("a") + "/NAME.pw",
		},
		Down: "hop lab down --dir " + l.dir,
		SSHConfig: strings.Join([]string{
			"# First write B's registered key: hop known-hosts > " + known,
			"# then: ssh -F FILE " + hostB + " id (FILE holds this block), or add it to ~/.ssh/config",
			"Host " + hostB,
			"    HostName " + l.b.addr[:max(i, 0)],
			"    Port " + l.b.addr[i+1:],
			"    User " + u.name,
			"    GSSAPIAuthentication yes",
			"    GSSAPIServerIdentity " + hostB,
			"    HostKeyAlias " + hostB,
			"    UserKnownHostsFile " + known,
			"    StrictHostKeyChecking yes",
		}, "\n") + "\n",
	}
}
