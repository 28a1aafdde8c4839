package interop

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

// idleFlood opens n TCP connections to addr from the loopback address src
// and leaves them idle until the test ends (what one attacking client can
// hold), counting those the server let it open.
func idleFlood(t *testing.T, src, addr string, n int) int {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	opened := 0
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			continue
		}
		opened++
		t.Cleanup(func() { c.Close() })
	}
	return opened
}

// TestIdleFloodMITStillServed: idle TCP connections from two other
// "hosts" (1,000 to the KDC, 600 to kpasswd, more than kpasswd's whole
// cap) do not lock out MIT's kinit, kvno and kpasswd over TCP from a third:
// each source keeps only its cap, its oldest idle connections closed to
// make room.
func TestIdleFloodMITStillServed(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	kvno := thirdparty.Require(t, "kvno")
	kpasswdBin := thirdparty.Require(t, "kpasswd")
	r := newRealm(t, "")
	kp, _ := kpasswdServer(t, r, "tcp")
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		if n := idleFlood(t, src, r.addr, 500); n == 0 {
			t.Fatalf("no connection from %s to the KDC", src)
		}
		idleFlood(t, src, kp, 300)
	}
	conf := kpasswdConf(t, r, kp, "udp_preference_limit = 1")
	env := thirdparty.ClientEnv(conf, filepath.Join(t.TempDir(), "cc"))
	start := time.Now()
	if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
		t.Fatalf("kinit over TCP during the flood: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test"); err != nil {
		t.Fatalf("kvno over TCP during the flood: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err := thirdparty.Run(t, env, alicePW+"\n"+"Alice-Flood-Pass-9\n"+"Alice-Flood-Pass-9\n", kpasswdBin, "alice")
	if err != nil {
		t.Fatalf("kpasswd over TCP during the flood: %v\n%s%s", err, out, errOut)
	}
	mustContain(t, "kpasswd", out+errOut, "Password changed.")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("kinit, kvno and kpasswd took %v during the flood", d)
	}
}
