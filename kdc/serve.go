package kdc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"hop/krb5"
)

// Transport limits.
const (
	// MaxTCPConns bounds concurrent TCP connections; more wait in the
	// listen backlog.
	MaxTCPConns = 4096
	// TCPIdleTimeout closes a TCP connection that sends nothing.
	TCPIdleTimeout  = 30 * time.Second
	tcpWriteTimeout = 10 * time.Second
)

// ListenAndServe serves the KDC on UDP and TCP at addr ("127.0.0.1:88")
// until ctx is done. ready, if non-nil, is called with the bound addresses
// once both sockets listen.
func (k *KDC) ListenAndServe(ctx context.Context, addr string, ready func(udp, tcp net.Addr)) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("kdc: listen udp %s: %w", addr, err)
	}
	// Bind TCP to the port UDP got, so that ":0" yields one port for both.
	tcpAddr := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("kdc: listen tcp %s: %w", tcpAddr, err)
	}
	if ready != nil {
		ready(pc.LocalAddr(), ln.Addr())
	}
	errc := make(chan error, 2)
	go func() { errc <- k.ServeUDP(ctx, pc.(*net.UDPConn)) }()
	go func() { errc <- k.ServeTCP(ctx, ln) }()
	err = <-errc
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// ServeUDP answers requests arriving on conn until ctx is done, then closes
// conn. Several goroutines read the socket at once.
func (k *KDC) ServeUDP(ctx context.Context, conn *net.UDPConn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	workers := 2 * runtime.GOMAXPROCS(0)
	if workers < 4 {
		workers = 4
	}
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
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
					errc <- fmt.Errorf("kdc: udp read: %w", err)
					conn.Close()
					return
				}
				reply := k.Handle(ctx, buf[:n], from.String(), k.maxUDPReply)
				if reply != nil {
					if _, err := conn.WriteToUDPAddrPort(reply, from); err != nil {
						k.log.Debug("kdc: udp write", "to", from, "err", err)
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
// done, then closes ln (RFC 4120 §7.2.2: each message is preceded by its
// length in four bytes, big-endian; the high bit is reserved).
func (k *KDC) ServeTCP(ctx context.Context, ln net.Listener) error {
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
			return fmt.Errorf("kdc: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			k.serveConn(ctx, c)
		}()
	}
}

func (k *KDC) serveConn(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	peer := c.RemoteAddr().String()
	var hdr [4]byte
	buf := make([]byte, 0, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(TCPIdleTimeout))
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n&0x80000000 != 0 || n > uint32(k.maxReq) {
			// Never allocate what the peer asks for: answer and hang up.
			reason := fmt.Sprintf("request length %d exceeds this KDC's limit of %d bytes", n&0x7fffffff, k.maxReq)
			if n&0x80000000 != 0 {
				reason = "the length prefix sets the reserved high bit (RFC 4120 §7.2.2); no extensions are supported"
			}
			k.writeTCP(c, k.errorReply(k.now(), nil, refuse(krb5.KRBErrFieldToolong, "%s", reason)))
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		reply := k.Handle(ctx, buf, peer, 0)
		if reply == nil || !k.writeTCP(c, reply) {
			return
		}
	}
}

func (k *KDC) writeTCP(c net.Conn, msg []byte) bool {
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
