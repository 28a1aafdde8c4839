// Package tickets gives hop's client commands the user's Kerberos
// tickets the way MIT's library does: from the default credential cache
// (KRB5CCNAME, krb5.conf's default_ccache_name, /tmp/krb5cc_UID), asking
// the realm's KDCs (krb5.conf [realms]) for a service ticket with the
// ticket-granting ticket found there, and keeping the new ticket in the
// cache, so that MIT's klist shows it and the next command reuses it.
//
// It also does what kinit, klist and kdestroy do (hop login, hop tickets,
// hop logout): Source.Login gets a ticket-granting ticket with a password
// or a keytab key (an AS exchange with PA-ENC-TIMESTAMP, RFC 4120 §3.1 and
// §5.2.7.2), trying each KDC of the realm over UDP and then TCP (§7.2.1),
// and writes a fresh cache in MIT's format; its errors (*LoginError) say in
// one line what to do. Source.List describes a cache as klist -f -e does,
// the ticket's own encryption type read from its enc-part (§5.3), and
// Source.Destroy removes it.
//
// FILE, DIR (the collection's primary cache) and KCM caches are supported;
// a KCM cache ("KCM:" for the server's default cache, "KCM:NAME") is read
// and written through the KCM server at krb5.conf's kcm_socket, as MIT's
// library does (hop/krb5/kcm). The error for another type says what to set
// instead.
package tickets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/config"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// MinRemaining is how long a cached ticket must still be valid to be used:
// a ticket about to expire is replaced rather than sent.
const MinRemaining = time.Minute

// Source finds and gets a user's tickets.
type Source struct {
	// Config is krb5.conf; nil = config.Load(os.Getenv).
	Config *config.Config
	// CCache is the credential cache (a path, or TYPE:residual as in
	// KRB5CCNAME); "" = the default one.
	CCache string
	// Timeout bounds each KDC exchange; 0 = 5 seconds.
	Timeout time.Duration
	// Getenv reads KRB5CCNAME and KRB5_CONFIG; nil = os.Getenv.
	Getenv func(string) string
	Now    func() time.Time
}

func (s *Source) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return os.Getenv(k)
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) config() (*config.Config, error) {
	if s.Config != nil {
		return s.Config, nil
	}
	c, err := config.Load(s.getenv)
	if err != nil {
		return nil, err
	}
	s.Config = c
	return c, nil
}

// Name returns the credential cache in use: CCache when set (a path, or
// "FILE:path", "DIR:dir", "DIR::path", "KCM:", "KCM:NAME"), else the
// default one as MIT finds it (KRB5CCNAME, default_ccache_name,
// FILE:/tmp/krb5cc_UID).
func (s *Source) Name() (config.CCache, error) {
	if s.CCache != "" {
		if strings.HasPrefix(s.CCache, "/") {
			return config.CCache{Type: "FILE", Residual: s.CCache}, nil
		}
		return config.ParseCCacheName(s.CCache)
	}
	cfg, err := s.config()
	if err != nil {
		return config.CCache{}, err
	}
	return cfg.CCacheName(s.getenv, os.Getuid())
}

// Path returns the file that holds the credential cache in use (for a
// DIR collection, its primary cache). A KCM cache has none: its error
// says so.
func (s *Source) Path() (string, error) {
	name, err := s.Name()
	if err != nil {
		return "", err
	}
	p, err := name.Path()
	if err != nil && name.Type == "KCM" {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("the credential cache %s is not a FILE, DIR or KCM cache, the kinds hop reads: set KRB5CCNAME=FILE:/tmp/krb5cc_%d and run kinit (or hop login) again (%v)", name, os.Getuid(), err)
	}
	return p, nil
}

// displayName is the cache's name as klist prints it: FILE:path, or
// DIR::path for a cache of a DIR collection.
func displayName(name config.CCache, path string) string {
	if name.Type == "DIR" {
		return "DIR::" + path
	}
	return "FILE:" + path
}

// ErrNoTicket means the cache holds no usable ticket-granting ticket; a
// *TGTError says why.
var ErrNoTicket = errors.New("tickets: no usable ticket-granting ticket")

// Reasons a *TGTError gives, besides ErrNoCache.
var (
	ErrNoTGT   = errors.New("tickets: no ticket-granting ticket in the cache")
	ErrExpired = errors.New("tickets: the ticket-granting ticket expired")
)

// TGTError is ServiceTicket's error when the credential cache holds no
// usable ticket-granting ticket. It wraps ErrNoTicket and its Reason, so
// that callers test errors.Is(err, tickets.ErrExpired).
type TGTError struct {
	// Reason is ErrNoCache (there is no such cache), ErrNoTGT (the cache
	// holds no TGT of its principal's realm) or ErrExpired.
	Reason error
	Cache  string         // the cache's path, or its name KCM:NAME
	Client krb5.Principal // the cache's principal; zero for ErrNoCache
	// Expired is when the TGT expired, for ErrExpired.
	Expired time.Time
}

func (e *TGTError) Error() string {
	switch e.Reason {
	case ErrNoCache:
		return fmt.Sprintf("%v: there is no credential cache %s; get a ticket with kinit (or hop login)", ErrNoTicket, e.Cache)
	case ErrExpired:
		return fmt.Sprintf("%v: the ticket of %s expired at %s: run kinit %s (or hop login) again", ErrNoTicket, e.Client, e.Expired.Local().Format(time.DateTime), e.Client)
	}
	return fmt.Sprintf("%v in %s for %s: get one with kinit %s (or hop login)", ErrNoTicket, e.Cache, e.Client, e.Client)
}

// Unwrap returns ErrNoTicket and the reason.
func (e *TGTError) Unwrap() []error { return []error{ErrNoTicket, e.Reason} }

// ServiceTicket returns a ticket for service (e.g. HTTP/kdc.example.test)
// in the realm of the cache's principal: the cached one if it is valid for
// at least MinRemaining, else a new one from a KDC, which it also stores
// in the cache.
func (s *Source) ServiceTicket(ctx context.Context, service krb5.PrincipalName) (*client.Credential, error) {
	_, cc, err := s.open(ctx, false)
	if err != nil {
		return nil, err
	}
	defer cc.close()
	path := cc.where
	cache, err := cc.load(ctx)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &TGTError{Reason: ErrNoCache, Cache: path}
	}
	if err != nil {
		return nil, err
	}
	user := cache.Default
	realm := user.Realm
	now := s.now()
	target := krb5.Principal{Name: service, Realm: realm}
	if c, ok := cache.Find(target); ok && c.EndTime.Sub(now) >= MinRemaining && !c.StartTime.After(now) {
		if cred, err := fromCache(c); err == nil {
			return cred, nil
		}
	}
	// As MIT's client does, ask the cache's server first: a hop session
	// broker obtains the ticket now, by the session's delegation mode.
	rc, err := cc.retrieve(ctx, user, target)
	if err != nil {
		return nil, err
	}
	if rc != nil && rc.EndTime.After(now) {
		if cred, err := fromCache(rc); err == nil {
			return cred, nil
		}
	}
	tgtName := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", string(realm)), Realm: realm}
	tc, ok := cache.Find(tgtName)
	switch {
	case !ok:
		if err := cc.whyNot(ctx, target); err != nil {
			return nil, err
		}
		return nil, &TGTError{Reason: ErrNoTGT, Cache: path, Client: user}
	case !tc.EndTime.After(now):
		return nil, &TGTError{Reason: ErrExpired, Cache: path, Client: user, Expired: tc.EndTime}
	}
	tgt, err := fromCache(tc)
	if err != nil {
		return nil, fmt.Errorf("the ticket-granting ticket in %s: %w", path, err)
	}
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	kdcs, err := cfg.KDCs(string(realm))
	if err != nil {
		return nil, err
	}
	if len(kdcs) == 0 {
		return nil, fmt.Errorf("krb5.conf names no KDC for realm %s: add one under [realms] (hop client-config prints a krb5.conf)", realm)
	}
	var errs []error
	for _, addr := range kdcs {
		conn := client.Dial(addr, client.UDPThenTCP, s.Timeout)
		cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Service: service, Realm: realm, Options: krb5.OptCanonicalize, Now: s.Now})
		conn.Close()
		if err == nil {
			if err := cc.store(ctx, toCache(cred)); err != nil {
				return nil, fmt.Errorf("keeping the new ticket in %s: %w", path, err)
			}
			return cred, nil
		}
		var kerr *client.Error
		if errors.As(err, &kerr) {
			if kerr.Code == krb5.KDCErrSPrincipalUnknown {
				return nil, fmt.Errorf("the KDC of %s knows no service %s: check the server's name (%v)", realm, service, err)
			}
			return nil, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return nil, fmt.Errorf("no KDC of realm %s answered: %w", realm, errors.Join(errs...))
}

func fromCache(c *ccache.Credential) (*client.Credential, error) {
	t, err := wire.ParseTicket(c.Ticket)
	if err != nil {
		return nil, err
	}
	k, err := crypto.NewKey(c.KeyType, c.Key)
	if err != nil {
		return nil, err
	}
	return &client.Credential{
		Client: c.Client, Server: c.Server, Ticket: *t, SessionKey: k, Flags: c.Flags,
		AuthTime: c.AuthTime, StartTime: c.StartTime, EndTime: c.EndTime, RenewTill: c.RenewTill,
	}, nil
}

func toCache(c *client.Credential) ccache.Credential {
	raw := c.Ticket.Raw
	if len(raw) == 0 {
		raw, _ = c.Ticket.Marshal()
	}
	return ccache.Credential{
		Client: c.Client, Server: c.Server, KeyType: c.SessionKey.EncType(), Key: c.SessionKey.Material(),
		AuthTime: c.AuthTime, StartTime: c.StartTime, EndTime: c.EndTime, RenewTill: c.RenewTill,
		Flags: c.Flags, Ticket: raw,
	}
}

// HostService returns the service name service/host for a URL's host (no
// port, lower case), as MIT does with dns_canonicalize_hostname=false.
func HostService(service, host string) krb5.PrincipalName {
	return krb5.NewName(krb5.NTSrvHst, service, strings.ToLower(strings.TrimSuffix(host, ".")))
}
