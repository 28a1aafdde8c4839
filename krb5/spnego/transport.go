package spnego

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
)

// ErrMutualAuth is wrapped by Transport's error for a response whose
// Negotiate token is missing or does not prove the server holds the
// service key (RFC 4559 §5 with mutual authentication).
var ErrMutualAuth = errors.New("spnego: the server did not prove its identity")

// Transport is an http.RoundTripper that authenticates requests with
// Kerberos (RFC 4559): it adds "Authorization: Negotiate <base64>" with a
// SPNEGO token for the service HTTP/<host of the URL>, and checks the
// server's AP-REP in the response's "WWW-Authenticate: Negotiate <base64>".
// A response without that proof, or whose proof does not verify, is refused
// with ErrMutualAuth, except a 401, which is returned as is (the server
// refused the client).
type Transport struct {
	// Base carries the requests (default http.DefaultTransport).
	Base http.RoundTripper
	// Credential returns a service ticket for spn (HTTP/host).
	Credential func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error)
	// Preemptive authenticates the first request; otherwise a request goes
	// out without credentials and is sent again with them when the server
	// answers 401 with a Negotiate challenge. A request whose body cannot be
	// sent twice (no GetBody) is always authenticated preemptively.
	Preemptive bool
	// TLSBindings binds each token to the TLS connection it is sent on
	// (RFC 5929 tls-server-end-point of the server's certificate, as
	// Windows' Extended Protection does), so that a server that is not
	// the one the client reached cannot use the token. The first request
	// to a host goes without credentials to learn the certificate (unless
	// its body cannot be sent twice); later ones are preemptive.
	TLSBindings bool
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader

	mu       sync.Mutex
	bindings map[string]*gssapi.ChannelBindings // by host:port
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// SPN is the service principal name Transport asks a ticket for: HTTP/ and
// the URL's host name in lower case, without the port (no DNS
// canonicalization, as MIT's dns_canonicalize_hostname=false).
func SPN(req *http.Request) krb5.PrincipalName {
	return krb5.NewName(krb5.NTSrvHst, "HTTP", strings.ToLower(req.URL.Hostname()))
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Credential == nil {
		return nil, errors.New("spnego: Transport without a Credential function")
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	bind := t.TLSBindings && req.URL.Scheme == "https"
	if (!t.Preemptive || bind && t.binding(req) == nil) && replayable {
		resp, err := t.base().RoundTrip(req)
		if err == nil && bind {
			t.learn(req, resp)
		}
		if err != nil || resp.StatusCode != http.StatusUnauthorized || !offersNegotiate(resp.Header) {
			return resp, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
	return t.authenticated(req)
}

func (t *Transport) authenticated(req *http.Request) (*http.Response, error) {
	cred, err := t.Credential(req.Context(), SPN(req))
	if err != nil {
		return nil, fmt.Errorf("spnego: ticket for %s: %w", SPN(req), err)
	}
	var cb *gssapi.ChannelBindings
	if t.TLSBindings && req.URL.Scheme == "https" {
		cb = t.binding(req)
	}
	n, tok, err := Initiate(cred, &gssapi.InitOptions{Now: t.Now, Rand: t.Rand, Bindings: cb}, nil)
	if err != nil {
		return nil, err
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(tok))
	resp, err := t.base().RoundTrip(r2)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// Refused: whatever token came with it proves nothing to check.
		// A server whose certificate changed is learnt again.
		if cb != nil {
			t.forget(req)
		}
		return resp, nil
	}
	reply, found := challengeToken(resp.Header)
	err = ErrMutualAuth
	if found {
		// Step's answer to a mechListMIC the server sent unasked has no
		// request to travel on; the server's MIC is verified all the same.
		if _, err = n.Step(reply); err == nil && !n.Done() {
			err = errors.New("the negotiation is not complete")
		}
	}
	if err != nil {
		resp.Body.Close()
		if !errors.Is(err, ErrMutualAuth) {
			err = fmt.Errorf("%w: %w", ErrMutualAuth, err)
		}
		return nil, err
	}
	return resp, nil
}

// binding returns the bindings learnt for req's host, nil if none.
func (t *Transport) binding(req *http.Request) *gssapi.ChannelBindings {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bindings[req.URL.Host]
}

// learn keeps the bindings of the TLS connection resp came on.
func (t *Transport) learn(req *http.Request, resp *http.Response) {
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return
	}
	cb := gssapi.TLSServerEndPoint(resp.TLS.PeerCertificates[0])
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bindings == nil {
		t.bindings = map[string]*gssapi.ChannelBindings{}
	}
	t.bindings[req.URL.Host] = cb
}

func (t *Transport) forget(req *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.bindings, req.URL.Host)
}

// offersNegotiate reports whether a 401's challenges include Negotiate.
func offersNegotiate(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range strings.Split(v, ",") {
			scheme, _, _ := strings.Cut(strings.TrimSpace(c), " ")
			if strings.EqualFold(scheme, "Negotiate") {
				return true
			}
		}
	}
	return false
}

// challengeToken returns the token of "WWW-Authenticate: Negotiate <b64>".
func challengeToken(h http.Header) ([]byte, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		rest = strings.TrimSpace(rest)
		if !strings.EqualFold(scheme, "Negotiate") || rest == "" || len(rest) > MaxHTTPToken {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			continue
		}
		return b, true
	}
	return nil, false
}
