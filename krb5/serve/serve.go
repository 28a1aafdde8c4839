// Package serve runs a Kerberos-style server on UDP and TCP: one message
// per datagram over UDP, and over TCP each message preceded by its length
// in four bytes, big-endian, the high bit reserved (RFC 4120 §7.2.2; RFC
// 3244 §2 frames kpasswd the same way). The KDC and the kpasswd service
// both use it. Work per peer is bounded: TCP connections are capped, idle
// or trickling ones are cut off, and a length prefix beyond the limit is
// refused without reading or allocating what it announces.
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
	DefaultMaxTCPConns  = 1024
	DefaultIdleTimeout  = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultUDPWorkers   = 4
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
	// MaxTCPConns bounds concurrent TCP connections; more wait in the
	// listen backlog.
	MaxTCPConns int
	// IdleTimeout cuts off a TCP connection that sends nothing, or sends
	// a message too slowly; WriteTimeout bounds writing a reply.
	IdleTimeout, WriteTimeout time.Duration
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
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(udp, tcp net.Addr)) error {
	pc, ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(pc.LocalAddr(), ln.Addr())
	}
	errc := make(chan error, 2)
	go func() { errc <- s.ServeUDP(ctx, pc.(*net.UDPConn)) }()
	go func() { errc <- s.ServeTCP(ctx, ln) }()
	err = <-errc
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// listen binds UDP at addr and TCP at the port UDP got. With port 0 the
// port UDP picked may be taken for TCP: then it tries other ports, a few
// times.
func (s *Server) listen(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: listen udp %s: %w", s.Name, addr, err)
		}
		tcpAddr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || attempt == 9 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("%s: listen tcp %s: %w", s.Name, tcpAddr, err)
		}
	}
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
	sem := make(chan struct{}, orDefault(s.MaxTCPConns, DefaultMaxTCPConns))
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := ln.Accept()
		if err != nil {
			<-sem
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.serveConn(ctx, c)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	peer := c.RemoteAddr().String()
	idle := orDefault(s.IdleTimeout, DefaultIdleTimeout)
	var hdr [4]byte
	buf := make([]byte, 0, 4096)
	for {
		// One deadline covers the length and the message: a peer that
		// trickles bytes is cut off like an idle one.
		c.SetReadDeadline(time.Now().Add(idle))
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 || n&0x80000000 != 0 || n > uint32(s.MaxMessage) {
			// Never allocate what the peer asks for: answer and hang up.
			if s.Refuse != nil {
				s.write(c, s.Refuse(ctx, n, peer))
			}
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if !s.write(c, s.Handle(ctx, buf, peer, false)) {
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
