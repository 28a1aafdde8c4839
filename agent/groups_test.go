package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func (f *fixture) confPath() string { return filepath.Join(f.dir, "agent.toml") }

// fixtureConf is an agent.toml for f's host, its keytab and folders, with
// the groups and endpoints of rest (which starts on line 10).
func fixtureConf(f *fixture, rest string) string {
	return fmt.Sprintf(`host = "b.example.test"
realm = %q
listen = ["127.0.0.1:0"]
keytab = %q
host_key = %q
state_dir = %q
audit_log = %q
runtime_dir = %q
admin_url = %q
%s`, f.cfg.Realm, f.cfg.Keytab, f.cfg.HostKey, filepath.Join(f.dir, "state2"), f.cfg.AuditLog, f.cfg.RuntimeDir, f.admin, rest)
}

// newAgentFrom starts nothing: it returns New's answer for the
// configuration text conf, written to f.confPath(), and the log.
func newAgentFrom(t *testing.T, f *fixture, conf string, r GroupResolver) (*Agent, string, error) {
	t.Helper()
	path := f.confPath()
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	a, err := New(context.Background(), cfg, Options{Audit: f.events, Krb5: f.lab.Config, Resolver: r,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if a != nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, log.String(), err
}

// TestUnknownGroupIsConfigError: a group name the directory does not have
// (a typo) stops the agent at start, naming the key, its line, the name
// and what to do, for every key that names groups.
func TestUnknownGroupIsConfigError(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	conf := fixtureConf(f, fmt.Sprintf(`logon_groups = ["b-remote-userz"]
admin_groups = ["b-admins"]
[endpoints.backup]
type = "runas"
run_as = %[1]q
groups = ["backup-operators", "backup-operatorz"]
[endpoints.ops]
type = "jea"
run_as = %[1]q
[[endpoints.ops.roles]]
groups = ["b-admins"]
[[endpoints.ops.roles.commands]]
path = "/usr/bin/id"
[[endpoints.ops.roles]]
groups = [
  "backup-operators",
  "dns-operatorz",
]
[[endpoints.ops.roles.commands]]
path = "/usr/bin/true"
`, f.svc))
	_, _, err := newAgentFrom(t, f, conf, nil)
	if err == nil {
		t.Fatal("the agent started with groups the directory does not have")
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{
		`logon_groups names the group "b-remote-userz" (line 10 of `,
		`which the directory does not have: correct the name (hop group list shows the groups) or create the group (hop group create b-remote-userz)`,
		`endpoints.backup.groups names the group "backup-operatorz" (line 15 of `,
		`endpoints.ops.roles.groups names the group "dns-operatorz" (line 26 of `,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q\nlacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "b-admins") || strings.Contains(msg, `"backup-operators"`) || strings.Contains(msg, "\n") {
		t.Errorf("error %q names groups that exist, or is not one line", msg)
	}
}

// TestUnreachableDirectoryIsAWarning: when the directory cannot answer,
// the agent starts; it says the cache serves only when there is one.
func TestUnreachableDirectoryIsAWarning(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	conf := fixtureConf(f, `logon_groups = ["b-remote-users"]
`)
	_, log, err := newAgentFrom(t, f, conf, staticResolver(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "members of these groups are refused until they resolve") || !strings.Contains(log, "unresolved=b-remote-users") || strings.Contains(log, "cache") {
		t.Errorf("no cache, directory down; log:\n%s", log)
	}

	// With the cache of an agent that reached the directory, the cache
	// serves, and the log says so.
	a, _, err := newAgentFrom(t, f, conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	_, log, err = newAgentFrom(t, f, conf, staticResolver(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "using the SIDs cached in "+filepath.Join(f.dir, "state2", groupCacheFile)) || strings.Contains(log, "unresolved") {
		t.Errorf("cache, directory down; log:\n%s", log)
	}
}

func TestLineOfValue(t *testing.T) {
	conf := []byte(`logon_groups = ["a", "b"]
[endpoints."x.y"]
groups = ['c']
[[endpoints."x.y".roles]]
groups = [
  "d", # the second
]
`)
	for _, c := range []struct{ prefix, value, key, line string }{
		{"logon_groups", "b", "logon_groups", " on line 1"},
		{`endpoints."x.y".groups`, "c", `endpoints."x.y".groups`, " on line 3"},
		{`endpoints."x.y"`, "d", `endpoints."x.y".roles.groups`, " on line 6"},
		{"admin_groups", "a", "admin_groups", ""},
	} {
		if k, l := lineOfValue(conf, c.prefix, c.value); k != c.key || l != c.line {
			t.Errorf("lineOfValue(%s, %s) = %q, %q; want %q, %q", c.prefix, c.value, k, l, c.key, c.line)
		}
	}
}
