package dc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/audit"
	"hop/domain"
	"hop/krb5"
	"hop/krb5/client"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c     Config
		field string // "" = valid
	}{
		{Config{Folder: "d"}, ""},
		{Config{Folder: "d", Listen: []string{"127.0.0.1:0", "[::1]:88"}, KpasswdListen: "off", AdminListen: ":8443", AdminNames: []string{"dc.example.test"}}, ""},
		{Config{}, "Folder"},
		{Config{Folder: "d", Listen: []string{"127.0.0.1"}}, "Listen"},
		{Config{Folder: "d", KpasswdListen: "on"}, "KpasswdListen"},
		{Config{Folder: "d", AdminListen: "localhost"}, "AdminListen"},
		{Config{Folder: "d", AdminNames: []string{"dc.example.test"}}, "AdminNames"},
		{Config{Folder: "d", MaxUDPReply: -1}, "MaxUDPReply"},
	} {
		err := tc.c.Validate()
		var ce *ConfigError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tc.c, err)
		case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field):
			t.Errorf("Validate(%+v) = %v, want a ConfigError for %s", tc.c, err, tc.field)
		}
	}
}

// outFile returns a file for a server's output (an *os.File takes
// concurrent writes) and a function that reads what was written.
func outFile(t *testing.T) (*os.File, func() string) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, func() string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// run starts a Server for c and returns its state once it is ready, and a
// function that stops it and returns Run's result.
func run(t *testing.T, c Config) (State, func() error) {
	t.Helper()
	srv, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return runServer(t, srv)
}

func runServer(t *testing.T, srv *Server) (State, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	readyc := make(chan State, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, func(st State) { readyc <- st }) }()
	var stop func() error
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			stop = func() error { return err }
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	select {
	case st := <-readyc:
		return st, func() error { return stop() }
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	return State{}, nil
}

func newDomain(t *testing.T) domain.Folder {
	t.Helper()
	dir := t.TempDir()
	if _, err := domain.Create(context.Background(), dir, domain.CreateOptions{Realm: "example.test", AdminPassword: "Admin-pw-1"}); err != nil {
		t.Fatal(err)
	}
	return domain.Folder(dir)
}

func login(t *testing.T, addr, name, pw string) error {
	t.Helper()
	c := client.Dial(addr, client.UDPThenTCP, 5*time.Second)
	defer c.Close()
	_, _, err := c.Login(context.Background(), &client.Request{Client: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: "EXAMPLE.TEST"}}, pw)
	return err
}

func TestRunServesAndRecordsItsState(t *testing.T) {
	f := newDomain(t)
	st, stop := run(t, Config{Folder: string(f), Listen: []string{"127.0.0.1:0"}, KpasswdListen: "127.0.0.1:0",
		AdminListen: "127.0.0.1:0", AdminNames: []string{"127.0.0.1"}})
	if st.PID != os.Getpid() || st.Realm != "EXAMPLE.TEST" || len(st.Listen) != 1 || st.Kpasswd == "" ||
		!strings.HasPrefix(st.AdminURL, "https://127.0.0.1:") || st.AdminPin == "" || "https://"+st.AdminAddr != st.AdminURL {
		t.Errorf("state %+v", st)
	}
	rec, err := ReadState(f.State())
	if err != nil || !reflect.DeepEqual(*rec, st) {
		t.Errorf("the state file holds %+v, %v; want %+v", rec, err, st)
	}
	if err := login(t, st.Listen[0], "Administrator", "Admin-pw-1"); err != nil {
		t.Errorf("login: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := os.Stat(f.State()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state file after Run returned: %v", err)
	}
	// The KDC's events are in the folder's log, chained after Create's.
	lines, err := audit.Read(context.Background(), f.AuditLog(), audit.Query{Types: []string{"as.issued"}, Principals: []string{"administrator"}})
	if err != nil || len(lines) != 1 {
		t.Errorf("as.issued events: %q, %v", lines, err)
	}
	if _, err := audit.Verify(f.AuditLog()); err != nil {
		t.Error(err)
	}
}

func TestRunAuditStream(t *testing.T) {
	f := newDomain(t)
	events, written := outFile(t)
	st, stop := run(t, Config{Folder: string(f), Listen: []string{"127.0.0.1:0"}, AuditStream: events})
	if st.Kpasswd != "" || st.AdminURL != "" {
		t.Errorf("state %+v: want no kpasswd (port not 88) and no admin API", st)
	}
	if err := login(t, st.Listen[0], "nobody", "x"); err == nil {
		t.Error("login of an unknown principal succeeded")
	}
	stop()
	if out := written(); !strings.Contains(out, `"client":"nobody@EXAMPLE.TEST"`) {
		t.Errorf("stream = %q; want the refusal", out)
	}
}

func TestReopenAuditLog(t *testing.T) {
	f := newDomain(t)
	logs, logged := outFile(t)
	srv, err := New(Config{Folder: string(f), Listen: []string{"127.0.0.1:0"}, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.ReopenAuditLog() // not running: nothing to do
	st, stop := runServer(t, srv)
	login(t, st.Listen[0], "before", "x")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(f.AuditLog()); bytes.Contains(b, []byte("before@")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event was not written")
		}
	}
	if err := os.Rename(f.AuditLog(), f.AuditLog()+".1"); err != nil {
		t.Fatal(err)
	}
	srv.ReopenAuditLog()
	if _, err := os.Stat(f.AuditLog()); err != nil {
		t.Errorf("no new log after ReopenAuditLog: %v", err)
	}
	if out := logged(); !strings.Contains(out, "audit log reopened") {
		t.Errorf("log = %q", out)
	}
	login(t, st.Listen[0], "after", "x")
	stop()
	for file, who := range map[string]string{f.AuditLog() + ".1": "before", f.AuditLog(): "after"} {
		if lines, err := audit.Read(context.Background(), file, audit.Query{Principals: []string{who}}); err != nil || len(lines) != 1 {
			t.Errorf("%s: events of %s: %q, %v", file, who, lines, err)
		}
	}
	res, err := audit.Verify(f.AuditLog()+".1", f.AuditLog())
	if err != nil || res.Events != 3 { // the domain's creation, before and after
		t.Errorf("the chain across the rotation: %+v, %v", res, err)
	}
}

func TestRunRefusesAFolderWithoutDomain(t *testing.T) {
	srv, err := New(Config{Folder: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "no hop domain") {
		t.Errorf("Run: %v", err)
	}
}

// A busy address is a *ListenError that names the address, the setting
// and what to do, for each of the three servers.
func TestRunNamesABusyAddress(t *testing.T) {
	f := newDomain(t)
	busy, err := net.ListenPacket("udp", "127.0.0.1:0") // the KDC and kpasswd bind UDP first
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyTCP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyTCP.Close()
	for _, tc := range []struct {
		field string
		c     Config
		addr  string
	}{
		{"Listen", Config{Listen: []string{busy.LocalAddr().String()}, KpasswdListen: "off"}, busy.LocalAddr().String()},
		{"KpasswdListen", Config{Listen: []string{"127.0.0.1:0"}, KpasswdListen: busy.LocalAddr().String()}, busy.LocalAddr().String()},
		{"AdminListen", Config{Listen: []string{"127.0.0.1:0"}, KpasswdListen: "off", AdminListen: busyTCP.Addr().String(), AdminNames: []string{"127.0.0.1"}}, busyTCP.Addr().String()},
	} {
		tc.c.Folder = string(f)
		srv, err := New(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		err = srv.Run(context.Background(), nil)
		var le *ListenError
		if !errors.As(err, &le) || le.Field != tc.field || le.Addr != tc.addr || !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("%s busy: %v; want a *ListenError for %s", tc.field, err, tc.addr)
			continue
		}
		want := "dc: cannot listen on " + tc.addr + ": something already listens there (another hop kdc, or another KDC?); stop it, or give " + tc.field + " another ADDR:PORT"
		if err.Error() != want {
			t.Errorf("%s busy: %q; want %q", tc.field, err, want)
		}
	}
}

// TestAuditBounds: the KDC rotates its audit log at AuditMaxSize, keeps
// AuditMaxFiles rotated files, and the kept files verify together. (One
// source's refusals are coalesced past ten: the bound is small.)
func TestAuditBounds(t *testing.T) {
	f := newDomain(t)
	st, stop := run(t, Config{Folder: string(f), Listen: []string{"127.0.0.1:0"}, AuditMaxSize: 600, AuditMaxFiles: 2})
	// The log is written every audit.FlushInterval: each write rotates a
	// full file.
	for i := range 8 {
		login(t, st.Listen[0], fmt.Sprintf("nobody%d", i), "x")
		time.Sleep(audit.FlushInterval + 50*time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	files := audit.Rotated(f.AuditLog())
	if len(files) != 3 {
		t.Fatalf("files %v: want two rotated and the log", files)
	}
	if _, err := os.Stat(f.AuditLog() + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third rotated file was kept: %v", err)
	}
	if _, err := audit.Verify(files...); err != nil {
		t.Errorf("the kept files: %v", err)
	}
}

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, maxGCPercent}, {4 << 20, maxGCPercent}, {8 << 20, 800}, {32 << 20, 200}, {64 << 20, 100}, {1 << 30, 100},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}
