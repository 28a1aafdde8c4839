package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"hop/admin/adminserver"
	"hop/internal/cli"
	"hop/internal/testrealm"
)

// execAgentLab runs the real hop agent in-process for b.example.test in a
// test domain with alice in b-remote-users, and points krb5.conf's [hop]
// agent_address and a known_hosts file at it.
func execAgentLab(t *testing.T) (known string) {
	t.Helper()
	l := testrealm.Start(t)
	dir := t.TempDir()
	l.AddUser(t, "alice", alicePW)
	l.AddUser(t, "bob", bobPW)
	l.AddService(t, "b$", "host/b.example.test")
	srv := l.ServeAdmin(t, &adminserver.HTTPServer{Names: []string{"127.0.0.1"}})
	a, addr := startAgentB(t, l, dir, srv.URL)

	conf, err := os.ReadFile(l.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	conf = append(conf, fmt.Sprintf("\n[hop]\n\tagent_address = {\n\t\tb.example.test = %s\n\t}\n", addr)...)
	confPath := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	known = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte("b.example.test,b "+string(ssh.MarshalAuthorizedKey(a.PublicKey()))), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", confPath)
	t.Setenv("KRB5CCNAME", "FILE:"+l.Login(t, "alice", alicePW))
	execAgentBob = func() { t.Setenv("KRB5CCNAME", "FILE:"+l.Login(t, "bob", bobPW)) }
	return known
}

var execAgentBob func()

// execAgentHop runs the hop command line in-process and returns its
// output and exit status.
func execAgentHop(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	err := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	code := cli.ExitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

// TestExecAgentEndToEnd drives hop exec and hop endpoints against the real
// hop agent: output, exit status, a signal, the endpoint list, a refused
// user with the agent's reason, and a host key mismatch.
func TestExecAgentEndToEnd(t *testing.T) {
	known := execAgentLab(t)
	for _, tc := range []struct {
		args   []string
		stdout string
		stderr string
		code   int
	}{
		{[]string{"exec", "b.example.test", "--known-hosts", known, "--", "echo $HOP_CLIENT $HOP_ENDPOINT; echo e >&2; exit 4"}, "alice@EXAMPLE.TEST default\n", "e\n", 4},
		{[]string{"exec", "b.example.test", "--known-hosts", known, "--", "kill -TERM $$"}, "", "SIGTERM", 143},
		{[]string{"exec", "b.example.test", "--known-hosts", known, "--config", "nope", "--", "true"}, "", "nope", 255},
	} {
		out, errOut, code := execAgentHop(tc.args...)
		if out != tc.stdout || !strings.Contains(errOut, tc.stderr) || code != tc.code {
			t.Errorf("hop %s: exit %d, stdout %q, stderr %q; want %d %q %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.stdout, tc.stderr)
		}
	}
	out, errOut, code := execAgentHop("endpoints", "b.example.test", "--known-hosts", known)
	if code != 0 || !strings.Contains(out, "default") || !strings.Contains(out, "yes") {
		t.Errorf("hop endpoints: %d %q %q", code, out, errOut)
	}
	// A host key other than the registered one: refused.
	other := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(other, []byte("b.example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"), 0o644)
	if _, errOut, code := execAgentHop("exec", "b.example.test", "--known-hosts", other, "--", "true"); code != 1 || !strings.Contains(errOut, "is not the one registered") {
		t.Errorf("host key mismatch: %d %q", code, errOut)
	}
	// bob is in no logon group: the agent's reason is shown.
	execAgentBob()
	if _, errOut, code := execAgentHop("exec", "b.example.test", "--known-hosts", known, "--", "true"); code != 1 || !strings.Contains(errOut, "b-remote-users") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("refused user: %d %q", code, errOut)
	}
}
