package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"hop/internal/testrealm"
	"hop/remote/remotetest"
)

// execLab is a domain with alice logged in and test agents, reachable
// through krb5.conf's [hop] agent_address, their keys in a known_hosts
// file.
type execLab struct {
	lab     *testrealm.Lab
	servers map[string]*remotetest.Server
	known   string
}

func startExecLab(t *testing.T, cfgs ...remotetest.Config) *execLab {
	t.Helper()
	l := &execLab{lab: testrealm.Start(t), servers: map[string]*remotetest.Server{}}
	l.lab.AddUser(t, "alice", "alice-pw-1234")
	cc := l.lab.Login(t, "alice", "alice-pw-1234")
	var addrs, known strings.Builder
	for _, c := range cfgs {
		s := remotetest.Start(t, l.lab, c)
		l.servers[c.Host] = s
		fmt.Fprintf(&addrs, "\t\t%s = %s\n", c.Host, s.Addr)
		fmt.Fprintf(&known, "%s %s", c.Host, ssh.MarshalAuthorizedKey(s.HostKey))
	}
	conf, err := os.ReadFile(l.lab.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "krb5.conf")
	conf = append(conf, fmt.Sprintf("\n[hop]\n\tagent_address = {\n%s\t}\n", addrs.String())...)
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	l.known = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(l.known, []byte(known.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", path)
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	return l
}

// hopStatus runs hop as main does, with the remote exit status.
func hopStatus(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return hop(t, stdin, args...)
}

func TestExecOneHost(t *testing.T) {
	l := startExecLab(t, remotetest.Config{Host: "b.example.test", Endpoints: []string{"dns-ops"},
		RefusedEndpointMessage: "hop agent: no endpoint \"nope\" for you; you may use: default, dns-ops\n"})
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		stdout string
		stderr string // a substring
		code   int
	}{
		{"output and status", "", []string{"exec", "b.example.test", "--known-hosts", l.known, "--", "echo", "hello;", "echo", "err", ">&2;", "exit", "3"}, "hello\n", "err\n", 3},
		{"stdin", "abc\n", []string{"exec", "b.example.test", "--known-hosts", l.known, "--", "tr", "a-z", "A-Z"}, "ABC\n", "", 0},
		{"signal", "", []string{"exec", "b.example.test", "--known-hosts", l.known, "--", "kill -TERM $$"}, "", "killed by signal SIGTERM", 143},
		{"endpoint", "", []string{"exec", "b.example.test", "--config", "dns-ops", "--known-hosts", l.known, "--", "echo", "ok"}, "ok\n", "", 0},
		{"refused endpoint", "", []string{"exec", "b.example.test", "--config", "nope", "--known-hosts", l.known, "--", "echo", "no"}, "", "you may use: default, dns-ops", 255},
		{"port in host", "", []string{"exec", "b.example.test:1", "--known-hosts", l.known, "--", "true"}, "", "nothing listens on 127.0.0.1:1", 1},
		{"no host keys", "", []string{"exec", "b.example.test", "--", "true"}, "", "give --known-hosts FILE", 2},
		{"no command", "", []string{"exec", "b.example.test"}, "", "usage: hop exec", 2},
		{"IP address", "", []string{"exec", "127.0.0.1", "--known-hosts", l.known, "--", "true"}, "", "not an address", 2},
		{"unknown delegation mode", "", []string{"exec", "b.example.test", "--delegate", "everything", "--known-hosts", l.known, "--", "true"}, "", "--delegate everything is not a delegation mode: use none, restricted-admin, remote-guard, constrained, forward or credssp", 2},
		{"password file alone", "", []string{"exec", "b.example.test", "--password-file", "/dev/null", "--known-hosts", l.known, "--", "true"}, "", "--password-file is the password of --pass-credential ACCOUNT", 2},
		{"pass-credential without a terminal", "", []string{"exec", "b.example.test", "--pass-credential", "svc", "--known-hosts", l.known, "--", "true"}, "", "give --password-file FILE", 2},
		{"pass-credential bad name", "", []string{"exec", "b.example.test", "--pass-credential", "svc sql", "--known-hosts", l.known, "--", "true"}, "", "give an account name", 2},
		{"credential outside a session", "", []string{"exec", "b.example.test", "--credential", "svc", "--known-hosts", l.known, "--", "true"}, "", "this is not one (the credential cache is FILE:", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := hopStatus(t, tc.stdin, tc.args...)
			if out != tc.stdout || !strings.Contains(errOut, tc.stderr) || code != tc.code {
				t.Errorf("hop %s: exit %d, stdout %q, stderr %q; want %d, %q, %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.stdout, tc.stderr)
			}
			if strings.Count(errOut, "hop:") > 1 {
				t.Errorf("more than one error line: %q", errOut)
			}
		})
	}
	if got := l.servers["b.example.test"].Events(); !contains(got, "exec tr a-z A-Z") || !contains(got, "endpoint dns-ops") {
		t.Errorf("server saw %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestExecManyHosts(t *testing.T) {
	l := startExecLab(t, remotetest.Config{Host: "b.example.test"}, remotetest.Config{Host: "c.example.test"}, remotetest.Config{Host: "d.example.test"})
	cmd := `i=0; while [ $i -lt 300 ]; do echo "line-$i-$REMOTETEST_HOST-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done; echo warn >&2; printf partial; [ "$REMOTETEST_HOST" != d.example.test ] || exit 3`
	out, errOut, code := hopStatus(t, "ignored stdin", "exec", "b.example.test,c.example.test,d.example.test,nohost.example.test", "--known-hosts", l.known, "--parallel", "2", "--", cmd)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lineRE := regexp.MustCompile(`^([a-z]\.example\.test): (line-\d+-([a-z]\.example\.test)-x{40}|partial)$`)
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m := lineRE.FindStringSubmatch(line)
		if m == nil || (m[3] != "" && m[3] != m[1]) {
			t.Fatalf("stdout line %q is not a whole prefixed line of its host", line)
		}
		counts[m[1]]++
	}
	for _, h := range []string{"b.example.test", "c.example.test", "d.example.test"} {
		if counts[h] != 301 {
			t.Errorf("%s: %d lines, want 301", h, counts[h])
		}
	}
	for _, want := range []string{"b.example.test: warn\n", "c.example.test: warn\n", "d.example.test: warn\n",
		"nohost.example.test", "hop: 2 of 4 hosts failed: d.example.test (exit 3), nohost.example.test\n"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// stdin goes to no host when there are several.
	for _, s := range l.servers {
		if !contains(s.Events(), "exec "+cmd) {
			t.Errorf("a server saw %q", s.Events())
		}
	}
	// All succeed: status 0.
	if _, errOut, code := hopStatus(t, "", "exec", "b.example.test,c.example.test", "--known-hosts", l.known, "--", "true"); code != 0 || errOut != "" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestPrefixWriter(t *testing.T) {
	var b bytes.Buffer
	p := &prefixWriter{w: &b, prefix: "h: "}
	for _, s := range []string{"a", "b\nc", "\n\nd"} {
		p.Write([]byte(s))
	}
	// A line longer than maxLine is written out without waiting for its end.
	p.Write(bytes.Repeat([]byte("z"), maxLine+5))
	want := "h: ab\nh: c\nh: \nh: d" + strings.Repeat("z", maxLine+5) + "\n"
	if b.String() != want {
		t.Errorf("got %.80q… (%d bytes), want %d", b.String(), b.Len(), len(want))
	}
	p.Write([]byte("tail"))
	p.Flush()
	if !strings.HasSuffix(b.String(), "\nh: tail\n") {
		t.Errorf("Flush: %.80q", b.String()[len(want):])
	}
}

func TestEndpointsCommand(t *testing.T) {
	reply := `[{"name":"backup","type":"runas","allowed":false,"run_as":"svc-backup","delegation":["none"]},
{"name":"default","type":"default","allowed":true,"delegation":["none","constrained","forward"]},
{"name":"dns-ops","type":"jea","allowed":true,"run_as":"hop-dns","commands":["/usr/sbin/rndc reload|status [ZONE]","help"]}]`
	l := startExecLab(t, remotetest.Config{Host: "b.example.test", EndpointsReply: []byte(reply)})
	out, errOut, code := hopStatus(t, "", "endpoints", "b.example.test", "--known-hosts", l.known)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := regexp.MustCompile(`(?s)^NAME +TYPE +ALLOWED +RUN AS +DELEGATION\n` +
		`backup +runas +no +svc-backup +none\n` +
		`default +default +yes +\(your account\) +none,constrained,forward\n` +
		`dns-ops +jea +yes +hop-dns +-\n\n` +
		`dns-ops: the commands you may run \(hop exec b.example.test --config dns-ops -- COMMAND\):\n` +
		`  /usr/sbin/rndc reload\|status \[ZONE\]\n  help\n$`)
	if !want.MatchString(out) {
		t.Errorf("hop endpoints printed:\n%s", out)
	}
	out, _, code = hopStatus(t, "", "endpoints", "b.example.test", "--known-hosts", l.known, "--json")
	var eps []map[string]any
	if err := json.Unmarshal([]byte(out), &eps); err != nil || code != 0 || len(eps) != 3 || eps[2]["run_as"] != "hop-dns" || eps[0]["allowed"] != false {
		t.Errorf("--json: %v %d %s", err, code, out)
	}
}

// TestShellOnAPTY runs hop shell in-process with a pseudo-terminal as its
// standard input and output, types a command and exit, as a user would.
func TestShellOnAPTY(t *testing.T) {
	l := startExecLab(t, remotetest.Config{Host: "b.example.test"})
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(tty, &pty.Winsize{Cols: 91, Rows: 27})
	t.Setenv("TERM", "vt100")
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), []string{"shell", "b.example.test", "--known-hosts", l.known}, tty, tty, tty)
	}()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			mu.Lock()
			screen.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	l.servers["b.example.test"].WaitEvent(t, "shell")
	ptmx.Write([]byte("echo hi; stty size; exit\n"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("hop shell: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("hop shell did not end")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		s := screen.String()
		mu.Unlock()
		// The input may be echoed before the shell's first prompt, so
		// "hi" may follow a prompt on its line: "$ hi".
		sawHi := false
		for _, line := range strings.Split(strings.ReplaceAll(s, "\r", ""), "\n") {
			for strings.HasPrefix(line, "$ ") || strings.HasPrefix(line, "# ") {
				line = line[2:]
			}
			sawHi = sawHi || line == "hi"
		}
		if sawHi && strings.Contains(s, "27 91") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal shows %q", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := l.servers["b.example.test"].WaitEvent(t, "pty-req"); got != "pty-req vt100 91x27" {
		t.Errorf("server got %q", got)
	}
	// Not a terminal: a clear error.
	if _, errOut, code := hopStatus(t, "", "shell", "b.example.test", "--known-hosts", l.known); code != 1 || !strings.Contains(errOut, "needs a terminal") {
		t.Errorf("shell without a terminal: %d %q", code, errOut)
	}
}

func TestHostKeysNeedAnAuthenticatedAdminURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://kdc.example.test:8749": true,
		"http://127.0.0.1:8749":         true,
		"http://localhost:8749":         true,
		"http://LOCALHOST:8749":         true,
		"http://[::1]:8749":             true,
		"http://kdc.example.test:8749":  false,
		"http://192.0.2.7:8749":         false,
		"kdc.example.test:8749":         false,
	} {
		e := &env{getenv: func(k string) string {
			if k == "KRB5_CONFIG" {
				return os.DevNull
			}
			return ""
		}}
		_, done, err := e.directoryHostKeys(raw)
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "--known-hosts")) {
			t.Errorf("%s: %v", raw, err)
		}
		if done != nil {
			done()
		}
	}
}

// TestExecDelegationPolicy: krb5.conf's restrict_delegation refuses a
// forbidden mode on A, naming the policy and where it was set, and sets
// the default mode.
func TestExecDelegationPolicy(t *testing.T) {
	l := startExecLab(t, remotetest.Config{Host: "b.example.test"})
	conf, err := os.ReadFile(os.Getenv("KRB5_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "krb5.conf")
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("Svc-Pass-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		restrict string
		args     []string
		stderr   string
		code     int
	}{
		{"require-remote-guard", []string{"--delegate", "forward"}, "refused by the delegation policy require-remote-guard (restrict_delegation in krb5.conf's [hop] section): only --delegate remote-guard is allowed, not forward", 1},
		{"prefer-remote-guard", []string{"--delegate", "forward"}, "--delegate forward hands your credentials to the host", 1},
		{"prefer-remote-guard", []string{"--pass-credential", "svc", "--password-file", pw}, "--pass-credential hands a credential to the host", 1},
		{"strict", nil, "restrict_delegation in krb5.conf's [hop] section: \"strict\" is not a delegation restriction", 1},
		{"off", []string{"--delegate", "forward"}, "", -1},
	} {
		if err := os.WriteFile(path, append(append([]byte{}, conf...), "\trestrict_delegation = "+tc.restrict+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("KRB5_CONFIG", path)
		args := append(append([]string{"exec", "b.example.test", "--known-hosts", l.known}, tc.args...), "--", "true")
		_, errOut, code := hopStatus(t, "", args...)
		if tc.code >= 0 && (code != tc.code || !strings.Contains(errOut, tc.stderr)) {
			t.Errorf("restrict_delegation = %s, %v: exit %d, stderr %q; want %d and %q", tc.restrict, tc.args, code, errOut, tc.code, tc.stderr)
		}
		if tc.code < 0 && strings.Contains(errOut, "delegation policy") {
			t.Errorf("restrict_delegation = off refused: %q", errOut)
		}
	}
}
