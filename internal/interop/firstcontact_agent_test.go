package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hop/internal/testio"
	"hop/internal/thirdparty"
)

// TestLabOpenSSHConfig: the ssh_config block hop lab --keep prints works
// as printed. OpenSSH's ssh with exactly that block (in a file for -F, so
// that no other configuration applies), after the command its first line
// gives, logs on to B's agent as the lab's first user. Without its
// GSSAPIServerIdentity line (the lab's names do not resolve) it cannot.
// The SSH user name does not choose the account: the principal's full
// name logs on as the same account, which the agent logs and audits; a
// name that is not the user's is refused with the name to use.
func TestLabOpenSSHConfig(t *testing.T) {
	ssh := agentSSH(t)
	dir := filepath.Join(testio.TraversableDir(t, "hop-lab-test"), "lab")
	rep, _ := runHopLab(t, nil, "--dir", dir, "--keep", "--method", "none")
	t.Cleanup(func() { exec.Command(hopBin, "lab", "down", "--dir", dir).Run() })
	k := rep.Keep
	if k == nil || k.SSHConfig == "" || len(rep.Users) == 0 {
		t.Fatalf("hop lab --keep printed no ssh_config block: %+v", k)
	}
	t.Logf("the block:\n%s", k.SSHConfig)
	env := os.Environ()
	for _, kv := range k.Env {
		env = append(env, strings.ReplaceAll(kv, "$PATH", os.Getenv("PATH")))
	}
	env = append(env, "HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())

	first, _, _ := strings.Cut(k.SSHConfig, "\n")
	_, write, ok := strings.Cut(first, ": ")
	if !ok || !strings.HasPrefix(write, "hop known-hosts > ") {
		t.Fatalf("the block's first line %q gives no hop known-hosts command", first)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", "sh", "-c", write); err != nil {
		t.Fatalf("%s: %v\n%s%s", write, err, out, errOut)
	}
	conf := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(conf, []byte(k.SSHConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	host := "b.lab.test"
	alice := rep.Users[0]
	out, errOut, err := thirdparty.Run(t, env, "", ssh, "-F", conf, host, "id -un; echo $HOP_CLIENT")
	if err != nil || out != alice.Local+"\nalice@LAB.TEST\n" {
		t.Fatalf("ssh -F %s %s: %v, %q\n%s", conf, host, err, out, errOut)
	}

	// The host name does not resolve: without GSSAPIServerIdentity, ssh
	// asks for a ticket to host/127.0.0.2, which no one has.
	var lines []string
	for l := range strings.Lines(k.SSHConfig) {
		if !strings.Contains(l, "GSSAPIServerIdentity") {
			lines = append(lines, l)
		}
	}
	noIdentity := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(noIdentity, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", ssh, "-F", noIdentity, host, "id -un"); err == nil {
		t.Errorf("ssh without GSSAPIServerIdentity logged on: %q %s", out, errOut)
	}

	// The principal's full name as the SSH user: the same account, and
	// the agent says the name is not the account.
	out, errOut, err = thirdparty.Run(t, env, "", ssh, "-F", conf, "-l", "alice@LAB.TEST", host, "id -un")
	if err != nil || out != alice.Local+"\n" {
		t.Fatalf("ssh -l alice@LAB.TEST: %v, %q\n%s", err, out, errOut)
	}
	var audit string
	for _, c := range k.Commands {
		if f := strings.Fields(c); len(f) > 3 && f[1] == "audit" && f[2] == "--file" {
			audit = f[3]
		}
	}
	if audit == "" {
		t.Fatalf("no hop audit --file command among %q", k.Commands)
	}
	waitContains(t, audit, `"type":"session.start"`, `,ssh-user=alice@LAB.TEST"`)
	// The lab runs its agents with --log-format json.
	waitContains(t, filepath.Join(filepath.Dir(audit), "agent.log"), "the SSH user name is not the local account: the principal decides the account", `"ssh_user":"alice@LAB.TEST"`)

	// Another name is refused, and told which to use.
	out, errOut, err = thirdparty.Run(t, env, "", ssh, "-F", conf, "-l", "root", host, "id -un")
	if err == nil {
		t.Fatalf("ssh -l root logged on: %q", out)
	}
	mustContain(t, "ssh -l root", errOut, `you authenticated as alice@LAB.TEST but asked to log on as "root"; use your own name (alice) as the SSH user`)
}
