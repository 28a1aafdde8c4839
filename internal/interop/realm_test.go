package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

const (
	realm     = "EXAMPLE.TEST"
	adminPW   = "Admin-Pass-1"
	alicePW   = "Alice-Pass-1"
	svcWebPW  = "Svc-Web-Pass-1"
	bobPW     = "Bob-Pass-1"
	startWait = 15 * time.Second
)

// hopBin is the hop binary built once for all tests.
var hopBin string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "hop-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hopBin = filepath.Join(tmp, "hop")
	build := exec.Command("go", "build", "-o", hopBin, "hop/cmd/hop")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hop:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// hop runs the hop command and fails the test if it fails.
func hop(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := thirdparty.Run(t, nil, stdin, hopBin, args...)
	if err != nil {
		t.Fatalf("hop %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// hopFails runs the hop command, which must fail, and returns its stderr.
func hopFails(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := thirdparty.Run(t, nil, stdin, hopBin, args...)
	if err == nil {
		t.Fatalf("hop %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	return errOut
}

// testRealm is a hop domain with a running hop kdc.
type testRealm struct {
	dir  string
	addr string
	conf string // krb5.conf from hop client-config
}

// newRealm creates a domain (newDomain) and starts hop kdc on addr ("" = a
// free port on 127.0.0.1).
func newRealm(t *testing.T, addr string) *testRealm {
	t.Helper()
	r := newDomain(t)
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.1"))
	}
	if err := r.startKDC(t, addr); err != nil {
		t.Fatal(err)
	}
	return r
}

// newDomain creates the domain with alice, bob, the computer b$ and the
// service svc-web through the CLI, as a user would, and exports b$'s keytab.
func newDomain(t *testing.T) *testRealm {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hop")
	hop(t, adminPW+"\n", "domain", "init", "--dir", dir, "--realm", strings.ToLower(realm), "--admin-password-file", "-")
	hop(t, alicePW+"\n", "account", "add", "alice", "--dir", dir, "--upn", "alice@example.test")
	hop(t, bobPW+"\n", "account", "add", "bob", "--dir", dir)
	hop(t, "", "account", "add-computer", "b.example.test", "--dir", dir)
	hop(t, svcWebPW+"\n", "account", "add-service", "svc-web", "--spn", "HTTP/web.example.test", "--dir", dir)
	hop(t, "", "keytab", "export", "b$", "-o", filepath.Join(dir, "b.keytab"), "--dir", dir)
	return &testRealm{dir: dir}
}

// startKDC starts hop kdc on addr and waits until it listens.
func (r *testRealm) startKDC(t *testing.T, addr string) error {
	t.Helper()
	cmd := exec.Command(hopBin, "kdc", "--dir", r.dir, "--listen", addr)
	logf, err := os.Create(filepath.Join(r.dir, "kdc.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		logf.Close()
	}
	deadline := time.Now().Add(startWait)
	for {
		b, err := os.ReadFile(filepath.Join(r.dir, "kdc.json"))
		var st struct{ Listen []string }
		if err == nil && json.Unmarshal(b, &st) == nil && len(st.Listen) > 0 {
			break
		}
		select {
		case err := <-exited:
			logf.Close()
			log, _ := os.ReadFile(filepath.Join(r.dir, "kdc.log"))
			return fmt.Errorf("hop kdc exited (%v):\n%s", err, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("hop kdc did not start listening on %s within %s", addr, startWait)
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(r.dir, "kdc.log"))
			t.Logf("hop kdc log:\n%s", log)
		}
	})
	r.addr = addr
	r.conf = filepath.Join(r.dir, "krb5.conf")
	if err := os.WriteFile(r.conf, []byte(hop(t, "", "client-config", "--dir", r.dir)), 0o644); err != nil {
		return err
	}
	return nil
}

// env is a client environment with a fresh credential cache.
func (r *testRealm) env(t *testing.T) ([]string, string) {
	cc := filepath.Join(t.TempDir(), "cc")
	return thirdparty.ClientEnv(r.conf, cc), cc
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

// waitContains waits up to 5s for the file at path to contain every want.
func waitContains(t *testing.T, path string, wants ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		missing := ""
		for _, w := range wants {
			if !strings.Contains(string(b), w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not contain %q:\n%s", path, missing, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
