package kpasswd

import (
	"context"
	"net"
	"time"

	"hop/krb5/serve"
)

// Transport limits.
const (
	// MaxTCPConns bounds concurrent TCP connections (and
	// serve.DefaultMaxTCPConnsPerSource those of one address): a new one
	// beyond it takes the place of the longest-idle one.
	MaxTCPConns = 256
	// TCPIdleTimeout closes a TCP connection that sends nothing, or sends
	// a message too slowly.
	TCPIdleTimeout  = 30 * time.Second
	tcpWriteTimeout = 10 * time.Second
	// udpWorkers is how many goroutines read the UDP socket. Each request
	// derives keys from a password (PBKDF2), so more would only queue.
	udpWorkers = 4
)

// transport returns the UDP and TCP transport (RFC 3244 §2: one message
// per datagram; over TCP each message preceded by its length in four
// bytes, big-endian, as RFC 4120 §7.2.2 for the KDC).
func (s *Server) transport() *serve.Server {
	return &serve.Server{
		Name: "kpasswd",
		Handle: func(ctx context.Context, msg []byte, addr string, _ bool) []byte {
			return s.Handle(ctx, msg, addr)
		},
		MaxMessage:   MaxMessageSize,
		Refuse:       s.refuseLength,
		MaxTCPConns:  MaxTCPConns,
		IdleTimeout:  TCPIdleTimeout,
		WriteTimeout: tcpWriteTimeout,
		UDPWorkers:   udpWorkers,
		Logger:       s.log,
	}
}

// refuseLength answers a TCP length prefix that cannot be a request.
func (s *Server) refuseLength(ctx context.Context, n uint32, peer string) []byte {
	r := &request{addr: peer}
	if snap, err := s.Directory.Snapshot(ctx); err == nil {
		r.realm = snap.Domain().Realm
	}
	ref := refuse(Malformed, "a message of %d bytes cannot be a request: the 16-bit length field allows at most %d", n, MaxMessageSize)
	s.emit(r, Result{Code: Malformed, Message: ref.msg})
	return s.errorReply(r, ref)
}

// ListenAndServe serves on UDP and TCP at addr ("127.0.0.1:464") until ctx
// is done. ready, if non-nil, is called with the bound addresses once both
// sockets listen; with port 0 both get the same port.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(udp, tcp net.Addr)) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.init()
	return s.transport().ListenAndServe(ctx, addr, ready)
}

// ServeUDP answers requests arriving on conn until ctx is done, then closes
// conn. Each request and its reply fit in one datagram (RFC 3244 §2).
func (s *Server) ServeUDP(ctx context.Context, conn *net.UDPConn) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.init()
	return s.transport().ServeUDP(ctx, conn)
}

// ServeTCP answers requests on connections accepted from ln until ctx is
// done, then closes ln; a connection may carry several requests.
func (s *Server) ServeTCP(ctx context.Context, ln net.Listener) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.init()
	return s.transport().ServeTCP(ctx, ln)
}
