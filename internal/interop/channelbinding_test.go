package interop

import (
	"path/filepath"
	"strings"
	"testing"

	"hop/internal/thirdparty"
)

// TestAdminChannelBinding: with --admin-require-channel-binding, hop's own
// client, which binds its tokens to the admin API's TLS channel (RFC 5929
// tls-server-end-point), is served, and curl --negotiate, whose tokens are
// bound to nothing, is refused; without it, curl is served (as
// TestAdminAPICurl shows).
func TestAdminChannelBinding(t *testing.T) {
	curl := adminRequireCurl(t)
	dir := adminDomain(t)
	k := adminStartKDC(t, dir, "kdc.log", "--kpasswd-listen", "127.0.0.1:0",
		"--admin-listen", "127.0.0.1:0", "--admin-name", "admin.example.test", "--admin-require-channel-binding")
	port := k.adminPort(t)
	base := "https://admin.example.test:" + port
	conf := adminConf(t, dir)
	alice := adminKinit(t, conf, "alice", alicePW)

	out, errOut, err := thirdparty.Run(t, alice, "", hopBin, "account", "show", "alice", "--server", base)
	if err != nil || !strings.Contains(out, "alice") {
		t.Fatalf("hop account show with bound tokens: %v\n%s%s", err, out, errOut)
	}
	cert := filepath.Join(dir, "admin-tls.crt")
	args := []string{"--cacert", cert, "--resolve", "admin.example.test:" + port + ":127.0.0.1"}
	r := adminCurl(t, curl, alice, "GET", base+"/v1/whoami", "", args...)
	if r.status != 401 {
		t.Errorf("curl --negotiate (no channel bindings) against a server that requires them: status %d\n%s", r.status, r.body)
	}
}
