package admin

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// TestNewClientTrustRule is the rule for admin URLs: https, or plain http
// to this machine, when the caller relies on the answers; any http(s) URL
// otherwise.
func TestNewClientTrustRule(t *testing.T) {
	for _, tc := range []struct {
		url           string
		authenticated bool // accepted when the caller asks for authenticated replies
		wellFormed    bool // accepted otherwise
	}{
		{"https://kdc.example.test:8749", true, true},
		{"https://kdc.example.test:8749/", true, true},
		{"http://127.0.0.1:8749", true, true},
		{"http://127.0.0.2:8749/", true, true},
		{"http://[::1]:8749", true, true},
		{"http://localhost:8749", true, true},
		{"http://LocalHost:8749", true, true},
		{"http://kdc.example.test:8749", false, true},
		{"http://10.0.0.1:8749", false, true},
		{"http://192.0.2.7:8749", false, true},
		{"http://localhost.example.test:8749", false, true},
		{"ftp://kdc.example.test", false, false},
		{"kdc.example.test:8749", false, false},
		{"https://", false, false},
		{"http://:8749", false, false},
		{"", false, false},
	} {
		for _, auth := range []bool{true, false} {
			want := tc.wellFormed
			if auth {
				want = tc.authenticated
			}
			c, err := NewClient(tc.url, ClientOptions{AuthenticatedReplies: auth})
			if (err == nil) != want {
				t.Errorf("NewClient(%q, authenticated replies %v): %v", tc.url, auth, err)
				continue
			}
			var ue *URLError
			if err != nil && (!errors.As(err, &ue) || ue.Insecure != (tc.wellFormed && auth)) {
				t.Errorf("NewClient(%q, authenticated replies %v): error %#v", tc.url, auth, err)
			}
			if c != nil {
				c.Close()
			}
		}
	}
}

func TestNewClientRefusesABadPin(t *testing.T) {
	if _, err := NewClient("https://kdc.example.test:8749", ClientOptions{TLSPin: "sha1//abc"}); err == nil {
		t.Error("a malformed pin was accepted")
	}
}

// TestHostAddress: a mapped host name is connected to at its address and
// the URL's port (default 443 for https); other hosts are left alone, and
// an address with a port is refused.
func TestHostAddress(t *testing.T) {
	for _, tc := range []struct {
		url, mapped, dialFor, want string
	}{
		{"https://kdc.example.test:8749", "127.0.0.1", "kdc.example.test:8749", "127.0.0.1:8749"},
		{"https://KDC.example.test", "::1", "kdc.example.test:443", "[::1]:443"},
		{"https://kdc.example.test:8749", "127.0.0.1", "other.example.test:8749", "other.example.test:8749"},
	} {
		var dialed string
		c, err := NewClient(tc.url, ClientOptions{
			HostAddress: func(host string) (string, bool) { return tc.mapped, host == "kdc.example.test" },
			Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
				dialed = addr
				return nil, errors.New("not dialing in a test")
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.tr.DialContext(context.Background(), "tcp", tc.dialFor)
		if dialed != tc.want {
			t.Errorf("%s mapped to %s: a dial of %s went to %s; want %s", tc.url, tc.mapped, tc.dialFor, dialed, tc.want)
		}
	}
	_, err := NewClient("https://kdc.example.test:8749", ClientOptions{HostAddress: func(string) (string, bool) { return "127.0.0.1:8749", true }})
	if err == nil || !strings.Contains(err.Error(), "give the address alone") {
		t.Errorf("an admin_address with a port: %v", err)
	}
}
