package agent

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"hop/remoting"
)

// TestEndpointRequestsAreBounded: a client cannot fill the audit log by
// choosing unknown endpoints over and over; past the bound, the session
// cannot start.
func TestEndpointRequestsAreBounded(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	r := run(t, c, "echo ran", "", func(s *ssh.Session) {
		for i := 0; i < 100; i++ {
			s.SendRequest(remoting.EndpointRequest, true, sshString(fmt.Sprintf("nope%d", i)))
		}
		if ok, _ := s.SendRequest(remoting.EndpointRequest, true, sshString("default")); ok {
			t.Error("endpoint@hop accepted past the bound")
		}
	})
	if r.status != ExitRefused || r.stdout != "" || !strings.Contains(r.stderr, "more than 8 endpoint@hop requests") {
		t.Errorf("got %+v", r)
	}
	if n := len(f.eventsOf("session.refused")); n > remoting.MaxEndpointRequests+1 {
		t.Errorf("%d session.refused events for one session", n)
	}
}

// TestMalformedEndpointRequestRefusesTheSession: an endpoint@hop request
// that does not decode is refused, and the session then runs nowhere: not
// in the default endpoint, nor in an endpoint chosen before it.
func TestMalformedEndpointRequestRefusesTheSession(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	for name, payload := range map[string][]byte{
		"too long":   sshString(strings.Repeat("x", remoting.MaxEndpointName+1)),
		"NUL":        sshString("default\x00"),
		"truncated":  {0, 0, 0, 9, 'd'},
		"extra data": append(sshString("default"), 0),
	} {
		r := run(t, c, "echo ran", "", func(s *ssh.Session) {
			if ok, _ := s.SendRequest(remoting.EndpointRequest, true, sshString("default")); !ok {
				t.Errorf("%s: the default endpoint was refused", name)
			}
			if ok, _ := s.SendRequest(remoting.EndpointRequest, true, payload); ok {
				t.Errorf("%s: a malformed endpoint@hop was accepted", name)
			}
		})
		if r.status != ExitRefused || r.stdout != "" || !strings.Contains(r.stderr, "endpoint@hop request does not decode") {
			t.Errorf("%s: got %+v, want the session refused", name, r)
		}
	}
}

func TestEndpoints(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	ok, reply, err := c.SendRequest(remoting.EndpointsRequest, true, nil)
	if err != nil || !ok {
		t.Fatalf("endpoints@hop: %v %v", ok, err)
	}
	var infos []remoting.EndpointInfo
	if err := json.Unmarshal(reply, &infos); err != nil {
		t.Fatal(err)
	}
	// restricted-admin and credssp are off on this host.
	defaults := []remoting.Mode{remoting.ModeNone, remoting.ModeRemoteGuard, remoting.ModeConstrained, remoting.ModeForward}
	want := []remoting.EndpointInfo{
		{Name: "admins", Type: "default", Allowed: false, Delegation: defaults},
		{Name: "backup", Type: "runas", Allowed: true, RunAs: f.svc, Delegation: []remoting.Mode{remoting.ModeNone}},
		{Name: "default", Type: "default", Allowed: true, Delegation: defaults},
	}
	if fmt.Sprint(infos) != fmt.Sprint(want) {
		t.Errorf("endpoints\n got %+v\nwant %+v", infos, want)
	}
	var raw []map[string]any
	json.Unmarshal(reply, &raw)
	if _, ok := raw[1]["run_as"]; !ok || raw[1]["allowed"] != true {
		t.Errorf("JSON field names: %s", reply)
	}

	for _, tc := range []struct {
		endpoint string
		want     string
	}{
		{"nope", `b.example.test has no endpoint "nope"; endpoints you may use: backup, default`},
		{"admins", "you may not use the endpoint admins on b.example.test (for b-admins); endpoints you may use: backup, default"},
	} {
		r := run(t, c, "echo should-not-run", "", func(s *ssh.Session) {
			ok, err := s.SendRequest(remoting.EndpointRequest, true, sshString(tc.endpoint))
			if err != nil || ok {
				t.Errorf("endpoint@hop %s: %v %v", tc.endpoint, ok, err)
			}
		})
		if r.status != ExitRefused || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: got %+v, want stderr %q", tc.endpoint, r, tc.want)
		}
	}
	r := run(t, c, "echo $HOP_ENDPOINT", "", func(s *ssh.Session) {
		if ok, err := s.SendRequest(remoting.EndpointRequest, true, sshString("default")); !ok || err != nil {
			t.Errorf("endpoint@hop default: %v %v", ok, err)
		}
	})
	if r.stdout != "default\n" {
		t.Errorf("got %+v", r)
	}
}

func TestRunAsEndpoint(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	r := run(t, c, "id -un; echo $HOP_CLIENT $HOP_ENDPOINT $KRB5CCNAME $KRB5_CLIENT_KTNAME $USER", "", func(s *ssh.Session) {
		if ok, err := s.SendRequest(remoting.EndpointRequest, true, sshString("backup")); !ok || err != nil {
			t.Fatalf("endpoint@hop backup: %v %v", ok, err)
		}
	})
	want := f.svc + "\nalice@EXAMPLE.TEST backup KCM: " + f.svc + "\n"
	if r.stdout != want || r.status != 0 {
		t.Fatalf("got %+v, want %q", r, want)
	}
	ev := f.eventsOf("session.start")
	if len(ev) != 1 || ev[0].Actor != f.svc || ev[0].Client != "alice@EXAMPLE.TEST" || ev[0].Target != "backup" {
		t.Errorf("audit %+v", ev)
	}
}

// TestLabModeRunAs: an agent that is not root runs every session as
// itself; a runas endpoint naming another account is refused.
func TestLabModeRunAs(t *testing.T) {
	self, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		c.Endpoints["self"] = &Endpoint{Type: TypeRunAs, RunAs: self.Name}
		c.Endpoints["other"] = &Endpoint{Type: TypeRunAs, RunAs: "svc-elsewhere"}
	}})
	f.agent.isRoot = false
	f.agent.self = self
	c := f.login(t)
	for _, tc := range []struct {
		endpoint, want, stderr string
		status                 int
	}{
		{"default", self.Name + "\n", "", 0},
		{"self", self.Name + "\n", "", 0},
		{"other", "", "the endpoint other runs sessions as svc-elsewhere, but the hop agent on b.example.test runs as " + self.Name + ", not root", ExitRefused},
	} {
		r := run(t, c, "id -un", "", func(s *ssh.Session) { s.SendRequest(remoting.EndpointRequest, true, sshString(tc.endpoint)) })
		if r.stdout != tc.want || r.status != tc.status || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%s: got %+v", tc.endpoint, r)
		}
	}
}
