package remote_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"hop/internal/testio"
	"hop/remote/remotetest"
)

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
	var out testio.Buffer
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
	out.WaitFor(t, "hi-42", 10*time.Second)
	out.WaitFor(t, "30 100", 10*time.Second)
	now, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if now.Lflag&unix.ECHO != 0 || now.Lflag&unix.ICANON != 0 {
		t.Error("the local terminal is not in raw mode during the shell")
	}
	// A resize reaches the server as window-change.
	pty.Setsize(tty, &pty.Winsize{Cols: 120, Rows: 40})
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	s.WaitEvent(t, "window-change 120x40")
	ptmx.Write([]byte("stty size; exit 7\n"))
	out.WaitFor(t, "40 120", 10*time.Second)
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
