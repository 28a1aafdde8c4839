package agent

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileErrors: a keytab or host key that is a folder or missing stops
// the agent with one line naming the key, its line, the path and what to
// do; an endpoint's missing keytab is a warning.
func TestFileErrors(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	folder := t.TempDir()
	missing := filepath.Join(folder, "nothing.keytab")
	groups := "logon_groups = [\"b-remote-users\"]\n"
	runas := func(keytab string) string {
		return groups + fmt.Sprintf("[endpoints.backup]\ntype = \"runas\"\nrun_as = %q\nkeytab = %q\n", f.svc, keytab)
	}
	for _, c := range []struct {
		name, conf, want string
	}{
		{"keytab folder", strings.Replace(fixtureConf(f, groups), f.cfg.Keytab, folder, 1),
			fmt.Sprintf(`agent: keytab = %q (line 4 of CONF) is a folder, not a file: give the file's path`, folder)},
		{"keytab missing", strings.Replace(fixtureConf(f, groups), f.cfg.Keytab, missing, 1),
			fmt.Sprintf(`agent: keytab = %q (line 4 of CONF) does not exist: join the host (hop host join --agent-config CONF writes it), or correct the path`, missing)},
		{"host key folder", strings.Replace(fixtureConf(f, groups), f.cfg.HostKey, folder, 1),
			fmt.Sprintf(`agent: host_key = %q (line 5 of CONF) is a folder, not a file: give the file's path`, folder)},
		{"runas keytab folder", fixtureConf(f, runas(folder)),
			fmt.Sprintf(`agent: endpoints.backup.keytab = %q (line 14 of CONF) is a folder, not a file: give the file's path`, folder)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := newAgentFrom(t, f, c.conf, nil)
			if err == nil {
				t.Fatal("the agent started")
			}
			if want := strings.ReplaceAll(c.want, "CONF", f.confPath()); err.Error() != want {
				t.Errorf("error\n%s\nwant\n%s", err, want)
			}
		})
	}
	_, log, err := newAgentFrom(t, f, fixtureConf(f, runas(missing)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, fmt.Sprintf(`agent: endpoints.backup.keytab = \"%s\" (line 14 of `, missing)) ||
		!strings.Contains(log, "does not exist: export the account's keys there (hop keytab export ACCOUNT -o "+missing+"), or correct the path") {
		t.Errorf("an endpoint's missing keytab: log\n%s", log)
	}
}

// TestListenBusy: an address something already listens on is one line
// that says so and what to do.
func TestListenBusy(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	conf := strings.Replace(fixtureConf(f, "logon_groups = [\"b-remote-users\"]\n"), "127.0.0.1:0", addr, 1)
	a, _, err := newAgentFrom(t, f, conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background(), nil)
	want := fmt.Sprintf("agent: listen %s (line 3 of %s): something already listens there (another hop agent, or sshd?): stop it or choose another address; ss -ltnp 'sport = :%s' shows which program",
		addr, f.confPath(), port)
	if err == nil || err.Error() != want {
		t.Fatalf("Run: %v\nwant %s", err, want)
	}
}

func TestWhere(t *testing.T) {
	src := []byte("host = \"b.example.test\"\nkeytab = \"/k\"\n")
	for _, c := range []struct {
		cfg  Config
		key  string
		want string
	}{
		{Config{src: src, file: "/etc/a.toml"}, "keytab", " (line 2 of /etc/a.toml)"},
		{Config{src: src, file: "/etc/a.toml"}, "listen", " (the default: set listen in /etc/a.toml)"},
		{Config{src: src}, "keytab", " (line 2)"},
		{Config{src: src}, "listen", " (the default: set listen in /etc/hop/agent.toml)"},
		{Config{}, "keytab", ""},
	} {
		if got := c.cfg.where(c.key); got != c.want {
			t.Errorf("where(%s) with file %q = %q, want %q", c.key, c.cfg.file, got, c.want)
		}
	}
}
