package interop

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

// Issue 4 end to end: the admin API and kpasswd that hop kdc serves, judged
// by real clients (curl --negotiate, MIT kinit/kvno/klist/kpasswd) and by
// hop's own CLI over the network, all with tickets MIT's kinit wrote.

const (
	adminUserPW = "Admin-User-Pass-1" // the user admin, a member of Domain Admins
	adminErinPW = "Erin-Pass-12345"
)

// adminDomain creates a domain whose admin API certificate names
// admin.example.test (and, by default, 127.0.0.1), with the users alice (no
// rights) and admin (in Domain Admins), the computer c$ managed by alice and
// the computer d$ that nobody manages.
func adminDomain(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hop")
	hop(t, adminPW+"\n", "domain", "init", "--dir", dir, "--realm", strings.ToLower(realm), "--admin-password-file", "-",
		"--admin-name", "admin.example.test")
	hop(t, alicePW+"\n", "account", "add", "alice", "--dir", dir)
	hop(t, adminUserPW+"\n", "account", "add", "admin", "--dir", dir)
	hop(t, "", "group", "add-member", "Domain Admins", "admin", "--dir", dir)
	hop(t, "", "account", "add-computer", "c.example.test", "--dir", dir)
	hop(t, "", "account", "set", "c$", "--managed-by", "alice", "--dir", dir)
	hop(t, "", "account", "add-computer", "d.example.test", "--dir", dir)
	return dir
}

// adminKDC is a running hop kdc as its DIR/kdc.json records it.
type adminKDC struct {
	PID      int      `json:"pid"`
	Listen   []string `json:"listen"`
	Kpasswd  string   `json:"kpasswd"`
	AdminURL string   `json:"admin_url"`
	AdminPin string   `json:"admin_tls_pin"`
}

// adminPort is the port of the admin API's URL.
func (k *adminKDC) adminPort(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(k.AdminURL)
	if err != nil || u.Port() == "" {
		t.Fatalf("admin URL %q in kdc.json: %v", k.AdminURL, err)
	}
	return u.Port()
}

// adminStartKDC starts hop kdc on dir with --listen 127.0.0.1:0 and args,
// waits (at most startWait) until kdc.json names this process, and stops it
// when the test ends. Its log goes to DIR/logName.
func adminStartKDC(t *testing.T, dir, logName string, args ...string) *adminKDC {
	t.Helper()
	logPath := filepath.Join(dir, logName)
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hopBin, append([]string{"kdc", "--dir", dir, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		logf.Close()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("hop kdc %s log:\n%s", strings.Join(args, " "), b)
		}
	})
	deadline := time.Now().Add(startWait)
	for {
		var k adminKDC
		b, err := os.ReadFile(filepath.Join(dir, "kdc.json"))
		if err == nil && json.Unmarshal(b, &k) == nil && k.PID == cmd.Process.Pid && len(k.Listen) > 0 {
			return &k
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("hop kdc %s exited before it was ready: %v", strings.Join(args, " "), err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hop kdc %s did not record its addresses in kdc.json within %s", strings.Join(args, " "), startWait)
		}
	}
}

// adminConf writes what hop client-config prints for dir (with extra
// flags) to a file and returns its path.
func adminConf(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(p, []byte(hop(t, "", append([]string{"client-config", "--dir", dir}, extra...)...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// adminKinit runs MIT's kinit for user into a fresh credential cache and
// returns the client environment that uses it (HOP_DIR cleared, so that
// hop's commands find no local domain through it).
func adminKinit(t *testing.T, conf, user, pw string) []string {
	t.Helper()
	kinit := thirdparty.Require(t, "kinit")
	env := append(thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc-"+user)), "HOP_DIR=")
	if out, errOut, err := thirdparty.Run(t, env, pw+"\n", kinit, user); err != nil {
		t.Fatalf("kinit %s: %v\n%s%s", user, err, out, errOut)
	}
	return env
}

// adminKinitWorks reports whether MIT's kinit accepts pw for user.
func adminKinitWorks(t *testing.T, conf, user, pw string) bool {
	t.Helper()
	kinit := thirdparty.Require(t, "kinit")
	env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc-check"))
	_, _, err := thirdparty.Run(t, env, pw+"\n", kinit, user)
	return err == nil
}

// adminHop runs hop in env and returns its output and exit status.
func adminHop(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	out, errOut, err := thirdparty.Run(t, env, stdin, hopBin, args...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out, errOut, 0
	case errors.As(err, &ee):
		return out, errOut, ee.ExitCode()
	}
	t.Fatalf("hop %s: %v", strings.Join(args, " "), err)
	return "", "", 0
}

// adminHopOK runs hop in env and fails the test unless it succeeds.
func adminHopOK(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := adminHop(t, env, stdin, args...)
	if code != 0 {
		t.Fatalf("hop %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// adminHopRefused runs hop in env with stdin as its input; it must fail
// with exit status 1 and a message on standard error that contains every
// want.
func adminHopRefused(t *testing.T, env []string, stdin string, args []string, wants ...string) {
	t.Helper()
	out, errOut, code := adminHop(t, env, stdin, args...)
	if code != 1 {
		t.Errorf("hop %s: exit %d, want 1\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	mustContain(t, "hop "+strings.Join(args, " "), errOut, wants...)
}

// adminCertPin computes the pin of the certificate in the PEM file at
// path as curl's --pinnedpubkey defines it: sha256// and the base64 of the
// SHA-256 of its SubjectPublicKeyInfo.
func adminCertPin(t *testing.T, path string) string {
	t.Helper()
	block, _ := pem.Decode(adminRead(t, path))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256//" + base64.StdEncoding.EncodeToString(sum[:])
}

// adminRequireCurl returns the path of a curl with SPNEGO support, skipping
// the test when there is none (failing it under HOP_INTEROP=1).
func adminRequireCurl(t *testing.T) string {
	t.Helper()
	curl, err := exec.LookPath("curl")
	if err != nil {
		curl = "/usr/bin/curl"
	}
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if thirdparty.Interop() {
			t.Fatalf("%s (HOP_INTEROP=1 forbids skipping: run scripts/install-test-deps)", msg)
		}
		t.Skipf("%s (run scripts/install-test-deps)", msg)
	}
	if _, err := exec.LookPath(curl); err != nil {
		missing("curl not found")
	}
	out, _, err := thirdparty.Run(t, nil, "", curl, "--version")
	if err != nil {
		missing("curl --version: %v", err)
	}
	for _, l := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(l, "Features:"); ok && slices.Contains(strings.Fields(f), "SPNEGO") {
			return curl
		}
	}
	missing("%s has no SPNEGO support:\n%s", curl, out)
	return ""
}

// adminResponse is what curl received.
type adminResponse struct {
	status int
	header string // the response's header lines, as received
	body   string
}

// adminError decodes the API's error object.
func (r *adminResponse) adminError(t *testing.T) (status int, kind, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Status  int    `json:"status"`
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("status %d, body not an API error: %v\n%s", r.status, err, r.body)
	}
	return e.Error.Status, e.Error.Kind, e.Error.Message
}

// adminCurl sends one request with curl --negotiate -u : in env (a JSON
// body if body is not empty), with the extra curl arguments (--cacert,
// --resolve, ...), and returns the response. curl itself must succeed.
func adminCurl(t *testing.T, curl string, env []string, method, target, body string, extra ...string) *adminResponse {
	t.Helper()
	resp, out, err := adminCurlTry(t, curl, env, method, target, body, extra...)
	if err != nil {
		t.Fatalf("curl %s %s: %v\n%s", method, target, err, out)
	}
	return resp
}

// adminCurlTry is adminCurl that returns curl's failure instead.
func adminCurlTry(t *testing.T, curl string, env []string, method, target, body string, extra ...string) (*adminResponse, string, error) {
	t.Helper()
	tmp := t.TempDir()
	hdr, bodyFile := filepath.Join(tmp, "header"), filepath.Join(tmp, "body")
	args := []string{"--silent", "--show-error", "--noproxy", "*", "--max-time", "20",
		"--negotiate", "-u", ":", "--request", method,
		"--dump-header", hdr, "--output", bodyFile, "--write-out", "%{http_code}"}
	if body != "" {
		args = append(args, "--header", "Content-Type: application/json", "--data-binary", body)
	}
	args = append(append(args, extra...), target)
	out, errOut, err := thirdparty.Run(t, env, "", curl, args...)
	if err != nil {
		return nil, out + errOut, err
	}
	status, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return nil, out + errOut, fmt.Errorf("curl wrote %q as the status", out)
	}
	h, _ := os.ReadFile(hdr)
	b, _ := os.ReadFile(bodyFile)
	return &adminResponse{status: status, header: string(h), body: string(b)}, out + errOut, nil
}

// adminHeader returns the value of the response header name ("" if none).
func (r *adminResponse) adminHeader(name string) string {
	for _, l := range strings.Split(r.header, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestAdminAPICurl drives the admin API of hop kdc with curl --negotiate
// and tickets from MIT's kinit, over TLS (trusted through the certificate
// file, and through the pin that hop client-config writes, which curl
// checks itself) and over plain HTTP.
func TestAdminAPICurl(t *testing.T) {
	curl := adminRequireCurl(t)
	kdestroy := thirdparty.Require(t, "kdestroy")
	dir := adminDomain(t)
	k := adminStartKDC(t, dir, "kdc.log", "--kpasswd-listen", "127.0.0.1:0",
		"--admin-listen", "127.0.0.1:0", "--admin-name", "admin.example.test")
	port := k.adminPort(t)
	base := "https://admin.example.test:" + port
	if k.AdminURL != base {
		t.Fatalf("kdc.json admin_url %q, want %q", k.AdminURL, base)
	}
	conf := adminConf(t, dir)
	cert := filepath.Join(dir, "admin-tls.crt")
	pin := adminCertPin(t, cert)
	mustContain(t, "hop client-config", string(adminRead(t, conf)),
		"kdc = "+k.Listen[0], "kpasswd_server = "+k.Kpasswd, "admin_url = "+base, "admin_tls_pin = "+pin)
	resolve := []string{"--resolve", "admin.example.test:" + port + ":127.0.0.1"}
	tlsArgs := append([]string{"--cacert", cert}, resolve...)

	alice := adminKinit(t, conf, "alice", alicePW)
	admin := adminKinit(t, conf, "admin", adminUserPW)

	t.Run("whoami", func(t *testing.T) {
		r := adminCurl(t, curl, alice, "GET", base+"/v1/whoami", "", tlsArgs...)
		if r.status != 200 || !strings.HasPrefix(r.adminHeader("Content-Type"), "application/json") {
			t.Fatalf("status %d, Content-Type %q:\n%s", r.status, r.adminHeader("Content-Type"), r.body)
		}
		var id struct {
			Principal   string `json:"principal"`
			Account     string `json:"account"`
			DomainAdmin bool   `json:"domain_admin"`
		}
		if err := json.Unmarshal([]byte(r.body), &id); err != nil || id.Principal != "alice@EXAMPLE.TEST" || id.Account != "alice" || id.DomainAdmin {
			t.Errorf("whoami as alice: %+v (%v)\n%s", id, err, r.body)
		}
	})

	t.Run("pinned key", func(t *testing.T) {
		// The pin client-config writes is in curl's --pinnedpubkey format;
		// curl computes the served key's pin itself.
		r := adminCurl(t, curl, alice, "GET", base+"/v1/whoami", "", append([]string{"--insecure", "--pinnedpubkey", pin}, resolve...)...)
		if r.status != 200 {
			t.Errorf("curl --pinnedpubkey %s: status %d\n%s", pin, r.status, r.body)
		}
		wrong := "sha256//" + base64.StdEncoding.EncodeToString(make([]byte, sha256.Size))
		if _, out, err := adminCurlTry(t, curl, alice, "GET", base+"/v1/whoami", "", append([]string{"--insecure", "--pinnedpubkey", wrong}, resolve...)...); err == nil {
			t.Errorf("curl with a wrong pin reached the server:\n%s", out)
		}
	})

	t.Run("alice refused", func(t *testing.T) {
		tests := []struct {
			body  string
			wants []string
		}{
			{`{"description":"alice was here"}`, []string{"alice may not change the settings of account d$", "only Domain Admins may"}},
			{`{"allowed_to_act_add":["alice"]}`, []string{"alice may not set resource-based delegation on d$", "managers of d$ (none)"}},
		}
		for _, tc := range tests {
			r := adminCurl(t, curl, alice, "PATCH", base+"/v1/accounts/d$", tc.body, tlsArgs...)
			status, kind, msg := r.adminError(t)
			if r.status != 403 || status != 403 || kind != "forbidden" {
				t.Errorf("PATCH %s as alice: status %d (%d, %q)\n%s", tc.body, r.status, status, kind, r.body)
			}
			mustContain(t, "403 message", msg, tc.wants...)
		}
		// Nothing was written.
		r := adminCurl(t, curl, admin, "GET", base+"/v1/accounts/d$", "", tlsArgs...)
		var d struct {
			Description string `json:"description"`
			Delegation  struct {
				AllowedToAct []string `json:"allowed_to_act"`
			} `json:"delegation"`
		}
		if err := json.Unmarshal([]byte(r.body), &d); r.status != 200 || err != nil || d.Description != "" || len(d.Delegation.AllowedToAct) != 0 {
			t.Errorf("d$ after refused changes: status %d, %+v (%v)", r.status, d, err)
		}
	})

	t.Run("admin creates an account", func(t *testing.T) {
		body := `{"kind":"user","name":"erin","password":"` + adminErinPW + `"}`
		r := adminCurl(t, curl, admin, "POST", base+"/v1/accounts", body, tlsArgs...)
		var a struct {
			Name      string `json:"name"`
			Principal string `json:"principal"`
			Revision  uint64 `json:"revision"`
		}
		if err := json.Unmarshal([]byte(r.body), &a); r.status != 201 || err != nil || a.Name != "erin" || a.Principal != "erin@EXAMPLE.TEST" {
			t.Fatalf("POST /v1/accounts as admin: status %d, %+v (%v)\n%s", r.status, a, err, r.body)
		}
		if etag := r.adminHeader("ETag"); etag != strconv.Quote(strconv.FormatUint(a.Revision, 10)) {
			t.Errorf("ETag %q for revision %d", etag, a.Revision)
		}
		if !adminKinitWorks(t, conf, "erin", adminErinPW) {
			t.Error("MIT kinit erin with the password given to the API fails")
		}
		r = adminCurl(t, curl, admin, "POST", base+"/v1/accounts", body, tlsArgs...)
		if status, kind, _ := r.adminError(t); r.status != 409 || status != 409 || kind != "exists" {
			t.Errorf("creating erin again: status %d, kind %q\n%s", r.status, kind, r.body)
		}
		r = adminCurl(t, curl, alice, "POST", base+"/v1/accounts", `{"kind":"user","name":"frank","password":"Frank-Pass-123"}`, tlsArgs...)
		if _, _, msg := r.adminError(t); r.status != 403 || !strings.Contains(msg, "create the user account frank") {
			t.Errorf("alice creating frank: status %d\n%s", r.status, r.body)
		}
	})

	t.Run("audit", func(t *testing.T) {
		// The KDC writes its events within 200ms: poll for alice's AS
		// exchange, which kinit made before.
		var events []map[string]any
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := adminCurl(t, curl, admin, "GET", base+"/v1/audit?principal=alice", "", tlsArgs...)
			if r.status != 200 {
				t.Fatalf("GET /v1/audit as admin: status %d\n%s", r.status, r.body)
			}
			events = nil
			if err := json.Unmarshal([]byte(r.body), &events); err != nil {
				t.Fatalf("GET /v1/audit: %v\n%s", err, r.body)
			}
			if slices.ContainsFunc(events, func(e map[string]any) bool {
				return e["type"] == "as.issued" && e["client"] == "alice@EXAMPLE.TEST"
			}) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		var asIssued, denied int
		for _, e := range events {
			b, _ := json.Marshal(e)
			if !strings.Contains(string(b), "alice") {
				t.Errorf("audit event not about alice: %s", b)
			}
			switch {
			case e["type"] == "as.issued" && e["client"] == "alice@EXAMPLE.TEST":
				asIssued++
			case e["type"] == "directory.denied" && e["actor"] == "alice" && e["target"] == "d$":
				denied++
			}
		}
		if asIssued == 0 || denied != 2 {
			t.Errorf("audit for alice: %d as.issued, %d denials on d$ (want ≥1 and 2) in %d events", asIssued, denied, len(events))
		}
		r := adminCurl(t, curl, alice, "GET", base+"/v1/audit?principal=alice", "", tlsArgs...)
		if _, kind, msg := r.adminError(t); r.status != 403 || kind != "forbidden" || !strings.Contains(msg, "audit log") || !strings.Contains(msg, "Domain Admins") {
			t.Errorf("GET /v1/audit as alice: status %d\n%s", r.status, r.body)
		}
	})

	t.Run("plain HTTP", func(t *testing.T) {
		// A second hop kdc on the same directory serves the API without TLS.
		k2 := adminStartKDC(t, dir, "kdc-http.log", "--kpasswd-listen", "off",
			"--admin-listen", "127.0.0.1:0", "--admin-name", "admin.example.test", "--admin-tls=false")
		port2 := k2.adminPort(t)
		if want := "http://admin.example.test:" + port2; k2.AdminURL != want || k2.AdminPin != "" {
			t.Fatalf("kdc.json: admin_url %q pin %q, want %q and no pin", k2.AdminURL, k2.AdminPin, want)
		}
		res := []string{"--resolve", "admin.example.test:" + port2 + ":127.0.0.1"}
		r := adminCurl(t, curl, admin, "GET", k2.AdminURL+"/v1/whoami", "", res...)
		if r.status != 200 || !strings.Contains(r.body, `"principal": "admin@EXAMPLE.TEST"`) || !strings.Contains(r.body, `"domain_admin": true`) {
			t.Errorf("whoami over HTTP as admin: status %d\n%s", r.status, r.body)
		}
		anon := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "none"))
		if r := adminCurl(t, curl, anon, "GET", k2.AdminURL+"/v1/whoami", "", res...); r.status != 401 {
			t.Errorf("whoami over HTTP without a ticket: status %d\n%s", r.status, r.body)
		}
	})

	t.Run("no ticket", func(t *testing.T) {
		if out, errOut, err := thirdparty.Run(t, alice, "", kdestroy); err != nil {
			t.Fatalf("kdestroy: %v\n%s%s", err, out, errOut)
		}
		r := adminCurl(t, curl, alice, "GET", base+"/v1/whoami", "", tlsArgs...)
		status, kind, msg := r.adminError(t)
		if r.status != 401 || status != 401 || kind != "unauthenticated" || !strings.HasPrefix(r.adminHeader("WWW-Authenticate"), "Negotiate") {
			t.Errorf("whoami after kdestroy: status %d, WWW-Authenticate %q\n%s", r.status, r.adminHeader("WWW-Authenticate"), r.body)
		}
		mustContain(t, "401 message", msg, "kinit")
	})
}

// TestAdminCLIRemote runs hop's own commands against the admin API of hop
// kdc with --server (and with admin_url from krb5.conf), authenticated by
// the credential caches MIT's kinit wrote; MIT's kinit, klist and kvno
// judge the results.
func TestAdminCLIRemote(t *testing.T) {
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
	dir := adminDomain(t)
	// The SPN HTTP/127.0.0.1 lets the URL name the loopback address
	// directly: nothing has to resolve admin.example.test.
	k := adminStartKDC(t, dir, "kdc.log", "--kpasswd-listen", "off",
		"--admin-listen", "127.0.0.1:0", "--admin-name", "127.0.0.1")
	server := "https://127.0.0.1:" + k.adminPort(t)
	if k.AdminURL != server {
		t.Fatalf("kdc.json admin_url %q, want %q", k.AdminURL, server)
	}
	conf := adminConf(t, dir)
	alice := adminKinit(t, conf, "alice", alicePW)
	admin := adminKinit(t, conf, "admin", adminUserPW)

	t.Run("show", func(t *testing.T) {
		out := adminHopOK(t, alice, "", "account", "show", "alice", "--json", "--server", server)
		var a struct {
			Name, Principal string
		}
		if err := json.Unmarshal([]byte(out), &a); err != nil || a.Name != "alice" || a.Principal != "alice@EXAMPLE.TEST" {
			t.Errorf("account show alice: %+v (%v)\n%s", a, err, out)
		}
	})

	t.Run("add", func(t *testing.T) {
		adminHopRefused(t, alice, bobPW+"\n", []string{"account", "add", "bob", "--password-file", "-", "--server", server},
			"alice may not create the user account bob", "Domain Admins")
		adminHopRefused(t, admin, "", []string{"account", "show", "bob", "--server", server}, `no account "bob"`)
		out := adminHopOK(t, admin, bobPW+"\n", "account", "add", "bob", "--password-file", "-", "--server", server)
		mustContain(t, "account add bob", out, "bob@EXAMPLE.TEST")
		if !adminKinitWorks(t, conf, "bob", bobPW) {
			t.Error("MIT kinit bob fails after hop account add bob --server")
		}
	})

	t.Run("name scripts", func(t *testing.T) {
		adminHopRefused(t, alice, "", []string{"domain", "set", "--name-scripts", "Cyrillic", "--server", server},
			"alice may not change the policy of domain EXAMPLE.TEST")
		adminHopOK(t, admin, "", "domain", "set", "--name-scripts", "greek,cyrillic", "--server", server)
		var dom struct {
			Policy struct {
				NameScripts []string `json:"name_scripts"`
			} `json:"policy"`
		}
		out := adminHopOK(t, alice, "", "domain", "show", "--json", "--server", server)
		if err := json.Unmarshal([]byte(out), &dom); err != nil || !slices.Equal(dom.Policy.NameScripts, []string{"Cyrillic", "Greek"}) {
			t.Errorf("name_scripts over the admin API: %v (%v)\n%s", dom.Policy.NameScripts, err, out)
		}
		adminHopOK(t, admin, "Olga-pw-1234\n", "account", "add", "Olga-Ольга", "--password-file", "-", "--server", server)
		adminHopOK(t, admin, "", "domain", "set", "--name-scripts", "default", "--server", server)
		adminHopRefused(t, admin, "Vera-pw-1234\n", []string{"account", "add", "Vera-Вера", "--password-file", "-", "--server", server},
			"mixes the letters of Latin")
	})

	t.Run("manager sets RBCD", func(t *testing.T) {
		adminHopOK(t, alice, "", "account", "set", "c$", "--allowed-to-act", "+alice", "--server", server)
		out := adminHopOK(t, alice, "", "account", "show", "c$", "--json", "--server", server)
		var c struct {
			Delegation struct {
				AllowedToAct []string `json:"allowed_to_act"`
			} `json:"delegation"`
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil || !slices.Equal(c.Delegation.AllowedToAct, []string{"alice"}) {
			t.Errorf("c$ allowed_to_act after +alice: %v (%v)", c.Delegation.AllowedToAct, err)
		}
		adminHopRefused(t, alice, "", []string{"account", "set", "d$", "--allowed-to-act", "+alice", "--server", server},
			"alice may not set resource-based delegation on d$", "managers of d$")
		adminHopRefused(t, alice, "", []string{"account", "set", "c$", "--trusted-for-delegation", "--server", server},
			"alice may not change", "only Domain Admins may")
	})

	t.Run("manager rotates a keytab", func(t *testing.T) {
		var before struct{ KVNO uint32 }
		if err := json.Unmarshal([]byte(adminHopOK(t, alice, "", "account", "show", "c$", "--json", "--server", server)), &before); err != nil {
			t.Fatal(err)
		}
		kt := filepath.Join(t.TempDir(), "c.keytab")
		adminHopOK(t, alice, "", "keytab", "export", "c$", "-o", kt, "--rotate", "--server", server)
		if fi, err := os.Stat(kt); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("keytab %s: %v %v, want mode 0600", kt, fi.Mode(), err)
		}
		want := before.KVNO + 1
		out, errOut, err := thirdparty.Run(t, alice, "", klist, "-k", kt)
		if err != nil {
			t.Fatalf("klist -k: %v\n%s%s", err, out, errOut)
		}
		for _, p := range []string{"c$@EXAMPLE.TEST", "host/c.example.test@EXAMPLE.TEST", "host/c@EXAMPLE.TEST"} {
			mustContain(t, "klist -k", out, fmt.Sprintf("%d %s", want, p))
		}
		// kvno gets a fresh ticket for host/c.example.test from the KDC and
		// decrypts it with the keytab's key.
		out, errOut, err = thirdparty.Run(t, alice, "", kvno, "-k", kt, "host/c.example.test")
		if err != nil {
			t.Fatalf("kvno -k: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "kvno -k", out, fmt.Sprintf("host/c.example.test@EXAMPLE.TEST: kvno = %d, keytab entry valid", want))

		adminHopRefused(t, alice, "", []string{"keytab", "export", "d$", "-o", kt + ".d", "--rotate", "--server", server},
			"alice may not change the keys of d$", "managers of d$")
		if _, err := os.Stat(kt + ".d"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused export wrote %s: %v", kt+".d", err)
		}
	})

	t.Run("wrong pin", func(t *testing.T) {
		pin := adminCertPin(t, filepath.Join(dir, "admin-tls.crt"))
		wrong := "sha256//" + base64.StdEncoding.EncodeToString(make([]byte, sha256.Size))
		text := string(adminRead(t, conf))
		if !strings.Contains(text, "admin_tls_pin = "+pin) {
			t.Fatalf("no admin_tls_pin = %s in:\n%s", pin, text)
		}
		bad := filepath.Join(t.TempDir(), "krb5.conf")
		if err := os.WriteFile(bad, []byte(strings.Replace(text, pin, wrong, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		env := append(slices.Clone(alice), "KRB5_CONFIG="+bad)
		adminHopRefused(t, env, "", []string{"account", "show", "alice", "--server", server}, "admin_tls_pin", "pins "+wrong, "has "+pin)
	})

	t.Run("admin_url", func(t *testing.T) {
		// Without --server and --dir, and no domain in $HOP_DIR or the
		// default folder, hop uses krb5.conf's [hop] admin_url.
		if _, err := os.Stat("/var/lib/hop/master.key"); err == nil {
			t.Skip("/var/lib/hop holds a domain on this machine, which hop would use instead of admin_url")
		}
		mustContain(t, "krb5.conf", string(adminRead(t, conf)), "admin_url = "+server)
		out := adminHopOK(t, alice, "", "account", "show", "alice", "--json")
		mustContain(t, "account show via admin_url", out, `"principal": "alice@EXAMPLE.TEST"`)
		// It acts as alice, not as the local domain administrator.
		adminHopRefused(t, alice, "", []string{"account", "add", "frank", "--random-key"}, "alice may not create the user account frank")

		// HOP_DIR names the local domain: set, it is used even when it holds
		// none (no falling back to admin_url).
		empty := t.TempDir()
		env := append(slices.Clone(alice), "HOP_DIR="+empty)
		adminHopRefused(t, env, "", []string{"account", "show", "alice"}, "no hop domain in "+empty)
	})

	t.Run("no ticket", func(t *testing.T) {
		env := append(thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "none")), "HOP_DIR=")
		adminHopRefused(t, env, "", []string{"account", "show", "alice", "--server", server}, "kinit")
	})
}

// TestAdminKpasswd runs MIT's kpasswd against the kpasswd service of hop
// kdc, found through the kpasswd_server lines hop client-config writes.
func TestAdminKpasswd(t *testing.T) {
	kpasswd := thirdparty.Require(t, "kpasswd")
	dir := adminDomain(t)
	k := adminStartKDC(t, dir, "kdc.log", "--kpasswd-listen", "127.0.0.1:0")
	if k.Kpasswd == "" || k.Kpasswd == k.Listen[0] {
		t.Fatalf("kdc.json kpasswd %q (KDC %v)", k.Kpasswd, k.Listen)
	}
	conf := adminConf(t, dir)
	mustContain(t, "hop client-config", string(adminRead(t, conf)), "kpasswd_server = "+k.Kpasswd)

	change := func(old, new string) (string, error) {
		env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
		out, errOut, err := thirdparty.Run(t, env, old+"\n"+new+"\n"+new+"\n", kpasswd, "alice")
		return out + errOut, err
	}
	const newPW = "Alice-Changed-2"
	out, err := change(alicePW, newPW)
	if err != nil {
		t.Fatalf("kpasswd alice: %v\n%s", err, out)
	}
	mustContain(t, "kpasswd", out, "Password changed.")
	if !adminKinitWorks(t, conf, "alice", newPW) {
		t.Fatal("kinit alice with the new password fails")
	}
	if adminKinitWorks(t, conf, "alice", alicePW) {
		t.Fatal("kinit alice with the old password still works")
	}

	// The domain's policy asks for 8 characters at least.
	out, err = change(newPW, "short1")
	if err == nil {
		t.Fatalf("kpasswd to a 6-character password succeeded:\n%s", out)
	}
	mustContain(t, "kpasswd (too short)", out, "6 characters", "at least 8")
	if !adminKinitWorks(t, conf, "alice", newPW) || adminKinitWorks(t, conf, "alice", "short1") {
		t.Fatal("a refused change changed the password")
	}
}

// adminRead returns the contents of the file at path.
func adminRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAdminChangesSurviveKDCKill: the KDC killed with SIGKILL while hop
// account add --server runs in a loop: every change the admin API
// acknowledged exists after the restart, and every account made has its
// audit event (hop audit verify --dir, and the log read directly).
func TestAdminChangesSurviveKDCKill(t *testing.T) {
	dir := adminDomain(t)
	k := adminStartKDC(t, dir, "kdc.log", "--kpasswd-listen", "off", "--admin-listen", "127.0.0.1:0", "--admin-name", "127.0.0.1")
	conf := adminConf(t, dir)
	admin := adminKinit(t, conf, "admin", adminUserPW)
	server := "https://127.0.0.1:" + k.adminPort(t)

	const n = 30
	acked := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			name := fmt.Sprintf("srv-%02d", i)
			if _, _, code := adminHop(t, admin, bobPW+"\n", "account", "add", name, "--password-file", "-", "--server", server); code == 0 {
				acked[name] = true
			}
		}
	}()
	time.Sleep(400 * time.Millisecond)
	if err := syscall.Kill(k.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if len(acked) == 0 || len(acked) == n {
		t.Fatalf("%d of %d changes acknowledged: the kill did not fall within the loop", len(acked), n)
	}
	adminStartKDC(t, dir, "kdc2.log", "--kpasswd-listen", "off")
	out := hop(t, "", "audit", "verify", "--dir", dir)
	if !strings.Contains(out, "each have their audit event") {
		t.Errorf("hop audit verify --dir after the restart:\n%s", out)
	}
	var accounts []struct{ Name string }
	if err := json.Unmarshal([]byte(hop(t, "", "account", "list", "--dir", dir, "--json")), &accounts); err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, a := range accounts {
		exists[a.Name] = true
	}
	created := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(adminRead(t, filepath.Join(dir, "audit.log")))), "\n") {
		var ev struct{ Type, Target string }
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "directory.account.create" {
			created[ev.Target] = true
		}
	}
	for name := range acked {
		if !exists[name] {
			t.Errorf("%s was acknowledged but does not exist after the restart", name)
		}
	}
	made := 0
	for name := range exists {
		if strings.HasPrefix(name, "srv-") {
			made++
			if !created[name] {
				t.Errorf("%s exists but the log has no directory.account.create for it", name)
			}
		}
	}
	t.Logf("%d of %d acknowledged before the kill, %d made", len(acked), n, made)
}
