package interop

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/kcm"
	"hop/krb5/kcm/kcmtest"
)

// opRecorder is a slog handler that keeps the opcodes of the KCM server's
// debug lines, to show what MIT's client sends.
type opRecorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *opRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *opRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *opRecorder) WithGroup(string) slog.Handler            { return r }
func (r *opRecorder) Handle(_ context.Context, rec slog.Record) error {
	rec.Attrs(func(a slog.Attr) bool {
		r.mu.Lock()
		switch a.Key {
		case "op":
			r.ops = append(r.ops, a.Value.String())
		case "match":
			r.ops[len(r.ops)-1] += "(" + a.Value.String() + ")"
		}
		r.mu.Unlock()
		return true
	})
	return nil
}

// take returns the opcodes seen since the last call.
func (r *opRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := r.ops
	r.ops = nil
	return ops
}

// startKCM serves a KCM socket with an in-memory store until the test ends
// and returns the socket's path and a copy of the krb5.conf base that
// points MIT (and hop) at it.
func startKCM(t *testing.T, base string, srv *kcm.Server) (sock, conf string) {
	t.Helper()
	sock = kcmtest.Serve(t, srv)
	conf = filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(conf, []byte(kcmtest.Conf(t, base, sock, "default_ccache_name = KCM:")), 0o644); err != nil {
		t.Fatal(err)
	}
	return sock, conf
}

func kcmEnv(conf string) []string {
	return []string{"KRB5_CONFIG=" + conf, "KRB5CCNAME=KCM:", "KRB5RCACHETYPE=none", "KRB5RCACHENAME=none:"}
}

// TestMITKCM runs MIT's kinit, klist, kvno and kdestroy against hop's KCM
// server: MIT keeps its tickets in hop's memory instead of a file.
func TestMITKCM(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
	kdestroy := thirdparty.Require(t, "kdestroy")
	r := newRealm(t, "")
	rec := &opRecorder{}
	_, conf := startKCM(t, r.conf, &kcm.Server{Logger: slog.New(rec)})
	env := kcmEnv(conf)
	run := func(stdin, name string, args ...string) string {
		t.Helper()
		out, errOut, err := thirdparty.Run(t, env, stdin, name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, errOut)
		}
		t.Logf("%s %s sent %s", filepath.Base(name), strings.Join(args, " "), strings.Join(rec.take(), " "))
		return out
	}

	run(alicePW+"\n", kinit, "alice")
	out := run("", klist)
	mustContain(t, "klist", out, "Ticket cache: KCM:", "Default principal: alice@EXAMPLE.TEST", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST")
	out = run("", kvno, "host/b.example.test")
	mustContain(t, "kvno", out, "host/b.example.test@EXAMPLE.TEST: kvno = 1")
	out = run("", klist)
	mustContain(t, "klist after kvno", out, "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", "host/b.example.test@EXAMPLE.TEST")
	// A second kvno finds the ticket in the cache.
	run("", kvno, "host/b.example.test")
	run("", kdestroy)
	if out, errOut, err := thirdparty.Run(t, env, "", klist); err == nil {
		t.Fatalf("klist after kdestroy succeeded:\n%s", out)
	} else if !strings.Contains(errOut, "not found") {
		t.Errorf("klist after kdestroy: %v\n%s", err, errOut)
	}
	rec.take()
}

// TestMITKCMFetch shows the hook a credential broker uses: the cache holds
// alice's name but no TGT, and MIT's kvno still gets a service ticket,
// because MIT's client asks the cache with RETRIEVE before it looks for a
// TGT, and the server's Fetch answers the miss.
func TestMITKCMFetch(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
	r := newRealm(t, "")

	// The known credential: alice's ticket to host/b, obtained into a file.
	fileCC := filepath.Join(t.TempDir(), "cc")
	fileEnv := thirdparty.ClientEnv(r.conf, fileCC)
	for _, args := range [][]string{{kinit, "alice"}, {kvno, "host/b.example.test"}} {
		if out, errOut, err := thirdparty.Run(t, fileEnv, alicePW+"\n", args[0], args[1:]...); err != nil {
			t.Fatalf("%s: %v\n%s%s", args[0], err, out, errOut)
		}
	}
	cc, err := ccache.Load(fileCC)
	if err != nil {
		t.Fatal(err)
	}
	hostB := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "host", "b.example.test"), Realm: realm}
	ticket, ok := cc.Find(hostB)
	if !ok {
		t.Fatal("no ticket to host/b.example.test in the file cache")
	}
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: realm}

	var mu sync.Mutex
	var asked []string
	rec := &opRecorder{}
	srv := &kcm.Server{Logger: slog.New(rec), Fetch: func(ctx context.Context, cache string, client, server krb5.Principal) (*ccache.Credential, error) {
		mu.Lock()
		asked = append(asked, client.String()+" -> "+server.String())
		mu.Unlock()
		if server.String() != hostB.String() {
			return nil, nil
		}
		return ticket, nil
	}}
	sock, conf := startKCM(t, r.conf, srv)
	env := kcmEnv(conf)

	// No cache at all: kvno stops at the cache's principal, before any RETRIEVE.
	out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test")
	if err == nil {
		t.Fatalf("kvno without a cache succeeded:\n%s", out)
	}
	t.Logf("kvno without a cache: %v: %s; sent %s", err, strings.TrimSpace(errOut), strings.Join(rec.take(), " "))

	// A cache with alice's name and nothing else.
	c, err := kcm.Dial(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name, err := c.DefaultCache(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Initialize(t.Context(), name, alice); err != nil {
		t.Fatal(err)
	}
	rec.take()
	out, errOut, err = thirdparty.Run(t, env, "", kvno, "host/b.example.test")
	if err != nil {
		t.Fatalf("kvno with an empty cache and the hook: %v\n%s%s", err, out, errOut)
	}
	ops := strings.Join(rec.take(), " ")
	t.Logf("kvno with the hook sent %s", ops)
	// MIT 1.20 asks the cache for the service ticket itself before it looks
	// for a TGT: with the hook answering, it never asks for one.
	mustContain(t, "kvno's requests", ops, "RETRIEVE(alice@EXAMPLE.TEST -> host/b.example.test@EXAMPLE.TEST)")
	if strings.Contains(ops, "krbtgt/") {
		t.Errorf("kvno asked for a TGT although the hook gave the ticket: %s", ops)
	}
	mustContain(t, "kvno", out, "host/b.example.test@EXAMPLE.TEST: kvno = 1")
	mu.Lock()
	if len(asked) != 1 || asked[0] != "alice@EXAMPLE.TEST -> host/b.example.test@EXAMPLE.TEST" {
		t.Errorf("Fetch was asked for %q, want once for alice -> host/b", asked)
	}
	mu.Unlock()
	out, _, err = thirdparty.Run(t, env, "", klist)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "klist", out, "Default principal: alice@EXAMPLE.TEST", "host/b.example.test@EXAMPLE.TEST")
	if strings.Contains(out, "krbtgt/") {
		t.Errorf("klist shows a TGT the cache never held:\n%s", out)
	}
	// A ticket the hook does not give fails as "not found" without a TGT.
	if out, errOut, err := thirdparty.Run(t, env, "", kvno, "HTTP/web.example.test"); err == nil {
		t.Errorf("kvno HTTP/web.example.test succeeded without a TGT:\n%s", out)
	} else {
		t.Logf("kvno HTTP/web.example.test without a TGT: %s", strings.TrimSpace(errOut))
	}
}

// TestHopKCM runs hop login, hop tickets and hop logout with
// KRB5CCNAME=KCM: against hop's KCM server, and MIT's kinit, klist and
// kvno on the same caches: each sees what the other stored.
func TestHopKCM(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
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
		// hop logout destroys what MIT's kinit stored.
		loginRun(t, env, "", "logout")
		if _, _, err := thirdparty.Run(t, env, "", klist, "-s"); err == nil {
			t.Error("klist -s succeeds after hop logout")
		}
		if _, _, err := thirdparty.Run(t, env, "", hopBin, "tickets", "--check"); err == nil {
			t.Error("hop tickets --check succeeds after hop logout")
		}
		if _, errOut, err := thirdparty.Run(t, env, "", hopBin, "tickets"); err == nil || !strings.Contains(errOut, "no credential cache "+cache+":") {
			t.Errorf("hop tickets after hop logout: %v\n%s", err, errOut)
		}
	})

	t.Run("hop login, then MIT klist and kvno, then hop logout", func(t *testing.T) {
		loginThenMIT(t, env, cache, klist, kvno)
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
