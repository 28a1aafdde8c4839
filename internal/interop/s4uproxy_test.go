package interop

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"hop/internal/thirdparty"
)

// S4U2Proxy with MIT's kvno -U USER -P SPN: classic constrained delegation,
// resource-based delegation, and the refusals, each decided at once after
// the setting changes.
func TestMITS4U2Proxy(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	kvno := thirdparty.Require(t, "kvno")
	klist := thirdparty.Require(t, "klist")
	r := newRealm(t, "")
	hop(t, "", "account", "add-computer", "c.example.test", "--spn", "cifs/c.example.test", "--dir", r.dir)
	kt := filepath.Join(r.dir, "b.keytab")
	proxy := func(t *testing.T, user string) (string, error) {
		t.Helper()
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, "", kinit, "-k", "-t", kt, "host/b.example.test"); err != nil {
			t.Fatalf("kinit -k: %v\n%s%s", err, out, errOut)
		}
		out, errOut, err := thirdparty.Run(t, env, "", kvno, "-U", user, "-P", "cifs/c.example.test")
		// hop delegation explain must agree with what the KDC just did.
		var x struct {
			Allowed bool
			Rule    string
		}
		// It exits 0 when it allows, 3 when it denies.
		xout, xerr, xrun := thirdparty.Run(t, nil, "", hopBin, "delegation", "explain", "--user", user, "--service", "b$",
			"--target", "cifs/c.example.test", "--s4u2self", "--json", "--dir", r.dir)
		if jerr := json.Unmarshal([]byte(xout), &x); jerr != nil {
			t.Fatalf("hop delegation explain: %v, %v\n%s%s", jerr, xrun, xout, xerr)
		}
		if want := map[bool]int{true: 0, false: 3}[x.Allowed]; exitCode(xrun) != want {
			t.Errorf("hop delegation explain (allowed=%v) exited with %v; want status %d", x.Allowed, xrun, want)
		}
		if x.Allowed != (err == nil) {
			t.Errorf("explain says allowed=%v (rule %s) but the KDC %s", x.Allowed, x.Rule, map[bool]string{true: "issued the ticket", false: "refused: " + errOut}[err == nil])
		}
		if err != nil {
			return errOut, err
		}
		list, _, _ := thirdparty.Run(t, env, "", klist, "-f")
		return out + list, nil
	}
	audit := filepath.Join(r.dir, "audit.log")

	if out, err := proxy(t, "alice"); err == nil {
		t.Fatalf("S4U2Proxy with no delegation configured succeeded:\n%s", out)
	}
	waitContains(t, audit, "rbcd-not-allowed, STATUS_NOT_FOUND",
		// The decision's audit event names the user, the target, the rule
		// and the requesting service.
		`"type":"tgs.s4u2proxy.refused","client":"alice@EXAMPLE.TEST","service":"cifs/c.example.test@EXAMPLE.TEST"`,
		`"reason":"rbcd-not-allowed: delegation of alice@EXAMPLE.TEST by b$`, `; requested by b$"`)

	hop(t, "", "account", "set", "b$", "--allowed-to-delegate-to", "cifs/c.example.test", "--protocol-transition", "--dir", r.dir)
	out, err := proxy(t, "alice")
	if err != nil {
		t.Fatalf("KCD: %v\n%s", err, out)
	}
	mustContain(t, "klist after KCD", out, "cifs/c.example.test@EXAMPLE.TEST", "for client alice@EXAMPLE.TEST")
	waitContains(t, audit, `"type":"tgs.s4u2proxy"`, "kcd: cifs/c.example.test is in b$'s allowed-to-delegate-to list")

	// Protected Users: no delegation of any kind.
	hop(t, "", "group", "add-member", "Protected Users", "bob", "--dir", r.dir)
	if out, err := proxy(t, "bob"); err == nil {
		t.Fatalf("S4U2Proxy for a Protected User succeeded:\n%s", out)
	}

	// KCD without protocol transition: the S4U2Self ticket is not
	// forwardable, so it cannot be used.
	hop(t, "", "account", "set", "b$", "--protocol-transition=false", "--dir", r.dir)
	if out, err := proxy(t, "alice"); err == nil {
		t.Fatalf("KCD with a non-forwardable S4U2Self ticket succeeded:\n%s", out)
	}
	waitContains(t, audit, "evidence-not-forwardable, STATUS_ACCOUNT_RESTRICTION")

	// RBCD on c$: no domain admin setting on b$ needed.
	hop(t, "", "account", "set", "b$", "--allowed-to-delegate-to", "none", "--dir", r.dir)
	hop(t, "", "account", "set", "c$", "--allowed-to-act", "b$", "--dir", r.dir)
	out, err = proxy(t, "alice")
	if err != nil {
		t.Fatalf("RBCD: %v\n%s", err, out)
	}
	mustContain(t, "klist after RBCD", out, "cifs/c.example.test@EXAMPLE.TEST", "for client alice@EXAMPLE.TEST")
	waitContains(t, audit, "rbcd: b$ is allowed to act on behalf of other identities on c$")

	hop(t, "", "account", "set", "c$", "--allowed-to-act", "none", "--dir", r.dir)
	if out, err := proxy(t, "alice"); err == nil {
		t.Fatalf("RBCD after clearing the list succeeded:\n%s", out)
	}
}

// impacket's getST.py -impersonate does S4U2Self then S4U2Proxy; with
// -force-forwardable it sets the forwardable flag on a non-forwardable
// S4U2Self ticket itself (CVE-2020-17049, "Bronze Bit"), which the PAC's
// ticket signature must expose.
func TestImpacketS4U2Proxy(t *testing.T) {
	python, getST := thirdparty.RequireImpacketScript(t, "getST.py")
	r := newDomain(t)
	hop(t, "", "account", "add-computer", "c.example.test", "--spn", "cifs/c.example.test", "--dir", r.dir)
	addr := thirdparty.OnPort88(t, func(addr string) error { return r.startKDC(t, addr) })
	host := strings.Split(addr, ":")[0]
	getst := func(t *testing.T, extra ...string) (string, bool) {
		t.Helper()
		dir := t.TempDir()
		args := append([]string{getST, "-dc-ip", host, "-spn", "cifs/c.example.test", "-impersonate", "alice"}, extra...)
		args = append(args, "EXAMPLE.TEST/svc-web:"+svcWebPW)
		out, errOut, _ := thirdparty.RunIn(t, dir, nil, "", python, args...)
		files, _ := filepath.Glob(filepath.Join(dir, "*.ccache"))
		return out + errOut, len(files) > 0
	}

	hop(t, "", "account", "set", "svc-web", "--allowed-to-delegate-to", "cifs/c.example.test", "--protocol-transition", "--dir", r.dir)
	if out, ok := getst(t); !ok {
		t.Fatalf("KCD with protocol transition:\n%s", out)
	}

	hop(t, "", "account", "set", "svc-web", "--protocol-transition=false", "--dir", r.dir)
	if out, ok := getst(t); ok {
		t.Fatalf("KCD with a non-forwardable S4U2Self ticket saved a ticket:\n%s", out)
	}
	out, ok := getst(t, "-force-forwardable")
	if ok {
		t.Fatalf("Bronze Bit (-force-forwardable) was not refused:\n%s", out)
	}
	mustContain(t, "getST.py -force-forwardable", out, "KRB_AP_ERR_MODIFIED")

	hop(t, "", "account", "set", "svc-web", "--allowed-to-delegate-to", "none", "--dir", r.dir)
	hop(t, "", "account", "set", "c$", "--allowed-to-act", "svc-web", "--dir", r.dir)
	if out, ok := getst(t); !ok {
		t.Fatalf("RBCD:\n%s", out)
	}
}
