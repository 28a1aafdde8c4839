package kcm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
)

// FetchFunc obtains a credential for client to server that the cache named
// cacheName does not hold. It returns nil, nil when it has none to give.
type FetchFunc func(ctx context.Context, cacheName string, client, server krb5.Principal) (*ccache.Credential, error)

// Server serves the KCM protocol on a unix socket. Its zero value serves an
// in-memory store to the server's own uid.
type Server struct {
	// Store holds the caches; nil means a new Mem.
	Store Store
	// Allow decides which peers (by the uid the kernel reports with
	// SO_PEERCRED) may connect; the others are disconnected at once. Nil
	// allows only the uid of this process.
	Allow func(uid uint32) bool
	// Fetch, when set, is called when RETRIEVE finds no matching credential
	// in an existing cache for a server that is not one of MIT's
	// configuration entries; the credential it returns is stored in the
	// cache and returned. It is called whatever the request's flags:
	// MIT's client always sets GCCached. Its errors are logged; the client
	// gets KRB5_CC_NOTFOUND.
	Fetch FetchFunc
	// Broker, when set, answers hop's OpHopBroker (hop.go) for the peer
	// uid; without it the opcode is unsupported.
	Broker func(ctx context.Context, uid uint32, q *BrokerQuery) (*BrokerStatus, error)
	// Rand gives the names of GEN_NEW; nil means crypto/rand.
	Rand io.Reader
	// Logger receives one line per connection refused and per failure;
	// nil discards. Secrets are never logged.
	Logger *slog.Logger

	// MaxConns bounds the connections served at once (default 32); more
	// wait to be accepted. IdleTimeout closes a connection that sends no
	// request for that long (default 10 minutes). MaxCaches and
	// MaxCredentials bound the caches and the credentials in one cache
	// (defaults 64 and 1024); a request beyond them gets KRB5_CC_NOMEM.
	MaxConns       int
	IdleTimeout    time.Duration
	MaxCaches      int
	MaxCredentials int

	once sync.Once
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Store == nil {
			s.Store = &Mem{}
		}
		if s.Allow == nil {
			self := uint32(os.Getuid())
			s.Allow = func(uid uint32) bool { return uid == self }
		}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.MaxConns <= 0 {
			s.MaxConns = 32
		}
		if s.IdleTimeout <= 0 {
			s.IdleTimeout = 10 * time.Minute
		}
		if s.MaxCaches <= 0 {
			s.MaxCaches = 64
		}
		if s.MaxCredentials <= 0 {
			s.MaxCredentials = 1024
		}
	})
}

// ListenAndServe listens on the unix socket path (which must not exist)
// and serves until ctx ends; it removes the socket when it returns.
// Whoever can connect is decided by the folder's permissions and Allow.
func (s *Server) ListenAndServe(ctx context.Context, path string) error {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("kcm: listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(true)
	return s.Serve(ctx, l)
}

// Serve serves connections accepted from l until ctx ends, then closes l
// and every connection and returns ctx's error.
func (s *Server) Serve(ctx context.Context, l *net.UnixListener) error {
	s.init()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	slots := make(chan struct{}, s.MaxConns)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		c, err := l.AcceptUnix()
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("kcm: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.serveConn(ctx, c)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	uid, err := peerUID(c)
	if err != nil {
		s.Logger.Warn("kcm: connection refused", "err", err)
		return
	}
	if !s.Allow(uid) {
		s.Logger.Warn("kcm: connection refused: the peer's uid is not allowed", "uid", uid)
		return
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(s.IdleTimeout))
		b, err := readFrame(c, MaxRequestSize)
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.Logger.Info("kcm: connection closed", "uid", uid, "err", err)
			}
			return
		}
		var rep *Reply
		op := OpNoop
		req, err := DecodeRequest(b)
		if err != nil {
			s.Logger.Info("kcm: malformed request", "uid", uid, "err", err)
			rep = &Reply{Status: ErrFormat}
		} else {
			op = req.Op
			rep = s.handle(ctx, uid, req)
			attrs := []any{"uid", uid, "op", op.String(), "cache", req.Name, "status", int32(rep.Status)}
			if req.Match != nil {
				attrs = append(attrs, "match", req.Match.String())
			}
			s.Logger.Debug("kcm: request", attrs...)
		}
		// The request may hold a session key (STORE): what the store keeps
		// was copied out of it by DecodeRequest.
		clear(b)
		out, err := rep.Marshal(op)
		if err != nil {
			s.Logger.Error("kcm: encode reply", "op", op, "err", err)
			out, _ = (&Reply{Status: ErrIO}).Marshal(op)
		}
		c.SetWriteDeadline(time.Now().Add(s.IdleTimeout))
		err = writeReply(c, out)
		// A reply may hold session keys (RETRIEVE, GET_CRED_LIST): its
		// buffer is the server's own copy, zeroed once sent.
		clear(out)
		if err != nil {
			return
		}
	}
}

// fail turns a store error into a reply: a Status as it is, anything else
// logged and sent as KRB5_CC_IO.
func (s *Server) fail(op Op, err error) *Reply {
	var st Status
	if errors.As(err, &st) {
		return &Reply{Status: st}
	}
	s.Logger.Error("kcm: store", "op", op, "err", err)
	return &Reply{Status: ErrIO}
}

// view runs fn on the named cache without changing it; a missing cache is
// KRB5_FCC_NOFILE.
func (s *Server) view(ctx context.Context, name string, fn func(c *Cache) error) error {
	return s.Store.Update(ctx, name, func(c *Cache) (*Cache, error) {
		if c == nil {
			return nil, ErrNoCache
		}
		return c, fn(c)
	})
}

// change runs fn on the named cache, which must exist.
func (s *Server) change(ctx context.Context, name string, fn func(c *Cache) error) error {
	return s.Store.Update(ctx, name, func(c *Cache) (*Cache, error) {
		if c == nil {
			return nil, ErrNoCache
		}
		if err := fn(c); err != nil {
			return nil, err
		}
		return c, nil
	})
}

func (s *Server) handle(ctx context.Context, uid uint32, req *Request) *Reply {
	ok := &Reply{}
	var err error
	if req.Name == "" && namesCache(req.Op) && req.Op != OpSetDefaultCache {
		// Heimdal 7's client names the cache "" for KRB5CCNAME=KCM:, where
		// MIT's (and Heimdal's later ones) ask GET_DEFAULT_CACHE first: ""
		// is the caller's default cache.
		if req.Name, err = s.Store.Default(ctx, uid); err != nil {
			return s.fail(req.Op, err)
		}
	}
	switch req.Op {
	case OpNoop:
		return ok
	case OpGenNew:
		var u UUID
		if u, err = NewUUID(s.Rand); err != nil {
			return s.fail(req.Op, err)
		}
		return &Reply{Name: fmt.Sprintf("%d:%s", uid, u.String()[:12])}
	case OpGetDefaultCache:
		if ok.Name, err = s.Store.Default(ctx, uid); err != nil {
			return s.fail(req.Op, err)
		}
		return ok
	case OpSetDefaultCache:
		err = s.Store.SetDefault(ctx, uid, req.Name)
	case OpGetCacheUUIDList:
		var ids []CacheID
		if ids, err = s.Store.Caches(ctx); err != nil {
			return s.fail(req.Op, err)
		}
		for _, id := range ids {
			ok.UUIDs = append(ok.UUIDs, id.UUID)
		}
		return ok
	case OpGetCacheByUUID:
		var ids []CacheID
		if ids, err = s.Store.Caches(ctx); err != nil {
			return s.fail(req.Op, err)
		}
		for _, id := range ids {
			if id.UUID == req.UUID {
				return &Reply{Name: id.Name}
			}
		}
		return &Reply{Status: ErrEnd}
	case OpInitialize, OpReplace:
		err = s.initialize(ctx, req)
	case OpDestroy:
		err = s.Store.Update(ctx, req.Name, func(c *Cache) (*Cache, error) {
			if c == nil {
				return nil, ErrNoCache
			}
			return nil, nil
		})
	case OpStore:
		err = s.change(ctx, req.Name, func(c *Cache) error {
			if len(c.Entries) >= s.MaxCredentials {
				return ErrNoMem
			}
			c.Entries = append(c.Entries, Entry{Credential: *req.Credential})
			return nil
		})
	case OpRetrieve:
		return s.retrieve(ctx, req)
	case OpRemoveCred:
		err = s.change(ctx, req.Name, func(c *Cache) error {
			kept := c.Entries[:0]
			for _, e := range c.Entries {
				if !req.Match.Matches(req.Flags, &e.Credential) {
					kept = append(kept, e)
				}
			}
			c.Entries = kept
			return nil
		})
	case OpGetPrincipal:
		err = s.view(ctx, req.Name, func(c *Cache) error {
			if !c.Initialized() {
				return ErrNoCache
			}
			ok.Principal = c.Principal
			return nil
		})
	case OpGetCredUUIDList:
		err = s.view(ctx, req.Name, func(c *Cache) error {
			for _, e := range c.Entries {
				ok.UUIDs = append(ok.UUIDs, e.UUID)
			}
			return nil
		})
	case OpGetCredByUUID:
		err = s.view(ctx, req.Name, func(c *Cache) error {
			for _, e := range c.Entries {
				if e.UUID == req.UUID {
					cr := e.Credential
					ok.Credential = &cr
					return nil
				}
			}
			return ErrEnd
		})
	case OpGetCredList:
		err = s.view(ctx, req.Name, func(c *Cache) error {
			for _, e := range c.Entries {
				ok.Credentials = append(ok.Credentials, e.Credential)
			}
			return nil
		})
	case OpGetKDCOffset:
		err = s.view(ctx, req.Name, func(c *Cache) error {
			ok.Offset = c.KDCOffset
			return nil
		})
	case OpSetKDCOffset:
		err = s.change(ctx, req.Name, func(c *Cache) error {
			c.KDCOffset = req.Offset
			return nil
		})
	case OpHopBroker:
		return s.brokerReply(ctx, uid, req)
	default:
		return &Reply{Status: ErrNotSupp}
	}
	if err != nil {
		return s.fail(req.Op, err)
	}
	return ok
}

// initialize empties (or creates) the cache and gives it a principal; for
// REPLACE also a KDC offset and credentials.
func (s *Server) initialize(ctx context.Context, req *Request) error {
	if len(req.Credentials) > s.MaxCredentials {
		return ErrNoMem
	}
	caches, err := s.Store.Caches(ctx)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, req.Name, func(old *Cache) (*Cache, error) {
		if old == nil && len(caches) >= s.MaxCaches {
			return nil, ErrNoMem
		}
		c := &Cache{Principal: req.Principal, KDCOffset: req.Offset}
		if old != nil {
			c.UUID = old.UUID
		}
		for _, cr := range req.Credentials {
			c.Entries = append(c.Entries, Entry{Credential: cr})
		}
		return c, nil
	})
}

func (s *Server) retrieve(ctx context.Context, req *Request) *Reply {
	var found *ccache.Credential
	var client krb5.Principal
	err := s.view(ctx, req.Name, func(c *Cache) error {
		for i := len(c.Entries) - 1; i >= 0; i-- {
			if req.Match.Matches(req.Flags, &c.Entries[i].Credential) {
				cr := c.Entries[i].Credential
				found = &cr
				return nil
			}
		}
		client = c.Principal
		return nil
	})
	if err != nil {
		return s.fail(req.Op, err)
	}
	if found != nil {
		return &Reply{Credential: found}
	}
	m := req.Match
	if s.Fetch == nil || m.Server == nil || isConfig(*m.Server) {
		return &Reply{Status: ErrNotFound}
	}
	if m.Client != nil {
		client = *m.Client
	}
	if client.Name.IsZero() {
		return &Reply{Status: ErrNotFound}
	}
	cred, err := s.Fetch(ctx, req.Name, client, *m.Server)
	if err != nil {
		s.Logger.Info("kcm: fetch", "cache", req.Name, "client", client.String(), "server", m.Server.String(), "err", err)
		return &Reply{Status: ErrNotFound}
	}
	if cred == nil {
		return &Reply{Status: ErrNotFound}
	}
	if err := s.change(ctx, req.Name, func(c *Cache) error {
		// The fetched ticket replaces an older (expired) one for the same
		// client and server, so that a long session does not fill the
		// cache; the store zeroes the dropped one.
		kept := c.Entries[:0]
		for _, e := range c.Entries {
			if !(samePrincipal(e.Credential.Client, cred.Client, true) && samePrincipal(e.Credential.Server, cred.Server, true)) {
				kept = append(kept, e)
			}
		}
		c.Entries = kept
		if len(c.Entries) >= s.MaxCredentials {
			return ErrNoMem
		}
		c.Entries = append(c.Entries, Entry{Credential: *cred})
		return nil
	}); err != nil {
		return s.fail(req.Op, err)
	}
	return &Reply{Credential: cred}
}
