package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
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
	for _, want := range []string{"tcp:one", "tcp:two"} {
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
