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
// in the cache. The ticket is forwardable when the TGT is, as MIT's and
// Windows' clients ask (a forwardable ticket to a service is what
// constrained delegation's S4U2Proxy needs as evidence, MS-SFU §3.2.5.2.2).
func (s *Source) ServiceTicket(ctx context.Context, service krb5.PrincipalName) (*client.Credential, error) {
	var out *client.Credential
	err := s.withTGT(ctx, service, func(cache *ccache.Cache, cc *openCache, target krb5.Principal) (bool, error) {
		now := s.now()
		if c, ok := cache.Find(target); ok && c.EndTime.Sub(now) >= MinRemaining && !c.StartTime.After(now) {
			if cred, err := ccache.ToClient(c); err == nil {
				out = cred
				return true, nil
			}
		}
		// As MIT's client does, ask the cache's server first: a hop
		// session broker obtains the ticket now, by the session's
		// delegation mode.
		rc, err := cc.retrieve(ctx, cache.Default, target)
		if err != nil {
			return false, err
		}
		if rc != nil && rc.EndTime.After(now) {
			if cred, err := ccache.ToClient(rc); err == nil {
				out = cred
				return true, nil
			}
		}
		return false, nil
	}, func(tgt *client.Credential) *client.Request {
		return s.tgsRequest(tgt, service)
	}, func(cred *client.Credential) { out = cred }, true)
	return out, err
}

// FreshServiceTicket is ServiceTicket without the cached ticket: it
// always asks the KDC (and keeps the new ticket), for a caller that needs
// what the domain says now, e.g. whether the service is trusted for
// delegation today (OK-AS-DELEGATE) when the cached ticket says it was
// not.
func (s *Source) FreshServiceTicket(ctx context.Context, service krb5.PrincipalName) (*client.Credential, error) {
	var out *client.Credential
	err := s.withTGT(ctx, service, nil, func(tgt *client.Credential) *client.Request {
		return s.tgsRequest(tgt, service)
	}, func(cred *client.Credential) { out = cred }, true)
	return out, err
}

// tgsRequest is the request for a service ticket: forwardable when the
// TGT is.
func (s *Source) tgsRequest(tgt *client.Credential, service krb5.PrincipalName) *client.Request {
	r := &client.Request{Service: service, Realm: tgt.Client.Realm, Options: krb5.OptCanonicalize, Now: s.Now}
	if tgt.Flags.Has(krb5.TktForwardable) {
		r.Options |= krb5.OptForwardable
	}
	return r
}

// HandOverTicket obtains a ticket to service for another host to use in
// the user's name (mode remote-guard): a new one from the KDC that lasts at
// most lifetime, not forwardable, and not kept in the cache, since its
// session key leaves this host. Without a TGT in the cache (in a hop
// session whose broker holds none, in a chain of hops) it asks the cache's
// server, as ServiceTicket does. A ticket-granting service is refused:
// remote-guard hands over service tickets only.
func (s *Source) HandOverTicket(ctx context.Context, service krb5.PrincipalName, lifetime time.Duration) (*client.Credential, error) {
	if len(service.Components) > 0 && strings.EqualFold(service.Components[0], "krbtgt") {
		return nil, fmt.Errorf("tickets: %s is a ticket-granting service: only service tickets are handed over", service)
	}
	var out *client.Credential
	err := s.withTGT(ctx, service, func(cache *ccache.Cache, cc *openCache, target krb5.Principal) (bool, error) {
		tgs := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", string(target.Realm)), Realm: target.Realm}
		if _, ok := cache.Find(tgs); ok {
			return false, nil
		}
		rc, err := cc.retrieve(ctx, cache.Default, target)
		if err != nil || rc == nil {
			return false, err
		}
		out, err = ccache.ToClient(rc)
		return true, err
	}, func(tgt *client.Credential) *client.Request {
		return &client.Request{Service: service, Realm: tgt.Client.Realm, Options: krb5.OptCanonicalize, Lifetime: lifetime, Now: s.Now}
	}, func(cred *client.Credential) { out = cred }, false)
	return out, err
}

// ErrNotForwardable is wrapped by ForwardedTGT's error when the
// ticket-granting ticket is not forwardable.
var ErrNotForwardable = errors.New("tickets: the ticket-granting ticket is not forwardable")

// ForwardedTGT asks the KDC for a forwarded copy of the ticket-granting
// ticket (KDC option FORWARDED, RFC 4120 §2.6), to delegate in a GSS-API
// context, as MIT's krb5_fwd_tgt_creds does. The TGT must be forwardable:
// a sensitive account's or a Protected User's never is. The copy is
// forwardable too, and is not stored in the cache.
func (s *Source) ForwardedTGT(ctx context.Context) (*client.Credential, error) {
	var out *client.Credential
	err := s.withTGT(ctx, krb5.PrincipalName{}, nil, func(tgt *client.Credential) *client.Request {
		return &client.Request{Service: tgt.Server.Name, Realm: tgt.Server.Realm, Options: krb5.OptForwarded | krb5.OptForwardable, Now: s.Now}
	}, func(cred *client.Credential) { out = cred }, false)
	return out, err
}

// withTGT opens the cache and, unless cached answers, asks the realm's
// KDCs with the cache's TGT for the request that request makes, giving
// the new credential to got (and storing it in the cache when store).
// service is the target's name, zero for the TGT itself.
func (s *Source) withTGT(ctx context.Context, service krb5.PrincipalName,
	cached func(*ccache.Cache, *openCache, krb5.Principal) (bool, error),
	request func(tgt *client.Credential) *client.Request, got func(*client.Credential), store bool) error {
	cc, cache, err := s.openLoaded(ctx)
	if err != nil {
		return err
	}
	defer cc.close()
	path := cc.where
	user := cache.Default
	realm := user.Realm
	now := s.now()
	target := krb5.Principal{Name: service, Realm: realm}
	if cached != nil {
		if done, err := cached(cache, cc, target); done || err != nil {
			return err
		}
	}
	tgtName := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", string(realm)), Realm: realm}
	tc, ok := cache.Find(tgtName)
	switch {
	case !ok:
		if !service.IsZero() {
			if err := cc.whyNot(ctx, target); err != nil {
				return err
			}
		}
		return &TGTError{Reason: ErrNoTGT, Cache: path, Client: user}
	case !tc.EndTime.After(now):
		return &TGTError{Reason: ErrExpired, Cache: path, Client: user, Expired: tc.EndTime}
	}
	tgt, err := ccache.ToClient(tc)
	if err != nil {
		return fmt.Errorf("the ticket-granting ticket in %s: %w", path, err)
	}
	if service.IsZero() && !tgt.Flags.Has(krb5.TktForwardable) {
		return fmt.Errorf("%w: %s's ticket in %s was not issued forwardable: get a forwardable one (hop login --forwardable, kinit -f); a sensitive account or a member of Protected Users never gets one", ErrNotForwardable, user, path)
	}
	cfg, err := s.config()
	if err != nil {
		return err
	}
	kdcs, err := cfg.KDCs(string(realm))
	if err != nil {
		return err
	}
	if len(kdcs) == 0 {
		return fmt.Errorf("krb5.conf names no KDC for realm %s: add one under [realms] (hop client-config prints a krb5.conf)", realm)
	}
	var errs []error
	for _, addr := range kdcs {
		conn := client.Dial(addr, client.UDPThenTCP, s.Timeout)
		cred, err := conn.ServiceTicket(ctx, tgt, request(tgt))
		conn.Close()
		if err == nil {
			if store {
				if err := cc.store(ctx, ccache.FromClient(cred)); err != nil {
					return fmt.Errorf("keeping the new ticket in %s: %w", path, err)
				}
			}
			got(cred)
			return nil
		}
		var kerr *client.Error
		if errors.As(err, &kerr) {
			if kerr.Code == krb5.KDCErrSPrincipalUnknown && !service.IsZero() {
				return fmt.Errorf("the KDC of %s knows no service %s: check the server's name (%w)", realm, service, err)
			}
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return fmt.Errorf("no KDC of realm %s answered: %w", realm, errors.Join(errs...))
}

// HostService returns the service name service/host for a URL's host (no
// port, lower case), as MIT does with dns_canonicalize_hostname=false.
func HostService(service, host string) krb5.PrincipalName {
	return krb5.NewName(krb5.NTSrvHst, service, strings.ToLower(strings.TrimSuffix(host, ".")))
}
