package spnego

import (
	"context"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
)

// httpFixture serves HTTPAuth on loopback for http://web.example.test:PORT/
// and returns a client Transport for it.
func httpFixture(t *testing.T, f *fixture, h http.Handler) (*httptest.Server, *Transport, *int) {
	t.Helper()
	auth := &HTTPAuth{Acceptor: f.gss}
	srv := httptest.NewServer(auth.Wrap(h))
	t.Cleanup(srv.Close)
	base := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	t.Cleanup(base.CloseIdleConnections)
	asked := new(int)
	tr := &Transport{
		Base: base,
		Credential: func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error) {
			*asked++
			if spn.String() != "HTTP/web.example.test" || spn.Type != krb5.NTSrvHst {
				return nil, fmt.Errorf("asked for %s", spn)
			}
			return f.cred(t), nil
		},
		Now:  func() time.Time { f.tick(); return f.now() },
		Rand: f.rnd,
	}
	return srv, tr, asked
}

func whoami(w http.ResponseWriter, r *http.Request) {
	x, ok := Identity(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s %s", x.Client, x.PAC.LogonInfo.EffectiveName, body)
}

func TestHTTPNegotiate(t *testing.T) {
	f := newFixture(t)
	srv, tr, asked := httpFixture(t, f, http.HandlerFunc(whoami))
	url := "http://web.example.test:" + strings.Split(srv.Listener.Addr().String(), ":")[1] + "/"

	// Without credentials: 401 with the challenge.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "Negotiate" {
		t.Fatalf("anonymous request: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	c := &http.Client{Transport: tr}
	for _, tc := range []struct {
		name       string
		preemptive bool
		method     string
		body       string
		asks       int
	}{
		{"challenge first", false, "GET", "", 1},
		{"preemptive", true, "GET", "", 1},
		{"POST with a body, challenge first", false, "POST", "payload", 1},
	} {
		*asked = 0
		tr.Preemptive = tc.preemptive
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, _ := http.NewRequest(tc.method, url, body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "alice@EXAMPLE.TEST alice "+tc.body {
			t.Errorf("%s: %d %q", tc.name, resp.StatusCode, b)
		}
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate ") {
			t.Errorf("%s: no mutual authentication token", tc.name)
		}
		if *asked != tc.asks {
			t.Errorf("%s: %d tickets asked for", tc.name, *asked)
		}
	}

	// A body that cannot be replayed goes preemptively.
	tr.Preemptive = false
	req, _ := http.NewRequest("PUT", url, io.NopCloser(strings.NewReader("once")))
	req.GetBody = nil
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "alice@EXAMPLE.TEST alice once" {
		t.Errorf("unreplayable body: %q", b)
	}
}

// The same Authorization header twice is a replay.
func TestHTTPReplay(t *testing.T) {
	f := newFixture(t)
	var captured string
	srv, tr, _ := httpFixture(t, f, http.HandlerFunc(whoami))
	tr.Preemptive = true
	inner := tr.Base
	tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		captured = r.Header.Get("Authorization")
		return inner.RoundTrip(r)
	})
	url := "http://web.example.test:" + strings.Split(srv.Listener.Addr().String(), ":")[1] + "/"
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", captured)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "KRB_AP_ERR_REPEAT") {
		t.Errorf("replayed header: %d %q", resp.StatusCode, b)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHTTPAuthRefusals(t *testing.T) {
	f := newFixture(t)
	var failed []error
	auth := &HTTPAuth{Acceptor: f.gss, Fail: func(w http.ResponseWriter, r *http.Request, status int, err error) {
		failed = append(failed, err)
		w.WriteHeader(status)
	}}
	h := auth.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler reached") }))
	ntlmFirst, _ := (&NegTokenInit{MechTypes: []asn1.ObjectIdentifier{OIDNTLM, gssapi.OIDKerberos}, MechToken: []byte("NTLMSSP")}).Marshal()
	for _, tc := range []struct {
		name   string
		header []string
		want   error
	}{
		{"none", nil, ErrNoAuthorization},
		{"basic", []string{"Basic YWxpY2U6cHc="}, ErrNoAuthorization},
		{"empty negotiate", []string{"Negotiate"}, ErrNoAuthorization},
		{"not base64", []string{"Negotiate !!!"}, nil},
		{"NTLM first", []string{"Negotiate " + base64.StdEncoding.EncodeToString(ntlmFirst)}, ErrMoreRounds},
		{"NTLM only", []string{"Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="}, nil},
		{"too long", []string{"Negotiate " + strings.Repeat("A", MaxHTTPToken+4)}, nil},
	} {
		failed = nil
		req := httptest.NewRequest("GET", "/", nil)
		for _, v := range tc.header {
			req.Header.Add("Authorization", v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "Negotiate" || len(failed) != 1 {
			t.Errorf("%s: %d %q, Fail called %d times", tc.name, w.Code, w.Header().Get("WWW-Authenticate"), len(failed))
			continue
		}
		if tc.want != nil && !errors.Is(failed[0], tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, failed[0], tc.want)
		}
	}
}

// The client refuses a response that does not prove the server's identity.
func TestTransportMutualAuth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header func(real string) string // the WWW-Authenticate sent back
		status int
		err    bool
	}{
		{"genuine", func(real string) string { return real }, 200, false},
		{"missing", func(string) string { return "" }, 200, true},
		{"tampered", func(real string) string {
			b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(real, "Negotiate "))
			b[len(b)-5] ^= 1
			return "Negotiate " + base64.StdEncoding.EncodeToString(b)
		}, 200, true},
		{"garbage", func(string) string { return "Negotiate AAAA" }, 200, true},
		{"401 without a token is passed on", func(string) string { return "Negotiate" }, 401, false},
		{"401 with a reject token is passed on", func(string) string { return "Negotiate oQcwBaADCgEC" }, 401, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			srv, tr, _ := httpFixture(t, f, http.HandlerFunc(whoami))
			tr.Preemptive = true
			inner := tr.Base
			tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := inner.RoundTrip(r)
				if err != nil {
					return nil, err
				}
				h := tc.header(resp.Header.Get("WWW-Authenticate"))
				resp.Header.Del("WWW-Authenticate")
				if h != "" {
					resp.Header.Set("WWW-Authenticate", h)
				}
				resp.StatusCode = tc.status
				return resp, nil
			})
			url := "http://web.example.test:" + strings.Split(srv.Listener.Addr().String(), ":")[1] + "/"
			resp, err := (&http.Client{Transport: tr}).Get(url)
			if tc.err {
				if !errors.Is(err, ErrMutualAuth) {
					t.Errorf("err = %v, want ErrMutualAuth", err)
				}
				if resp != nil {
					resp.Body.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
}

// A bare Kerberos token (no SPNEGO) is accepted, and answered with a bare
// AP-REP.
func TestHTTPBareKerberos(t *testing.T) {
	f := newFixture(t)
	srv, _, _ := httpFixture(t, f, http.HandlerFunc(whoami))
	o := f.opts()
	o.Flags = gssapi.FlagMutual
	ic, tok, err := gssapi.InitSecContext(f.cred(t), o)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", "negotiate "+base64.StdEncoding.EncodeToString(tok))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "alice@EXAMPLE.TEST alice") {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	rep, ok := challengeToken(resp.Header)
	if !ok {
		t.Fatal("no AP-REP")
	}
	if err := ic.Continue(rep); err != nil {
		t.Fatalf("the AP-REP does not verify: %v", err)
	}
}
