package adminserver

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"hop/admin"

	"hop/directory"
	"hop/directory/dirkeytab"
	"hop/krb5"
	"hop/krb5/gssapi"
	"hop/krb5/service"
	"hop/krb5/spnego"
)

// ServiceAccount holds the admin server's HTTP/ SPNs unless another
// account already does.
const ServiceAccount = "hop-admin"

// HTTPServer is the admin API as hop kdc serves it: Kerberos (SPNEGO)
// authentication with the keys of the HTTP/<name> SPNs from the directory,
// then a Handler acting for the authenticated account.
type HTTPServer struct {
	Dir *directory.Directory
	// Names are the server's host names; it accepts tickets for
	// HTTP/<name>@REALM.
	Names []string
	// AuditLog reads the audit log for GET /v1/audit (nil: none).
	AuditLog func(ctx context.Context, q admin.AuditQuery) ([]json.RawMessage, error)
	// TLSCert is the certificate the server serves (nil: plain HTTP).
	// Kerberos tokens bound to a TLS channel (RFC 5929
	// tls-server-end-point) must be bound to this one: a token a client
	// sent to another server cannot be used here. RequireChannelBinding
	// refuses tokens bound to no channel too (hop's client binds its
	// tokens; curl 7.88 and MIT's library used by other programs do not).
	TLSCert               *x509.Certificate
	RequireChannelBinding bool
	// ReplayCache is the file of the replay cache of the requests'
	// authenticators ("": in memory only, so that an Authorization header
	// captured before a restart would be accepted after it).
	ReplayCache string
	Logger      *slog.Logger
}

func (s *HTTPServer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// EnsureSPNs makes sure an account holds HTTP/<name> for every name,
// creating the hop-admin service account (random keys) when none does.
func (s *HTTPServer) EnsureSPNs(ctx context.Context) error {
	if len(s.Names) == 0 {
		return errors.New("adminserver: the server needs a host name (hop kdc --admin-name)")
	}
	snap, err := s.Dir.Snapshot(ctx)
	if err != nil {
		return err
	}
	realm := snap.Domain().Realm
	var missing []string
	for _, n := range s.Names {
		if _, ok := snap.Lookup(krb5.NewName(krb5.NTSrvHst, "HTTP", n), realm); !ok {
			missing = append(missing, "HTTP/"+n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	x := s.Dir.As(directory.LocalAdmin)
	if _, ok := snap.Account(ServiceAccount); !ok {
		keys, err := directory.RandomKeys(directory.DefaultETypes(false), nil)
		if err != nil {
			return err
		}
		_, err = x.CreateAccount(ctx, &directory.Account{Name: ServiceAccount, Kind: directory.KindService, SPNs: missing,
			Description: "hop's admin API (HTTP/ SPNs of hop kdc --admin-name)"}, keys)
		if err == nil {
			s.logger().Info("created the admin API's service account", "account", ServiceAccount, "spns", strings.Join(missing, ","))
		}
		return err
	}
	for _, spn := range missing {
		if _, err := x.AddSPN(ctx, ServiceAccount, spn, 0); err != nil {
			return err
		}
		s.logger().Info("added an SPN to the admin API's service account", "account", ServiceAccount, "spn", spn)
	}
	return nil
}

// serves reports whether p is one of the server's HTTP/<name>@realm.
func (s *HTTPServer) serves(p krb5.Principal, realm krb5.Realm) bool {
	if !p.Realm.Equal(realm) || len(p.Name.Components) != 2 || !strings.EqualFold(p.Name.Components[0], "HTTP") {
		return false
	}
	return slices.ContainsFunc(s.Names, func(n string) bool { return strings.EqualFold(n, p.Name.Components[1]) })
}

// Handler returns the API with SPNEGO in front, except for token joins,
// which carry their own proof.
func (s *HTTPServer) Handler(ctx context.Context) (http.Handler, error) {
	dom, err := s.Dir.Domain(ctx)
	if err != nil {
		return nil, err
	}
	realm := dom.Realm
	skew := dom.Policy.WithDefaults().ClockSkew
	acc := &service.Acceptor{
		Keys:         dirkeytab.New(s.Dir, s.serves),
		AcceptServer: func(p krb5.Principal) bool { return s.serves(p, realm) },
		MaxSkew:      skew,
	}
	if s.ReplayCache != "" {
		rc := service.NewReplayCache(skew)
		if err := rc.Persist(s.ReplayCache, time.Now()); err != nil {
			return nil, fmt.Errorf("adminserver: %w", err)
		}
		acc.Replay = rc
	}
	auth := &spnego.HTTPAuth{Acceptor: &gssapi.Acceptor{Service: acc, InsecureAcceptUnbound: !s.RequireChannelBinding}, Fail: s.writeAuthFailure}
	if s.TLSCert != nil {
		cb := gssapi.TLSServerEndPoint(s.TLSCert)
		auth.Bindings = func(r *http.Request) *gssapi.ChannelBindings {
			if r.TLS == nil {
				return nil
			}
			return cb
		}
	}
	h := &Handler{
		ServiceFor: s.serviceFor,
		Anonymous:  &Local{Dir: s.Dir},
		Logger:     s.Logger,
	}
	authed := auth.Wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAnonymous(r) {
			h.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	}), nil
}

// serviceFor maps an authenticated request to the Local acting for the
// account of its Kerberos client.
func (s *HTTPServer) serviceFor(r *http.Request) (admin.Service, error) {
	id, ok := spnego.Identity(r.Context())
	if !ok {
		return nil, apiError(http.StatusUnauthorized, admin.KindUnauthenticated, "authenticate with Kerberos (Negotiate)")
	}
	snap, err := s.Dir.Snapshot(r.Context())
	if err != nil {
		return nil, err
	}
	a, ok := snap.Lookup(id.Client.Name, id.Client.Realm)
	if !ok || !id.Client.Realm.Equal(snap.Domain().Realm) {
		return nil, apiError(http.StatusForbidden, admin.KindForbidden, fmt.Sprintf("%s is not an account of %s", id.Client, snap.Domain().Realm))
	}
	return &Local{Dir: s.Dir, Actor: directory.Actor{Name: a.Name}, Principal: id.Client.String(), AuditLog: s.AuditLog}, nil
}

// writeAuthFailure answers a request that failed Kerberos authentication
// with the API's JSON error. The caller learns the KRB-ERROR code, as a
// Kerberos client would (RFC 4120 §3.2.3); the acceptor's own text (keys,
// kvnos, principals) goes to the server's log only.
func (s *HTTPServer) writeAuthFailure(w http.ResponseWriter, r *http.Request, status int, err error) {
	msg := "authenticate with Kerberos: get a ticket (kinit or hop login) and use a Negotiate-capable client (hop --server, curl --negotiate -u :)"
	if !errors.Is(err, spnego.ErrNoAuthorization) {
		code := service.Code(err)
		s.logger().Info("admin API: Kerberos authentication refused", "addr", r.RemoteAddr, "code", code.String(), "err", err)
		msg = "Kerberos authentication failed (" + code.String() + "): check that your ticket is current (kinit or hop login) and that your clock and the server's agree"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": admin.Error{Status: status, Kind: admin.KindUnauthenticated, Message: msg}})
}
