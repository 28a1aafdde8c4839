package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"hop/admin"
)

// keytab export to a folder says so, in one line, and names a file to
// give instead; the keys are neither read nor rotated.
func TestKeytabExportToAFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ok(t, "", "account", "add-computer", "b.example.test", "--dir", dir)
	out := t.TempDir()
	fails(t, 2, "hop keytab export: -o "+out+" is a folder; give the keytab's file name, e.g. -o "+filepath.Join(out, "b.keytab")+"\n",
		"", "keytab", "export", "b$", "-o", out, "--rotate", "--dir", dir)
	if entries, err := os.ReadDir(out); err != nil || len(entries) != 0 {
		t.Errorf("the folder holds %v (%v); want it empty", entries, err)
	}
	var b admin.Account
	if err := json.Unmarshal([]byte(ok(t, "", "account", "show", "b$", "--dir", dir, "--json")), &b); err != nil || b.KVNO != 1 {
		t.Errorf("b$ after the refused export: kvno %d (%v); want 1, not rotated", b.KVNO, err)
	}
	if got := ok(t, "", "audit", "--dir", dir, "--type", "directory.account.keys"); got != "" {
		t.Errorf("the refused export read keys:\n%s", got)
	}
}
