package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPerRealmAdminURL checks that hop account … and token joins take the
// admin server from the default realm's subsection of krb5.conf's [hop]
// before [hop]'s own admin_url, as hop exec and the agent do: all of hop
// talks to the same admin server.
func TestPerRealmAdminURL(t *testing.T) {
	if _, err := os.Stat("/var/lib/hop/master.key"); err == nil {
		t.Skip("/var/lib/hop holds a domain on this machine, which hop would use instead of admin_url")
	}
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	r := startKDC(t, dir)
	b, err := os.ReadFile(r.krb5conf)
	if err != nil {
		t.Fatal(err)
	}
	// [hop]'s own admin_url names a port where nothing listens; the
	// realm's subsection names the running admin server.
	const dead = "https://127.0.0.1:1"
	line := "admin_url = " + r.state.AdminURL
	if !strings.Contains(string(b), line) {
		t.Fatalf("client-config wrote no %q:\n%s", line, b)
	}
	conf := strings.Replace(string(b), line, "admin_url = "+dead+"\n\tEXAMPLE.TEST = {\n\t\t"+line+"\n\t}", 1)
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", path)
	t.Setenv("HOP_DIR", "")
	t.Setenv("KRB5CCNAME", "FILE:"+r.kinit(t, "Administrator", "Admin-pw-1"))

	// hop account list: no --server, no --dir, no domain folder.
	if out := ok(t, "", "account", "list"); !strings.Contains(out, "alice") {
		t.Errorf("hop account list through the realm's admin_url:\n%s", out)
	}

	// A token join without --server.
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(ok(t, "", "host", "token", "create", "c.example.test", "--dir", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile, _ := sshKeyFile(t)
	kt := filepath.Join(t.TempDir(), "krb5.keytab")
	if out := ok(t, "", "host", "join", "--name", "c.example.test", "--token-file", tokFile, "--keytab", kt, "--ssh-key", keyFile); !strings.Contains(out, "as c$") {
		t.Errorf("hop host join through the realm's admin_url:\n%s", out)
	}
}
