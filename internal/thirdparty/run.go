package thirdparty

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RunTimeout bounds every process started by Run and RunIn.
const RunTimeout = 30 * time.Second

// Run runs the program name with args and returns what it wrote to stdout
// and stderr. stdin is its standard input (a password for kinit, say).
//
// The environment is the test process's own, minus every KRB5* variable (so
// that a developer's KRB5CCNAME or KRB5_CONFIG never leaks into a test), plus
// env, whose later entries win. The process runs in its own process group,
// which is killed when it exits or after RunTimeout, whichever is first: no
// child it started survives (a daemon that calls setsid itself does, and its
// starter must stop it). Run works in t.Cleanup functions too. err is the
// exec error, e.g. an *exec.ExitError for
// a non-zero exit status.
func Run(t testing.TB, env []string, stdin string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return run(testContext(t), RunTimeout, "", env, stdin, name, args...)
}

// RunIn is Run with dir as the working directory (impacket's getTGT.py, for
// one, writes NAME.ccache into its working directory).
func RunIn(t testing.TB, dir string, env []string, stdin string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return run(testContext(t), RunTimeout, dir, env, stdin, name, args...)
}

// testContext is t.Context(), or a fresh context in a Cleanup function (t's
// context is canceled just before those run), so that Run works there too.
func testContext(t testing.TB) context.Context {
	if ctx := t.Context(); ctx.Err() == nil {
		return ctx
	}
	return context.Background()
}

// ClientEnv is the environment for a Kerberos client using the krb5.conf at
// conf and the file credentials cache ccache: KRB5_CONFIG, KRB5CCNAME and no
// replay cache (KRB5RCACHETYPE=none, KRB5RCACHENAME=none:) so that repeated
// authentications within a second never trip over a shared replay cache.
func ClientEnv(conf, ccache string) []string {
	return []string{
		"KRB5_CONFIG=" + conf,
		"KRB5CCNAME=FILE:" + ccache,
		"KRB5RCACHETYPE=none",
		"KRB5RCACHENAME=none:",
	}
}

// run is Run under the parent context ctx (t.Context() is already canceled
// when Cleanup functions run: they pass context.Background()).
func run(ctx context.Context, timeout time.Duration, dir string, env []string, stdin string, name string, args ...string) (string, string, error) {
	return runAs(ctx, timeout, nil, dir, env, stdin, name, args...)
}

// runAs is run as the account cred names (nil: the test process's own), as
// PostgreSQL's programs must run when the tests run as root.
func runAs(ctx context.Context, timeout time.Duration, cred *syscall.Credential, dir string, env []string, stdin string, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(filterEnv(os.Environ()), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var outb, errb bytes.Buffer
	cmd.Stdout = &outb
	cmd.Stderr = &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A grandchild that keeps stdout open must not hold Wait forever.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		// Whatever the process left in its group goes with it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("thirdparty: %s did not finish within %v: %w", name, timeout, err)
	}
	return outb.String(), errb.String(), err
}

// filterEnv drops the Kerberos variables a developer's shell may carry.
func filterEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "KRB5") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// FreeLoopbackPort returns a port that is free on the loopback address ip for
// both TCP and UDP at the time of the call (a KDC serves both). Another
// process may take it before the caller binds it: StartMITKDC retries for
// that reason. ip must be a loopback address (127.0.0.0/8 or ::1).
func FreeLoopbackPort(t testing.TB, ip string) int {
	t.Helper()
	if a := net.ParseIP(ip); a == nil || !a.IsLoopback() {
		t.Fatalf("thirdparty: FreeLoopbackPort(%q): not a loopback address", ip)
	}
	var lastErr error
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("thirdparty: listen on %s: %v", ip, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		l.Close()
		if err != nil {
			lastErr = err
			continue
		}
		u.Close()
		return port
	}
	t.Fatalf("thirdparty: no port free for both TCP and UDP on %s: %v", ip, lastErr)
	return 0
}

// portFree reports whether host:port can be bound now for TCP and UDP.
func portFree(host string, port int) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	return u.Close()
}

// port88Candidates lists the loopback addresses OnPort88 tries, in order.
func port88Candidates() []string {
	c := []string{"127.0.0.88"}
	for i := 89; i < 100; i++ {
		c = append(c, "127.0.0."+strconv.Itoa(i))
	}
	// Spread further tries over 127.88.x.y so that concurrent test
	// processes rarely collide.
	seed := uint32(os.Getpid())
	for range 20 {
		seed = seed*1664525 + 1013904223
		c = append(c, fmt.Sprintf("127.88.%d.%d", seed>>16&0xff, 1+(seed>>8&0xff)%254))
	}
	return c
}

// OnPort88 calls start with "A:88" for loopback addresses A, 127.0.0.88
// first, where port 88 is free for TCP and UDP, until start returns nil, and
// returns that address. It is for clients such as impacket that can only talk
// to port 88; another test process may hold 127.0.0.88:88, hence the other
// candidates. start must leave nothing running when it returns an error.
// Binding port 88 needs root or CAP_NET_BIND_SERVICE: without it the test is
// skipped (failed under HOP_INTEROP=1).
func OnPort88(t testing.TB, start func(addr string) error) string {
	t.Helper()
	var errs []string
	for _, host := range port88Candidates() {
		err := portFree(host, 88)
		if err != nil {
			if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
				missing(t, "binding port 88 needs root or CAP_NET_BIND_SERVICE: %v", err)
				return ""
			}
			errs = append(errs, err.Error())
			continue
		}
		addr := net.JoinHostPort(host, "88")
		if err := start(addr); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", addr, err))
			continue
		}
		return addr
	}
	t.Fatalf("thirdparty: no loopback address with port 88 free could be used:\n%s", strings.Join(errs, "\n"))
	return ""
}
