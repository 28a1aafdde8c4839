package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hop/audit"
	"hop/directory"
	"hop/directory/bolt"
	"hop/internal/thirdparty"
	"hop/kpasswd"
)

// kpasswdServer serves hop's kpasswd service on a free loopback port, over
// the directory of r (the hop kdc process shares the file), on the given
// transports ("udp", "tcp" or both), and returns its address and audit log.
func kpasswdServer(t *testing.T, r *testRealm, transports ...string) (string, *audit.Memory) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mk, err := directory.LoadMasterKey(filepath.Join(r.dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(r.dir, "directory.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.Open(ctx, st, mk, directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := &audit.Memory{}
	srv := &kpasswd.Server{Directory: d, Audit: log}
	port := thirdparty.FreeLoopbackPort(t, "127.0.0.1")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	done := make(chan error, len(transports))
	for _, tr := range transports {
		switch tr {
		case "udp":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			go func() { done <- srv.ServeUDP(ctx, pc.(*net.UDPConn)) }()
		case "tcp":
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			go func() { done <- srv.ServeTCP(ctx, ln) }()
		default:
			t.Fatalf("kpasswdServer: transport %q", tr)
		}
	}
	t.Cleanup(func() {
		cancel()
		for range transports {
			if err := <-done; err != nil {
				t.Errorf("kpasswd server: %v", err)
			}
		}
		d.Close()
	})
	return addr, log
}

// kpasswdConf writes a krb5.conf for r's KDC with kpasswd_server = server
// ("host:port", or for Heimdal "tcp/host:port") in the realm section
// (thirdparty.Krb5Conf has no such option), plus extra lines in
// [libdefaults].
func kpasswdConf(t *testing.T, r *testRealm, server string, libdefaults ...string) string {
	t.Helper()
	conf := thirdparty.Krb5Conf(realm, r.addr)
	kdcLine := "\t\tkdc = " + r.addr + "\n"
	if !strings.Contains(conf, kdcLine) {
		t.Fatalf("no %q in:\n%s", kdcLine, conf)
	}
	conf = strings.Replace(conf, kdcLine, kdcLine+"\t\tkpasswd_server = "+server+"\n", 1)
	for _, l := range libdefaults {
		conf = strings.Replace(conf, "[libdefaults]\n", "[libdefaults]\n\t"+l+"\n", 1)
	}
	p := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// kpasswdEvents returns the audit events of kind typ with the given result.
func kpasswdEvents(log *audit.Memory, typ string, code kpasswd.ResultCode) []audit.Event {
	var out []audit.Event
	for _, e := range log.Events() {
		if e.Type == typ && e.Code == code.String() {
			out = append(out, e)
		}
	}
	return out
}

// TestMITKpasswd drives MIT's kpasswd through its prompts (old password, new
// password twice) against hop's kpasswd server, and checks the result with
// MIT's kinit.
func TestMITKpasswd(t *testing.T) {
	kpasswdBin := thirdparty.Require(t, "kpasswd")
	kinit := thirdparty.Require(t, "kinit")
	r := newRealm(t, "")

	// kinitWorks reports whether MIT's kinit accepts pw for user.
	kinitWorks := func(t *testing.T, conf, user, pw string) bool {
		env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
		_, _, err := thirdparty.Run(t, env, pw+"\n", kinit, user)
		return err == nil
	}
	change := func(t *testing.T, conf, user, old, new string) (string, error) {
		env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
		out, errOut, err := thirdparty.Run(t, env, old+"\n"+new+"\n"+new+"\n", kpasswdBin, user)
		return out + errOut, err
	}

	tests := []struct {
		name       string
		transports []string
		libdefs    []string
	}{
		// MIT's kpasswd tries TCP first, and UDP only when no server
		// answers over TCP (src/lib/krb5/os/changepw.c): a TCP-only and a
		// UDP-only server prove each transport.
		{"tcp", []string{"tcp"}, []string{"udp_preference_limit = 1"}},
		{"udp", []string{"udp"}, nil},
	}
	pw := alicePW
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, log := kpasswdServer(t, r, tc.transports...)
			conf := kpasswdConf(t, r, addr, tc.libdefs...)

			newPW := fmt.Sprintf("Alice-%s-Pass-%d", strings.ToUpper(tc.name), i+2)
			out, err := change(t, conf, "alice", pw, newPW)
			if err != nil {
				t.Fatalf("kpasswd alice: %v\n%s", err, out)
			}
			mustContain(t, "kpasswd", out, "Password changed.")
			if !kinitWorks(t, conf, "alice", newPW) {
				t.Fatalf("kinit alice with the new password fails")
			}
			if kinitWorks(t, conf, "alice", pw) {
				t.Fatalf("kinit alice with the old password still works")
			}
			old := pw
			pw = newPW
			if n := len(kpasswdEvents(log, "kpasswd.change", kpasswd.Success)); n != 1 {
				t.Fatalf("%d successful change events: %+v", n, log.Events())
			}

			// A password the policy refuses: MIT prints the server's reason.
			out, err = change(t, conf, "alice", pw, "short1")
			if err == nil {
				t.Fatalf("kpasswd with a 6-character password succeeded:\n%s", out)
			}
			mustContain(t, "kpasswd (too short)", out, "6 characters", "at least 8")

			// A password used before.
			out, err = change(t, conf, "alice", pw, old)
			if err == nil {
				t.Fatalf("kpasswd back to the previous password succeeded:\n%s", out)
			}
			mustContain(t, "kpasswd (reused)", out, "used before")
			if !kinitWorks(t, conf, "alice", pw) {
				t.Fatal("a refused change changed the password")
			}
			if n := len(kpasswdEvents(log, "kpasswd.change", kpasswd.SoftError)); n != 2 {
				t.Fatalf("%d refused change events, want 2: %+v", n, log.Events())
			}
		})
	}
}

// TestHeimdalKpasswd runs Heimdal's kpasswd, which uses RFC 3244's
// set-password protocol (version 0xff80) naming the client itself, over UDP
// and over TCP.
func TestHeimdalKpasswd(t *testing.T) {
	h := thirdparty.RequireHeimdal(t)
	bin := filepath.Join(filepath.Dir(h.Kinit), "kpasswd")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("Heimdal's kpasswd is not installed next to its kinit: %v", err)
	}
	kinit := thirdparty.Require(t, "kinit")
	r := newRealm(t, "")
	pw := bobPW
	for i, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			addr, log := kpasswdServer(t, r, tr)
			// Heimdal reads a bare host:port as UDP only.
			spec := addr
			if tr == "tcp" {
				spec = "tcp/" + addr
			}
			conf := kpasswdConf(t, r, spec)
			env := append(thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc")), h.Env...)
			kinitWorks := func(pw string) bool {
				menv := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc2"))
				_, _, err := thirdparty.Run(t, menv, pw+"\n", kinit, "bob")
				return err == nil
			}

			newPW := fmt.Sprintf("Bob-Heimdal-%s-%d", strings.ToUpper(tr), i+2)
			out, errOut, err := thirdparty.Run(t, env, pw+"\n"+newPW+"\n"+newPW+"\n", bin, "bob")
			if err != nil {
				t.Fatalf("heimdal kpasswd bob: %v\n%s%s", err, out, errOut)
			}
			mustContain(t, "heimdal kpasswd", out+errOut, "Success")
			if !kinitWorks(newPW) {
				t.Fatal("kinit bob with the new password fails")
			}
			pw = newPW
			if n := len(kpasswdEvents(log, "kpasswd.change", kpasswd.Success)); n != 1 {
				t.Fatalf("%d successful change events: %+v", n, log.Events())
			}

			// When the set-password protocol returns anything but success,
			// Heimdal's krb5_set_password tries the original protocol too,
			// which it speaks over UDP only: over UDP the second refusal is
			// printed (and kpasswd exits 0); over TCP there is no server for
			// it and Heimdal reports that instead of the first refusal.
			out, errOut, _ = thirdparty.Run(t, env, pw+"\nshort1\nshort1\n", bin, "bob")
			wantEvents := 2
			if tr == "udp" {
				mustContain(t, "heimdal kpasswd (too short)", out+errOut, "Soft error", "6 characters", "at least 8")
			} else {
				mustContain(t, "heimdal kpasswd (too short)", out+errOut, "Unable to reach any changepw server")
				wantEvents = 1
			}
			evs := kpasswdEvents(log, "kpasswd.change", kpasswd.SoftError)
			if len(evs) != wantEvents {
				t.Fatalf("%d refused change events, want %d: %+v", len(evs), wantEvents, log.Events())
			}
			for _, e := range evs {
				if !strings.Contains(e.Reason, "6 characters") || e.Client != "bob@EXAMPLE.TEST" {
					t.Errorf("audit event %+v", e)
				}
			}
			if kinitWorks("short1") || !kinitWorks(pw) {
				t.Fatal("a refused change changed the password")
			}
		})
	}
}
