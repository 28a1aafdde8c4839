// Package serve runs a Kerberos-style server on UDP and TCP: one message
// per datagram over UDP, and over TCP each message preceded by its length
// in four bytes, big-endian, the high bit reserved (RFC 4120 §7.2.2; RFC
// 3244 §2 frames kpasswd the same way). The KDC and the kpasswd service
// both use it. Work per peer is bounded: TCP connections are capped in
// all and per source address, a connection that has not sent a request
// soon is cut off (and an idle or trickling one later), a new connection
// beyond a cap takes the place of the longest-idle one rather than wait,
// and a length prefix beyond the limit is refused without reading or
// allocating what it announces.
package serve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// Defaults for the zero fields of Server.
const (
	DefaultMaxTCPConns          = 1024
	DefaultMaxTCPConnsPerSource = 64
	DefaultIdleTimeout          = 30 * time.Second
	DefaultFirstRequestTimeout  = 5 * time.Second
	DefaultWriteTimeout         = 10 * time.Second
	DefaultUDPWorkers           = 4
	// limitLogEvery spaces the log lines that say the limits acted.
	limitLogEvery = 10 * time.Second
	// maxUDPMessage is the UDP read buffer: the largest datagram.
	maxUDPMessage = 64 << 10
)

// Server serves one protocol.
type Server struct {
	// Name prefixes errors and log messages ("kdc", "kpasswd").
	Name string
	// Handle answers msg from addr; udp says which transport it came by.
	// A nil reply sends nothing (and closes a TCP connection).
	Handle func(ctx context.Context, msg []byte, addr string, udp bool) []byte
	// MaxMessage is the longest message read over TCP.
	MaxMessage int
	// Refuse answers a TCP length prefix that is zero, sets the reserved
	// high bit or exceeds MaxMessage; the connection is closed after the
	// reply (nil: closed without one).
	Refuse func(ctx context.Context, length uint32, addr string) []byte
	// MaxTCPConns bounds concurrent TCP connections, MaxTCPConnsPerSource
	// those from one address. A connection beyond either takes the place
	// of the one (of that address, or of all) that has waited longest for
	// a request; when every one is busy with a request, it is closed.
	MaxTCPConns, MaxTCPConnsPerSource int
	// FirstRequestTimeout cuts off a TCP connection that has not sent its
	// first request; IdleTimeout one that sends nothing more, or sends a
	// message too slowly; WriteTimeout bounds writing a reply.
	FirstRequestTimeout, IdleTimeout, WriteTimeout time.Duration
	// CloseAfterReply closes a TCP connection once its request is
	// answered, unless the peer has already sent another (RFC 4120 §7.2.2
	// lets a connection carry several, and leaves when to close it to the
	// implementations).
	CloseAfterReply bool
	// UDPWorkers is how many goroutines read the UDP socket.
	UDPWorkers int
	Logger     *slog.Logger
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// ListenAndServe serves on UDP and TCP at addr until ctx is done. ready,
// if non-nil, is called with the bound addresses once both sockets
// listen; with port 0, TCP takes the port UDP got.
//
// Where the system allows it (Linux), UDP is served by UDPWorkers sockets
// bound to the same address with SO_REUSEPORT, each read by one goroutine:
// the kernel spreads the clients over them, and the readers do not queue
// for one socket's lock. Only processes of the same user can bind into
// that group.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(udp, tcp net.Addr)) error {
	udp, ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(udp[0].LocalAddr(), ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ServeTCP(ctx, ln) }()
	err = s.serveUDPSockets(ctx, udp)
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// udpListenConfig lets several sockets share a UDP address (reuseport_linux.go).
var udpListenConfig = net.ListenConfig{Control: reusePort}

// listen binds UDP at addr and TCP at the port UDP got, then up to
// UDPWorkers-1 more UDP sockets at that address where SO_REUSEPORT is
// available. With port 0 the port UDP picked may be taken for TCP: then
// it tries other ports, a few times.
func (s *Server) listen(addr string) ([]*net.UDPConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for attempt := 0; ; attempt++ {
		pc, err := udpListenConfig.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: listen udp %s: %w", s.Name, addr, err)
		}
		bound := pc.LocalAddr().String()
		// No TCP keep-alive: the idle timeouts end quiet connections,
		// and turning it on costs four system calls per connection.
		ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", bound)
		if err != nil {
			pc.Close()
			if port != "0" || attempt == 9 || !errors.Is(err, syscall.EADDRINUSE) {
				return nil, nil, fmt.Errorf("%s: listen tcp %s: %w", s.Name, bound, err)
			}
			continue
		}
		udp := []*net.UDPConn{pc.(*net.UDPConn)}
		for reusePortWorks && len(udp) < orDefault(s.UDPWorkers, DefaultUDPWorkers) {
			more, err := udpListenConfig.ListenPacket(context.Background(), "udp", bound)
			if err != nil {
				s.logger().Debug(s.Name+": one UDP socket fewer", "addr", bound, "err", err)
				break
			}
			udp = append(udp, more.(*net.UDPConn))
		}
		return udp, ln, nil
	}
}

// serveUDPSockets serves each of conns: one reader each when there are
// several, else the UDPWorkers readers of ServeUDP.
func (s *Server) serveUDPSockets(ctx context.Context, conns []*net.UDPConn) error {
	if len(conns) == 1 {
		return s.ServeUDP(ctx, conns[0])
	}
	one := *s
	one.UDPWorkers = 1
	errc := make(chan error, len(conns))
	for _, c := range conns {
		go func() { errc <- one.ServeUDP(ctx, c) }()
	}
	var err error
	for range conns {
		if e := <-errc; err == nil {
			err = e
		}
	}
	return err
}

// ServeUDP answers datagrams arriving on conn until ctx is done, then
// closes conn. Several goroutines read the socket at once.
func (s *Server) ServeUDP(ctx context.Context, conn *net.UDPConn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	workers := orDefault(s.UDPWorkers, DefaultUDPWorkers)
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, maxUDPMessage)
			for {
				n, from, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
						errc <- nil
						return
					}
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						continue
					}
					errc <- fmt.Errorf("%s: udp read: %w", s.Name, err)
					conn.Close()
					return
				}
				if reply := s.Handle(ctx, buf[:n], from.String(), true); reply != nil {
					if _, err := conn.WriteToUDPAddrPort(reply, from); err != nil {
						s.logger().Debug(s.Name+": udp write", "to", from, "err", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// ServeTCP answers requests on connections accepted from ln until ctx is
// done, then closes ln. A connection may carry several requests.
func (s *Server) ServeTCP(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	t := newTracker(orDefault(s.MaxTCPConns, DefaultMaxTCPConns), orDefault(s.MaxTCPConnsPerSource, DefaultMaxTCPConnsPerSource))
	var wg sync.WaitGroup
	defer wg.Wait()
	p := &connPool{s: s, ctx: ctx, wg: &wg}
	defer p.close()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("%s: accept: %w", s.Name, err)
		}
		tc, ok := t.admit(c)
		s.logLimits(t)
		if !ok {
			c.Close()
			continue
		}
		p.serve(tc)
	}
}

// connPool runs connections on goroutines that outlive them: a
// connection's goroutine then starts with the stack the earlier ones grew
// (a new goroutine grows its stack, copying it, on every request), and
// none is created while one waits.
type connPool struct {
	s    *Server
	ctx  context.Context
	wg   *sync.WaitGroup
	mu   sync.Mutex
	idle []chan *tconn // workers waiting for a connection
	done bool
}

// maxIdleConnWorkers bounds the goroutines kept waiting for connections.
const maxIdleConnWorkers = 64

// serve runs c on an idle worker, or on a new one.
func (p *connPool) serve(c *tconn) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		ch <- c
		return
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.work(c)
}

// work serves c, then waits for another connection while fewer than
// maxIdleConnWorkers wait.
func (p *connPool) work(c *tconn) {
	defer p.wg.Done()
	ch := make(chan *tconn, 1)
	for c != nil {
		p.s.serveConn(p.ctx, c)
		c.tracker.remove(c)
		p.mu.Lock()
		if p.done || len(p.idle) >= maxIdleConnWorkers {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, ch)
		p.mu.Unlock()
		c = <-ch
	}
}

// close ends the waiting workers.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	for _, ch := range p.idle {
		close(ch)
	}
	p.idle = nil
}

// logLimits says, at most every limitLogEvery, how often the limits
// acted since the last line.
func (s *Server) logLimits(t *tracker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.evicted+t.refused == 0 || time.Since(t.logged) < limitLogEvery {
		return
	}
	s.logger().Warn(s.Name+": TCP connection limits acted: idle connections closed to make room, or new ones refused while every one was busy",
		"closed_idle", t.evicted, "refused", t.refused, "connections", len(t.conns), "max", t.max, "max_per_source", t.maxPerSource, "busiest_source", t.busiest())
	t.evicted, t.refused, t.logged = 0, 0, time.Now()
}

// tconn is a TCP connection the tracker counts.
type tconn struct {
	net.Conn
	src       string    // the peer's address, without the port
	busy      bool      // a request is being read or answered
	idleSince time.Time // when it last became idle
	gone      bool      // removed (closed to make room, or ended)
	tracker   *tracker
}

// tracker counts the TCP connections in all and per source, and picks
// the one to close when a new one arrives beyond a cap.
type tracker struct {
	mu                sync.Mutex
	max, maxPerSource int
	conns             map[*tconn]struct{}
	perSource         map[string]int
	evicted, refused  int
	logged            time.Time
}

func newTracker(max, perSource int) *tracker {
	return &tracker{max: max, maxPerSource: perSource, conns: map[*tconn]struct{}{}, perSource: map[string]int{}}
}

// admit counts c, closing the longest-idle connection of its source (at
// that source's cap) or of all (at the global cap) to make room; false
// when every candidate is busy.
func (t *tracker) admit(c net.Conn) (*tconn, bool) {
	src := c.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(src); err == nil {
		src = h
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, full := range []struct {
		at   bool
		from string // "" for any source
	}{{t.perSource[src] >= t.maxPerSource, src}, {len(t.conns) >= t.max, ""}} {
		if !full.at {
			continue
		}
		victim := t.oldestIdle(full.from)
		if victim == nil {
			t.refused++
			return nil, false
		}
		t.drop(victim)
		victim.Conn.Close()
		t.evicted++
	}
	tc := &tconn{Conn: c, src: src, idleSince: time.Now(), tracker: t}
	t.conns[tc] = struct{}{}
	t.perSource[src]++
	return tc, true
}

// oldestIdle is the connection (of src, or of any source when src is "")
// that has waited longest for a request, nil if every one is busy.
func (t *tracker) oldestIdle(src string) *tconn {
	var best *tconn
	for c := range t.conns {
		if c.busy || (src != "" && c.src != src) {
			continue
		}
		if best == nil || c.idleSince.Before(best.idleSince) {
			best = c
		}
	}
	return best
}

// busiest is the source with the most connections, for the log.
func (t *tracker) busiest() string {
	best, n := "", 0
	for src, k := range t.perSource {
		if k > n {
			best, n = src, k
		}
	}
	return fmt.Sprintf("%s (%d)", best, n)
}

func (t *tracker) drop(c *tconn) {
	if c.gone {
		return
	}
	c.gone = true
	delete(t.conns, c)
	if t.perSource[c.src]--; t.perSource[c.src] <= 0 {
		delete(t.perSource, c.src)
	}
}

func (t *tracker) remove(c *tconn) {
	t.mu.Lock()
	t.drop(c)
	t.mu.Unlock()
}

// setBusy marks c busy (a request arrived) or idle (its reply is sent).
func (t *tracker) setBusy(c *tconn, busy bool) {
	t.mu.Lock()
	c.busy = busy
	if !busy {
		c.idleSince = time.Now()
	}
	t.mu.Unlock()
}

func (s *Server) serveConn(ctx context.Context, c *tconn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	peer := c.RemoteAddr().String()
	idle := orDefault(s.IdleTimeout, DefaultIdleTimeout)
	wait := min(orDefault(s.FirstRequestTimeout, DefaultFirstRequestTimeout), idle)
	t := c.tracker
	// buf[:have] holds what was read and not yet answered: a read takes
	// as much as has arrived, so that the length and a short message come
	// in one system call.
	buf := make([]byte, 4096)
	have := 0
	for {
		// One deadline covers the length and the message: a peer that
		// trickles bytes is cut off like an idle one.
		c.SetReadDeadline(time.Now().Add(wait))
		wait = idle
		if have < 4 {
			n, err := io.ReadAtLeast(c, buf[have:], 4-have)
			if have += n; err != nil {
				return
			}
		}
		n := binary.BigEndian.Uint32(buf)
		if n == 0 || n&0x80000000 != 0 || n > uint32(s.MaxMessage) {
			// Never allocate what the peer asks for: answer and hang up.
			if s.Refuse != nil {
				s.write(c, s.Refuse(ctx, n, peer))
			}
			return
		}
		end := 4 + int(n)
		if end > len(buf) {
			buf = append(buf[:have], make([]byte, end-have)...)
		}
		if have < end {
			m, err := io.ReadAtLeast(c, buf[have:], end-have)
			if have += m; err != nil {
				return
			}
		}
		// Busy while the request is answered: not closed to make room.
		// A peer still sending one is waiting, and may be.
		t.setBusy(c, true)
		if !s.write(c, s.Handle(ctx, buf[4:end], peer, false)) {
			return
		}
		t.setBusy(c, false)
		// Keep what followed the message (a pipelined request), and
		// close the connection when there is none, as MIT's krb5kdc does
		// after each reply: clients open a connection per request, and
		// waiting to read their end of it costs a tenth of a request.
		if have = copy(buf, buf[end:have]); have == 0 && s.CloseAfterReply {
			return
		}
	}
}

// write sends msg with its length prefix; false when there is nothing to
// send or the write failed.
func (s *Server) write(c net.Conn, msg []byte) bool {
	if msg == nil {
		return false
	}
	out := make([]byte, 4+len(msg))
	binary.BigEndian.PutUint32(out, uint32(len(msg)))
	copy(out[4:], msg)
	c.SetWriteDeadline(time.Now().Add(orDefault(s.WriteTimeout, DefaultWriteTimeout)))
	_, err := c.Write(out)
	return err == nil
}
