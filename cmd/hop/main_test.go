package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestVersionFromBuild builds hop as a user does, in a git checkout of
// this commit, and checks that hop version names the commit and whether
// the tree had changes.
func TestVersionFromBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hop")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git: the build carries no commit")
	}
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	if exec.Command(git, "rev-parse", "HEAD").Run() != nil {
		t.Skip("not in a git checkout")
	}
	head := run(".", git, "rev-parse", "HEAD")
	// A clone, because Go stamps no commit in a git worktree, and so that
	// the tree is exactly the commit.
	src := filepath.Join(t.TempDir(), "hop")
	run(".", git, "clone", "-q", "--no-checkout", "--shared", run(".", git, "rev-parse", "--path-format=absolute", "--git-common-dir"), src)
	run(src, git, "checkout", "-q", head)
	bin := filepath.Join(t.TempDir(), "hop")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")

	for _, modified := range []bool{false, true} {
		if modified {
			if err := os.WriteFile(filepath.Join(src, "uncommitted.txt"), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run(filepath.Join(src, "cmd", "hop"), goTool, "build", "-buildvcs=true", "-o", bin, ".")
		var v struct {
			Version, Commit, Go, OS, Arch string
			Modified                      bool
		}
		out := run(".", bin, "version", "--json")
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if v.Commit != head || v.Modified != modified || v.Go != runtime.Version() || v.OS+"/"+v.Arch != runtime.GOOS+"/"+runtime.GOARCH || v.Version == "" {
			t.Errorf("hop version --json = %s\nwant commit %s, modified %v, %s %s/%s", out, head, modified, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
		if text := run(".", bin, "--version"); !strings.Contains(text, "commit "+head) || strings.Contains(text, "(modified)") != modified {
			t.Errorf("hop --version = %q", text)
		}
	}
}
