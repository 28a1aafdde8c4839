package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// complete runs the bash completion script that hop completion bash
// prints, in a real bash, for the command line words (the last one is the
// word being completed), and returns COMPREPLY.
func complete(t *testing.T, script string, dir string, words ...string) []string {
	t.Helper()
	var q []string
	for _, w := range words {
		q = append(q, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(q, " ") + ")\nCOMP_CWORD=" + string(rune('0'+len(words)-1)) +
		"\n_hop\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash completion of %q: %v\n%s", words, err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(t.TempDir(), "hop.bash")
	if err := os.WriteFile(script, []byte(ok(t, "", "completion", "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"agent.toml", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"hop", "ex"}, []string{"exec"}},
		{[]string{"hop", "e"}, []string{"endpoints", "exec"}},
		{[]string{"hop", "account", "add-"}, []string{"add-computer", "add-service"}},
		{[]string{"hop", "host", "token", ""}, []string{"create"}},
		{[]string{"hop", "exec", "--de"}, []string{"--delegate"}},
		{[]string{"hop", "exec", "b.example.test", "--user", "root", "--pa"}, []string{"--parallel", "--pass-credential", "--password-file"}},
		{[]string{"hop", "--ver"}, []string{"--version"}},
		{[]string{"hop", "domain", "backup", "-"}, nil}, // checked below: -o is offered
		// A flag's value is a file, and is not taken for a command.
		{[]string{"hop", "agent", "--config", "ag"}, []string{"agent.toml"}},
		{[]string{"hop", "agent", "--config", "agent.toml", "--log"}, []string{"--log-format", "--log-level"}},
		// The words a command handles itself.
		{[]string{"hop", "audit", "ver"}, []string{"verify"}},
		{[]string{"hop", "audit", "verify", "--d"}, []string{"--dir"}},
		{[]string{"hop", "help", "acc"}, []string{"account"}},
		{[]string{"hop", "help", "account", "pa"}, []string{"passwd"}},
		// After --, the remote command's words are not hop's.
		{[]string{"hop", "exec", "b", "--", "no"}, []string{"notes.txt"}},
	} {
		got := complete(t, script, dir, c.words...)
		if c.want == nil {
			if !slices.Contains(got, "-o") || !slices.Contains(got, "--output") {
				t.Errorf("%q: %q, want -o and --output among them", c.words, got)
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: %q, want %q", c.words, got, c.want)
		}
	}
}

// TestCompletionShellsParse: zsh and fish accept their scripts, where they
// are installed.
func TestCompletionShellsParse(t *testing.T) {
	for _, sh := range []string{"zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			if _, err := exec.LookPath(sh); err != nil {
				t.Skipf("%s is not installed", sh)
			}
			script := filepath.Join(t.TempDir(), "hop."+sh)
			if err := os.WriteFile(script, []byte(ok(t, "", "completion", sh)), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(sh, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		})
	}
}
