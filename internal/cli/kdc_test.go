package cli

import (
	"net"
	"path/filepath"
	"testing"
)

// hop kdc on a busy port says, in one line, which address, that something
// listens there, and which flag to change.
func TestKDCOnABusyPort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.LocalAddr().String()
	_, errOut, code := hop(t, "", "kdc", "--dir", dir, "--listen", addr, "--kpasswd-listen", "off")
	want := "hop: the KDC cannot listen on " + addr + ": something already listens there (another hop kdc, or another KDC?); stop it, or give --listen another ADDR:PORT\n"
	if code != 1 || errOut != want {
		t.Errorf("hop kdc on a busy port: exit %d, stderr %q; want exit 1 and %q", code, errOut, want)
	}
}
