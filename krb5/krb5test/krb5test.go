// Package krb5test holds helpers for the tests of hop's Kerberos packages:
// byte fixtures written in hex, principals from their text form, a KCM
// server on a temporary socket and a krb5.conf that names it. Only
// tests import it.
package krb5test

import (
	"context"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hop/krb5"
	"hop/krb5/kcm"
)

// Unhex decodes s, hex digits with any white space between them (fixtures
// are laid out as a dump), and fails the test if s is not hex.
func Unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("krb5test: %q is not hex: %v", s, err)
	}
	return b
}

// Principal parses s ("name/inst@REALM") and gives it the name type nt.
func Principal(t testing.TB, s string, nt krb5.NameType) krb5.Principal {
	t.Helper()
	p, err := krb5.ParsePrincipal(s)
	if err != nil {
		t.Fatalf("krb5test: %q: %v", s, err)
	}
	p.Name.Type = nt
	return p
}

// ServeKCM serves srv on a socket in a temporary folder until the test
// ends, and returns the socket's path.
func ServeKCM(t testing.TB, srv *kcm.Server) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "kcm.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return sock
}

// KCMConf returns the text of the krb5.conf at base with kcm_socket = sock
// (and the libdefaults lines extra) at the top of [libdefaults].
func KCMConf(t testing.TB, base, sock string, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	lines := "\tkcm_socket = " + sock + "\n"
	for _, x := range extra {
		lines += "\t" + x + "\n"
	}
	return strings.Replace(string(b), "[libdefaults]\n", "[libdefaults]\n"+lines, 1)
}
