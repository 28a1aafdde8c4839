package interop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hop/internal/thirdparty"
	"hop/krb5/kcm"
)

// TestHopKCM runs hop login, hop tickets and hop logout with
// KRB5CCNAME=KCM: against hop's KCM server, and MIT's kinit, klist and
// kvno on the same caches: each sees what the other stored.
func TestHopKCM(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
	kdestroy := thirdparty.Require(t, "kdestroy")
	r := newRealm(t, "")
	_, conf := startKCM(t, r.conf, &kcm.Server{})
	env := kcmEnv(conf)
	// "KCM:" is the server's default cache for the user, which hop's
	// server names by the uid; MIT's klist and hop tickets both show it so.
	cache := "KCM:" + strconv.Itoa(os.Getuid())
	tgt := "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"

	t.Run("MIT kinit, then hop tickets", func(t *testing.T) {
		loginTool(t, env, alicePW+"\n", kinit, "alice")
		out := loginRun(t, env, "", "tickets")
		mustContain(t, "hop tickets", out, "Ticket cache: "+cache+"\n", "Default principal: alice@EXAMPLE.TEST", tgt)
		loginSame(t, env, klist, tgt)
		if _, j := loginHopTickets(t, env); j.Cache != cache || j.DefaultPrincipal != "alice@EXAMPLE.TEST" {
			t.Errorf("hop tickets --json: cache %q, principal %q", j.Cache, j.DefaultPrincipal)
		}
		loginRun(t, env, "", "tickets", "--check")
		loginTool(t, env, "", kdestroy)
		if _, _, err := thirdparty.Run(t, env, "", hopBin, "tickets", "--check"); err == nil {
			t.Error("hop tickets --check succeeds after kdestroy")
		}
		if _, errOut, err := thirdparty.Run(t, env, "", hopBin, "tickets"); err == nil || !strings.Contains(errOut, "no credential cache "+cache+":") {
			t.Errorf("hop tickets after kdestroy: %v\n%s", err, errOut)
		}
	})

	t.Run("hop login, then MIT klist and kvno, then hop logout", func(t *testing.T) {
		if out := loginRun(t, env, alicePW+"\n", "login", "alice"); out != "" {
			t.Errorf("hop login printed %q", out)
		}
		out := loginTool(t, env, "", klist, "-f", "-e", "-C")
		mustContain(t, "klist", out, "Ticket cache: "+cache+"\n", "Default principal: alice@EXAMPLE.TEST", tgt,
			"config: pa_type("+tgt+") = 2", "Flags: FRIA")
		loginTool(t, env, "", klist, "-s")
		mustContain(t, "kvno", loginTool(t, env, "", kvno, "HTTP/web.example.test"), "HTTP/web.example.test@EXAMPLE.TEST: kvno = 1")
		// kvno stored its ticket in the KCM cache hop logged in to.
		loginSame(t, env, klist, tgt, "HTTP/web.example.test@EXAMPLE.TEST")
		loginRun(t, env, "", "logout")
		if _, _, err := thirdparty.Run(t, env, "", klist, "-s"); err == nil {
			t.Error("klist -s succeeds after hop logout")
		}
		if _, errOut, err := thirdparty.Run(t, env, "", hopBin, "logout"); err == nil || !strings.Contains(errOut, "no credential cache "+cache+" to destroy") {
			t.Errorf("a second hop logout: %v\n%s", err, errOut)
		}
	})

	t.Run("no KCM server", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "none.sock")
		b, err := os.ReadFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(t.TempDir(), "krb5.conf")
		if err := os.WriteFile(bad, []byte(strings.Replace(string(b), "[libdefaults]\n", "[libdefaults]\n\tkcm_socket = "+sock+"\n", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"tickets"}, {"logout"}} {
			_, errOut, err := thirdparty.Run(t, kcmEnv(bad), "", hopBin, args...)
			if err == nil || !strings.Contains(errOut, "no KCM server answers at "+sock+" (kcm_socket in krb5.conf): start one, or set KRB5CCNAME=FILE:") {
				t.Errorf("hop %s without a KCM server: %v\n%s", args[0], err, errOut)
			}
		}
	})
}

// TestExecAgentKCM runs hop exec with the TGT MIT's kinit stored in hop's
// KCM server: hop exec reads it there and keeps the host ticket it gets
// there too, where MIT's klist sees it.
func TestExecAgentKCM(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	known := execAgentLab(t)
	_, conf := startKCM(t, os.Getenv("KRB5_CONFIG"), &kcm.Server{})
	env := kcmEnv(conf)
	loginTool(t, env, alicePW+"\n", kinit, "alice")
	t.Setenv("KRB5_CONFIG", conf)
	t.Setenv("KRB5CCNAME", "KCM:")
	args := []string{"exec", "b.example.test", "--known-hosts", known, "--", "echo $HOP_CLIENT"}
	if out, errOut, code := execAgentHop(args...); code != 0 || out != "alice@EXAMPLE.TEST\n" {
		t.Fatalf("hop %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
	}
	mustContain(t, "klist after hop exec", loginTool(t, env, "", klist), "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", "host/b.example.test@EXAMPLE.TEST")
	// A second exec uses the kept ticket.
	if out, errOut, code := execAgentHop(args...); code != 0 || out != "alice@EXAMPLE.TEST\n" {
		t.Fatalf("second hop exec: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
