package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

// agentSSH returns OpenSSH's ssh (HOP_SSH, else PATH): skipped when
// missing, a failure under HOP_INTEROP=1.
func agentSSH(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOP_SSH"); p != "" {
		return p
	}
	if p, err := exec.LookPath("ssh"); err == nil {
		return p
	}
	if thirdparty.Interop() {
		t.Fatal("OpenSSH ssh not found (HOP_INTEROP=1 forbids skipping: run scripts/install-test-deps)")
	}
	t.Skip("OpenSSH ssh not found (Debian openssh-client; run scripts/install-test-deps)")
	return ""
}

// agentGroupSID creates group with members and returns its SID.
func agentGroupSID(t *testing.T, r *testRealm, group string, members ...string) string {
	t.Helper()
	hop(t, "", "group", "create", group, "--dir", r.dir)
	for _, m := range members {
		hop(t, "", "group", "add-member", group, m, "--dir", r.dir)
	}
	var g struct{ SID string }
	if err := json.Unmarshal([]byte(hop(t, "", "group", "show", group, "--dir", r.dir, "--json")), &g); err != nil || !strings.HasPrefix(g.SID, "S-1-5-21-") {
		t.Fatalf("group %s: SID %q (%v)", group, g.SID, err)
	}
	return g.SID
}

// agentStart runs hop agent with conf until the test ends and returns
// the path of its host public key once it listens on addr.
func agentStart(t *testing.T, dir, conf, addr string) string {
	t.Helper()
	confPath := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "agent.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hopBin, "agent", "--config", confPath, "--log-level", "debug")
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
		case err := <-exited:
			if err != nil {
				t.Errorf("hop agent did not stop cleanly: %v", err)
			}
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			t.Error("hop agent did not stop within 10s of SIGTERM")
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("hop agent log:\n%s", b)
		}
	})
	deadline := time.Now().Add(startWait)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("hop agent exited (%v):\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hop agent does not listen on %s", addr)
		}
	}
	return filepath.Join(dir, "ssh_host_ed25519_key.pub")
}

// TestAgentOpenSSH: OpenSSH's ssh with GSSAPI (a ticket from MIT kinit)
// against the real hop agent and hop kdc.
func TestAgentOpenSSH(t *testing.T) {
	ssh := agentSSH(t)
	kinit := thirdparty.Require(t, "kinit")
	r := newDomain(t)
	sid := agentGroupSID(t, r, "b-remote-users", "alice")
	if err := r.startKDC(t, fmt.Sprintf("127.0.0.1:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.1"))); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := thirdparty.FreeLoopbackPort(t, "127.0.0.1")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf(`host = "b.example.test"
realm = "EXAMPLE.TEST"
listen = [%q]
keytab = %q
host_key = %q
state_dir = %q
audit_log = %q
transcript_dir = %q
krb5_conf = %q
logon_groups = [%q]
[user_map]
alice = %q
bob = %q
`, addr, filepath.Join(r.dir, "b.keytab"), filepath.Join(dir, "ssh_host_ed25519_key"), filepath.Join(dir, "state"),
		filepath.Join(dir, "audit.log"), filepath.Join(dir, "transcripts"), r.conf, sid, me.Username, me.Username)
	pubPath := agentStart(t, dir, conf, addr)
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte("b.example.test "+string(pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	sshConf := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(sshConf, []byte(fmt.Sprintf(`Host b.example.test
	HostName 127.0.0.1
	Port %d
	GSSAPIAuthentication yes
	GSSAPIServerIdentity b.example.test
	PreferredAuthentications gssapi-with-mic
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	HostKeyAlias b.example.test
	BatchMode yes
	ConnectTimeout 10
`, port, known)), 0o600); err != nil {
		t.Fatal(err)
	}

	env, _ := r.env(t)
	if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice@"+realm); err != nil {
		t.Fatalf("kinit alice: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err := thirdparty.Run(t, env, "", ssh, "-F", sshConf, "alice@b.example.test", "id -un; echo $HOP_CLIENT; echo oops >&2; exit 7")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("ssh: %v\n%s%s", err, out, errOut)
	}
	if out != me.Username+"\nalice@EXAMPLE.TEST\n" || !strings.Contains(errOut, "oops") {
		t.Fatalf("ssh output %q, stderr %q", out, errOut)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", ssh, "-F", sshConf, "alice@b.example.test", "echo", "hello"); err != nil || out != "hello\n" {
		t.Fatalf("ssh echo: %v %q %q", err, out, errOut)
	}

	// bob is not in b-remote-users: refused, and told why.
	envBob, _ := r.env(t)
	if out, errOut, err := thirdparty.Run(t, envBob, bobPW+"\n", kinit, "bob@"+realm); err != nil {
		t.Fatalf("kinit bob: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = thirdparty.Run(t, envBob, "", ssh, "-F", sshConf, "bob@b.example.test", "id")
	if err == nil {
		t.Fatalf("bob logged on: %s", out)
	}
	mustContain(t, "ssh as bob", errOut, "bob is not in "+sid, "hop group add-member "+sid+" bob")
	waitContains(t, filepath.Join(dir, "audit.log"), `"type":"logon.refused"`, `"client":"bob@EXAMPLE.TEST"`, `"type":"session.start"`, `"client":"alice@EXAMPLE.TEST"`)
}
