// Package kcmtest holds helpers for tests that talk to a KCM server: one
// served on a temporary socket, and a krb5.conf that names it. Only tests
// import it.
package kcmtest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hop/krb5/kcm"
)

// Serve serves srv on a socket in a temporary folder until the test ends,
// and returns the socket's path.
func Serve(t testing.TB, srv *kcm.Server) string {
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

// Conf returns the text of the krb5.conf at base with kcm_socket = sock
// (and the libdefaults lines extra) at the top of [libdefaults].
func Conf(t testing.TB, base, sock string, extra ...string) string {
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
