package agent

import (
	"fmt"
	"net"
	"sync"
	"time"

	"hop/audit"
)

// startupReportInterval bounds how often refused unauthenticated
// connections are logged and audited: one message per interval, with the
// count of those refused since the last one, whatever the rate of the
// flood.
const startupReportInterval = 10 * time.Second

// startups counts the connections that have not authenticated yet, in all
// and per source address (Config.MaxStartups, MaxStartupsPerSource).
type startups struct {
	max, perSource int

	mu       sync.Mutex
	total    int
	bySource map[string]int

	// Refusals not reported yet, and when the last report was made.
	dropped    int
	lastSource string
	lastWhy    string
	reported   time.Time
}

func newStartups(max, perSource int) *startups {
	return &startups{max: max, perSource: perSource, bySource: map[string]int{}}
}

// acquire takes a pre-authentication slot for a connection from src, or
// says why there is none.
func (s *startups) acquire(src string) (ok bool, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.total >= s.max:
		return false, fmt.Sprintf("max_startups (%d unauthenticated connections) reached", s.max)
	case s.bySource[src] >= s.perSource:
		return false, fmt.Sprintf("max_startups_per_source (%d unauthenticated connections from one address) reached", s.perSource)
	}
	s.total++
	s.bySource[src]++
	return true, ""
}

// release gives back src's slot (the connection authenticated, failed or
// closed).
func (s *startups) release(src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.bySource[src]--; s.bySource[src] <= 0 {
		delete(s.bySource, src)
	}
}

// refused records a refusal; it returns the report to make (how many were
// refused since the last report) when one is due at now, else n == 0.
func (s *startups) refused(now time.Time, src, why string) (n int, last, lastWhy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped++
	s.lastSource, s.lastWhy = src, why
	// A clock that went back reports at once rather than never.
	if d := now.Sub(s.reported); !s.reported.IsZero() && d >= 0 && d < startupReportInterval {
		return 0, "", ""
	}
	n, last, lastWhy = s.dropped, s.lastSource, s.lastWhy
	s.dropped, s.reported = 0, now
	return n, last, lastWhy
}

// sourceOf is the address that per-source limits count: the IP address
// of a TCP peer, else the whole address.
func sourceOf(addr net.Addr) string {
	if ta, ok := addr.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return host
	}
	return addr.String()
}

// refuseStartup closes a connection that found no pre-authentication slot
// and reports it at a bounded rate (startupReportInterval).
func (a *Agent) refuseStartup(nc net.Conn, src, why string) {
	nc.Close()
	n, last, lastWhy := a.startups.refused(a.now(), src, why)
	if n == 0 {
		return
	}
	a.logger.Warn("refusing unauthenticated connections", "refused", n, "last_source", last, "reason", lastWhy,
		"max_startups", a.cfg.MaxStartups, "max_startups_per_source", a.cfg.MaxStartupsPerSource)
	a.emit(audit.Event{Type: "connection.refused", Service: a.spn.String(), Addr: last, Code: "max_startups",
		Reason: fmt.Sprintf("%d unauthenticated connection(s) closed at once (reported at most every %v); the last: %s", n, startupReportInterval, lastWhy)})
}
