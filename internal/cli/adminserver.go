package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/audit"
	"hop/directory"
	"hop/kpasswd"
)

// Files of the admin server's TLS certificate in a hop directory folder.
const (
	adminCertFile = "admin-tls.crt"
	adminKeyFile  = "admin-tls.key"
)

// adminServer is hop kdc's admin API: HTTP with SPNEGO, JSON, optionally TLS.
type adminServer struct {
	dir       *directory.Directory
	folder    string
	names     []string // the server's host names: SPNs HTTP/<name>
	useTLS    bool
	auditPath string
	logger    *slog.Logger

	srv  *http.Server
	ln   net.Listener
	url  string
	pin  string
	done chan error
}

// start listens on addr and serves until ctx ends.
func (s *adminServer) start(ctx context.Context, addr string) error {
	hs := &adminserver.HTTPServer{Dir: s.dir, Names: s.names, Logger: s.logger}
	if s.auditPath != "" {
		hs.AuditLog = auditReader(s.auditPath)
	}
	if err := hs.EnsureSPNs(ctx); err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	h, err := hs.Handler(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if s.useTLS {
		hosts := append([]string(nil), s.names...)
		if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
			if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
				hosts = append(hosts, host)
			}
		}
		pair, missing, err := adminserver.LoadOrCreateCert(filepath.Join(s.folder, adminCertFile), filepath.Join(s.folder, adminKeyFile), hosts, time.Now())
		if err != nil {
			ln.Close()
			return err
		}
		if len(missing) > 0 {
			s.logger.Warn("the admin API's certificate does not name every host; clients that pin its key do not mind", "missing", strings.Join(missing, ","))
		}
		s.pin = admin.Pin(pair.Leaf)
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
		scheme = "https"
	}
	s.ln = ln
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.url = scheme + "://" + net.JoinHostPort(s.names[0], port)
	s.done = make(chan error, 1)
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.srv.Shutdown(sctx)
	}()
	s.logger.Info("admin API listening", "addr", ln.Addr().String(), "url", s.url, "tls", s.useTLS, "pin", s.pin)
	return nil
}

// sideServices are the servers hop kdc runs beside the KDC: kpasswd and
// the admin API.
type sideServices struct {
	kpasswdListen string
	adminListen   string
	adminNames    stringList
	adminTLS      bool
}

func (s *sideServices) register(fs *flag.FlagSet) {
	fs.StringVar(&s.kpasswdListen, "kpasswd-listen", "", "serve kpasswd (RFC 3244) on `ADDR:PORT`, or off (default: the first --listen host, port 464, when the KDC uses port 88)")
	fs.StringVar(&s.adminListen, "admin-listen", "", "serve the admin API on `ADDR:PORT` (off by default)")
	fs.Var(&s.adminNames, "admin-name", "the admin server's host `NAME` clients use, its SPN HTTP/NAME (repeatable; default: this host's name)")
	fs.BoolVar(&s.adminTLS, "admin-tls", true, "serve the admin API over TLS (a self-signed certificate pinned by clients)")
}

type sideConfig struct {
	dir       *directory.Directory
	folder    string
	sink      audit.Sink
	logger    *slog.Logger
	auditLog  string
	kdcListen []string
}

// start starts the side services that are configured and records their
// addresses in st; they stop when ctx ends (wg counts them).
func (s *sideServices) start(ctx context.Context, wg *sync.WaitGroup, c sideConfig, st *kdcStateJSON) error {
	kp := s.kpasswdListen
	if kp == "" && len(c.kdcListen) > 0 {
		if host, port, err := net.SplitHostPort(c.kdcListen[0]); err == nil && port == "88" {
			kp = net.JoinHostPort(host, "464")
		}
	}
	if kp != "" && kp != "off" {
		if _, _, err := net.SplitHostPort(kp); err != nil {
			return usagef("--kpasswd-listen %q: want ADDR:PORT or off", kp)
		}
		srv := &kpasswd.Server{Directory: c.dir, Audit: c.sink, Logger: c.logger}
		ready := make(chan string, 1)
		errc := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- srv.ListenAndServe(ctx, kp, func(u, t net.Addr) {
				c.logger.Info("kpasswd listening", "udp", u.String(), "tcp", t.String())
				ready <- u.String()
			})
		}()
		select {
		case st.Kpasswd = <-ready:
		case err := <-errc:
			if errors.Is(err, os.ErrPermission) {
				err = fmt.Errorf("%w (port 464 needs root or CAP_NET_BIND_SERVICE; give --kpasswd-listen ADDR:PORT or off)", err)
			}
			return err
		}
	}
	if s.adminListen == "" {
		if len(s.adminNames) > 0 {
			return usagef("--admin-name needs --admin-listen")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(s.adminListen); err != nil {
		return usagef("--admin-listen %q: want ADDR:PORT", s.adminListen)
	}
	names := []string(s.adminNames)
	if len(names) == 0 {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return usagef("give the admin server's host name with --admin-name")
		}
		names = []string{h}
	}
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSuffix(n, "."))
	}
	a := &adminServer{dir: c.dir, folder: c.folder, names: names, useTLS: s.adminTLS, auditPath: c.auditLog, logger: c.logger}
	if err := a.start(ctx, s.adminListen); err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := <-a.done; err != nil {
			c.logger.Error("admin API stopped", "err", err)
		}
	}()
	st.AdminURL, st.AdminPin = a.url, a.pin
	return nil
}
