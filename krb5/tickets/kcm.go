package tickets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/config"
	"hop/krb5/kcm"
)

// ErrNoKCMServer is wrapped by the error for a KCM: cache when nothing
// listens on the KCM socket (kcm_socket in krb5.conf).
var ErrNoKCMServer = errors.New("tickets: no KCM server answers")

// openKCM connects to the KCM server of krb5.conf's kcm_socket and names
// the cache as MIT does: "KCM:" is the server's default cache for this
// user (GET_DEFAULT_CACHE), "KCM:NAME" the cache NAME.
func (s *Source) openKCM(ctx context.Context, name config.CCache) (*openCache, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	sock := cfg.KCMSocket()
	c, err := kcm.Dial(ctx, sock)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w at %s (kcm_socket in krb5.conf): start one, or set KRB5CCNAME=FILE:/tmp/krb5cc_%d", ErrNoKCMServer, sock, os.Getuid())
		}
		return nil, fmt.Errorf("tickets: cannot connect to the KCM server at %s (kcm_socket in krb5.conf): %w", sock, err)
	}
	n := name.Residual
	if n == "" {
		if n, err = c.DefaultCache(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("tickets: the KCM server at %s does not name this user's default cache: %w", sock, err)
		}
	}
	shown := "KCM:" + n
	k := &kcmCache{c: c, name: n, shown: shown}
	return &openCache{credCache: k, shown: shown, where: shown, close: func() { c.Close() }}, nil
}

// kcmCache is a cache of a KCM server.
type kcmCache struct {
	c     *kcm.Client
	name  string // the server's name for it
	shown string // KCM:name
}

func (k *kcmCache) fail(err error) error {
	if errors.Is(err, kcm.ErrNoCache) {
		return fmt.Errorf("tickets: %s: %w", k.shown, os.ErrNotExist)
	}
	return fmt.Errorf("tickets: credential cache %s: %w", k.shown, err)
}

// load reads the principal (an uninitialized cache does not exist, as for
// MIT), the KDC offset when the server keeps one and the credentials.
func (k *kcmCache) load(ctx context.Context) (*ccache.Cache, error) {
	p, err := k.c.Principal(ctx, k.name)
	if err != nil {
		return nil, k.fail(err)
	}
	c := &ccache.Cache{Default: p}
	rep, err := k.c.Do(ctx, &kcm.Request{Op: kcm.OpGetKDCOffset, Name: k.name})
	var st kcm.Status
	switch {
	case err == nil:
		c.HasTimeOffset, c.TimeOffset = true, time.Duration(rep.Offset)*time.Second
	case !errors.As(err, &st):
		return nil, k.fail(err)
	}
	if c.Credentials, err = k.c.Credentials(ctx, k.name); err != nil {
		return nil, k.fail(err)
	}
	return c, nil
}

// replace sends REPLACE, as MIT's kinit does; from a server without it,
// MIT's fallback: INITIALIZE, SET_KDC_OFFSET and one STORE per credential.
func (k *kcmCache) replace(ctx context.Context, c *ccache.Cache) error {
	offset := int32(c.TimeOffset / time.Second)
	_, err := k.c.Do(ctx, &kcm.Request{Op: kcm.OpReplace, Name: k.name, Principal: c.Default, Offset: offset, Credentials: c.Credentials})
	var st kcm.Status
	if !errors.As(err, &st) || !st.Unsupported() {
		if err != nil {
			return k.fail(err)
		}
		return nil
	}
	if err := k.c.Initialize(ctx, k.name, c.Default); err != nil {
		return k.fail(err)
	}
	if c.HasTimeOffset {
		if _, err := k.c.Do(ctx, &kcm.Request{Op: kcm.OpSetKDCOffset, Name: k.name, Offset: offset}); err != nil && !errors.As(err, &st) {
			return k.fail(err)
		}
	}
	for i := range c.Credentials {
		if err := k.c.Store(ctx, k.name, &c.Credentials[i]); err != nil {
			return k.fail(err)
		}
	}
	return nil
}

// store adds cred; the server keeps the older ticket for the same server
// too, and load's callers take the newest (ccache.Cache.Find).
func (k *kcmCache) store(ctx context.Context, cred ccache.Credential) error {
	if err := k.c.Store(ctx, k.name, &cred); err != nil {
		return k.fail(err)
	}
	return nil
}

// destroy's errors other than a missing cache are the server's, unwrapped:
// Destroy names the cache.
func (k *kcmCache) destroy(ctx context.Context) error {
	err := k.c.Destroy(ctx, k.name)
	if errors.Is(err, kcm.ErrNoCache) {
		return k.fail(err)
	}
	return err
}

// retrieve sends RETRIEVE for client's ticket to server.
func (k *kcmCache) retrieve(ctx context.Context, client, server krb5.Principal) (*ccache.Credential, error) {
	cred, err := k.c.Retrieve(ctx, k.name, 0, &kcm.Match{Client: &client, Server: &server})
	if errors.Is(err, kcm.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, k.fail(err)
	}
	return cred, nil
}

// whyNot asks a hop session broker why there is no ticket for target.
func (k *kcmCache) whyNot(ctx context.Context, target krb5.Principal) error {
	st, err := k.c.BrokerStatus(ctx, k.name, target.String())
	if err != nil || st.Target == nil || st.Target.Explain == "" {
		return nil
	}
	return &BrokerError{Target: target, Status: st}
}

// BrokerError is ServiceTicket's error in a hop session whose broker
// gives no ticket for Target: its Status says why and what to do.
type BrokerError struct {
	Target krb5.Principal
	Status *kcm.BrokerStatus
}

func (e *BrokerError) Error() string { return e.Status.Target.Explain }

// Unwrap returns ErrNoTicket.
func (e *BrokerError) Unwrap() error { return ErrNoTicket }

// ErrNoBroker is wrapped by Broker's error when the credential cache in
// use is not a hop session's broker: a file, or the cache of another KCM
// server (MIT's, Heimdal's, SSSD's).
var ErrNoBroker = errors.New("tickets: the credential cache is not a hop session's broker")

// Broker asks the server of the credential cache in use, when it is a hop
// session's credential broker, what it is (the session, its delegation
// mode, whose tickets it obtains and how) and, when target is not zero,
// what it would do for that service principal (an SPN; without a realm,
// the session's). Outside a hop session its error wraps ErrNoBroker.
func (s *Source) Broker(ctx context.Context, target krb5.Principal) (*kcm.BrokerStatus, error) {
	_, cc, err := s.open(ctx, false)
	if err != nil {
		return nil, err
	}
	defer cc.close()
	k, ok := cc.credCache.(*kcmCache)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a file", ErrNoBroker, cc.shown)
	}
	t := ""
	if !target.Name.IsZero() {
		t = target.String()
	}
	st, err := k.c.BrokerStatus(ctx, k.name, t)
	if errors.Is(err, kcm.ErrNotBroker) {
		return nil, fmt.Errorf("%w: the KCM server of %s is not hop's", ErrNoBroker, k.shown)
	}
	if err != nil {
		return nil, k.fail(err)
	}
	return st, nil
}
