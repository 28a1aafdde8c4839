package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const specConfig = `
host = "B.Example.Test."
realm = "example.test"
listen = ["127.0.0.2:2222"]
keytab = "/etc/krb5.keytab"
host_key = "/etc/hop/ssh_host_ed25519_key"
state_dir = "/var/lib/hop-agent"
audit_log = "/var/log/hop/agent-audit.log"
transcript_dir = "/var/log/hop/transcripts"
runtime_dir = "/run/hop-agent"
logon_groups = ["b-remote-users"]
admin_groups = ["b-admins", "S-1-5-21-1-2-3-512"]
idle_timeout = "10m"
max_sessions = 8
[user_map]
"carol@EXAMPLE.TEST" = "cjones"

[endpoints.default]
type = "default"
groups = ["b-admins"]
[endpoints.backup]
type = "runas"
run_as = "svc-backup"
keytab = "/etc/hop/svc-backup.keytab"
groups = ["backup-operators"]
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(specConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "b.example.test" || c.Realm != "EXAMPLE.TEST" {
		t.Errorf("host %q realm %q: want them canonical", c.Host, c.Realm)
	}
	if time.Duration(c.IdleTimeout) != 10*time.Minute || c.MaxSessions != 8 {
		t.Errorf("idle %v max %d", c.IdleTimeout, c.MaxSessions)
	}
	// Defaults for what the file leaves out.
	if time.Duration(c.ClockSkew) != 5*time.Minute || c.MaxAuthTries != 6 || c.MaxConnections != 128 || c.Path != DefaultPath {
		t.Errorf("defaults: skew %v tries %d conns %d path %q", c.ClockSkew, c.MaxAuthTries, c.MaxConnections, c.Path)
	}
	if c.RuntimeDir != "/run/hop-agent" {
		t.Errorf("runtime_dir %q", c.RuntimeDir)
	}
	if c.UserMap["carol@EXAMPLE.TEST"] != "cjones" {
		t.Errorf("user_map %v", c.UserMap)
	}
	b := c.Endpoints["backup"]
	if b == nil || b.Type != TypeRunAs || b.RunAs != "svc-backup" || b.Keytab != "/etc/hop/svc-backup.keytab" || len(b.Groups) != 1 {
		t.Errorf("backup endpoint %+v", b)
	}
	if d := c.Endpoints["default"]; d == nil || d.Groups[0] != "b-admins" {
		t.Errorf("default endpoint %+v", d)
	}
	if got := c.SPN().String(); got != "host/b.example.test@EXAMPLE.TEST" {
		t.Errorf("SPN %s", got)
	}
}

func TestParseConfigDefaultEndpointAlwaysExists(t *testing.T) {
	c, err := ParseConfig([]byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Endpoints[DefaultEndpoint]; e == nil || e.Type != TypeDefault {
		t.Fatalf("default endpoint %+v", e)
	}
	if len(c.Listen) != 1 || c.Listen[0] != DefaultListen || c.Keytab != DefaultKeytab {
		t.Fatalf("defaults %v %q", c.Listen, c.Keytab)
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := "host = \"b.example.test\"\nlogon_groups = [\"g\"]\n"
	for _, tc := range []struct {
		name, conf string
		want       []string
	}{
		{"unknown key", base + "idle_timout = \"5m\"\n", []string{`unknown key "idle_timout"`, "line 3"}},
		{"unknown endpoint key", base + "[endpoints.x]\ntype = \"runas\"\nrun_as = \"u\"\nrunas = \"v\"\n", []string{`unknown key "endpoints.x.runas"`, "line 6"}},
		{"unknown key in default", base + "[endpoints.default]\ntype = \"default\"\nrun_as = \"u\"\n", []string{`unknown key "endpoints.default.run_as"`, "line 5"}},
		{"no host", "logon_groups = [\"g\"]\n", []string{"host is missing"}},
		{"bad host", "host = \"b example\"\nlogon_groups = [\"g\"]\n", []string{"not a DNS name"}},
		{"no groups", "host = \"b.example.test\"\n", []string{"nobody could log on"}},
		{"bad sid", base + "admin_groups = [\"S-1-x\"]\n", []string{`group "S-1-x"`}},
		{"bad listen", base + "listen = [\"localhost\"]\n", []string{"listen \"localhost\" is not ADDR:PORT"}},
		{"relative runtime_dir", base + "runtime_dir = \"run/hop\"\n", []string{`runtime_dir "run/hop" must be an absolute path`}},
		{"relative path", base + "path = \"bin:/usr/bin\"\n", []string{"not an absolute directory"}},
		{"bad duration", base + "idle_timeout = \"soon\"\n", []string{"not a duration"}},
		{"negative", base + "max_sessions = -1\n", []string{"max_sessions must not be negative"}},
		{"runas without user", base + "[endpoints.b]\ntype = \"runas\"\n", []string{"needs run_as"}},
		{"no type", base + "[endpoints.b]\nrun_as = \"x\"\n", []string{`endpoint "b" has no type`, "line 3"}},
		{"bad type", base + "[endpoints.b]\ntype = \"magic\"\n", []string{`type "magic"`, "line 4"}},
		{"default wrong type", base + "[endpoints.default]\ntype = \"runas\"\nrun_as = \"x\"\n", []string{`"default" must have type "default"`}},
		{"bad user map", base + "[user_map]\nalice = \"../root\"\n", []string{"not a local user name"}},
		{"syntax", base + "listen = [\n", []string{"agent: configuration"}},
		{"restricted-admin off", base + "[endpoints.default]\ntype = \"default\"\ndelegation = [\"restricted-admin\"]\n", []string{"restricted-admin, which is off on this host: set restricted_admin = true"}},
		{"credssp off", base + "[endpoints.default]\ntype = \"default\"\ndelegation = [\"credssp\"]\n", []string{"credssp, which is off on this host: set credssp = true"}},
		{"restricted-admin without admins", base + "restricted_admin = true\n", []string{"restricted_admin = true needs admin_groups"}},
		{"unknown delegation mode", base + "[endpoints.default]\ntype = \"default\"\ndelegation = [\"unconstrained\"]\n", []string{`"unconstrained" is not a delegation mode`, "line 5"}},
		{"no delegation mode", base + "[endpoints.default]\ntype = \"default\"\ndelegation = []\n", []string{"delegation lists no mode"}},
		{"runas delegating the user", base + "[endpoints.b]\ntype = \"runas\"\nrun_as = \"x\"\ndelegation = [\"none\", \"constrained\"]\n", []string{`delegation "constrained"`, "never with the user's credentials"}},
		{"jea network_identity without keytab", base + "[endpoints.j]\ntype = \"jea\"\nrun_as = \"x\"\nnetwork_identity = \"svc\"\n[[endpoints.j.roles]]\ngroups = [\"g\"]\n[[endpoints.j.roles.commands]]\npath = \"/bin/true\"\n", []string{"network_identity \"svc\" needs network_keytab"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.conf))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.toml")
	if err := os.WriteFile(p, []byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\nbogus = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"bogus" on line 3`) {
		t.Fatalf("got %v", err)
	}
}

func TestHostKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "etc", "ssh_host_ed25519_key")
	s1, err := LoadOrCreateHostKey(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s1.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("key type %s", s1.PublicKey().Type())
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	pub, err := os.ReadFile(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil || !bytes.Equal(pk.Marshal(), s1.PublicKey().Marshal()) {
		t.Fatalf(".pub does not hold the key: %v", err)
	}
	// A second start loads the same key, and restores a lost .pub.
	os.Remove(p + ".pub")
	s2, err := LoadOrCreateHostKey(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1.PublicKey().Marshal(), s2.PublicKey().Marshal()) {
		t.Fatal("the key changed across loads")
	}
	if _, err := os.Stat(p + ".pub"); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	if _, err := LoadOrCreateHostKey(p, nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key: %v", err)
	}
	os.Chmod(p, 0o600)
	os.WriteFile(p, []byte("garbage"), 0o600)
	if _, err := LoadOrCreateHostKey(p, nil); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("a garbled key: %v", err)
	}
}

// TestParseConfigDelegation: an endpoint's delegation list, and the
// defaults: every mode for a default endpoint, none for runas and JEA.
func TestParseConfigDelegation(t *testing.T) {
	c, err := ParseConfig([]byte(`host = "b.example.test"
logon_groups = ["g"]
[endpoints.default]
type = "default"
delegation = ["none", "constrained", "none"]
[endpoints.admins]
type = "default"
[endpoints.b]
type = "runas"
run_as = "x"
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"default": "[none constrained]", "admins": "[none remote-guard constrained forward]", "b": "[none]"} {
		if got := fmt.Sprint(c.Endpoints[name].Delegation); got != want {
			t.Errorf("%s: delegation %s, want %s", name, got, want)
		}
	}
}

// TestParseConfigRestrictedAdmin: restricted_admin adds the mode to default
// endpoints' defaults, and its account defaults to root.
func TestParseConfigRestrictedAdmin(t *testing.T) {
	c, err := ParseConfig([]byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\nadmin_groups = [\"a\"]\nrestricted_admin = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.Endpoints["default"].Delegation); got != "[none restricted-admin remote-guard constrained forward]" || c.RestrictedAdminAccount != "root" {
		t.Errorf("delegation %s, account %q", got, c.RestrictedAdminAccount)
	}
}
