package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// hop delegation explain exits 0 when the delegation is allowed and 3
// when it is denied, so that scripts can test the verdict; a host name
// for --service is answered with its computer account's name.
func TestExplainExitStatus(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	for _, h := range []string{"b", "c", "d"} {
		ok(t, "", "account", "add-computer", h+".example.test", "--dir", dir)
	}
	ok(t, "", "account", "set", "b$", "--allowed-to-delegate-to", "host/c.example.test", "--dir", dir)

	for _, tc := range []struct {
		target  string
		json    bool
		code    int
		verdict string
	}{
		{"host/c.example.test", false, 0, "ALLOWED"},
		{"host/c.example.test", true, 0, `"allowed": true`},
		{"host/d.example.test", false, ExitDenied, "DENIED"},
		{"host/d.example.test", true, ExitDenied, `"allowed": false`},
	} {
		args := []string{"delegation", "explain", "--user", "alice", "--service", "b$", "--target", tc.target, "--dir", dir}
		if tc.json {
			args = append(args, "--json")
		}
		out, errOut, code := hop(t, "", args...)
		if code != tc.code || !strings.Contains(out, tc.verdict) || errOut != "" {
			t.Errorf("hop %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), code, out, errOut, tc.code, tc.verdict)
		}
	}

	fails(t, 1, `no service "b.example.test" in this domain: b.example.test is the host of the computer account b$; give the service as b$`,
		"", "delegation", "explain", "--user", "alice", "--service", "b.example.test", "--target", "host/c.example.test", "--dir", dir)
	fails(t, 1, `no service "x.example.test" in this domain: give the service's account name (a computer's is NAME$, e.g. b$)`,
		"", "delegation", "explain", "--user", "alice", "--service", "x.example.test", "--target", "host/c.example.test", "--dir", dir)
	if out := ok(t, "", "delegation", "explain", "--help"); !strings.Contains(out, "3 when it is denied") {
		t.Errorf("explain --help does not give the exit status:\n%s", out)
	}
}
