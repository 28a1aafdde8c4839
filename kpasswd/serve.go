package kpasswd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Transport limits.
const (
	// MaxTCPConns bounds concurrent TCP connections; more wait in the
	// listen backlog.
	MaxTCPConns = 256
	// TCPIdleTimeout closes a TCP connection that sends nothing, or sends
	// a message too slowly.
	TCPIdleTimeout  = 30 * time.Second
	tcpWriteTimeout = 10 * time.Second
	// udpWorkers is how many goroutines read the UDP socket. Each request
	// derives keys from a password (PBKDF2), so more would only queue.
	udpWorkers = 4
)

// ListenAndServe serves on UDP and TCP at addr ("127.0.0.1:464") until ctx
// is done. ready, if non-nil, is called with the bound addresses once both
// sockets listen; with port 0 both get the same port.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(udp, tcp net.Addr)) error {
	if err := s.Validate(); err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("kpasswd: listen udp %s: %w", addr, err)
	}
	tcpAddr := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("kpasswd: listen tcp %s: %w", tcpAddr, err)
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

// ServeUDP answers requests arriving on conn until ctx is done, then closes
// conn. Each request and its reply fit in one datagram (RFC 3244 §2).
func (s *Server) ServeUDP(ctx context.Context, conn *net.UDPConn) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.init()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var wg sync.WaitGroup
	errc := make(chan error, udpWorkers)
	for range udpWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, MaxMessageSize+1)
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
					errc <- fmt.Errorf("kpasswd: udp read: %w", err)
					conn.Close()
					return
				}
				reply := s.Handle(ctx, buf[:n], from.String())
				if reply != nil {
					if _, err := conn.WriteToUDPAddrPort(reply, from); err != nil {
						s.log.Debug("kpasswd: udp write", "to", from, "err", err)
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
// done, then closes ln. Each message is preceded by its length in four
// bytes, big-endian (RFC 3244 §2, as RFC 4120 §7.2.2 for the KDC); a
// connection may carry several requests.
func (s *Server) ServeTCP(ctx context.Context, ln net.Listener) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.init()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	sem := make(chan struct{}, MaxTCPConns)
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
			return fmt.Errorf("kpasswd: accept: %w", err)
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
	var hdr [4]byte
	buf := make([]byte, 0, 4096)
	for {
		// One deadline covers the length and the message: a peer that
		// trickles bytes is cut off like an idle one.
		c.SetReadDeadline(time.Now().Add(TCPIdleTimeout))
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 || n > MaxMessageSize {
			// Never allocate what the peer asks for: answer and hang up.
			r := &request{addr: peer}
			if snap, err := s.Directory.Snapshot(ctx); err == nil {
				r.realm = snap.Domain().Realm
			}
			ref := refuse(Malformed, "a message of %d bytes cannot be a request: the 16-bit length field allows at most %d", n, MaxMessageSize)
			s.emit(r, Result{Code: Malformed, Message: ref.msg})
			s.writeTCP(c, s.errorReply(r, ref))
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		reply := s.Handle(ctx, buf, peer)
		if reply == nil || !s.writeTCP(c, reply) {
			return
		}
	}
}

func (s *Server) writeTCP(c net.Conn, msg []byte) bool {
	if msg == nil {
		return false
	}
	out := make([]byte, 4+len(msg))
	binary.BigEndian.PutUint32(out, uint32(len(msg)))
	copy(out[4:], msg)
	c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	_, err := c.Write(out)
	return err == nil
}
