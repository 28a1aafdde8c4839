package client

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"hop/krb5"
	"hop/krb5/wire"
)

// MaxReplySize bounds a reply read over TCP.
const MaxReplySize = 1 << 20

// Transport says how requests reach the KDC.
type Transport int

const (
	// UDPThenTCP sends over UDP and retries over TCP when the KDC answers
	// KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.2.1). The default.
	UDPThenTCP Transport = iota
	// TCPOnly sends over TCP.
	TCPOnly
	// UDPOnly sends over UDP and never retries over TCP.
	UDPOnly
)

// ParseTransport accepts "udp", "tcp" and "auto".
func ParseTransport(s string) (Transport, error) {
	switch s {
	case "", "auto":
		return UDPThenTCP, nil
	case "udp":
		return UDPOnly, nil
	case "tcp":
		return TCPOnly, nil
	}
	return 0, fmt.Errorf("client: unknown transport %q (use udp, tcp or auto)", s)
}

// Conn sends requests to one KDC and reads the replies. It keeps its UDP
// socket open between requests, so one Conn per goroutine is the fast path,
// and opens a TCP connection per request, as MIT's and Heimdal's clients do
// (their KDCs, and hop's, close it after the reply). A Conn is not safe for
// concurrent use.
type Conn struct {
	addr      string
	transport Transport
	timeout   time.Duration
	udp       net.Conn
	buf       []byte
}

// Dial returns a Conn to the KDC at addr (host:port). Nothing is sent yet.
func Dial(addr string, t Transport, timeout time.Duration) *Conn {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &Conn{addr: addr, transport: t, timeout: timeout}
}

// Close closes the UDP socket.
func (c *Conn) Close() error {
	var err error
	if c.udp != nil {
		err = c.udp.Close()
		c.udp = nil
	}
	return err
}

// RoundTrip sends msg and returns the reply message.
func (c *Conn) RoundTrip(ctx context.Context, msg []byte) ([]byte, error) {
	if c.transport == TCPOnly {
		return c.roundTripTCP(ctx, msg)
	}
	rep, err := c.roundTripUDP(ctx, msg)
	if err != nil || c.transport == UDPOnly {
		return rep, err
	}
	if mt, _ := wire.MsgTypeOf(rep); mt == krb5.MsgKRBError {
		if e, perr := wire.ParseKRBError(rep); perr == nil && e.ErrorCode == krb5.KRBErrResponseTooBig {
			return c.roundTripTCP(ctx, msg)
		}
	}
	return rep, nil
}

func (c *Conn) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	return d
}

func (c *Conn) roundTripUDP(ctx context.Context, msg []byte) ([]byte, error) {
	if c.udp == nil {
		conn, err := net.Dial("udp", c.addr)
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		c.udp = conn
	}
	if c.buf == nil {
		c.buf = make([]byte, 64<<10)
	}
	c.udp.SetDeadline(c.deadline(ctx))
	if _, err := c.udp.Write(msg); err != nil {
		return nil, fmt.Errorf("client: send to %s: %w", c.addr, err)
	}
	n, err := c.udp.Read(c.buf)
	if err != nil {
		return nil, fmt.Errorf("client: no reply from KDC %s over UDP: %w", c.addr, err)
	}
	return append([]byte(nil), c.buf[:n]...), nil
}

func (c *Conn) roundTripTCP(ctx context.Context, msg []byte) ([]byte, error) {
	var d net.Dialer
	dctx, cancel := context.WithDeadline(ctx, c.deadline(ctx))
	conn, err := d.DialContext(dctx, "tcp", c.addr)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer conn.Close()
	rep, err := c.exchangeTCP(ctx, conn, msg)
	if err != nil {
		return nil, fmt.Errorf("client: KDC %s over TCP: %w", c.addr, err)
	}
	return rep, nil
}

func (c *Conn) exchangeTCP(ctx context.Context, conn net.Conn, msg []byte) ([]byte, error) {
	conn.SetDeadline(c.deadline(ctx))
	out := make([]byte, 4+len(msg))
	binary.BigEndian.PutUint32(out, uint32(len(msg)))
	copy(out[4:], msg)
	if _, err := conn.Write(out); err != nil {
		return nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxReplySize {
		return nil, fmt.Errorf("reply of %d bytes exceeds the %d-byte limit", n, MaxReplySize)
	}
	rep := make([]byte, n)
	if _, err := io.ReadFull(conn, rep); err != nil {
		return nil, err
	}
	return rep, nil
}
