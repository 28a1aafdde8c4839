package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hop/internal/thirdparty"
)

func TestMITClients(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
	r := newRealm(t, "")

	t.Run("password kinit, klist, kvno", func(t *testing.T) {
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
			t.Fatalf("kinit alice: %v\n%s%s", err, out, errOut)
		}
		out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test", "HTTP/web.example.test", "b$")
		if err != nil {
			t.Fatalf("kvno: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "kvno", out, "host/b.example.test@EXAMPLE.TEST: kvno = 1", "HTTP/web.example.test@EXAMPLE.TEST: kvno = 1", "b$@EXAMPLE.TEST: kvno = 1")
		out, _, err = thirdparty.Run(t, env, "", klist, "-e", "-f")
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, "klist -e", out,
			"Default principal: alice@EXAMPLE.TEST",
			"krbtgt/EXAMPLE.TEST@EXAMPLE.TEST",
			// hop picks the strongest type the client offers.
			"Etype (skey, tkt): aes256-cts-hmac-sha384-192, aes256-cts-hmac-sha384-192",
			"Flags: FRIA", // forwardable (client-config asks for it), renewable, initial, pre-authenticated
			"host/b.example.test@EXAMPLE.TEST")
	})

	t.Run("negotiated etype is the one the client allows", func(t *testing.T) {
		conf := filepath.Join(t.TempDir(), "krb5.conf")
		b, err := os.ReadFile(r.conf)
		if err != nil {
			t.Fatal(err)
		}
		restricted := strings.Replace(string(b), "[libdefaults]\n", "[libdefaults]\n\tdefault_tkt_enctypes = aes128-cts-hmac-sha1-96\n\tdefault_tgs_enctypes = aes128-cts-hmac-sha1-96\n\tpermitted_enctypes = aes128-cts-hmac-sha1-96\n", 1)
		if err := os.WriteFile(conf, []byte(restricted), 0o644); err != nil {
			t.Fatal(err)
		}
		env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
			t.Fatalf("kinit: %v\n%s%s", err, out, errOut)
		}
		if out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test"); err != nil {
			t.Fatalf("kvno: %v\n%s%s", err, out, errOut)
		}
		out, _, _ := thirdparty.Run(t, env, "", klist, "-e")
		// Session keys and tickets are aes128, the only type the client asks for.
		if n := strings.Count(out, "Etype (skey, tkt): aes128-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96"); n != 2 {
			t.Errorf("klist -e shows %d aes128 session keys, want 2:\n%s", n, out)
		}
	})

	t.Run("keytab", func(t *testing.T) {
		kt := filepath.Join(r.dir, "b.keytab")
		out, _, err := thirdparty.Run(t, nil, "", klist, "-k", "-e", kt)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"b$@EXAMPLE.TEST", "host/b.example.test@EXAMPLE.TEST", "host/b@EXAMPLE.TEST"} {
			for _, e := range []string{"aes256-cts-hmac-sha384-192", "aes128-cts-hmac-sha256-128", "aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"} {
				mustContain(t, "klist -k", out, "1 "+p+" ("+e+")")
			}
		}
		for _, p := range []string{"b$", "host/b.example.test"} {
			env, _ := r.env(t)
			if out, errOut, err := thirdparty.Run(t, env, "", kinit, "-k", "-t", kt, p); err != nil {
				t.Fatalf("kinit -k -t b.keytab %s: %v\n%s%s", p, err, out, errOut)
			}
			out, _, _ := thirdparty.Run(t, env, "", klist)
			mustContain(t, "klist after keytab kinit", out, "Default principal: "+p+"@EXAMPLE.TEST")
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		env, _ := r.env(t)
		_, errOut, err := thirdparty.Run(t, env, "not-the-password\n", kinit, "alice")
		if err == nil {
			t.Fatal("kinit with a wrong password succeeded")
		}
		mustContain(t, "kinit", errOut, "Password incorrect")
	})

	t.Run("enterprise name and TCP", func(t *testing.T) {
		conf := filepath.Join(t.TempDir(), "krb5.conf")
		b, _ := os.ReadFile(r.conf)
		tcp := strings.Replace(string(b), "[libdefaults]\n", "[libdefaults]\n\tudp_preference_limit = 1\n", 1)
		os.WriteFile(conf, []byte(tcp), 0o644)
		env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "-E", "alice@example.test"); err != nil {
			t.Fatalf("kinit -E: %v\n%s%s", err, out, errOut)
		}
		if out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b"); err != nil {
			t.Fatalf("kvno: %v\n%s%s", err, out, errOut)
		}
	})

	t.Run("renew", func(t *testing.T) {
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "-r", "2d", "-l", "1h", "alice"); err != nil {
			t.Fatalf("kinit -r: %v\n%s%s", err, out, errOut)
		}
		if out, errOut, err := thirdparty.Run(t, env, "", kinit, "-R"); err != nil {
			t.Fatalf("kinit -R: %v\n%s%s", err, out, errOut)
		}
		out, _, _ := thirdparty.Run(t, env, "", klist, "-f")
		mustContain(t, "klist after renew", out, "renew until", "Flags: FRA") // a renewed TGT is no longer INITIAL
	})

	t.Run("disabled account is refused at once", func(t *testing.T) {
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, bobPW+"\n", kinit, "bob"); err != nil {
			t.Fatalf("kinit bob: %v\n%s%s", err, out, errOut)
		}
		hop(t, "", "account", "disable", "bob", "--dir", r.dir)
		_, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test")
		if err == nil {
			t.Fatal("kvno with a disabled account's TGT succeeded")
		}
		mustContain(t, "kvno", errOut, "revoked")
		env2, _ := r.env(t)
		_, errOut, err = thirdparty.Run(t, env2, bobPW+"\n", kinit, "bob")
		if err == nil {
			t.Fatal("kinit of a disabled account succeeded")
		}
		mustContain(t, "kinit", errOut, "revoked")
		hop(t, "", "account", "enable", "bob", "--dir", r.dir)
		if out, errOut, err := thirdparty.Run(t, env2, bobPW+"\n", kinit, "bob"); err != nil {
			t.Fatalf("kinit bob after enable: %v\n%s%s", err, out, errOut)
		}
	})

	t.Run("lockout set while the KDC runs", func(t *testing.T) {
		hop(t, "", "domain", "set", "--lockout-threshold", "2", "--dir", r.dir)
		defer hop(t, "", "domain", "set", "--lockout-threshold", "0", "--dir", r.dir)
		env, _ := r.env(t)
		for range 2 {
			if _, _, err := thirdparty.Run(t, env, "wrong\n", kinit, "bob"); err == nil {
				t.Fatal("wrong password accepted")
			}
		}
		_, errOut, err := thirdparty.Run(t, env, bobPW+"\n", kinit, "bob")
		if err == nil {
			t.Fatal("locked account logged on")
		}
		mustContain(t, "kinit of a locked account", errOut, "revoked")
		show := hop(t, "", "account", "show", "bob", "--dir", r.dir)
		mustContain(t, "account show", show, "locked")
		hop(t, "", "account", "set", "bob", "--unlock", "--dir", r.dir)
		if out, errOut, err := thirdparty.Run(t, env, bobPW+"\n", kinit, "bob"); err != nil {
			t.Fatalf("kinit after unlock: %v\n%s%s", err, out, errOut)
		}
		// The audit log is flushed within audit.FlushInterval.
		waitContains(t, filepath.Join(r.dir, "audit.log"), `"type":"preauth.failed"`, `"type":"account.locked"`, `"type":"as.issued"`)
	})
}
