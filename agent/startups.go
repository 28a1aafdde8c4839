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
// and per source address (Config.MaxStartups, MaxStartupsPerSource). A new
// connection beyond either bound takes the place of the one (of its
// source, or of all) that has waited longest: clients that connect and
// never authenticate hold their slots only until newer connections need
// them, while a real client, which authenticates in milliseconds, keeps
// its chance whatever the flood (stronger than OpenSSH's random early
// drop, which refuses newcomers).
type startups struct {
	max, perSource int

	mu       sync.Mutex
	total    int
	bySource map[string]int
	pending  map[*pending]struct{}

	// Connections closed and not reported yet, and when the last report
	// was made.
	dropped    int
	lastSource string
	lastWhy    string
	reported   time.Time
}

// pending is one unauthenticated connection.
type pending struct {
	nc    net.Conn
	src   string
	since time.Time
	gone  bool // released, or closed to make room
}

func newStartups(max, perSource int) *startups {
	return &startups{max: max, perSource: perSource, bySource: map[string]int{}, pending: map[*pending]struct{}{}}
}

// acquire takes a pre-authentication slot for nc from src at now, closing
// the longest-waiting connection of src (at max_startups_per_source) or of
// all (at max_startups) to make room; it returns the slot and, for the
// report, why a connection was closed ("" when none was).
func (s *startups) acquire(nc net.Conn, src string, now time.Time) (p *pending, closed *pending, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySource[src] >= s.perSource {
		closed = s.evict(src)
		why = fmt.Sprintf("max_startups_per_source (%d unauthenticated connections from one address) reached: the one from %s waiting longest was closed", s.perSource, src)
	}
	if s.total >= s.max {
		closed = s.evict("")
		why = fmt.Sprintf("max_startups (%d unauthenticated connections) reached: the one waiting longest (from %s) was closed", s.max, closed.src)
	}
	p = &pending{nc: nc, src: src, since: now}
	s.pending[p] = struct{}{}
	s.total++
	s.bySource[src]++
	return p, closed, why
}

// evict forgets the longest-waiting connection (of src; of all when src
// is "") and returns it, for the caller to close. s.mu is held; there is
// one, since a bound was reached.
func (s *startups) evict(src string) *pending {
	var old *pending
	for p := range s.pending {
		if (src == "" || p.src == src) && (old == nil || p.since.Before(old.since)) {
			old = p
		}
	}
	s.drop(old)
	return old
}

func (s *startups) drop(p *pending) {
	if p == nil || p.gone {
		return
	}
	p.gone = true
	delete(s.pending, p)
	s.total--
	if s.bySource[p.src]--; s.bySource[p.src] <= 0 {
		delete(s.bySource, p.src)
	}
}

// release gives back p's slot (the connection authenticated, failed or
// closed); nothing if it was closed to make room.
func (s *startups) release(p *pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop(p)
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

// closeStartup closes a connection that gave its slot to a newer one and
// reports it at a bounded rate (startupReportInterval).
func (a *Agent) closeStartup(p *pending, why string) {
	p.nc.Close()
	n, last, lastWhy := a.startups.refused(a.now(), p.src, why)
	if n == 0 {
		return
	}
	a.logger.Warn("closing unauthenticated connections to make room", "closed", n, "last_source", last, "reason", lastWhy,
		"max_startups", a.cfg.MaxStartups, "max_startups_per_source", a.cfg.MaxStartupsPerSource)
	a.emit(audit.Event{Type: "connection.refused", Service: a.spn.String(), Addr: last, Code: "max_startups",
		Reason: fmt.Sprintf("%d unauthenticated connection(s) closed to make room for newer ones (reported at most every %v); the last: %s", n, startupReportInterval, lastWhy)})
}
