package thirdparty

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseEnvFile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		err  bool
	}{
		{
			name: "as install-test-deps writes it",
			in:   "# comment\n\nexport HOP_TOOLS_DIR=/opt/hop-tools\nexport HOP_HEIMDAL_KINIT=/opt/hop-tools/heimdal/bin/kinit\n",
			want: map[string]string{"HOP_TOOLS_DIR": "/opt/hop-tools", "HOP_HEIMDAL_KINIT": "/opt/hop-tools/heimdal/bin/kinit"},
		},
		{
			// bash: printf %q '/opt/my tools/a&b' -> /opt/my\ tools/a\&b
			name: "backslash escapes",
			in:   `export A=/opt/my\ tools/a\&b`,
			want: map[string]string{"A": "/opt/my tools/a&b"},
		},
		{
			// bash: printf %q $'a\nb\tc' -> $'a\nb\tc'
			name: "ANSI-C quoting",
			in:   `export A=$'a\nb\tc\x41\101\'q'`,
			want: map[string]string{"A": "a\nb\tcAA'q"},
		},
		{
			name: "single and double quotes, no export",
			in:   `A='x y'"z \"w\" \$"` + "\nB=",
			want: map[string]string{"A": `x yz "w" $`, "B": ""},
		},
		{name: "unquoted space", in: "export A=a b", err: true},
		{name: "expansion", in: "export A=$HOME/x", err: true},
		{name: "command substitution", in: "export A=`id`", err: true},
		{name: "expansion in double quotes", in: `export A="$HOME"`, err: true},
		{name: "unterminated single quote", in: "export A='abc", err: true},
		{name: "unterminated ANSI-C quote", in: `export A=$'abc\'`, err: true},
		{name: "not an assignment", in: "echo hi", err: true},
		{name: "bad name", in: "export 1A=x", err: true},
		{name: "trailing backslash", in: `export A=abc\`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnvFile([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatalf("ParseEnvFile(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEnvFile(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseEnvFile(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("ParseEnvFile(%q)[%s] = %q, want %q", tt.in, k, got[k], v)
				}
			}
		})
	}
}

// TestParseEnvFileBash checks the decoder against bash itself: whatever
// bash's printf %q writes, ParseEnvFile must read back as bash would.
func TestParseEnvFileBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	values := []string{
		"/opt/hop-tools/heimdal/bin/kinit",
		"/opt/my tools/with 'quotes' and \"double\"",
		"tab\tnewline\nbell\a end",
		"$HOME `id` ~user #x *?[a] {b,c} a;b|c&d (e) <f> !g \\h",
		"ünïcødé \x01\x7f",
		"~",
		"",
	}
	var script strings.Builder
	env := []string{}
	for i, v := range values {
		n := strconv.Itoa(i)
		script.WriteString("printf 'export V" + n + "=%q\\n' \"$X" + n + "\"\n")
		env = append(env, "X"+n+"="+v)
	}
	out, stderr, err := Run(t, env, "", bash, "-c", script.String())
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr)
	}
	got, err := ParseEnvFile([]byte(out))
	if err != nil {
		t.Fatalf("ParseEnvFile(bash's output): %v\n%s", err, out)
	}
	for i, v := range values {
		if g := got[fmt.Sprintf("V%d", i)]; g != v {
			t.Errorf("value %d: bash wrote %q, decoded as %q, want %q", i, strings.Split(out, "\n")[i], g, v)
		}
	}
}

// shellQuote quotes s for a shell with single quotes, as a second producer
// independent of bash's %q.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte("export HOP_TOOLS_DIR=/opt/hop-tools\nexport HOP_HEIMDAL_KINIT=/opt/hop-tools/heimdal/bin/kinit\n"), "value")
	f.Add([]byte(`export A=$'a\nb\x41\101\'' B='x'"y" C=a\ b`), "it's")
	f.Add([]byte("# only a comment\n\n"), "")
	f.Add([]byte(`A="\$\"\\\`+"`"+`"`), "a\nb")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		// Arbitrary input: an error or a map, never a panic.
		if vars, err := ParseEnvFile(data); err == nil && vars == nil {
			t.Fatalf("ParseEnvFile(%q) returned neither variables nor an error", data)
		}
		// A value quoted by shellQuote reads back unchanged (line breaks
		// aside: the file is line-oriented).
		if strings.ContainsAny(value, "\n") {
			return
		}
		vars, err := ParseEnvFile([]byte("export HOP_X=" + shellQuote(value) + "\n"))
		if err != nil {
			t.Fatalf("ParseEnvFile(quoted %q): %v", value, err)
		}
		if vars["HOP_X"] != value {
			t.Fatalf("ParseEnvFile(quoted %q) = %q", value, vars["HOP_X"])
		}
	})
}

func TestKrb5Conf(t *testing.T) {
	tests := []struct {
		name  string
		realm string
		kdcs  []string
		want  []string
	}{
		{
			name:  "one KDC",
			realm: "EXAMPLE.TEST",
			kdcs:  []string{"127.0.0.1:8888"},
			want: []string{
				"default_realm = EXAMPLE.TEST",
				"dns_lookup_kdc = false",
				"dns_lookup_realm = false",
				"rdns = false",
				"EXAMPLE.TEST = {\n\t\tkdc = 127.0.0.1:8888\n\t}",
				"permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128",
				"default_etypes = aes256-cts-hmac-sha1-96",
			},
		},
		{
			name:  "several KDCs, IPv6",
			realm: "B.TEST",
			kdcs:  []string{"127.0.0.2:88", "[::1]:750"},
			want:  []string{"B.TEST = {\n\t\tkdc = 127.0.0.2:88\n\t\tkdc = [::1]:750\n\t}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Krb5Conf(tt.realm, tt.kdcs...)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Krb5Conf(%q, %q) lacks %q:\n%s", tt.realm, tt.kdcs, w, got)
				}
			}
			if strings.Contains(got, "udp_preference_limit") {
				t.Errorf("Krb5Conf sets udp_preference_limit; it must keep the default")
			}
		})
	}

	multi := Krb5ConfRealms("A.TEST", map[string][]string{"B.TEST": {"127.0.0.1:2"}, "A.TEST": {"127.0.0.1:1"}})
	if a, b := strings.Index(multi, "A.TEST = {"), strings.Index(multi, "B.TEST = {"); a < 0 || b < 0 || a > b {
		t.Errorf("Krb5ConfRealms: want both realms, sorted:\n%s", multi)
	}

	for _, bad := range []string{"", "A TEST", "A}", "A\nkdc = evil"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Krb5Conf(%q) did not panic", bad)
				}
			}()
			Krb5Conf(bad, "127.0.0.1:88")
		}()
	}

	p := WriteKrb5Conf(t, "EXAMPLE.TEST", "127.0.0.1:8888")
	b, err := os.ReadFile(p)
	if err != nil || string(b) != Krb5Conf("EXAMPLE.TEST", "127.0.0.1:8888") {
		t.Errorf("WriteKrb5Conf wrote %q, %v", b, err)
	}
}

func TestRun(t *testing.T) {
	t.Setenv("KRB5CCNAME", "FILE:/must/not/leak")
	tests := []struct {
		name       string
		env        []string
		stdin      string
		script     string
		wantOut    string
		wantErr    string
		wantStatus int
	}{
		{name: "stdin to stdout", stdin: "secret\n", script: "cat", wantOut: "secret\n"},
		{name: "stderr apart", script: "echo out; echo err >&2", wantOut: "out\n", wantErr: "err\n"},
		{name: "env added", env: []string{"HOP_T=1", "HOP_T=2"}, script: `echo "$HOP_T"`, wantOut: "2\n"},
		{name: "KRB5 variables dropped", script: `echo "${KRB5CCNAME-unset}"`, wantOut: "unset\n"},
		{name: "KRB5 variables set by the caller", env: []string{"KRB5CCNAME=FILE:/x"}, script: `echo "$KRB5CCNAME"`, wantOut: "FILE:/x\n"},
		{name: "exit status", script: "exit 3", wantStatus: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := Run(t, tt.env, tt.stdin, "/bin/sh", "-c", tt.script)
			if out != tt.wantOut || errOut != tt.wantErr {
				t.Errorf("Run(%q) = %q, %q; want %q, %q", tt.script, out, errOut, tt.wantOut, tt.wantErr)
			}
			var ee *exec.ExitError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Errorf("Run(%q): %v", tt.script, err)
			case tt.wantStatus != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tt.wantStatus):
				t.Errorf("Run(%q): err %v, want exit status %d", tt.script, err, tt.wantStatus)
			}
		})
	}

	t.Run("in Cleanup", func(t *testing.T) {
		var out string
		var err error
		t.Run("inner", func(t *testing.T) {
			t.Cleanup(func() { out, _, err = Run(t, nil, "", "/bin/echo", "hi") })
		})
		if out != "hi\n" || err != nil {
			t.Errorf("Run in a Cleanup function = %q, %v; want \"hi\\n\", nil", out, err)
		}
	})

	dir := t.TempDir()
	if out, _, err := RunIn(t, dir, nil, "", "/bin/sh", "-c", "pwd -P"); err != nil || strings.TrimSpace(out) != mustEval(t, dir) {
		t.Errorf("RunIn(%s): pwd = %q, %v", dir, out, err)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dead reports whether pid has exited (a zombie waiting for its reaper counts).
func dead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesized command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
		if dead(pid) {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d outlived Run", pid)
}

func TestRunKillsProcessGroup(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		start := time.Now()
		_, _, err := run(t.Context(), 300*time.Millisecond, "", nil, "", "/bin/sh", "-c",
			`sleep 60 >/dev/null 2>&1 & echo $! >`+pidfile+`; wait`)
		if err == nil || !strings.Contains(err.Error(), "did not finish within") {
			t.Errorf("run past its timeout: err = %v, want a timeout", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("run took %v after a 300ms timeout", d)
		}
		b, err := os.ReadFile(pidfile)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		waitDead(t, pid)
	})
	t.Run("leftover child", func(t *testing.T) {
		out, _, err := Run(t, nil, "", "/bin/sh", "-c", `sleep 60 >/dev/null 2>&1 & echo $!`)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		waitDead(t, pid)
	})
}

func TestFreeLoopbackPort(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "127.0.0.77"} {
		port := FreeLoopbackPort(t, ip)
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeLoopbackPort(%s) = %d, but TCP: %v", ip, port, err)
		}
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatalf("FreeLoopbackPort(%s) = %d, but UDP: %v", ip, port, err)
		}
		// Taken now: portFree must say so.
		if err := portFree(ip, port); err == nil {
			t.Errorf("portFree(%s) = nil while the port is bound", addr)
		}
		l.Close()
		u.Close()
	}
}

func TestPort88Candidates(t *testing.T) {
	c := port88Candidates()
	if len(c) < 10 || c[0] != "127.0.0.88" {
		t.Fatalf("port88Candidates() = %q, want 127.0.0.88 first and several more", c)
	}
	for _, h := range c {
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			t.Errorf("candidate %q is not a loopback address", h)
		}
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of acting on
// the real test; like the real ones they end the calling goroutine.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any)  { r.Skipf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func record(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestMissingToolSkipsOrFails(t *testing.T) {
	checks := []struct {
		name string
		call func(tb testing.TB)
	}{
		{"Require", func(tb testing.TB) { Require(tb, "no-such-kerberos-tool") }},
		{"RequireHeimdal", func(tb testing.TB) { RequireHeimdal(tb) }},
		{"RequireImpacketScript", func(tb testing.TB) { RequireImpacketScript(tb, "noSuchScript.py") }},
	}
	t.Setenv("HOP_HEIMDAL_KINIT", "/nonexistent/kinit")
	for _, c := range checks {
		for _, interop := range []string{"", "1"} {
			t.Run(fmt.Sprintf("%s/HOP_INTEROP=%s", c.name, interop), func(t *testing.T) {
				t.Setenv("HOP_INTEROP", interop)
				r := record(t, c.call)
				if interop == "1" && (!r.failed || r.skipped) {
					t.Errorf("with HOP_INTEROP=1: failed=%v skipped=%v, want a failure", r.failed, r.skipped)
				}
				if interop == "" && (!r.skipped || r.failed) {
					t.Errorf("without HOP_INTEROP: failed=%v skipped=%v (%s), want a skip", r.failed, r.skipped, r.msg)
				}
				if !strings.Contains(r.msg, "install-test-deps") {
					t.Errorf("message %q does not say how to install", r.msg)
				}
			})
		}
	}
}

func TestRequireRejectsHeimdal(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "kinit.heimdal")
	if err := os.WriteFile(real, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "kinit")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOP_MIT_KINIT", link)
	t.Setenv("PATH", dir)
	t.Setenv("HOP_INTEROP", "")
	r := record(t, func(tb testing.TB) {
		if p := Require(tb, "kinit"); p == link {
			tb.Fatalf("Require took Heimdal's kinit %s for MIT's", p)
		}
	})
	if r.failed {
		t.Error(r.msg)
	}
}

func TestMitEnvName(t *testing.T) {
	for tool, want := range map[string]string{"kinit": "HOP_MIT_KINIT", "kadmin.local": "HOP_MIT_KADMIN_LOCAL", "kdb5_util": "HOP_MIT_KDB5_UTIL"} {
		if got := mitEnvName(tool); got != want {
			t.Errorf("mitEnvName(%q) = %q, want %q", tool, got, want)
		}
	}
}

// TestFixedEnv checks that FixedEnv names an empty krb5.conf of its own and
// fixes the zone and the locale, so that two tests never share a profile
// and MIT's dates read the same everywhere.
func TestFixedEnv(t *testing.T) {
	env := map[string]string{}
	for _, kv := range FixedEnv(t) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if env["TZ"] != "UTC" || env["LC_ALL"] != "C" || env["PATH"] != os.Getenv("PATH") || env["HOME"] == "" {
		t.Errorf("FixedEnv = %v", env)
	}
	b, err := os.ReadFile(env["KRB5_CONFIG"])
	if err != nil || string(b) != "[libdefaults]\n" {
		t.Errorf("KRB5_CONFIG %s holds %q, %v; want an empty profile", env["KRB5_CONFIG"], b, err)
	}
	if other := FixedEnv(t); other[0] == "KRB5_CONFIG="+env["KRB5_CONFIG"] {
		t.Error("two calls share one krb5.conf")
	}
}
