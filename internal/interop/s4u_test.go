package interop

import (
	"path/filepath"
	"strings"
	"testing"

	"hop/internal/thirdparty"
)

// S4U2Self with MIT's kvno -I/-U (PA-S4U-X509-USER and PA-FOR-USER, signed
// with the authenticator subkey), run with the service's own credentials
// from its keytab. The forwardable flag follows MS-SFU §3.2.5.1.2.
func TestMITS4U2Self(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	kvno := thirdparty.Require(t, "kvno")
	klist := thirdparty.Require(t, "klist")
	r := newRealm(t, "")
	kt := filepath.Join(r.dir, "b.keytab")
	s4u := func(t *testing.T, flag, user string) string {
		t.Helper()
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, "", kinit, "-k", "-t", kt, "host/b.example.test"); err != nil {
			t.Fatalf("kinit -k: %v\n%s%s", err, out, errOut)
		}
		if out, errOut, err := thirdparty.Run(t, env, "", kvno, flag, user, "host/b.example.test"); err != nil {
			t.Fatalf("kvno %s %s: %v\n%s%s", flag, user, err, out, errOut)
		}
		out, _, err := thirdparty.Run(t, env, "", klist, "-f")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "for client "+user+"@EXAMPLE.TEST") {
				return line[strings.Index(line, "Flags: ")+len("Flags: "):]
			}
		}
		t.Fatalf("no S4U2Self ticket for %s in:\n%s", user, out)
		return ""
	}
	forwardable := func(flags string) bool { return strings.Contains(flags, "F") }

	if f := s4u(t, "-I", "alice"); !forwardable(f) {
		t.Errorf("no delegation settings: flags %q, want forwardable (empty KCD list)", f)
	}
	hop(t, "", "account", "set", "b$", "--allowed-to-delegate-to", "cifs/c.example.test", "--dir", r.dir)
	if f := s4u(t, "-U", "alice"); forwardable(f) {
		t.Errorf("KCD without protocol transition: flags %q, want not forwardable", f)
	}
	hop(t, "", "account", "set", "b$", "--protocol-transition", "--dir", r.dir)
	if f := s4u(t, "-U", "alice"); !forwardable(f) {
		t.Errorf("protocol transition: flags %q, want forwardable", f)
	}
	hop(t, "", "account", "set", "alice", "--sensitive", "--dir", r.dir)
	if f := s4u(t, "-U", "alice"); forwardable(f) {
		t.Errorf("sensitive user: flags %q, want not forwardable", f)
	}
	waitContains(t, filepath.Join(r.dir, "audit.log"), `"type":"tgs.s4u2self"`, "not forwardable: alice is sensitive and cannot be delegated")

	t.Run("unknown user", func(t *testing.T) {
		env, _ := r.env(t)
		thirdparty.Run(t, env, "", kinit, "-k", "-t", kt, "host/b.example.test")
		if _, _, err := thirdparty.Run(t, env, "", kvno, "-U", "nobody", "host/b.example.test"); err == nil {
			t.Error("S4U2Self for an unknown user succeeded")
		}
	})
}

// impacket's getST.py sends S4U2Self with PA-FOR-USER only (HMAC-MD5 over
// the S4UByteArray) and names the service by its account name.
func TestImpacketS4U2Self(t *testing.T) {
	python, getST := thirdparty.RequireImpacketScript(t, "getST.py")
	r := newDomain(t)
	addr := thirdparty.OnPort88(t, func(addr string) error { return r.startKDC(t, addr) })
	host := strings.Split(addr, ":")[0]
	// b$ needs a password for impacket; use a service account instead.
	out, errOut, _ := thirdparty.RunIn(t, t.TempDir(), nil, "", python, getST, "-dc-ip", host, "-spn", "cifs/c.example.test",
		"-impersonate", "alice", "EXAMPLE.TEST/svc-web:"+svcWebPW)
	all := out + errOut
	// S4U2Self must succeed; S4U2Proxy is refused until constrained
	// delegation is configured (and implemented).
	if !strings.Contains(all, "Requesting S4U2Proxy") {
		t.Fatalf("getST.py did not get past S4U2Self:\n%s", all)
	}
	waitContains(t, filepath.Join(r.dir, "audit.log"), `"type":"tgs.s4u2self","client":"alice@EXAMPLE.TEST"`)
}
