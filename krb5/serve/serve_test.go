package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startEcho(t *testing.T, s *Server) (udp, tcp string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.ListenAndServe(ctx, "127.0.0.1:0", func(u, t net.Addr) { ready <- [2]string{u.String(), t.String()} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case a := <-ready:
		return a[0], a[1]
	case err := <-done:
		t.Fatal(err)
	}
	return "", ""
}

func framed(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
}

func TestUDPAndTCPFraming(t *testing.T) {
	s := &Server{
		Name: "echo",
		Handle: func(_ context.Context, msg []byte, _ string, udp bool) []byte {
			if udp {
				return append([]byte("udp:"), msg...)
			}
			return append([]byte("tcp:"), msg...)
		},
		MaxMessage:  16,
		Refuse:      func(_ context.Context, n uint32, _ string) []byte { return []byte("refused") },
		IdleTimeout: 300 * time.Millisecond,
	}
	udpAddr, tcpAddr := startEcho(t, s)

	u, err := net.Dial("udp", udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(5 * time.Second))
	u.Write([]byte("ping"))
	buf := make([]byte, 64)
	n, err := u.Read(buf)
	if err != nil || string(buf[:n]) != "udp:ping" {
		t.Fatalf("udp: %q %v", buf[:n], err)
	}

	c, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// Two requests on one connection, the second split across writes.
	c.Write(framed([]byte("one")))
	m := framed([]byte("two"))
	c.Write(m[:2])
	c.Write(m[2:])
	// Three in one write (pipelined), the last one of the limit's length.
	c.Write(slices.Concat(framed([]byte("3")), framed([]byte("four")), framed([]byte("0123456789abcdef"))))
	for _, want := range []string{"tcp:one", "tcp:two", "tcp:3", "tcp:four", "tcp:0123456789abcdef"} {
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	// A length beyond the limit, zero, or with the reserved bit is
	// refused, and the connection closed.
	for _, n := range []uint32{17, 0, 0x80000004} {
		c, err := net.Dial("tcp", tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(binary.BigEndian.AppendUint32(nil, n))
		rest, _ := io.ReadAll(c)
		c.Close()
		if !bytes.Equal(rest, framed([]byte("refused"))) {
			t.Errorf("length %#x: got %q", n, rest)
		}
	}
	// An idle connection is closed.
	idle, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := idle.Read(make([]byte, 1)); err == nil || time.Since(start) > 4*time.Second {
		t.Errorf("idle connection: %v after %s", err, time.Since(start))
	}
}

// dialFrom connects to addr from the loopback address src (a "host" of
// its own), failing the test otherwise.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// ask sends msg on c and returns the reply, or the error.
func ask(c net.Conn, msg string) (string, error) {
	if _, err := c.Write(framed([]byte(msg))); err != nil {
		return "", err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return "", err
	}
	got := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	_, err := io.ReadFull(c, got)
	return string(got), err
}

// closed reports whether the server has closed c (a read ends at once).
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// TestTCPLimits: idle connections cannot lock a client out. A source at
// its cap loses its longest-idle connection to its new one; at the
// global cap the longest-idle connection of any source goes; a connection
// busy with a request is never closed to make room (the new one is); a
// connection that sends nothing is cut off after FirstRequestTimeout; and
// the limits' acting is logged.
func TestTCPLimits(t *testing.T) {
	release := make(chan struct{})
	var logs bytes.Buffer
	s := &Server{
		Name: "echo",
		Handle: func(_ context.Context, msg []byte, _ string, _ bool) []byte {
			if string(msg) == "block" {
				<-release
			}
			return append([]byte("tcp:"), msg...)
		},
		MaxMessage: 16, MaxTCPConns: 6, MaxTCPConnsPerSource: 3,
		FirstRequestTimeout: 3 * time.Second, IdleTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	_, addr := startEcho(t, s)
	defer close(release)

	// Per source: the fourth connection from 127.0.0.2 closes the first.
	var flood []net.Conn
	for range 3 {
		flood = append(flood, dialFrom(t, "127.0.0.2", addr))
		time.Sleep(20 * time.Millisecond) // distinct idle times
	}
	fourth := dialFrom(t, "127.0.0.2", addr)
	if got, err := ask(fourth, "hi"); err != nil || got != "tcp:hi" {
		t.Fatalf("a new connection from a source at its cap: %q %v", got, err)
	}
	if !closed(flood[0]) {
		t.Error("the longest-idle connection of the source at its cap is still open")
	}
	if got, err := ask(flood[1], "still"); err != nil || got != "tcp:still" {
		t.Errorf("another connection of that source: %q %v", got, err)
	}

	// Globally: 127.0.0.3 fills the rest; a client from 127.0.0.1 is
	// served, and the longest-idle connection of all is closed.
	for range 3 {
		dialFrom(t, "127.0.0.3", addr)
		time.Sleep(20 * time.Millisecond)
	}
	me := dialFrom(t, "127.0.0.1", addr)
	if got, err := ask(me, "me"); err != nil || got != "tcp:me" {
		t.Fatalf("a client while the server is full of idle connections: %q %v", got, err)
	}

	// Busy connections stay: with every connection of a source busy, its
	// new one is refused.
	b1 := dialFrom(t, "127.0.0.4", addr)
	b1.Write(framed([]byte("block")))
	b2 := dialFrom(t, "127.0.0.4", addr)
	b2.Write(framed([]byte("block")))
	b3 := dialFrom(t, "127.0.0.4", addr)
	b3.Write(framed([]byte("block")))
	time.Sleep(100 * time.Millisecond)
	if extra := dialFrom(t, "127.0.0.4", addr); !closed(extra) {
		t.Error("a fourth connection from a source whose three are busy was not refused")
	}

	// A connection that sends nothing is cut off after FirstRequestTimeout.
	silent := dialFrom(t, "127.0.0.5", addr)
	start := time.Now()
	silent.SetReadDeadline(time.Now().Add(8 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || time.Since(start) > 6*time.Second {
		t.Errorf("a silent connection: %v after %v", err, time.Since(start))
	}
	if !strings.Contains(logs.String(), "TCP connection limits acted") {
		t.Errorf("no log line for the limits:\n%s", logs.String())
	}
}

// TestUDPSocketsShareThePort: on Linux, listen binds UDPWorkers sockets to
// the one address (SO_REUSEPORT), and clients spread over them are all
// answered, on every socket, until the server stops.
func TestUDPSocketsShareThePort(t *testing.T) {
	s := &Server{Name: "echo", UDPWorkers: 4, Handle: func(_ context.Context, msg []byte, _ string, _ bool) []byte {
		return append([]byte("udp:"), msg...)
	}}
	udp, ln, err := s.listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	if reusePortWorks {
		want = 4
	}
	if len(udp) != want {
		t.Errorf("%d UDP sockets, want %d", len(udp), want)
	}
	for _, c := range udp {
		if c.LocalAddr().String() != udp[0].LocalAddr().String() {
			t.Errorf("UDP sockets at %s and %s", c.LocalAddr(), udp[0].LocalAddr())
		}
		c.Close()
	}
	ln.Close()

	udpAddr, _ := startEcho(t, s)
	for i := range 32 {
		c, err := net.Dial("udp", udpAddr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		msg := []byte{byte('a' + i%26)}
		c.Write(msg)
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		c.Close()
		if err != nil || string(buf[:n]) != "udp:"+string(msg) {
			t.Fatalf("client %d: %q %v", i, buf[:n], err)
		}
	}
}
