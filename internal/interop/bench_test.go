package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"hop/internal/thirdparty"
)

// hop bench kdc loads any RFC 4120 KDC: hop's own and MIT's, with every
// reply checked.
func TestBenchAgainstHopAndMIT(t *testing.T) {
	r := newRealm(t, "")
	mitAddr := fmt.Sprintf("127.0.0.1:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.1"))
	mit := thirdparty.StartMITKDC(t, "MIT.TEST", mitAddr, map[string]string{"alice": alicePW}, []string{"host/b.mit.test"})
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(alicePW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kdc, user, spn string }{
		{r.addr, "alice@EXAMPLE.TEST", "host/b.example.test"},
		{mit.Addr, "alice@MIT.TEST", "host/b.mit.test"},
	} {
		for _, mode := range []string{"as", "tgs"} {
			for _, tr := range []string{"udp", "tcp"} {
				out := hop(t, "", "bench", "kdc", "--kdc", tc.kdc, "--mode", mode, "--user", tc.user, "--password-file", pw,
					"--spn", tc.spn, "--concurrency", "4", "--duration", "20s", "--max-requests", "200", "--transport", tr, "--json")
				var res struct {
					Requests, OK, Errors int64
					RPS                  float64 `json:"requests_per_second"`
				}
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("%s: %v\n%s", tc.kdc, err, out)
				}
				if res.Requests != 200 || res.OK != 200 || res.Errors != 0 || res.RPS <= 0 {
					t.Errorf("bench %s %s over %s: %s", tc.user, mode, tr, out)
				}
			}
		}
	}
	// Targets off this machine are refused.
	if msg := hopFails(t, "", "bench", "kdc", "--kdc", "10.1.2.3:88", "--user", "a@B", "--password-file", pw); msg == "" {
		t.Error("no error message for a non-loopback target")
	}
}
