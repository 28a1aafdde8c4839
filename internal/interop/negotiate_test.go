package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/spnego"
)

const negotiateSvcPW = "Svc-Admin-Pass-1"

// negotiateServer serves, on 127.0.0.1, a handler behind hop's HTTPAuth
// with the keytab of HTTP/admin.example.test, answering as
// negotiateWhoAmI does.
func negotiateServer(t *testing.T, r *testRealm) (*httptest.Server, string) {
	t.Helper()
	hop(t, negotiateSvcPW+"\n", "account", "add-service", "svc-admin", "--spn", "HTTP/admin.example.test", "--dir", r.dir)
	kt := filepath.Join(r.dir, "admin.keytab")
	hop(t, "", "keytab", "export", "svc-admin", "-o", kt, "--dir", r.dir)
	auth := &spnego.HTTPAuth{Acceptor: gssKeytabAcceptor(t, kt)}
	srv := httptest.NewServer(auth.Wrap(negotiateWhoAmI))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return srv, port
}

// negotiateWhoAmI answers, behind hop's HTTPAuth, with the client's name,
// the PAC's account name and whether a credential was delegated.
var negotiateWhoAmI = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
	x, ok := spnego.Identity(req.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	gc, _ := spnego.SecurityContext(req.Context())
	name := ""
	if x.PAC != nil && x.PAC.LogonInfo != nil {
		name = x.PAC.LogonInfo.EffectiveName
	}
	fmt.Fprintf(w, "client=%s server=%s pac=%s delegated=%v\n", x.Client, x.Server, name, gc.Delegated() != nil)
})

// HTTP Negotiate (RFC 4559) with MIT's curl and with hop's own client
// against hop's HTTPAuth, tickets from hop's KDC.
func TestNegotiateHTTP(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	curl, err := exec.LookPath("curl")
	if err != nil {
		curl = "/usr/bin/curl"
	}
	if !negotiateExecutable(curl) {
		if thirdparty.Interop() {
			t.Fatalf("curl not found (HOP_INTEROP=1 forbids skipping: run scripts/install-test-deps)")
		}
		t.Skip("curl not found (run scripts/install-test-deps)")
	}
	r := newRealm(t, "")
	_, port := negotiateServer(t, r)
	url := "http://admin.example.test:" + port + "/"
	resolve := "admin.example.test:" + port + ":127.0.0.1"
	curlArgs := func(extra ...string) []string {
		return append([]string{"--silent", "--show-error", "--noproxy", "*", "--negotiate", "-u", ":",
			"--resolve", resolve, "--write-out", "\nstatus=%{http_code}\n"}, append(extra, url)...)
	}

	t.Run("curl with a ticket", func(t *testing.T) {
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
			t.Fatalf("kinit alice: %v\n%s%s", err, out, errOut)
		}
		out, errOut, err := thirdparty.Run(t, env, "", curl, curlArgs("--verbose")...)
		if err != nil {
			t.Fatalf("curl: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "curl", out, "client=alice@EXAMPLE.TEST server=HTTP/admin.example.test@EXAMPLE.TEST pac=alice delegated=false", "status=200")
		// curl sent SPNEGO and got hop's mutual-authentication token back
		// (Go writes the header name as Www-Authenticate).
		mustContain(t, "curl -v", strings.ToLower(errOut), "> authorization: negotiate yii", "< www-authenticate: negotiate ")
	})

	t.Run("curl delegating its TGT", func(t *testing.T) {
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "-f", "alice"); err != nil {
			t.Fatalf("kinit -f alice: %v\n%s%s", err, out, errOut)
		}
		out, errOut, err := thirdparty.Run(t, env, "", curl, curlArgs("--delegation", "always")...)
		if err != nil {
			t.Fatalf("curl: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "curl --delegation always", out, "client=alice@EXAMPLE.TEST", "delegated=true", "status=200")
	})

	t.Run("curl without a ticket", func(t *testing.T) {
		env, _ := r.env(t)
		out, errOut, err := thirdparty.Run(t, env, "", curl, curlArgs()...)
		if err != nil {
			t.Fatalf("curl: %v\n%s%s", err, out, errOut)
		}
		mustContain(t, "curl without a ticket", out, "status=401", "Kerberos authentication (HTTP Negotiate) is required.")
	})

	t.Run("hop's client", func(t *testing.T) {
		ctx := context.Background()
		kc := client.Dial(r.addr, client.UDPThenTCP, 10*time.Second)
		defer kc.Close()
		alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: realm}
		tgt, _, err := kc.Login(ctx, &client.Request{Client: alice}, alicePW)
		if err != nil {
			t.Fatal(err)
		}
		base := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != "admin.example.test:"+port {
				return nil, fmt.Errorf("unexpected address %s", addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		}}
		defer base.CloseIdleConnections()
		var asked []string
		tr := &spnego.Transport{Base: base, Credential: func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error) {
			asked = append(asked, spn.String())
			return kc.ServiceTicket(ctx, tgt, &client.Request{Service: spn})
		}}
		hc := &http.Client{Transport: tr}
		for i, preemptive := range []bool{false, true} {
			tr.Preemptive = preemptive
			resp, err := hc.Get(url)
			if err != nil {
				t.Fatalf("GET %s (preemptive %v): %v", url, preemptive, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "client=alice@EXAMPLE.TEST server=HTTP/admin.example.test@EXAMPLE.TEST pac=alice") {
				t.Errorf("preemptive %v: %d %q", preemptive, resp.StatusCode, b)
			}
			if len(asked) != i+1 || asked[i] != "HTTP/admin.example.test" {
				t.Errorf("tickets asked for: %v", asked)
			}
		}
	})
}

func negotiateExecutable(p string) bool {
	_, err := exec.LookPath(p)
	return err == nil
}
