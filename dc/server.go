package dc

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"sync"

	"hop/audit"
	"hop/domain"
	"hop/kdc"
	"hop/kpasswd"
)

// Server runs the servers of one domain folder; see [Server.Run].
type Server struct {
	cfg Config

	mu  sync.Mutex
	log *audit.File // the open audit log while Run runs, else nil
}

// New returns a Server for c, which it validates.
func New(c Config) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Listen = c.listen()
	return &Server{cfg: c}, nil
}

// auditPath is the audit log file ("" when events go to a stream).
func (s *Server) auditPath() string {
	switch {
	case s.cfg.AuditStream != nil:
		return ""
	case s.cfg.AuditLog != "":
		return s.cfg.AuditLog
	}
	return domain.Folder(s.cfg.Folder).AuditLog()
}

// ReopenAuditLog makes the audit log continue its chain in a new file at
// once, after logrotate renamed it (else it does at its next write); hop
// kdc calls it on SIGHUP. It does nothing while Run is not running or
// when the events go to a stream.
func (s *Server) ReopenAuditLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return
	}
	logger := s.cfg.logger()
	if err := s.log.Reopen(); err != nil {
		logger.Error("reopening the audit log", "err", err)
	} else {
		logger.Info("audit log reopened", "file", s.auditPath())
	}
}

// Run opens the domain and serves the KDC on every Listen address, then
// kpasswd and the admin API if configured, until ctx ends or a server
// fails. Once every server listens it records their addresses in the
// folder's state file (removed again when Run returns) and calls ready, if
// not nil. It returns nil when ctx ended.
func (s *Server) Run(ctx context.Context, ready func(State)) error {
	c := &s.cfg
	logger := c.logger()
	folder := domain.Folder(c.Folder)
	if err := folder.Check(); err != nil {
		return err
	}
	// One audit sink for the KDC's tickets and the directory changes it
	// makes (lockouts), so that both are in one chain.
	var sink audit.Sink
	if c.AuditStream != nil {
		sink = &streamSink{enc: json.NewEncoder(c.AuditStream)}
	} else {
		f, err := audit.Open(s.auditPath(), audit.Options{Logger: logger, MaxSize: c.AuditMaxSize, MaxFiles: c.AuditMaxFiles})
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.log = f
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.log = nil
			s.mu.Unlock()
			if err := f.Close(); err != nil {
				logger.Error("closing the audit log", "err", err)
			}
		}()
		sink = f
	}
	d, err := domain.Open(ctx, c.Folder, domain.OpenOptions{Audit: sink, Logger: logger})
	if err != nil {
		return err
	}
	defer d.Close()
	dom, err := d.Directory.Domain(ctx)
	if err != nil {
		return err
	}
	k, err := kdc.New(kdc.Config{Directory: d.Directory, Audit: sink, Logger: logger, MaxUDPReply: c.MaxUDPReply, RefuseUnaudited: c.RefuseUnaudited})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tuneGC(ctx, logger)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		bound    []string
		firstErr error
	)
	readyc := make(chan struct{}, len(c.Listen))
	for _, addr := range c.Listen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			listening := false
			err := k.ListenAndServe(ctx, addr, func(u, t net.Addr) {
				mu.Lock()
				bound = append(bound, u.String())
				listening = true
				mu.Unlock()
				logger.Info("kdc listening", "realm", dom.Realm, "udp", u.String(), "tcp", t.String())
				readyc <- struct{}{}
			})
			if err != nil {
				mu.Lock()
				if !listening {
					err = &ListenError{Field: "Listen", Addr: addr, Err: err}
				}
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				readyc <- struct{}{}
			}
		}()
	}
	for range c.Listen {
		select {
		case <-readyc:
		case <-ctx.Done():
		}
	}
	mu.Lock()
	st := State{PID: os.Getpid(), Realm: string(dom.Realm), Listen: bound}
	failed := firstErr
	mu.Unlock()
	if failed == nil {
		if err := s.startSide(ctx, &wg, d, sink, &st); err != nil {
			cancel()
			wg.Wait()
			return err
		}
		statePath := folder.State()
		if err := writeState(statePath, &st); err != nil {
			logger.Warn("cannot record the listening addresses", "file", statePath, "err", err)
		} else {
			defer removeOwnState(statePath, st.PID)
		}
		if ready != nil {
			ready(st)
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	logger.Info("kdc stopped")
	return nil
}

// startSide starts kpasswd and the admin API if they are configured, and
// records their addresses in st; they stop when ctx ends (wg counts them).
func (s *Server) startSide(ctx context.Context, wg *sync.WaitGroup, d *domain.Domain, sink audit.Sink, st *State) error {
	c := &s.cfg
	logger := c.logger()
	kp := c.KpasswdListen
	if kp == "" && len(st.Listen) > 0 {
		if host, port, err := net.SplitHostPort(st.Listen[0]); err == nil && port == "88" {
			kp = net.JoinHostPort(host, "464")
		}
	}
	if kp != "" && kp != "off" {
		srv := &kpasswd.Server{Directory: d.Directory, Audit: sink, Logger: logger, RefuseUnaudited: c.RefuseUnaudited}
		ready := make(chan string, 1)
		errc := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- srv.ListenAndServe(ctx, kp, func(u, t net.Addr) {
				logger.Info("kpasswd listening", "udp", u.String(), "tcp", t.String())
				ready <- u.String()
			})
		}()
		select {
		case st.Kpasswd = <-ready:
		case err := <-errc:
			return &ListenError{Field: "KpasswdListen", Addr: kp, Err: err}
		}
	}
	if c.AdminListen == "" {
		return nil
	}
	a, err := s.startAdmin(ctx, d)
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := <-a.done; err != nil {
			logger.Error("admin API stopped", "err", err)
		}
	}()
	st.AdminURL, st.AdminPin, st.AdminAddr = a.url, a.pin, a.addr
	return nil
}
