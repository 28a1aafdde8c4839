package adminserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hop/admin/adminserver"
	"hop/krb5"
	"hop/krb5/gssapi"
	"hop/krb5/spnego"
)

// TestChannelBinding: over TLS, a token bound to the server's certificate
// is served, one bound to another certificate (the token went to another
// server) is refused, and one bound to none is served unless the server
// requires bindings.
func TestChannelBinding(t *testing.T) {
	l, credential := aliceTickets(t)
	ctx := context.Background()
	// Another server's certificate (httptest's servers all share one).
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}

	for _, require := range []bool{false, true} {
		var h http.Handler
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		srv.StartTLS()
		defer srv.Close()
		hs := &adminserver.HTTPServer{Dir: l.Dir, Names: []string{"127.0.0.1"}, TLSCert: srv.Certificate(), RequireChannelBinding: require}
		if err := hs.EnsureSPNs(ctx); err != nil {
			t.Fatal(err)
		}
		if h, err = hs.Handler(ctx); err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		get := func(tr http.RoundTripper) int {
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/v1/accounts/alice")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := get(&spnego.Transport{Base: base, Credential: credential, Preemptive: true, TLSBindings: true}); got != http.StatusOK {
			t.Errorf("require %v: a token bound to this server's channel: %d", require, got)
		}
		unbound := http.StatusOK
		if require {
			unbound = http.StatusUnauthorized
		}
		if got := get(&spnego.Transport{Base: base, Credential: credential, Preemptive: true}); got != unbound {
			t.Errorf("require %v: a token bound to no channel: %d, want %d", require, got, unbound)
		}
		// A token a client bound to another server's channel.
		cred, err := credential(ctx, krb5.NewName(krb5.NTSrvHst, "HTTP", "127.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := spnego.Initiate(cred, &gssapi.InitOptions{Bindings: gssapi.TLSServerEndPoint(other)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/v1/accounts/alice", nil)
		req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(tok))
		resp, err := (&http.Client{Transport: base}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("require %v: a token bound to another server's channel: %d", require, resp.StatusCode)
		}
	}
}
