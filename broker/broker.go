// Package broker is the per-session credential broker: what a session on
// this host may use to reach other hosts. The agent starts one Broker per
// session; it serves the session's credential cache over KCM (krb5/kcm) on a
// unix socket in a folder of its own, so that unmodified MIT and Heimdal
// programs (KRB5CCNAME=KCM:) read and write their tickets through the
// agent, never a file on the host.
//
// When a program asks for a ticket the cache does not hold (KCM RETRIEVE),
// the broker obtains it at that moment with the session's Issuer, which is
// the delegation mode (remoting.Mode): none has no issuer; forward uses the
// TGT the client forwarded (Forwarded); constrained performs S4U2Proxy with
// the host's own TGT (Constrained); a RunAs or JEA endpoint's own identity
// logs on with its key (Keytab). A refusal is never cached: the next
// request asks the KDC again. hop's own commands ask the broker why a
// ticket is missing (kcm.OpHopBroker) and print its explanation.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/kcm"
	"hop/remoting"
)

// File names inside a session's folder.
const (
	SocketName   = "kcm.sock"
	FragmentName = "krb5.conf"
)

// DefaultHostKrb5Conf is the host's krb5.conf when Config.HostKrb5Conf is empty.
const DefaultHostKrb5Conf = "/etc/krb5.conf"

// Config is one session's broker.
type Config struct {
	// RuntimeDir is the existing folder that holds the sessions' folders;
	// the session's users must be able to traverse it.
	RuntimeDir string
	// SessionID names the session's folder (RuntimeDir/session-ID): letters,
	// digits, '-' and '_' only.
	SessionID string
	// UID and GID own the session's folder and socket; only UID and root
	// may connect.
	UID, GID uint32
	// Principal is the session's principal, the client of its cache.
	Principal krb5.Principal
	// HostKrb5Conf is the host's krb5.conf path list (KRB5_CONFIG syntax),
	// read after the session's fragment (default /etc/krb5.conf).
	HostKrb5Conf string
	// Logger receives the KCM server's messages; nil discards. Secrets are
	// never logged.
	Logger *slog.Logger

	// Mode is the session's delegation mode (default none); Allowed, the
	// modes its endpoint allows (for the explanations; default all).
	Mode    remoting.Mode
	Allowed []remoting.Mode
	// Issuer obtains Principal's tickets on demand; nil obtains none.
	Issuer Issuer
	// Initial credentials are in the session's cache from the start (the
	// forwarded TGT of mode forward, which programs then use directly).
	Initial []*client.Credential
	// Host (b.example.test), HostService (host/b.example.test@R),
	// Endpoint and User (who opened the session; Principal differs for a
	// RunAs or JEA endpoint) describe the session in the status and in
	// the explanations.
	Host        string
	HostService krb5.Principal
	Endpoint    string
	User        krb5.Principal
	// OnTicket, when set, is told of every ticket the broker obtains or
	// is refused (the agent's audit log).
	OnTicket func(TicketEvent)
	// Credentials are the credentials passed into the session (hop exec
	// --pass-credential), each in a cache of its own,
	// remoting.CredentialCache(Name). The broker zeroes their keys when
	// it stops.
	Credentials []Passed
}

// Passed is a credential passed into a session: the TGT the agent got
// with it, under the name the user gave.
type Passed struct {
	Name string
	TGT  *client.Credential
}

// TicketEvent is a ticket the broker obtained (Err nil) or was refused.
type TicketEvent struct {
	Client, Target krb5.Principal
	Err            error
}

// Broker is a running session broker.
type Broker struct {
	dir, socket, fragment, hostConf string
	cfg                             Config

	store  *kcm.Mem
	cancel context.CancelFunc
	served chan struct{}
	once   sync.Once

	mu      sync.Mutex
	refused map[string]string // target → the newest refusal's text
}

// maxRefusals bounds the refusals a broker remembers for its status.
const maxRefusals = 64

func validSessionID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Start makes the session's folder (0700, owned by UID:GID), its krb5.conf
// fragment and its KCM socket, and serves the socket until Close or the end
// of ctx. The default cache of UID (and of root) holds Principal and no
// credential. On error nothing is left behind.
func Start(ctx context.Context, c Config) (*Broker, error) {
	if !filepath.IsAbs(c.RuntimeDir) {
		return nil, fmt.Errorf("broker: the runtime folder %q is not an absolute path", c.RuntimeDir)
	}
	if !validSessionID(c.SessionID) {
		return nil, fmt.Errorf("broker: the session ID %q is not letters, digits, '-' and '_'", c.SessionID)
	}
	if c.Principal.Name.IsZero() || c.Principal.Realm == "" {
		return nil, errors.New("broker: the session has no principal")
	}
	if c.HostKrb5Conf == "" {
		c.HostKrb5Conf = DefaultHostKrb5Conf
	}
	if c.Mode == "" {
		c.Mode = remoting.ModeNone
	}
	if c.Allowed == nil {
		c.Allowed = remoting.Modes
	}
	if c.User.Name.IsZero() {
		c.User = c.Principal
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Broker{
		dir:      filepath.Join(c.RuntimeDir, "session-"+c.SessionID),
		hostConf: c.HostKrb5Conf,
		cfg:      c,
		store:    &kcm.Mem{},
		served:   make(chan struct{}),
		refused:  map[string]string{},
	}
	b.socket = filepath.Join(b.dir, SocketName)
	b.fragment = filepath.Join(b.dir, FragmentName)
	if err := os.Mkdir(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("broker: make the session's folder: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			b.store.Close()
			b.closeSecrets()
			os.RemoveAll(b.dir)
		}
	}()
	// Mkdir applies the umask; the folder's mode is exactly 0700.
	if err := os.Chmod(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := os.WriteFile(b.fragment, []byte(fragment(b.socket)), 0o644); err != nil {
		return nil, fmt.Errorf("broker: write the session's krb5.conf: %w", err)
	}
	uids := []uint32{c.UID, 0}
	if c.UID == 0 {
		uids = uids[:1]
	}
	for _, uid := range uids {
		name := strconv.FormatUint(uint64(uid), 10)
		if err := b.store.Update(ctx, name, func(*kcm.Cache) (*kcm.Cache, error) {
			cache := &kcm.Cache{Principal: c.Principal}
			for _, cr := range c.Initial {
				cache.Entries = append(cache.Entries, kcm.Entry{Credential: ccache.FromClient(cr)})
			}
			return cache, nil
		}); err != nil {
			return nil, fmt.Errorf("broker: initialize the session's cache: %w", err)
		}
		if err := b.store.SetDefault(ctx, uid, name); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
	}
	for _, p := range c.Credentials {
		if err := b.store.Update(ctx, remoting.CredentialCache(p.Name), func(*kcm.Cache) (*kcm.Cache, error) {
			return &kcm.Cache{Principal: p.TGT.Client, Entries: []kcm.Entry{{Credential: ccache.FromClient(p.TGT)}}}, nil
		}); err != nil {
			return nil, fmt.Errorf("broker: keep the credential passed for %s: %w", p.Name, err)
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: b.socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("broker: listen on the session's KCM socket: %w", err)
	}
	l.SetUnlinkOnClose(true)
	if err := os.Chmod(b.socket, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	for _, p := range []string{b.socket, b.dir} {
		if err := os.Lchown(p, int(c.UID), int(c.GID)); err != nil {
			l.Close()
			return nil, fmt.Errorf("broker: give the session's folder to uid %d: %w", c.UID, err)
		}
	}
	uid := c.UID
	srv := &kcm.Server{
		Store:  b.store,
		Allow:  func(peer uint32) bool { return peer == uid || peer == 0 },
		Logger: logger,
		Fetch:  b.fetch,
		Broker: b.status,
	}
	sctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	go func() {
		defer close(b.served)
		if err := srv.Serve(sctx, l); err != nil && sctx.Err() == nil {
			logger.Error("broker: the KCM server stopped", "err", err)
		}
	}()
	ok = true
	return b, nil
}

// fragment is the session's krb5.conf: the KCM socket and the default cache.
func fragment(socket string) string {
	return "# hop agent: this session's credential broker\n[libdefaults]\n\tkcm_socket = " + socket + "\n\tdefault_ccache_name = KCM:\n"
}

// Dir returns the session's folder; Socket its KCM socket.
func (b *Broker) Dir() string    { return b.dir }
func (b *Broker) Socket() string { return b.socket }

// Env returns the session's Kerberos environment: KRB5CCNAME=KCM: and
// KRB5_CONFIG naming the fragment, then the host's krb5.conf.
func (b *Broker) Env() []string {
	return []string{"KRB5CCNAME=KCM:", "KRB5_CONFIG=" + strings.Join([]string{b.fragment, b.hostConf}, string(os.PathListSeparator))}
}

// closeSecrets zeroes the keys of the issuer and of the passed
// credentials.
func (b *Broker) closeSecrets() {
	if b.cfg.Issuer != nil {
		b.cfg.Issuer.Close()
	}
	for _, p := range b.cfg.Credentials {
		p.TGT.SessionKey.Zero()
	}
}

// Close stops the server, zeroes every key the store holds and removes
// the socket and the session's folder. It may be called more than once.
func (b *Broker) Close() error {
	var err error
	b.once.Do(func() {
		b.cancel()
		<-b.served
		b.store.Close()
		b.closeSecrets()
		if e := os.RemoveAll(b.dir); e != nil {
			err = fmt.Errorf("broker: remove the session's folder: %w", e)
		}
	})
	return err
}
