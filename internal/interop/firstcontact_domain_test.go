package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hop/internal/thirdparty"
)

// Issue 13, the administrator's first contact, judged with MIT's kinit:
// the quick start's admin URL names a host that no DNS resolves, and works
// as written; a URL with another name says what to do; hop audit reads
// the admin server's log where there is no domain folder; hop delegation
// explain exits 3 on a refusal.
func TestFirstContactAdminURL(t *testing.T) {
	if _, err := os.Stat("/var/lib/hop/master.key"); err == nil {
		t.Skip("/var/lib/hop holds a domain on this machine, which hop would use instead of admin_url")
	}
	dir := adminDomain(t) // its admin API is admin.example.test
	k := adminStartKDC(t, dir, "kdc.log", "--kpasswd-listen", "off", "--admin-listen", "127.0.0.1:0", "--admin-name", "admin.example.test")
	port := k.adminPort(t)
	if k.AdminURL != "https://admin.example.test:"+port {
		t.Fatalf("admin URL %q", k.AdminURL)
	}
	conf := adminConf(t, dir)
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "hop client-config", string(b), "admin_url = https://admin.example.test:"+port, "admin_address = {\n\t\tadmin.example.test = 127.0.0.1\n\t}")

	alice := adminKinit(t, conf, "alice", alicePW)
	mustContain(t, "hop account show alice (admin_url)", adminHopOK(t, alice, "", "account", "show", "alice"), "alice@EXAMPLE.TEST")
	mustContain(t, "hop account show alice --server", adminHopOK(t, alice, "", "account", "show", "alice", "--server", k.AdminURL), "alice@EXAMPLE.TEST")
	adminHopRefused(t, alice, "", []string{"account", "show", "alice", "--server", "https://localhost:" + port},
		"the realm has no service HTTP/localhost, so localhost is not a name the admin server was started with (hop kdc --admin-name NAME)")

	// alice may ask; c$ may not delegate to d$: denied, status 3.
	out, errOut, code := adminHop(t, alice, "", "delegation", "explain", "--user", "alice", "--service", "c$", "--target", "host/d.example.test")
	if code != 3 || !strings.Contains(out, "DENIED") {
		t.Errorf("hop delegation explain (denied): exit %d, want 3\n%s%s", code, out, errOut)
	}
	adminHopRefused(t, alice, "", []string{"delegation", "explain", "--user", "alice", "--service", "c.example.test", "--target", "host/d.example.test"},
		"c.example.test is the host of the computer account c$; give the service as c$")

	// A Domain Admin's hop audit with no domain folder: admin_url's log,
	// which starts with the domain's creation.
	admin := adminKinit(t, conf, "admin", adminUserPW)
	mustContain(t, "hop audit (admin_url)", adminHopOK(t, admin, "", "audit", "--type", "directory.domain"),
		"directory.domain.create  the local domain administrator → EXAMPLE.TEST")
}

// The quick start's impacket command is the one Debian's python3-impacket
// installs, the one the impacket tests run (with -dc-ip, as impacket reads
// no krb5.conf).
func TestFirstContactImpacketCommand(t *testing.T) {
	_, getTGT := thirdparty.RequireImpacket(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "administration.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^python3 (\S+/getTGT\.py) -dc-ip 127\.0\.0\.1 EXAMPLE\.TEST/alice `).FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/administration.md's quick start has no `python3 …/getTGT.py -dc-ip 127.0.0.1 EXAMPLE.TEST/alice` line")
	}
	if string(m[1]) != getTGT {
		t.Errorf("the quick start runs %s; impacket's getTGT.py is %s here", m[1], getTGT)
	}
	if _, err := os.Stat(string(m[1])); err != nil {
		t.Errorf("the quick start's getTGT.py: %v", err)
	}
}
