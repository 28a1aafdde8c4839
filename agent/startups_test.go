package agent

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// idleConn connects from the source address src and sends nothing; it
// reports whether the agent took the connection (sent its version line)
// or closed it at once.
func idleConn(t *testing.T, addr, src string) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	nc.SetReadDeadline(time.Time{})
	if err == nil && strings.HasPrefix(line, "SSH-2.0-hop-agent") {
		return nc, true
	}
	return nc, false
}

// closedByAgent reports whether the agent has closed nc (after its version
// line, a read ends at once).
func closedByAgent(nc net.Conn) bool {
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	defer nc.SetReadDeadline(time.Time{})
	_, err := bufio.NewReader(nc).ReadString('\n')
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestMaxStartups: connections that never authenticate are bounded per
// source address and in all, below max_connections; a new connection
// beyond a bound takes the place of the one that has waited longest (of
// its source, or of all), so that a flood of idle connections cannot lock
// a real client out: alice logs on in the middle of one. The closings are
// reported at a bounded rate, and an authenticated connection holds no
// slot.
func TestMaxStartups(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		c.MaxConnections, c.MaxStartups, c.MaxStartupsPerSource = 10, 4, 2
	}})
	took := func(src string) net.Conn {
		t.Helper()
		nc, ok := idleConn(t, f.addr, src)
		if !ok {
			t.Fatalf("a connection from %s was not taken", src)
		}
		time.Sleep(20 * time.Millisecond) // distinct waiting times
		return nc
	}
	a1, a2 := took("127.0.0.2"), took("127.0.0.2")
	took("127.0.0.2") // per source: a1 goes
	if !closedByAgent(a1) {
		t.Error("the longest-waiting connection of a source at its bound is still open")
	}
	took("127.0.0.3")
	took("127.0.0.3")
	took("127.0.0.4") // in all: a2, the longest-waiting of all, goes
	if !closedByAgent(a2) {
		t.Error("the longest-waiting connection of all is still open at max_startups")
	}
	ev := f.eventsOf("connection.refused")
	if len(ev) != 1 || ev[0].Code != "max_startups" || !strings.Contains(ev[0].Reason, "max_startups_per_source") || !strings.Contains(ev[0].Reason, "closed to make room") {
		t.Errorf("connection.refused events (one per report interval): %+v", ev)
	}
	// Every pre-authentication slot is taken by idle connections: alice
	// still logs on.
	c := f.login(t)
	if r := run(t, c, "echo ok", "", nil); r.stdout != "ok\n" {
		t.Fatalf("alice's session during the flood: %+v", r)
	}
	f.agent.startups.mu.Lock()
	total, pend := f.agent.startups.total, len(f.agent.startups.pending)
	f.agent.startups.mu.Unlock()
	if total != pend || total > 4 {
		t.Errorf("after alice authenticated: %d slots counted, %d pending connections, at most 4", total, pend)
	}
}

func TestStartupsReportRate(t *testing.T) {
	s := newStartups(1, 1)
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		at   time.Duration
		want int // refusals reported
	}{
		{0, 1}, {time.Second, 0}, {2 * time.Second, 0}, {startupReportInterval, 3},
		{startupReportInterval + time.Second, 0}, {-time.Hour, 2}, // a clock set back reports
	} {
		if n, _, _ := s.refused(t0.Add(tc.at), "192.0.2.1", "x"); n != tc.want {
			t.Errorf("refusal at %v: reported %d, want %d", tc.at, n, tc.want)
		}
	}
}

func TestMaxStartupsConfig(t *testing.T) {
	for _, tc := range []struct {
		conns, startups, perSource int
		wantStartups, wantPer      int
		err                        string
	}{
		{0, 0, 0, DefaultMaxStartups, DefaultMaxStartupsPerSource, ""},
		{10, 0, 0, 5, 5, ""},
		{1, 0, 0, 1, 1, ""},
		{10, 9, 3, 9, 3, ""},
		{10, 10, 0, 0, 0, "must be below max_connections"},
		{10, 4, 5, 0, 0, "must not exceed max_startups"},
		{0, -1, 0, 0, 0, "max_startups must not be negative"},
	} {
		c := &Config{Host: testHost, LogonGroups: []string{"g"}, MaxConnections: tc.conns, MaxStartups: tc.startups, MaxStartupsPerSource: tc.perSource}
		err := c.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: Validate: %v, want %q", tc, err, tc.err)
			}
			continue
		}
		if err != nil || c.MaxStartups != tc.wantStartups || c.MaxStartupsPerSource != tc.wantPer {
			t.Errorf("%+v: Validate: %v, max_startups %d/%d, want %d/%d", tc, err, c.MaxStartups, c.MaxStartupsPerSource, tc.wantStartups, tc.wantPer)
		}
	}
	c, err := ParseConfig([]byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\nmax_startups = 7\nmax_startups_per_source = 3\nrefuse_service_asserted = true\n"))
	if err != nil || c.MaxStartups != 7 || c.MaxStartupsPerSource != 3 || !c.RefuseServiceAsserted {
		t.Errorf("ParseConfig: %v %+v", err, c)
	}
}

// TestMaxSessionsPerUser: one user cannot take every session of the
// agent: beyond max_sessions_per_user, across all their connections, a
// new session is refused with the reason and audited; once one ends, a
// new one opens.
func TestMaxSessionsPerUser(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) { c.MaxSessions, c.MaxSessionsPerUser = 8, 2 }})
	c1, c2 := f.login(t), f.login(t)
	s1, err := c1.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.NewSession(); err != nil {
		t.Fatal(err)
	}
	_, err = c1.NewSession()
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ResourceShortage || !strings.Contains(oce.Message, "alice@EXAMPLE.TEST has 2 sessions open on b.example.test, its maximum (max_sessions_per_user)") {
		t.Fatalf("a third session of alice: %v", err)
	}
	if ev := f.eventsOf("session.refused"); len(ev) != 1 || ev[0].Reason != "max_sessions_per_user reached" {
		t.Errorf("session.refused events: %+v", ev)
	}
	s1.Close()
	if !waitFor(5*time.Second, func() bool {
		s, err := c2.NewSession()
		if err == nil {
			s.Close()
		}
		return err == nil
	}) {
		t.Error("no new session once one of alice's ended")
	}
}

func TestMaxSessionsPerUserConfig(t *testing.T) {
	for _, tc := range []struct {
		sessions, perUser, want int
		err                     string
	}{
		{0, 0, DefaultMaxSessionsPerUser, ""},
		{4, 0, 4, ""},
		{8, 3, 3, ""},
		{8, 9, 0, "max_sessions_per_user (9) must not exceed max_sessions (8)"},
		{8, -1, 0, "max_sessions_per_user must not be negative"},
	} {
		c := &Config{Host: testHost, LogonGroups: []string{"g"}, MaxSessions: tc.sessions, MaxSessionsPerUser: tc.perUser}
		err := c.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: Validate: %v, want %q", tc, err, tc.err)
			}
			continue
		}
		if err != nil || c.MaxSessionsPerUser != tc.want {
			t.Errorf("%+v: Validate: %v, max_sessions_per_user %d, want %d", tc, err, c.MaxSessionsPerUser, tc.want)
		}
	}
	if c, err := ParseConfig([]byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\nmax_sessions_per_user = 5\naudit_max_size = 1000000\naudit_max_files = 3\n")); err != nil || c.MaxSessionsPerUser != 5 || c.AuditMaxSize != 1000000 || c.AuditMaxFiles != 3 {
		t.Errorf("ParseConfig: %v", err)
	}
	if _, err := ParseConfig([]byte("host = \"b.example.test\"\nlogon_groups = [\"g\"]\naudit_max_files = -1\n")); err == nil || !strings.Contains(err.Error(), "audit_max_files must not be negative") {
		t.Errorf("ParseConfig with audit_max_files = -1: %v", err)
	}
}
