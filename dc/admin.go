package dc

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/domain"
)

// adminAPI is the admin API being served: HTTP with SPNEGO, JSON,
// optionally TLS.
type adminAPI struct {
	url  string
	addr string // where it listens
	pin  string
	done chan error // the result of Serve
}

// startAdmin listens on the configured address and serves the admin API
// until ctx ends.
func (s *Server) startAdmin(ctx context.Context, d *domain.Domain) (*adminAPI, error) {
	c := &s.cfg
	logger := c.logger()
	names := append([]string(nil), c.AdminNames...)
	if len(names) == 0 {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return nil, ErrNoHostName
		}
		names = []string{h}
	}
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSuffix(n, "."))
	}
	hs := &adminserver.HTTPServer{Dir: d.Directory, Names: names, Logger: logger, ReplayCache: d.Folder.Path(domain.AdminReplayFile)}
	if p := s.auditPath(); p != "" {
		hs.AuditLog = AuditReader(p)
	}
	if err := hs.EnsureSPNs(ctx); err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	ln, err := net.Listen("tcp", c.AdminListen)
	if err != nil {
		return nil, &ListenError{Field: "AdminListen", Addr: c.AdminListen, Err: err}
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newErrorLog(logger),
	}
	a := &adminAPI{addr: ln.Addr().String(), done: make(chan error, 1)}
	scheme := "http"
	if !c.InsecureAdminHTTP {
		hosts := append([]string(nil), names...)
		if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
			if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
				hosts = append(hosts, host)
			}
		}
		cert, key := d.Folder.AdminCert()
		pair, missing, err := adminserver.LoadOrCreateCert(cert, key, hosts, c.now())
		if err != nil {
			ln.Close()
			return nil, err
		}
		if len(missing) > 0 {
			logger.Warn("the admin API's certificate does not name every host; clients that pin its key do not mind", "missing", strings.Join(missing, ","))
		}
		a.pin = admin.Pin(pair.Leaf)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
		// Tokens are checked against this certificate's channel bindings.
		hs.TLSCert, hs.RequireChannelBinding = pair.Leaf, c.AdminRequireChannelBinding
	}
	h, err := hs.Handler(ctx)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if c.RefuseUnaudited {
		h = refuseUnaudited(h, s.auditFailing)
	}
	srv.Handler = h
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	a.url = scheme + "://" + net.JoinHostPort(names[0], port)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	logger.Info("admin API listening", "addr", ln.Addr().String(), "url", a.url, "tls", !c.InsecureAdminHTTP, "pin", a.pin)
	return a, nil
}

// auditFailing is the audit log's write error while it cannot be written
// (nil when it can, or when events go to a stream).
func (s *Server) auditFailing() error {
	s.mu.Lock()
	log := s.log
	s.mu.Unlock()
	if log == nil {
		return nil
	}
	return log.Failing()
}

// refuseUnaudited answers 503 while failing says the audit log cannot be
// written: no change, and no read of what the log would record, without
// its audit event (audit_failure = refuse).
func refuseUnaudited(next http.Handler, failing func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := failing(); err != nil {
			msg, _ := json.Marshal("the admin API serves nothing while the domain's audit log cannot be written; its administrator must make room (hop kdc --audit-failure refuse)")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"error":{"status":503,"kind":%q,"message":%s}}`, admin.KindUnavailable, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}
