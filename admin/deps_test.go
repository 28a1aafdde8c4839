package admin

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies holds the layering that the split of the admin API
// into client (admin) and server (admin/adminserver) is for: the client
// and the host's agent, which uses it, link neither the directory nor the
// KDC, and delegation, the vocabulary both sides share, is a leaf.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	for _, tc := range []struct {
		pkg       string
		forbidden []string // import path prefixes; "hop/x" also forbids hop/x/...
	}{
		{"hop/admin", []string{"hop/kdc", "hop/directory", "hop/audit", "hop/admin/adminserver"}},
		{"hop/agent", []string{"hop/kdc", "hop/admin/adminserver"}},
		{"hop/delegation", []string{"hop/"}},
	} {
		out, err := exec.Command(goTool, "list", "-deps", tc.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tc.pkg, err)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			if dep == tc.pkg {
				continue
			}
			for _, f := range tc.forbidden {
				if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
					t.Errorf("%s depends on %s", tc.pkg, dep)
				}
			}
		}
	}
}
