package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hop/dc"
	"hop/domain"
)

// benchKDCEnv, when set in the environment, makes TestBenchKDCProcess a
// hop kdc serving the domain in that folder: the KDC of the bench tests
// runs in a process of its own, so that its CPU time is its alone.
const benchKDCEnv = "HOP_TEST_BENCH_KDC_DIR"

// TestBenchKDCProcess is not a test: it is the KDC process of
// startBenchKDC (the test binary run again with benchKDCEnv set).
func TestBenchKDCProcess(t *testing.T) {
	dir := os.Getenv(benchKDCEnv)
	if dir == "" {
		t.Skip("the KDC process of the bench tests, started by them")
	}
	// Runs until the test that started it kills it (bounded by its own
	// deadline too, should that test die first).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, errOut, code := hopCtx(ctx, "", "kdc", "--dir", dir, "--listen", "127.0.0.1:0", "--kpasswd-listen", "off", "--log-level", "warn"); code != 0 {
		t.Fatalf("hop kdc: exit %d: %s", code, errOut)
	}
}

// startBenchKDC runs hop kdc for the domain in dir in a child process and
// returns its pid and UDP/TCP address.
func startBenchKDC(t *testing.T, dir string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchKDCProcess$", "-test.timeout=6m")
	cmd.Env = append(os.Environ(), benchKDCEnv+"="+dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := dc.ReadState(domain.Folder(dir).State())
		if err == nil && st.PID == cmd.Process.Pid && len(st.Listen) > 0 {
			return st.PID, st.Listen[0]
		}
		select {
		case <-exited:
			t.Fatalf("the KDC process ended: %s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the KDC process did not record its address: %s", out.String())
		}
	}
}

// benchDomain makes a domain with alice, b.bench.test, and the computer
// svc.bench.test allowed to delegate to host/b.bench.test with protocol
// transition, whose keytab it exports; it returns the folder and keytab.
func benchDomain(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "d")
	kt := filepath.Join(t.TempDir(), "svc.keytab")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "bench.test")
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	ok(t, "", "account", "add-computer", "b.bench.test", "--dir", dir)
	ok(t, "", "account", "add-computer", "svc.bench.test", "--dir", dir)
	ok(t, "", "account", "set", "svc$", "--dir", dir, "--allowed-to-delegate-to", "host/b.bench.test", "--protocol-transition")
	ok(t, "", "keytab", "export", "svc$", "-o", kt, "--dir", dir)
	return dir, kt
}

func TestBenchKDC(t *testing.T) {
	dir, kt := benchDomain(t)
	pid, addr := startBenchKDC(t, dir)
	// Enough requests for the KDC to use some 50 ms of CPU or more: /proc
	// counts CPU time in ticks of 10 ms.
	const n = 2000
	common := []string{"bench", "kdc", "--kdc", addr, "--concurrency", "4", "--duration", "60s", "--max-requests", strconv.Itoa(n),
		"--kdc-pid", strconv.Itoa(pid), "--etypes", "aes256-cts-hmac-sha1-96", "--json"}
	for _, tc := range []struct {
		name, mode string
		args       []string
		exchanges  int
	}{
		{"as", "as", []string{"--user", "alice@BENCH.TEST", "--password-file", "-"}, 1},
		{"as with a keytab", "as", []string{"--user", "svc$@BENCH.TEST", "--keytab", kt}, 1},
		{"tgs", "tgs", []string{"--user", "alice@BENCH.TEST", "--password-file", "-", "--spn", "host/b.bench.test"}, 1},
		{"s4u", "s4u", []string{"--keytab", kt, "--service-principal", "svc$@BENCH.TEST", "--impersonate", "alice", "--spn", "host/b.bench.test"}, 2},
		{"s4u-self", "s4u-self", []string{"--keytab", kt, "--impersonate", "alice"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{}, common...), "--mode", tc.mode), tc.args...)
			var r benchResult
			out := ok(t, "Alice-pw-1\n", args...)
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if r.Mode != tc.mode || r.Requests != n || r.OK != n || r.Errors != 0 || r.FirstError != "" || r.ExchangesPerRequest != tc.exchanges {
				t.Errorf("mode %s, %d requests, %d ok, %d errors (%q), %d exchanges each; want %s, %d, %d, 0, %d", r.Mode, r.Requests, r.OK, r.Errors, r.FirstError, r.ExchangesPerRequest, tc.mode, n, n, tc.exchanges)
			}
			if len(r.KDCPids) != 1 || r.KDCPids[0] != pid || r.KDCCPUSeconds == nil || *r.KDCCPUSeconds <= 0 ||
				r.KDCCPUPerRequest == nil || *r.KDCCPUPerRequest <= 0 {
				t.Errorf("the KDC's CPU: pids %v, %s s, %s µs per request; want a positive figure for pid %d\n%s", r.KDCPids, deref(r.KDCCPUSeconds), deref(r.KDCCPUPerRequest), pid, out)
			}
			if r.KDCCPUPerRequest != nil && r.GeneratorCPUPerRequest != nil {
				t.Logf("%d %s requests: KDC %.1f µs, generator %.1f µs of CPU per request", r.OK, tc.mode, *r.KDCCPUPerRequest, *r.GeneratorCPUPerRequest)
			}
			if r.GeneratorCPUSeconds <= 0 || r.GeneratorCPUPerRequest == nil {
				t.Errorf("the generator's CPU: %v s, %s µs per request", r.GeneratorCPUSeconds, deref(r.GeneratorCPUPerRequest))
			}
		})
	}

	// The text output names the figures per operation in s4u mode.
	out := ok(t, "", "bench", "kdc", "--kdc", addr, "--mode", "s4u", "--keytab", kt, "--impersonate", "alice", "--spn", "host/b.bench.test",
		"--max-requests", "20", "--concurrency", "2", "--kdc-pid", strconv.Itoa(pid))
	for _, want := range []string{"mode s4u (2 KDC exchanges per operation)", "operations 20  ok 20  errors 0", "µs per successful operation", "generator CPU"} {
		if !strings.Contains(out, want) {
			t.Errorf("hop bench kdc --mode s4u prints\n%s\nwithout %q", out, want)
		}
	}

	// A refused delegation counts as an error: svc$ may not delegate to
	// cifs/b.bench.test.
	fails(t, 1, "no request succeeded", "", "bench", "kdc", "--kdc", addr, "--mode", "s4u", "--keytab", kt, "--impersonate", "alice",
		"--spn", "cifs/b.bench.test", "--max-requests", "5", "--concurrency", "1")
	// So does a user the KDC does not know.
	fails(t, 1, "no request succeeded", "", "bench", "kdc", "--kdc", addr, "--mode", "s4u-self", "--keytab", kt, "--impersonate", "nobody",
		"--max-requests", "5", "--concurrency", "1")
}

// deref prints a figure that may be absent.
func deref(f *float64) string {
	if f == nil {
		return "absent"
	}
	return strconv.FormatFloat(*f, 'g', 4, 64)
}

func TestBenchKDCUsage(t *testing.T) {
	kdc := []string{"bench", "kdc", "--kdc", "127.0.0.1:88"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "s4u", "--impersonate", "alice", "--spn", "host/b.bench.test"}, "--mode s4u needs --keytab FILE with the service's key"},
		{[]string{"--mode", "s4u", "--keytab", "svc.keytab", "--spn", "host/b.bench.test"}, "--mode s4u needs --impersonate USER"},
		{[]string{"--mode", "s4u", "--keytab", "svc.keytab", "--impersonate", "alice"}, "--mode s4u needs --spn SERVICE/HOST"},
		{[]string{"--mode", "s4u-self", "--keytab", "svc.keytab", "--impersonate", "alice", "--password-file", "pw"}, "not with --password-file"},
		{[]string{"--mode", "as", "--user", "alice@B.TEST", "--impersonate", "bob"}, "--impersonate and --service-principal are for --mode s4u"},
		{[]string{"--mode", "s4u", "--keytab", "svc.keytab", "--impersonate", "alice", "--spn", "host/b", "--s4u-padata", "pac"}, "--s4u-padata must be both, for-user or x509"},
		{[]string{"--mode", "s4u2"}, "--mode must be as, tgs, s4u or s4u-self"},
		{[]string{"--user", "alice@B.TEST", "--kdc-pid", "abc"}, `--kdc-pid "abc": want process ids`},
		{[]string{"--user", "alice@B.TEST", "--kdc-pid", "1,-4"}, `--kdc-pid "-4": want process ids`},
		// Above the largest pid_max Linux allows (2^22).
		{[]string{"--user", "alice@B.TEST", "--kdc-pid", "4194305"}, "--kdc-pid 4194305: no such process"},
	} {
		fails(t, 2, c.want, "", append(append([]string{}, kdc...), c.args...)...)
	}
	fails(t, 2, "is not a loopback address", "", "bench", "kdc", "--kdc", "192.0.2.1:88", "--user", "alice@B.TEST")
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 50,
	// cutime 100, cstime 0 ticks: 4 s.
	line := "4242 (krb5 (kdc) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 100 0 20 0 3 0 12345 100000 500 18446744073709551615\n"
	d, err := parseProcStat(line)
	if err != nil || d != 4*time.Second {
		t.Errorf("parseProcStat = %v, %v; want 4s", d, err)
	}
	for _, bad := range []string{"", "4242 krb5kdc S 1", "4242 (kdc) S 1 2 3", "4242 (kdc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 x 50 100 0 20"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", bad)
		}
	}
	// This process has used some CPU time.
	if d, err := procCPU(os.Getpid()); err != nil || d < 0 {
		t.Errorf("procCPU(self) = %v, %v", d, err)
	}
}
