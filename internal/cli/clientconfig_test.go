package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminAddress: the quick start's admin server is named
// kdc.example.test, which no DNS resolves; hop client-config maps the name
// to the address the admin API listens on (admin_address), and the
// directory commands reach it through that name's URL, SPN and pin.
func TestAdminAddress(t *testing.T) {
	if _, err := os.Stat("/var/lib/hop/master.key"); err == nil {
		t.Skip("/var/lib/hop holds a domain on this machine, which hop would use instead of admin_url")
	}
	const name = "kdc.example.test"
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST", "--admin-name", name)
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	r := startKDCNamed(t, dir, name)
	_, port, _ := net.SplitHostPort(r.state.AdminAddr)
	if r.state.AdminURL != "https://"+name+":"+port {
		t.Fatalf("the admin API's URL is %q, its address %q", r.state.AdminURL, r.state.AdminAddr)
	}
	conf, err := os.ReadFile(r.krb5conf)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\tadmin_address = {\n\t\t" + name + " = 127.0.0.1\n\t}\n"; !strings.Contains(string(conf), want) {
		t.Fatalf("client-config wrote no %q:\n%s", want, conf)
	}
	t.Setenv("KRB5_CONFIG", r.krb5conf)
	t.Setenv("HOP_DIR", "")
	t.Setenv("KRB5CCNAME", "FILE:"+r.kinit(t, "alice", "Alice-pw-1"))

	if out := ok(t, "", "account", "show", "alice"); !strings.Contains(out, "alice@EXAMPLE.TEST") {
		t.Errorf("hop account show alice through admin_url and admin_address:\n%s", out)
	}
	if out := ok(t, "", "account", "show", "alice", "--server", r.state.AdminURL); !strings.Contains(out, "alice@EXAMPLE.TEST") {
		t.Errorf("hop account show alice --server %s:\n%s", r.state.AdminURL, out)
	}

	// A name the server was not started with: its SPN is unknown.
	fails(t, 1, "admin server https://localhost:"+port+": the realm has no service HTTP/localhost, so localhost is not a name the admin server was started with (hop kdc --admin-name NAME)",
		"", "account", "show", "alice", "--server", "https://localhost:"+port)

	// Without the mapping, the name does not resolve.
	if _, err := net.LookupHost(name); err == nil {
		t.Skipf("%s resolves on this machine", name)
	}
	bare := filepath.Join(t.TempDir(), "krb5.conf")
	os.WriteFile(bare, []byte(ok(t, "", "client-config", "--dir", dir, "--admin-address", "off")), 0o644)
	t.Setenv("KRB5_CONFIG", bare)
	fails(t, 1, "the name kdc.example.test does not resolve", "", "account", "show", "alice")
	fails(t, 1, "map it to the server's address in krb5.conf's [hop] section, admin_address = { kdc.example.test = ADDRESS } (hop client-config writes it), or add it to DNS or /etc/hosts",
		"", "account", "show", "alice")

	fails(t, 2, `--admin-address "127.0.0.1:8749": want an IP address without a port`, "", "client-config", "--dir", dir, "--admin-address", "127.0.0.1:8749")
}
