package keytab

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hop/internal/thirdparty"
	"hop/krb5"
)

// ptySession runs a program on a pseudo-terminal, because ktutil reads
// keys with the terminal password prompter and will not take them from a
// pipe.
type ptySession struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	seen   int // bytes of out already matched
	notify chan struct{}
	done   chan struct{}
}

func startPTY(t *testing.T, ctx context.Context, env []string, name string, args ...string) *ptySession {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		master.Close()
		t.Fatalf("ptsname: %v", err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open pty slave: %v", err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		master.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	slave.Close()
	s := &ptySession{t: t, master: master, cmd: cmd, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.notify <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		master.Close()
	})
	return s
}

func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the program prints want, then sends line.
func (s *ptySession) expect(want, line string) {
	s.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		i := strings.Index(s.out.String()[s.seen:], want)
		if i >= 0 {
			s.seen += i + len(want)
		}
		s.mu.Unlock()
		if i >= 0 {
			break
		}
		select {
		case <-s.notify:
		case <-s.done:
			s.t.Fatalf("program ended before printing %q; output:\n%s", want, s.output())
		case <-deadline:
			s.t.Fatalf("timed out waiting for %q; output:\n%s", want, s.output())
		}
	}
	if _, err := s.master.Write([]byte(line + "\n")); err != nil {
		s.t.Fatalf("write to pty: %v", err)
	}
}

func (s *ptySession) wait() {
	s.t.Helper()
	err := s.cmd.Wait()
	<-s.done
	if err != nil {
		s.t.Fatalf("%s: %v\n%s", s.cmd.Path, err, s.output())
	}
}

// TestParseKeytabFromMITKtutil has MIT's ktutil make a keytab (addent -key,
// wkt) and parses it; then ktutil reads a hop-written keytab (rkt) and
// writes it again (wkt), and hop parses MIT's copy.
func TestParseKeytabFromMITKtutil(t *testing.T) {
	ktutil := thirdparty.Require(t, "ktutil")
	dir := t.TempDir()
	mitPath := filepath.Join(dir, "mit.keytab")
	keys := []struct {
		principal string
		kvno      uint32
		etype     string
		et        krb5.EncType
		key       string
	}{
		{"host/a.hop.test@HOP.TEST", 3, "aes256-cts-hmac-sha1-96", krb5.AES256CTSHMACSHA196,
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
		{"HTTP/web.hop.test@HOP.TEST", 300, "aes128-cts-hmac-sha1-96", krb5.AES128CTSHMACSHA196,
			"202122232425262728292a2b2c2d2e2f"},
		{"a/b/c@OTHER.TEST", 7, "aes256-cts-hmac-sha384-192", krb5.AES256CTSHMACSHA384192,
			"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := time.Now().Add(-2 * time.Second)
	s := startPTY(t, ctx, thirdparty.FixedEnv(t), ktutil)
	for _, k := range keys {
		s.expect("ktutil:", fmt.Sprintf("addent -key -p %s -k %d -e %s", k.principal, k.kvno, k.etype))
		s.expect("(hex):", k.key)
	}
	s.expect("ktutil:", "wkt "+mitPath)
	s.expect("ktutil:", "quit")
	s.wait()
	after := time.Now().Add(2 * time.Second)

	kt, err := Load(mitPath)
	if err != nil {
		t.Fatalf("%v\nktutil session:\n%s", err, s.output())
	}
	if len(kt.Entries) != len(keys) {
		t.Fatalf("parsed %d entries %v, want %d", len(kt.Entries), kt.Entries, len(keys))
	}
	for i, k := range keys {
		e := kt.Entries[i]
		if e.Principal.String() != k.principal || e.KVNO != k.kvno || e.EncType != k.et || hex.EncodeToString(e.Key) != k.key {
			t.Errorf("entry %d = %v key %x, want %s kvno %d %v key %s", i, e, e.Key, k.principal, k.kvno, k.et, k.key)
		}
		if e.Timestamp.Before(before.Truncate(time.Second)) || e.Timestamp.After(after) {
			t.Errorf("entry %d timestamp %v is not between %v and %v", i, e.Timestamp, before, after)
		}
	}

	// MIT reads a hop keytab and writes it back out. ktutil's wkt stamps
	// every entry with the current time, so timestamps are checked apart.
	hopPath := filepath.Join(dir, "hop.keytab")
	copyPath := filepath.Join(dir, "copy.keytab")
	want := sampleKeytab(t)
	if err := want.Save(hopPath); err != nil {
		t.Fatal(err)
	}
	before = time.Now().Add(-2 * time.Second)
	s = startPTY(t, ctx, thirdparty.FixedEnv(t), ktutil)
	s.expect("ktutil:", "rkt "+hopPath)
	s.expect("ktutil:", "wkt "+copyPath)
	s.expect("ktutil:", "quit")
	s.wait()
	after = time.Now().Add(2 * time.Second)
	got, err := Load(copyPath)
	if err != nil {
		t.Fatalf("%v\nktutil session:\n%s", err, s.output())
	}
	for i := range got.Entries {
		if ts := got.Entries[i].Timestamp; ts.Before(before.Truncate(time.Second)) || ts.After(after) {
			t.Errorf("copy entry %d timestamp %v is not between %v and %v", i, ts, before, after)
		}
		got.Entries[i].Timestamp = time.Time{}
	}
	for i := range want.Entries {
		want.Entries[i].Timestamp = time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MIT's copy of the hop keytab:\n got %v\nwant %v", got.Entries, want.Entries)
	}
}
