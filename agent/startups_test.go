package agent

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
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

// TestMaxStartups: connections that never authenticate are bounded per
// source address and in all, below max_connections, and the agent closes
// those beyond the bounds at once; an authenticated connection gives its
// slot back, and alice can still log on.
func TestMaxStartups(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		c.MaxConnections, c.MaxStartups, c.MaxStartupsPerSource = 10, 4, 2
	}})
	for i, step := range []struct {
		src  string
		took bool
	}{
		{"127.0.0.2", true}, {"127.0.0.2", true},
		{"127.0.0.2", false}, // per source
		{"127.0.0.3", true}, {"127.0.0.3", true},
		{"127.0.0.4", false}, // in all
	} {
		if _, took := idleConn(t, f.addr, step.src); took != step.took {
			t.Fatalf("connection %d from %s: taken %v, want %v", i, step.src, took, step.took)
		}
	}
	// The refusals are reported at a bounded rate: one event for the
	// first, none for the next within startupReportInterval.
	ev := f.eventsOf("connection.refused")
	if len(ev) != 1 || ev[0].Code != "max_startups" || !strings.Contains(ev[0].Reason, "max_startups_per_source") {
		t.Errorf("connection.refused events: %+v", ev)
	}
	// Every pre-authentication slot is taken: alice is refused too …
	if _, took := idleConn(t, f.addr, "127.0.0.1"); took {
		t.Fatal("a fifth unauthenticated connection was taken")
	}
	// … until one of the idle connections goes.
	nc, took := idleConn(t, f.addr, "127.0.0.5")
	if took {
		t.Fatal("a connection beyond max_startups was taken")
	}
	nc.Close()
	f.agent.mu.Lock()
	var idle net.Conn
	for c := range f.agent.open {
		if strings.HasPrefix(c.addr, "127.0.0.3:") {
			idle = c.nc
		}
	}
	f.agent.mu.Unlock()
	idle.Close()
	if !waitFor(5*time.Second, func() bool {
		f.agent.startups.mu.Lock()
		defer f.agent.startups.mu.Unlock()
		return f.agent.startups.total == 3
	}) {
		t.Fatal("the slot of a closed connection was not given back")
	}
	c := f.login(t)
	if r := run(t, c, "echo ok", "", nil); r.stdout != "ok\n" {
		t.Fatalf("alice's session: %+v", r)
	}
	// Authenticated, alice's connection holds no slot.
	if _, took := idleConn(t, f.addr, "127.0.0.6"); !took {
		t.Fatal("an authenticated connection still holds a pre-authentication slot")
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
