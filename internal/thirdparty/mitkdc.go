package thirdparty

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// MITKDC is a throwaway realm served by MIT's krb5kdc, made by
// scripts/mit-kdc: the reference KDC that hop's clients and tools are checked
// against, and that the test harness itself is proved against.
type MITKDC struct {
	Dir   string // the realm's directory: kdc.conf, database, stash, krb5kdc.log
	Addr  string // host:port it serves on UDP and TCP
	Realm string
	Conf  string // krb5.conf for clients (Dir/krb5.conf, same settings as Krb5Conf)

	script string
}

// StartMITKDC creates realm in a new directory under t.TempDir(), adds the
// users (name -> password; they require pre-authentication, as in Active
// Directory) and the services (SPNs such as "HTTP/web.example.test", with
// random keys), and starts krb5kdc on addr, a loopback address. A port of 0
// picks a free port (and retries if another process takes it first). The KDC
// is stopped by t.Cleanup. The test is skipped when MIT's KDC is not
// installed, or fails under HOP_INTEROP=1.
func StartMITKDC(t testing.TB, realm, addr string, users map[string]string, services []string) *MITKDC {
	t.Helper()
	return startWithRetry(t, addr, func(addr string) (*MITKDC, error) {
		return TryStartMITKDC(t, realm, addr, users, services)
	})
}

// TryStartMITKDC is StartMITKDC on exactly addr, returning an error instead
// of failing the test when the KDC does not start (as when addr is in use:
// see OnPort88). Missing MIT tools still skip or fail the test.
func TryStartMITKDC(t testing.TB, realm, addr string, users map[string]string, services []string) (*MITKDC, error) {
	t.Helper()
	for _, tool := range []string{"krb5kdc", "kdb5_util", "kadmin.local"} {
		Require(t, tool)
	}
	k := &MITKDC{Dir: filepath.Join(t.TempDir(), "mit-kdc"), Addr: addr, Realm: realm, script: repoScript(t, "mit-kdc")}
	t.Cleanup(func() { k.stop(t, t.Failed()) })
	conf, err := startScriptKDC(t, k.script, k.Dir, k.AdminEnv(), realm, addr, users, services)
	if err != nil {
		return nil, err
	}
	k.Conf = conf
	return k, nil
}

// AdminEnv is the environment of MIT's administration tools (kadmin.local,
// kdb5_util) for this realm.
func (k *MITKDC) AdminEnv() []string {
	return []string{
		"KRB5_CONFIG=" + filepath.Join(k.Dir, "krb5.conf"),
		"KRB5_KDC_PROFILE=" + filepath.Join(k.Dir, "kdc.conf"),
	}
}

// Keytab exports principal's current keys (kadmin.local ktadd -norandkey:
// the keys do not change) into a new keytab file under t.TempDir() and
// returns its path.
func (k *MITKDC) Keytab(t testing.TB, principal string) string {
	t.Helper()
	return scriptKeytab(t, k.script, k.Dir, k.AdminEnv(), principal)
}

// Kadmin runs one kadmin.local query on the realm's database and returns its
// output; a failed query fails the test.
func (k *MITKDC) Kadmin(t testing.TB, query string) string {
	t.Helper()
	stdout, stderr, err := run(testContext(t), RunTimeout, "", k.AdminEnv(), "", k.script, "kadmin", k.Dir, query)
	if err != nil {
		t.Fatalf("thirdparty: kadmin.local %q: %v\n%s", query, err, stderr)
	}
	return stdout
}

// Stop stops the KDC now (t.Cleanup does it anyway); stopping twice is fine.
func (k *MITKDC) Stop(t testing.TB) {
	t.Helper()
	k.stop(t, false)
}

// Log returns the KDC's log (one line per request, errors included).
func (k *MITKDC) Log() string {
	b, _ := os.ReadFile(filepath.Join(k.Dir, "krb5kdc.log"))
	return string(b)
}

func (k *MITKDC) stop(t testing.TB, showLog bool) {
	stopScriptKDC(t, k.script, k.Dir, k.AdminEnv(), showLog, k.Log, "krb5kdc.pid", "krb5kdc")
}

// startWithRetry starts a KDC with start on addr or, when addr's port is 0,
// on a free port, trying other ports if another process takes one first.
func startWithRetry[K any](t testing.TB, addr string, start func(addr string) (K, error)) K {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("thirdparty: KDC address %q: %v", addr, err)
	}
	if port != "0" {
		k, err := start(addr)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	for try := 0; ; try++ {
		k, err := start(net.JoinHostPort(host, strconv.Itoa(FreeLoopbackPort(t, host))))
		if err == nil {
			return k
		}
		if try == 4 || !errors.Is(err, errAddrInUse) {
			t.Fatal(err)
		}
		t.Logf("thirdparty: retrying on another port: %v", err)
	}
}

// errAddrInUse is wrapped by the TryStart functions' errors when the
// address was taken.
var errAddrInUse = errors.New("address in use")

// startScriptKDC runs "script start dir ..." (scripts/mit-kdc or
// scripts/heimdal-kdc) and returns the client krb5.conf it printed.
func startScriptKDC(t testing.TB, script, dir string, env []string, realm, addr string, users map[string]string, services []string) (string, error) {
	args := []string{"start", dir, "--realm", realm, "--listen", addr}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	slices.Sort(names)
	for _, u := range names {
		args = append(args, "--user", u+":"+users[u])
	}
	for _, s := range services {
		args = append(args, "--service", s)
	}
	stdout, stderr, err := run(testContext(t), RunTimeout, "", env, "", script, args...)
	if err != nil {
		err = fmt.Errorf("thirdparty: %s start %s on %s: %v\n%s", filepath.Base(script), realm, addr, err, strings.TrimSpace(stderr))
		if strings.Contains(stderr, "in use") || strings.Contains(stderr, "shared with another process") {
			err = fmt.Errorf("%w (%w)", err, errAddrInUse)
		}
		return "", err
	}
	conf := strings.TrimSpace(stdout)
	if conf == "" {
		return "", fmt.Errorf("thirdparty: %s start printed no krb5.conf path", filepath.Base(script))
	}
	return conf, nil
}

func scriptKeytab(t testing.TB, script, dir string, env []string, principal string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "principal.keytab")
	if _, stderr, err := run(testContext(t), RunTimeout, "", env, "", script, "keytab", dir, principal, p); err != nil {
		t.Fatalf("thirdparty: export keytab of %s: %v\n%s", principal, err, stderr)
	}
	return p
}

// stopScriptKDC runs "script stop dir", after logging the tail of the KDC's
// log if showLog; should the script fail, it kills the pid in dir/pidfile.
func stopScriptKDC(t testing.TB, script, dir string, env []string, showLog bool, log func() string, pidfile, name string) {
	if showLog {
		lines := strings.Split(strings.TrimSpace(log()), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		t.Logf("thirdparty: tail of the KDC's log in %s:\n%s", dir, strings.Join(lines, "\n"))
	}
	// t.Context() is canceled by the time Cleanup functions run.
	_, stderr, err := run(context.Background(), RunTimeout, "", env, "", script, "stop", dir)
	if err == nil {
		return
	}
	t.Errorf("thirdparty: %s stop %s: %v\n%s", filepath.Base(script), dir, err, stderr)
	killPidFile(filepath.Join(dir, pidfile), name)
}

// killPidFile kills the process named in pidfile if its command line still
// contains want (the pid may have been reused).
func killPidFile(pidfile, want string) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(want)) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

var repoRootCache struct {
	once sync.Once
	dir  string
	err  error
}

// repoScript returns the path of scripts/name in hop's repository, found by
// walking up from the working directory (a package directory under go test)
// to the go.mod of module hop.
func repoScript(t testing.TB, name string) string {
	t.Helper()
	repoRootCache.once.Do(func() {
		repoRootCache.dir, repoRootCache.err = findRepoRoot()
	})
	if repoRootCache.err != nil {
		t.Fatalf("thirdparty: %v", repoRootCache.err)
	}
	p := filepath.Join(repoRootCache.dir, "scripts", name)
	if !executable(p) {
		t.Fatalf("thirdparty: %s is missing or not executable", p)
	}
	return p
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			s := bufio.NewScanner(f)
			for s.Scan() {
				if fs := strings.Fields(s.Text()); len(fs) == 2 && fs[0] == "module" && fs[1] == "hop" {
					f.Close()
					return dir, nil
				}
			}
			f.Close()
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the repository of module hop is not above the working directory")
		}
		dir = parent
	}
}
