package interop

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"hop/internal/thirdparty"
	"hop/krb5/ccache"
)

func TestHeimdalClients(t *testing.T) {
	h := thirdparty.RequireHeimdal(t)
	r := newRealm(t, "")
	env, _ := r.env(t)
	env = append(env, h.Env...)
	if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", h.Kinit, "--password-file=STDIN", "alice@EXAMPLE.TEST"); err != nil {
		t.Fatalf("Heimdal kinit: %v\n%s%s", err, out, errOut)
	}
	for _, svc := range []string{"host/b.example.test@EXAMPLE.TEST", "HTTP/web.example.test@EXAMPLE.TEST"} {
		if out, errOut, err := thirdparty.Run(t, env, "", h.Kgetcred, svc); err != nil {
			t.Fatalf("Heimdal kgetcred %s: %v\n%s%s", svc, err, out, errOut)
		}
	}
	out, errOut, err := thirdparty.Run(t, env, "", h.Klist, "-v")
	if err != nil {
		t.Fatalf("Heimdal klist: %v\n%s", err, errOut)
	}
	mustContain(t, "Heimdal klist -v", out,
		"Principal: alice@EXAMPLE.TEST", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST",
		"host/b.example.test@EXAMPLE.TEST", "HTTP/web.example.test@EXAMPLE.TEST", "pre-authent")

	t.Run("keytab", func(t *testing.T) {
		env, _ := r.env(t)
		env = append(env, h.Env...)
		if out, errOut, err := thirdparty.Run(t, env, "", h.Kinit, "--keytab="+filepath.Join(r.dir, "b.keytab"), "b$@EXAMPLE.TEST"); err != nil {
			t.Fatalf("Heimdal kinit --keytab: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		env, _ := r.env(t)
		env = append(env, h.Env...)
		if _, _, err := thirdparty.Run(t, env, "wrong\n", h.Kinit, "--password-file=STDIN", "alice@EXAMPLE.TEST"); err == nil {
			t.Fatal("Heimdal kinit with a wrong password succeeded")
		}
	})
}

func TestImpacket(t *testing.T) {
	python, getTGT := thirdparty.RequireImpacket(t)
	_, getST := thirdparty.RequireImpacketScript(t, "getST.py")
	r := newDomain(t)
	// impacket talks TCP to port 88 only.
	addr := thirdparty.OnPort88(t, func(addr string) error { return r.startKDC(t, addr) })
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, errOut, err := thirdparty.RunIn(t, dir, nil, "", python, getTGT, "-dc-ip", host, "EXAMPLE.TEST/alice:"+alicePW)
	if err != nil {
		t.Fatalf("getTGT.py: %v\n%s%s", err, out, errOut)
	}
	cc, err := ccache.Load(filepath.Join(dir, "alice.ccache"))
	if err != nil {
		t.Fatalf("getTGT.py's cache: %v\n%s%s", err, out, errOut)
	}
	if len(cc.Credentials) != 1 || cc.Credentials[0].Server.String() != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" || cc.Default.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf("getTGT.py's cache holds %+v", cc.Credentials)
	}

	// getST.py sends its TGS-REQ without a body checksum, as Windows
	// tolerates; hop accepts it as Active Directory does.
	env := []string{"KRB5CCNAME=" + filepath.Join(dir, "alice.ccache")}
	out, errOut, err = thirdparty.RunIn(t, dir, env, "", python, getST, "-k", "-no-pass", "-dc-ip", host, "-spn", "host/b.example.test", "EXAMPLE.TEST/alice")
	if err != nil {
		t.Fatalf("getST.py: %v\n%s%s", err, out, errOut)
	}
	mustContain(t, "getST.py", out, "Saving ticket in")
	files, _ := filepath.Glob(filepath.Join(dir, "*.ccache"))
	found := false
	for _, f := range files {
		if c, err := ccache.Load(f); err == nil {
			for _, cr := range c.Credentials {
				found = found || cr.Server.String() == "host/b.example.test@EXAMPLE.TEST"
			}
		}
	}
	if !found {
		t.Errorf("no cache holds a ticket for host/b.example.test: %v", files)
	}

	t.Run("wrong password", func(t *testing.T) {
		dir := t.TempDir()
		out, errOut, _ := thirdparty.RunIn(t, dir, nil, "", python, getTGT, "-dc-ip", host, "EXAMPLE.TEST/alice:wrong")
		if _, err := os.Stat(filepath.Join(dir, "alice.ccache")); err == nil {
			t.Fatal("getTGT.py with a wrong password saved a ticket")
		}
		mustContain(t, "getTGT.py", out+errOut, "KDC_ERR_PREAUTH_FAILED")
	})
}
