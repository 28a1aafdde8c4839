package interop

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"hop/internal/thirdparty"
)

// labRealm is a hop domain served by hop kdc with its admin API, and a
// krb5.conf from hop client-config.
type labRealm struct {
	dir      string // the domain's folder
	conf     string // krb5.conf
	adminURL string
}

// labStartRealm creates a domain with alice in b-remote-users and starts
// hop kdc with the admin API on free loopback ports until the test ends.
func labStartRealm(t *testing.T) *labRealm {
	t.Helper()
	base := t.TempDir()
	r := &labRealm{dir: filepath.Join(base, "hop"), conf: filepath.Join(base, "krb5.conf")}
	hop(t, adminPW+"\n", "domain", "init", "--dir", r.dir, "--realm", realm, "--admin-password-file", "-", "--admin-name", "localhost")
	hop(t, alicePW+"\n", "account", "add", "alice", "--dir", r.dir, "--password-file", "-")
	hop(t, "", "group", "create", "b-remote-users", "--dir", r.dir)
	hop(t, "", "group", "add-member", "b-remote-users", "alice", "--dir", r.dir)

	logPath := filepath.Join(base, "kdc.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hopBin, "kdc", "--dir", r.dir, "--listen", "127.0.0.1:0", "--kpasswd-listen", "off",
		"--admin-listen", "127.0.0.1:0", "--admin-name", "localhost")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("hop kdc log:\n%s", b)
		}
	})
	deadline := time.Now().Add(startWait)
	for {
		var st struct {
			AdminURL string `json:"admin_url"`
		}
		if b, err := os.ReadFile(filepath.Join(r.dir, "kdc.json")); err == nil && json.Unmarshal(b, &st) == nil && st.AdminURL != "" {
			r.adminURL = st.AdminURL
			break
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("hop kdc exited (%v):\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("hop kdc did not start")
		}
	}
	return r
}

// labAgentB writes b.example.test's agent configuration (listening on a
// free port of 127.0.0.2), joins the host through the admin API with a
// one-time token, starts the agent, and writes krb5.conf with its
// agent_address. It returns the agent's folder.
func labAgentB(t *testing.T, r *labRealm) string {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.2:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.2"))
	conf := hop(t, "", "client-config", "--dir", r.dir)
	if !strings.Contains(conf, "[hop]") || !strings.Contains(conf, "admin_url = "+r.adminURL) {
		t.Fatalf("hop client-config has no [hop] admin_url:\n%s", conf)
	}
	conf += fmt.Sprintf("\tagent_address = {\n\t\tb.example.test = %s\n\t}\n", addr)
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	agentConf := fmt.Sprintf(`host = "b.example.test"
listen = [%q]
krb5_conf = %q
keytab = %q
host_key = %q
state_dir = %q
audit_log = %q
transcript_dir = %q
logon_groups = ["b-remote-users"]
[user_map]
alice = %q
`, addr, r.conf, filepath.Join(dir, "krb5.keytab"), filepath.Join(dir, "ssh_host_ed25519_key"), filepath.Join(dir, "state"),
		filepath.Join(dir, "audit.log"), filepath.Join(dir, "transcripts"), me.Username)
	confPath := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(confPath, []byte(agentConf), 0o600); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(hop(t, "", "host", "token", "create", "b.example.test", "--dir", r.dir))
	env := []string{"KRB5_CONFIG=" + r.conf}
	if out, errOut, err := thirdparty.Run(t, env, token+"\n", hopBin, "host", "join", "--agent-config", confPath, "--token-file", "-"); err != nil {
		t.Fatalf("hop host join: %v\n%s%s", err, out, errOut)
	}
	agentStart(t, dir, agentConf, addr)
	return dir
}

// labAliceEnv logs alice on with hop login and returns her environment.
func labAliceEnv(t *testing.T, r *labRealm) []string {
	t.Helper()
	return labLoginEnv(t, r, "alice", alicePW)
}

// labLoginEnv logs user on with hop login and the password pw, and returns
// their environment: r's krb5.conf and a FILE cache of their own.
func labLoginEnv(t *testing.T, r *labRealm, user, pw string) []string {
	t.Helper()
	env := thirdparty.ClientEnv(r.conf, filepath.Join(t.TempDir(), user+".cc"))
	// hop's state and cache files on A (the client log, the domain's
	// delegation policy) stay in the test's folders.
	env = append(env, "XDG_STATE_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())
	if out, errOut, err := thirdparty.Run(t, env, pw+"\n", hopBin, "login", user); err != nil {
		t.Fatalf("hop login %s: %v\n%s%s", user, err, out, errOut)
	}
	return env
}

// TestLabExecDirectoryHostKeys: hop exec with the host key fetched from
// the directory through the admin API (no --known-hosts), after a token
// join that registered it; and a refusal once the directory holds another
// key for the host.
func TestLabExecDirectoryHostKeys(t *testing.T) {
	r := labStartRealm(t)
	labAgentB(t, r)
	env := labAliceEnv(t, r)
	out, errOut, err := thirdparty.Run(t, env, "", hopBin, "exec", "b.example.test", "--", "echo $HOP_CLIENT $HOP_ENDPOINT; exit 5")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 || out != "alice@EXAMPLE.TEST default\n" {
		t.Fatalf("hop exec: %v, stdout %q, stderr %q; want exit 5 and alice@EXAMPLE.TEST default", err, out, errOut)
	}

	// The host re-joins with another SSH key (its keytab elsewhere, so the
	// agent keeps its keys): the agent's key is no longer the registered one.
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.pub")
	if err := os.WriteFile(other, ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	hop(t, "", "host", "join", "--name", "b.example.test", "--ssh-key", other, "--keytab", filepath.Join(t.TempDir(), "other.keytab"), "--dir", r.dir)
	out, errOut, err = thirdparty.Run(t, env, "", hopBin, "exec", "b.example.test", "--", "echo reached")
	if err == nil || out != "" || !strings.Contains(errOut, "is not the one registered in the directory ("+ssh.FingerprintSHA256(pub)+")") {
		t.Fatalf("hop exec to a host with another registered key: %v, stdout %q, stderr %q", err, out, errOut)
	}
}

// TestLabShellPTY: hop shell to the real hop agent through a PTY, as a
// user types: the shell's output comes back and its exit status is hop's.
func TestLabShellPTY(t *testing.T) {
	r := labStartRealm(t)
	labAgentB(t, r)
	env := labAliceEnv(t, r)

	cmd := exec.Command(hopBin, "shell", "b.example.test")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "TERM=dumb")
	// The test keeps the terminal's side open until it has read what hop
	// wrote: when the last holder of a pty's terminal side exits, the
	// kernel may hang it up before the master has read all it holds.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		buf     bytes.Buffer
		started = make(chan struct{})
		readErr = make(chan error, 1)
	)
	go func() {
		b := make([]byte, 4096)
		first := true
		for {
			n, err := ptmx.Read(b)
			if n > 0 {
				mu.Lock()
				buf.Write(b[:n])
				mu.Unlock()
				if first {
					first = false
					close(started)
				}
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	// Type once the remote shell has written something (its prompt).
	select {
	case <-started:
	case <-time.After(startWait):
		cmd.Process.Kill()
		t.Fatal("hop shell wrote nothing")
	}
	if _, err := io.WriteString(ptmx, "echo hi-from-shell; exit 3\r"); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(startWait):
		cmd.Process.Kill()
		<-waited
		mu.Lock()
		t.Fatalf("hop shell did not end; output so far %q", buf.String())
	}
	// Read what is left, then hang the terminal up.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		done := strings.Contains(buf.String(), "hi-from-shell\r\n") || strings.Contains(buf.String(), "hi-from-shell\n")
		mu.Unlock()
		if done {
			break
		}
	}
	tty.Close()
	select {
	case <-readErr:
	case <-time.After(2 * time.Second):
	}
	mu.Lock()
	got := buf.String()
	mu.Unlock()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("hop shell: %v, want exit status 3; output %q", err, got)
	}
	// The command's output is its own line; the echoed input has "; exit 3".
	if !regexp.MustCompile(`(?m)^hi-from-shell\r?$`).MatchString(got) {
		t.Errorf("hop shell: no output line hi-from-shell in %q", got)
	}
}
