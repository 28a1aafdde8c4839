package kdc

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"time"

	"hop/krb5"
	"hop/krb5/serve"
)

// Transport limits.
const (
	// MaxTCPConns bounds concurrent TCP connections, and
	// MaxTCPConnsPerSource those of one address: a new one beyond either
	// takes the place of the longest-idle one. A host (or a NAT) with many
	// clients has more than a few dozen connections open at busy times,
	// and one that just connected counts as idle until its request
	// arrives, so the per-source cap is well above kpasswd's.
	MaxTCPConns          = 4096
	MaxTCPConnsPerSource = 256
	// TCPIdleTimeout closes a TCP connection that sends nothing.
	TCPIdleTimeout  = 30 * time.Second
	tcpWriteTimeout = 10 * time.Second
)

// server returns the KDC's UDP and TCP transport (RFC 4120 §7.2).
func (k *KDC) server() *serve.Server {
	return &serve.Server{
		Name: "kdc",
		Handle: func(ctx context.Context, msg []byte, addr string, udp bool) []byte {
			if udp {
				return k.Handle(ctx, msg, addr, k.maxUDPReply)
			}
			return k.Handle(ctx, msg, addr, 0)
		},
		MaxMessage: k.maxReq,
		Refuse: func(ctx context.Context, n uint32, addr string) []byte {
			reason := fmt.Sprintf("request length %d exceeds this KDC's limit of %d bytes", n&0x7fffffff, k.maxReq)
			switch {
			case n&0x80000000 != 0:
				reason = "the length prefix sets the reserved high bit (RFC 4120 §7.2.2); no extensions are supported"
			case n == 0:
				reason = "an empty request"
			}
			return k.errorReply(k.now(), nil, refuse(krb5.KRBErrFieldToolong, "%s", reason), 0)
		},
		CloseAfterReply:      true,
		MaxTCPConns:          MaxTCPConns,
		MaxTCPConnsPerSource: MaxTCPConnsPerSource,
		IdleTimeout:          TCPIdleTimeout,
		WriteTimeout:         tcpWriteTimeout,
		UDPWorkers:           max(4, 2*runtime.GOMAXPROCS(0)),
		Logger:               k.log,
	}
}

// ListenAndServe serves the KDC on UDP and TCP at addr ("127.0.0.1:88")
// until ctx is done. ready, if non-nil, is called with the bound addresses
// once both sockets listen.
func (k *KDC) ListenAndServe(ctx context.Context, addr string, ready func(udp, tcp net.Addr)) error {
	return k.server().ListenAndServe(ctx, addr, ready)
}

// ServeUDP answers requests arriving on conn until ctx is done, then closes
// conn. Several goroutines read the socket at once.
func (k *KDC) ServeUDP(ctx context.Context, conn *net.UDPConn) error {
	return k.server().ServeUDP(ctx, conn)
}

// ServeTCP answers requests on connections accepted from ln until ctx is
// done, then closes ln (RFC 4120 §7.2.2: each message is preceded by its
// length in four bytes, big-endian; the high bit is reserved).
func (k *KDC) ServeTCP(ctx context.Context, ln net.Listener) error {
	return k.server().ServeTCP(ctx, ln)
}
