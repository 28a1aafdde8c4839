package remote_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"hop/krb5/tickets"
	"hop/remote"
	"hop/remote/remotetest"
)

func TestEndpoints(t *testing.T) {
	f := newFixture(t)
	reply := `[{"name":"default","type":"default","allowed":true,"run_as":"","commands":null},
{"name":"dns-ops","type":"jea","allowed":true,"run_as":"hop-dns","commands":["/usr/sbin/rndc reload|status [NAME]"]},
{"name":"backup","type":"runas","allowed":false,"run_as":"svc-backup","future_field":1}]`
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host, EndpointsReply: []byte(reply)})
	c := dial(t, f, s)
	eps, err := c.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 3 || eps[0].Name != "default" || !eps[0].Allowed ||
		eps[1].Type != "jea" || eps[1].RunAs != "hop-dns" || len(eps[1].Commands) != 1 || eps[1].Commands[0] != "/usr/sbin/rndc reload|status [NAME]" ||
		eps[2].Name != "backup" || eps[2].Allowed || eps[2].RunAs != "svc-backup" {
		t.Fatalf("Endpoints = %+v", eps)
	}
	s.WaitEvent(t, "endpoints")

	// An agent that does not know the request.
	s2 := remotetest.Start(t, f.lab, remotetest.Config{Host: "c.example.test"})
	o := f.options(s2)
	o.HostKeys = remote.DirectoryHostKeys{Directory: directory{"c.example.test": {s2.HostKey}}}
	c2, err := remote.Dial(context.Background(), "c.example.test", o)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Endpoints(context.Background()); err == nil || !strings.Contains(err.Error(), "hop agent") {
		t.Fatalf("Endpoints from a server without endpoints@hop: %v", err)
	}
}

func TestShellOnAPTY(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	c := dial(t, f, s)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Cols: 100, Rows: 30}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TERM", "xterm-hoptest")
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := c.Shell(context.Background(), "", tty)
		done <- result{code, err}
	}()
	if got := s.WaitEvent(t, "pty-req"); got != "pty-req xterm-hoptest 100x30" {
		t.Errorf("server got %q", got)
	}
	s.WaitEvent(t, "shell")
	var out syncBuffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			out.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	// In raw mode the local terminal does not echo: what comes back is
	// the remote pty's echo and the command's output.
	ptmx.Write([]byte("echo hi-$((40+2)); stty size\n"))
	waitFor(t, &out, "hi-42")
	waitFor(t, &out, "30 100")
	now, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if now.Lflag&unix.ECHO != 0 || now.Lflag&unix.ICANON != 0 {
		t.Error("the local terminal is not in raw mode during the shell")
	}
	// A resize reaches the server as window-change.
	pty.Setsize(tty, &pty.Winsize{Cols: 120, Rows: 40})
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	s.WaitEvent(t, "window-change 120x40")
	ptmx.Write([]byte("stty size; exit 7\n"))
	waitFor(t, &out, "40 120")
	select {
	case r := <-done:
		if r.code != 7 || r.err != nil {
			t.Errorf("Shell = %d, %v", r.code, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the shell did not end")
	}
	after, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if *after != *before {
		t.Errorf("the terminal was not restored: %+v, was %+v", after, before)
	}
}

func TestShellNeedsATerminal(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	c := dial(t, f, s)
	file, err := os.Create(filepath.Join(t.TempDir(), "not-a-tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := c.Shell(context.Background(), "", file); err == nil || !strings.Contains(err.Error(), "hop exec") {
		t.Errorf("Shell on a file: %v", err)
	}
}

func waitFor(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	ctx := context.Background()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		name   string
		host   string
		change func(*remote.Options)
		want   string
	}{
		{"no cache", host, func(o *remote.Options) {
			o.Source = &tickets.Source{Config: f.lab.Config, CCache: filepath.Join(t.TempDir(), "none")}
		}, "you have no Kerberos ticket: run hop login"},
		{"expired", host, func(o *remote.Options) {
			o.Source = &tickets.Source{Config: f.lab.Config, CCache: f.src.CCache, Now: func() time.Time { return time.Now().Add(72 * time.Hour) }}
		}, "your ticket expired: run hop login"},
		{"unknown service", "nohost.example.test", nil, "knows no service host/nohost.example.test"},
		{"nothing listens", host, func(o *remote.Options) { o.Address = closedAddr }, "nothing listens on " + closedAddr + ": is hop agent running there"},
		{"DNS", host, func(o *remote.Options) {
			o.Address = ""
			o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
			}
		}, "unknown host: DNS has no address for b.example.test"},
		{"clock skew", host, func(o *remote.Options) {
			o.Now = func() time.Time { return time.Now().Add(time.Hour) }
		}, "check that both clocks are right"},
		{"address", "127.0.0.1", nil, "give the host's DNS name, not an address"},
		{"bad port", "b.example.test:http", nil, "is not a port number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.options(s)
			if tc.change != nil {
				tc.change(&o)
			}
			_, err := remote.Dial(ctx, tc.host, o)
			var re *remote.Error
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Dial = %v (%T), want a one-line *remote.Error with %q", err, err, tc.want)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
