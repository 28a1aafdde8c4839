package thirdparty

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Interop reports whether the interoperability tests are mandatory
// (HOP_INTEROP=1, as scripts/test sets it): then a missing third-party tool
// fails a test instead of skipping it.
func Interop() bool {
	return os.Getenv("HOP_INTEROP") == "1"
}

// missing skips the test, or fails it under HOP_INTEROP=1.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "thirdparty: " + fmt.Sprintf(format, args...)
	if Interop() {
		t.Fatalf("%s (HOP_INTEROP=1 forbids skipping: run scripts/install-test-deps)", msg)
	}
	t.Skipf("%s (run scripts/install-test-deps)", msg)
}

// mitEnvName is the variable of install-test-deps's env file that names an
// MIT tool: kadmin.local -> HOP_MIT_KADMIN_LOCAL.
func mitEnvName(tool string) string {
	return "HOP_MIT_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(tool))
}

// Require returns the path of the MIT Kerberos tool named tool ("kinit",
// "klist", "kvno", "kdestroy", "ktutil", "krb5kdc", "kdb5_util",
// "kadmin.local"): from HOP_MIT_<TOOL> if set, else from PATH, /usr/bin or
// /usr/sbin. A Heimdal tool installed in MIT's place (Debian's alternatives
// can do that) does not count. When the tool is missing the test is skipped,
// or fails under HOP_INTEROP=1.
func Require(t testing.TB, tool string) string {
	t.Helper()
	if tool == "" || strings.ContainsRune(tool, '/') {
		t.Fatalf("thirdparty: Require(%q): want a bare tool name", tool)
	}
	var cands []string
	if p, ok := lookupEnv(mitEnvName(tool)); ok {
		cands = append(cands, p)
	}
	if p, err := exec.LookPath(tool); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/"+tool, "/usr/sbin/"+tool)
	for _, p := range cands {
		if !executable(p) {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && strings.Contains(filepath.Base(real), "heimdal") {
			continue
		}
		return p
	}
	missing(t, "MIT Kerberos %s not found (Debian packages krb5-user, krb5-kdc)", tool)
	return ""
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Heimdal holds the paths of Heimdal's tools, unpacked by
// scripts/install-test-deps into a private prefix. They need Env (the
// LD_LIBRARY_PATH of Heimdal's libraries) in their environment: pass it to
// Run along with ClientEnv. Heimdal reads KRB5_CONFIG and KRB5CCNAME as MIT
// does.
type Heimdal struct {
	Kinit    string // kinit; --password-file=STDIN reads the password from stdin
	Kgetcred string // kgetcred SERVICE: gets a service ticket (MIT's kvno)
	Klist    string // klist (a link named klist to heimtools)
	Kdestroy string // kdestroy, "" if not installed
	Kvno     string // heimtools' kvno, "" if not installed

	// The KDC and its database tools, "" when they do not run from the
	// prefix (see StartHeimdalKDC).
	KDC    string
	Kadmin string // kadmin; -l works on the database directly
	Kstash string

	Env []string // LD_LIBRARY_PATH=...
}

// libDir is the directory of Heimdal's libraries, from Env.
func (h *Heimdal) libDir() string {
	for _, kv := range h.Env {
		if v, ok := strings.CutPrefix(kv, "LD_LIBRARY_PATH="); ok {
			return v
		}
	}
	return ""
}

// RequireHeimdal returns Heimdal's tools from the HOP_HEIMDAL_* variables
// (or the env file), skipping the test if they are missing, or failing it
// under HOP_INTEROP=1.
func RequireHeimdal(t testing.TB) *Heimdal {
	t.Helper()
	need := func(name string) string {
		p, ok := lookupEnv(name)
		if !ok {
			missing(t, "Heimdal is not installed: %s is not set and %s does not name it", name, toolsEnvFile())
			return ""
		}
		if _, err := os.Stat(p); err != nil {
			missing(t, "Heimdal: %s=%s: %v", name, p, err)
			return ""
		}
		return p
	}
	opt := func(name string) string {
		p, ok := lookupEnv(name)
		if !ok {
			return ""
		}
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	h := &Heimdal{
		Kinit:    need("HOP_HEIMDAL_KINIT"),
		Kgetcred: need("HOP_HEIMDAL_KGETCRED"),
		Klist:    need("HOP_HEIMDAL_KLIST"),
		Kdestroy: opt("HOP_HEIMDAL_KDESTROY"),
		Kvno:     opt("HOP_HEIMDAL_KVNO"),
		Env:      []string{"LD_LIBRARY_PATH=" + need("HOP_HEIMDAL_LD_LIBRARY_PATH")},
	}
	if kdc, kadmin, kstash := opt("HOP_HEIMDAL_KDC"), opt("HOP_HEIMDAL_KADMIN"), opt("HOP_HEIMDAL_KSTASH"); kdc != "" && kadmin != "" && kstash != "" {
		h.KDC, h.Kadmin, h.Kstash = kdc, kadmin, kstash
	}
	return h
}

var impacketCheck struct {
	once sync.Once
	err  error
}

// RequireImpacket returns the Python interpreter that has impacket and the
// path of impacket's getTGT.py (HOP_IMPACKET_PYTHON and HOP_IMPACKET_GETTGT
// or the env file; Debian's defaults otherwise). Run it as
// python getTGT.py -dc-ip IP REALM/user:password in a directory of its own:
// it writes user.ccache there. The test is skipped when impacket is missing,
// or fails under HOP_INTEROP=1.
func RequireImpacket(t testing.TB) (python, getTGT string) {
	t.Helper()
	return RequireImpacketScript(t, "getTGT.py")
}

// RequireImpacketScript is RequireImpacket for any of impacket's example
// scripts ("getTGT.py", "getST.py", ...): it returns the interpreter and the
// script's path.
func RequireImpacketScript(t testing.TB, script string) (python, path string) {
	t.Helper()
	if script == "" || strings.ContainsRune(script, '/') {
		t.Fatalf("thirdparty: RequireImpacketScript(%q): want a bare script name", script)
	}
	python, ok := lookupEnv("HOP_IMPACKET_PYTHON")
	if !ok {
		python = "/usr/bin/python3"
	}
	if !executable(python) {
		missing(t, "impacket's Python %s not found (Debian package python3-impacket)", python)
		return "", ""
	}
	impacketCheck.once.Do(func() {
		_, stderr, err := run(testContext(t), RunTimeout, "", nil, "", python, "-c", "import impacket.krb5.kerberosv5")
		if err != nil {
			impacketCheck.err = fmt.Errorf("%s cannot import impacket: %v: %s", python, err, strings.TrimSpace(stderr))
		}
	})
	if impacketCheck.err != nil {
		missing(t, "%v", impacketCheck.err)
		return "", ""
	}
	var dirs []string
	if p, ok := lookupEnv("HOP_IMPACKET_GETTGT"); ok {
		dirs = append(dirs, filepath.Dir(p))
	}
	if p, ok := lookupEnv("HOP_IMPACKET_GETST"); ok {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/usr/share/doc/python3-impacket/examples")
	for _, d := range dirs {
		p := filepath.Join(d, script)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return python, p
		}
	}
	missing(t, "impacket's %s not found (Debian package python3-impacket)", script)
	return "", ""
}
