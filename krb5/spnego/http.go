package spnego

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"hop/krb5/gssapi"
	"hop/krb5/service"
)

// MaxHTTPToken bounds the base64 token HTTPAuth decodes. Tickets with
// large PACs make tokens of a few kilobytes; Windows allows headers of
// 64 KiB.
const MaxHTTPToken = 64 << 10

var (
	// ErrNoAuthorization is the error Fail gets for a request without
	// "Authorization: Negotiate".
	ErrNoAuthorization = errors.New("spnego: Negotiate authentication required")
	// ErrMoreRounds is wrapped by the error for a negotiation that cannot
	// end in one HTTP round trip.
	ErrMoreRounds = errors.New("spnego: the negotiation needs more than one round trip, which HTTP Negotiate cannot carry statelessly")
)

// HTTPAuth authenticates HTTP requests with Kerberos (RFC 4559, HTTP
// Negotiate).
type HTTPAuth struct {
	Acceptor *gssapi.Acceptor
	// Bindings, when set, returns the channel bindings of the request's
	// connection (gssapi.TLSServerEndPoint of the server's certificate
	// for a TLS request; nil: not checked). A token bound to another
	// channel is refused; one bound to none is refused unless
	// Acceptor.InsecureAcceptUnbound.
	Bindings func(r *http.Request) *gssapi.ChannelBindings
	// Fail writes the response for a failed/missing authentication; the
	// "WWW-Authenticate: Negotiate" header is already set. nil: plain text.
	Fail func(w http.ResponseWriter, r *http.Request, status int, err error)
}

type identityKey struct{}

// Identity returns the authenticated client of a request that HTTPAuth let
// through: the AP-REQ as accepted, with the PAC.
func Identity(ctx context.Context) (*service.Accepted, bool) {
	c, ok := ctx.Value(identityKey{}).(*gssapi.Context)
	if !ok {
		return nil, false
	}
	return c.Accepted(), true
}

// SecurityContext returns the Kerberos context of a request that HTTPAuth
// let through, with the credential the client delegated if it did
// (curl --delegation always).
func SecurityContext(ctx context.Context) (*gssapi.Context, bool) {
	c, ok := ctx.Value(identityKey{}).(*gssapi.Context)
	return c, ok
}

// Wrap returns a handler that lets a request reach next only if its
// "Authorization: Negotiate <base64>" header holds a token that completes
// a Kerberos context in one step: a SPNEGO NegTokenInit whose first
// mechanism is Kerberos with its optimistic AP-REQ (MIT's and Windows'
// clients), or a bare Kerberos token. The identity is then in the request's
// context (Identity, SecurityContext), and the AP-REP goes back in "WWW-Authenticate:
// Negotiate <base64>" on the response (RFC 4559 §5). Every AP-REQ is
// checked for replay.
//
// A negotiation needing more round trips (an initiator listing NTLM or
// NEGOEX before Kerberos, which RFC 4178 §5 answers with request-mic) is
// refused with ErrMoreRounds: continuing it would need state tied to the
// client's connection, which a handler cannot see.
func (h *HTTPAuth) Wrap(next http.Handler) http.Handler {
	if h.Acceptor == nil || h.Acceptor.Service == nil {
		panic("spnego: HTTPAuth needs an Acceptor with its service.Acceptor")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := negotiateToken(r.Header.Values("Authorization"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		var cb *gssapi.ChannelBindings
		if h.Bindings != nil {
			cb = h.Bindings(r)
		}
		n := (&Acceptor{GSS: h.Acceptor}).Start(cb)
		out, err := n.Step(tok)
		if err == nil && !n.Done() {
			err = ErrMoreRounds
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(out) > 0 {
			w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(out))
		}
		ctx := context.WithValue(r.Context(), identityKey{}, n.Context())
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// negotiateToken finds the Negotiate credentials among the Authorization
// header values (the scheme is case-insensitive, RFC 9110 §11.1).
func negotiateToken(values []string) ([]byte, error) {
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Negotiate") {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return nil, ErrNoAuthorization
		}
		if len(rest) > MaxHTTPToken {
			return nil, fmt.Errorf("spnego: Negotiate token of %d bytes (at most %d)", len(rest), MaxHTTPToken)
		}
		tok, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			if tok, err = base64.RawStdEncoding.DecodeString(rest); err != nil {
				return nil, fmt.Errorf("spnego: the Negotiate token is not base64")
			}
		}
		return tok, nil
	}
	return nil, ErrNoAuthorization
}

func (h *HTTPAuth) fail(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", "Negotiate")
	if h.Fail != nil {
		h.Fail(w, r, http.StatusUnauthorized, err)
		return
	}
	msg := "Kerberos authentication (HTTP Negotiate) is required."
	switch {
	case errors.Is(err, ErrNoAuthorization):
	case errors.Is(err, ErrMoreRounds):
		msg = "Kerberos authentication failed: offer Kerberos as the first SPNEGO mechanism."
	default:
		var se *service.Error
		if errors.As(err, &se) {
			msg = "Kerberos authentication failed: " + se.Code.String() + "."
		} else {
			msg = "Kerberos authentication failed."
		}
	}
	http.Error(w, msg, http.StatusUnauthorized)
}
