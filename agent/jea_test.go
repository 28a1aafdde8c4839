package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/remoting"
)

// jeaFixture is an agent with the JEA endpoint "ops": alice (in
// backup-operators) may run /usr/bin/echo hello|world [NAME].
func jeaFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		conf := fmt.Sprintf(`host = "b.example.test"
logon_groups = ["g"]
[endpoints.ops]
type = "jea"
run_as = %q
[[endpoints.ops.roles]]
groups = ["backup-operators"]
[[endpoints.ops.roles.commands]]
path = "/usr/bin/echo"
args = [ { values = ["hello", "world"] }, { regex = "[a-z]+", optional = true, name = "NAME" } ]
[[endpoints.ops.roles]]
groups = ["b-admins"]
[[endpoints.ops.roles.commands]]
path = "/usr/bin/id"
`, f.svc)
		parsed, err := ParseConfig([]byte(conf))
		if err != nil {
			t.Fatal(err)
		}
		c.Endpoints["ops"] = parsed.Endpoints["ops"]
	}})
}

func TestJEAEndpoint(t *testing.T) {
	f := jeaFixture(t)
	c := f.login(t)
	onOps := func(s *ssh.Session) {
		if ok, err := s.SendRequest(remoting.EndpointRequest, true, sshString("ops")); !ok || err != nil {
			t.Fatalf("endpoint@hop ops: %v %v", ok, err)
		}
	}
	for _, tc := range []struct {
		name, command, stdout, stderr string
		status                        int
	}{
		{"help", "help", "  echo hello|world [NAME]\n", "", 0},
		{"base name", "echo hello", "hello\n", "", 0},
		{"full path and optional arg", "/usr/bin/echo world abc", "world abc\n", "", 0},
		{"quoted", "echo 'hello'", "hello\n", "", 0},
		{"semicolon", "echo hello; id", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"command substitution", "echo $(id)", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"backticks", "echo hello `id`", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"pipe", "echo hello | id", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"extra argument", "echo hello abc def", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"value not allowed", "echo goodbye", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"path trick", "/usr/bin/../bin/echo hello", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"other role's command", "id", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"a shell", "sh -c id", "", "echo hello|world [NAME]", ExitNotAllowed},
		{"unterminated quote", "echo 'hello", "", "echo hello|world [NAME]", ExitNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, c, tc.command, "", onOps)
			if !strings.Contains(r.stdout, tc.stdout) || (tc.stdout == "" && r.stdout != "") || !strings.Contains(r.stderr, tc.stderr) || r.status != tc.status {
				t.Errorf("got %+v", r)
			}
		})
	}
	// No shell on a JEA endpoint.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	onOps(s)
	var errb strings.Builder
	s.Stderr = &errb
	s.Shell()
	err = s.Wait()
	if ee, ok := err.(*ssh.ExitError); !ok || ee.ExitStatus() != ExitRefused || !strings.Contains(errb.String(), "ops is a restricted endpoint: run one of its commands with hop exec b.example.test --config ops -- COMMAND") {
		t.Errorf("shell: %v %q", err, errb.String())
	}

	// endpoints@hop shows alice the commands of her role only.
	ok, reply, _ := c.SendRequest(remoting.EndpointsRequest, true, nil)
	if !ok || !strings.Contains(string(reply), `{"name":"ops","type":"jea","allowed":true,"run_as":"`+f.svc+`","commands":["echo hello|world [NAME]"],"delegation":["none"]}`) {
		t.Errorf("endpoints: %s", reply)
	}

	// Audit and transcripts name the real user.
	var allowed, refused int
	for _, e := range f.eventsOf("jea.command") {
		if e.Client != "alice@EXAMPLE.TEST" || e.Target != "ops" {
			t.Errorf("event %+v", e)
		}
		switch e.Code {
		case "allowed":
			allowed++
		case "refused":
			refused++
		}
	}
	if allowed != 3 || refused != 10 {
		t.Errorf("%d allowed and %d refused jea.command events, want 3 and 10", allowed, refused)
	}
	// A session's start comes before its command, in the log's order and
	// in time.
	started := map[string]time.Time{} // by session=ID
	for _, e := range f.events.Events() {
		id, _, _ := strings.Cut(e.Flags, ",")
		switch {
		case e.Type == "session.start":
			started[id] = e.Time
		case e.Type == "jea.command" && e.Code == "allowed":
			at, ok := started[id]
			if !ok || e.Time.Before(at) {
				t.Errorf("jea.command %q (%s) is not after its session.start", e.Reason, e.Flags)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(f.cfg.TranscriptDir, "*.jsonl"))
	var all strings.Builder
	for _, p := range files {
		b, _ := os.ReadFile(p)
		all.Write(b)
	}
	for _, want := range []string{`"user":"alice@EXAMPLE.TEST"`, `"command":"/usr/bin/echo world abc"`, `"data":"world abc\n"`, `"argv":["echo","hello;","id"]`} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("transcripts lack %s:\n%s", want, all.String())
		}
	}
}

// TestJEANetworkIdentity: a JEA session reaches other hosts as the
// endpoint's network identity (its keytab read by the broker, never by the
// command), or as the host; never as the user, whom the audit still names.
func TestJEANetworkIdentity(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		conf := fmt.Sprintf(`host = "b.example.test"
logon_groups = ["g"]
[endpoints.net]
type = "jea"
run_as = %[1]q
network_keytab = %[2]q
[[endpoints.net.roles]]
groups = ["backup-operators"]
[[endpoints.net.roles.commands]]
path = "/usr/bin/sleep"
args = [ { regex = "[0-9]+" } ]
[endpoints.hostnet]
type = "jea"
run_as = %[1]q
[[endpoints.hostnet.roles]]
groups = ["backup-operators"]
[[endpoints.hostnet.roles.commands]]
path = "/usr/bin/sleep"
args = [ { regex = "[0-9]+" } ]
`, f.svc, f.backupKeytab)
		parsed, err := ParseConfig([]byte(conf))
		if err != nil {
			t.Fatal(err)
		}
		c.Endpoints["net"], c.Endpoints["hostnet"] = parsed.Endpoints["net"], parsed.Endpoints["hostnet"]
	}})
	c := f.login(t)
	for _, tc := range []struct{ endpoint, identity string }{
		{"net", "svc-backup@EXAMPLE.TEST"},
		{"hostnet", "host/b.example.test@EXAMPLE.TEST"},
	} {
		kc, _ := f.sessionBroker(t, c, func(s *ssh.Session) { s.SendRequest(remoting.EndpointRequest, true, sshString(tc.endpoint)) })
		ctx := t.Context()
		name, err := kc.DefaultCache(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := kc.Principal(ctx, name)
		if err != nil || p.String() != tc.identity {
			t.Fatalf("%s: the session's identity is %v (%v), want %s", tc.endpoint, p, err, tc.identity)
		}
		if cred := retrieve(t, kc, name, p, "host/"+testHostC); cred == nil || cred.Client.String() != tc.identity {
			t.Fatalf("%s: ticket %+v", tc.endpoint, cred)
		}
	}
	for _, e := range f.eventsOf("broker.issued") {
		if e.Client != "alice@EXAMPLE.TEST" {
			t.Errorf("the audit does not name the user: %+v", e)
		}
	}
	if n := len(f.eventsOf("broker.issued")); n != 2 {
		t.Errorf("%d broker.issued events, want 2", n)
	}
}
