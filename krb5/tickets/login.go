package tickets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"hop/internal/atomicfile"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/config"
	"hop/krb5/crypto"
	"hop/krb5/keytab"
	"hop/krb5/wire"
)

// Reasons a login fails. A *LoginError wraps exactly one of them, so that
// callers test errors.Is(err, tickets.ErrWrongPassword).
var (
	ErrNoRealm          = errors.New("tickets: no realm")
	ErrNoKDC            = errors.New("tickets: no KDC answered")
	ErrWrongPassword    = errors.New("tickets: wrong password or key")
	ErrUnknownPrincipal = errors.New("tickets: unknown principal")
	ErrClockSkew        = errors.New("tickets: clock skew too great")
	ErrPasswordExpired  = errors.New("tickets: password expired")
	ErrLockedOut        = errors.New("tickets: account locked out")
	ErrDisabled         = errors.New("tickets: account disabled")
	ErrAccountExpired   = errors.New("tickets: account expired")
)

// LoginError is a failed login: Reason is one of the Err* values above,
// Cause what the KDC or the network said. Error is one line that says what
// to do.
type LoginError struct {
	Reason    error
	Principal krb5.Principal
	// Skew is the KDC's clock minus ours, for ErrClockSkew.
	Skew time.Duration
	// Tried lists the KDC addresses and transports tried, for ErrNoKDC.
	Tried []string
	Cause error
	msg   string
}

func (e *LoginError) Error() string { return e.msg }

// Unwrap returns the reason and the cause.
func (e *LoginError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Cause}
}

// LoginRequest says whose initial ticket (the TGT) to get, and how.
type LoginRequest struct {
	// Client is the principal, with its realm (see Source.Principal).
	Client krb5.Principal
	// Password is asked for the client's password once a KDC has answered
	// (as kinit prompts only then). It is not called when Keytab is set.
	Password func(krb5.Principal) (string, error)
	// Keytab, when set, holds the client's keys (kinit -k -t FILE).
	Keytab *keytab.Keytab
	// KeytabName names Keytab in messages.
	KeytabName string
	// Lifetime asked for; 0 = krb5.conf's ticket_lifetime (default 1 day;
	// the KDC caps it).
	Lifetime time.Duration
	// RenewLifetime asks for a renewable ticket when positive; 0 = krb5.conf's
	// renew_lifetime, and when that is unset the renewable-ok option as
	// kinit sends it (the KDC may make a ticket it shortens renewable);
	// negative = not renewable.
	RenewLifetime time.Duration
	// Forwardable: nil = krb5.conf's forwardable.
	Forwardable *bool
	// Rand defaults to crypto/rand.
	Rand io.Reader
}

// Principal turns a name typed by a user into a principal: "alice",
// "alice@EXAMPLE.TEST" or "host/b.example.test". A name without a realm
// gets krb5.conf's default_realm; "" is the login name ($USER, else the
// user of the process).
func (s *Source) Principal(name string) (krb5.Principal, error) {
	if name == "" {
		name = s.getenv("USER")
	}
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		return krb5.Principal{}, errors.New("tickets: no principal given and no login name ($USER) to default to")
	}
	p, err := krb5.ParsePrincipal(name)
	if err != nil {
		return krb5.Principal{}, fmt.Errorf("tickets: %q: %w", name, err)
	}
	if p.Realm != "" {
		return p, nil
	}
	cfg, err := s.config()
	if err != nil {
		return krb5.Principal{}, err
	}
	r, ok := cfg.DefaultRealm()
	if !ok {
		return krb5.Principal{}, &LoginError{Reason: ErrNoRealm, Principal: p, msg: fmt.Sprintf(
			"%s names no realm and %s has no default_realm: write a krb5.conf with hop client-config > %s (or give %s@REALM)",
			name, cfg.Describe(), confTarget(cfg), name)}
	}
	p.Realm = krb5.Realm(r)
	return p, nil
}

// confTarget is where to write a krb5.conf: the first file read, else the
// first one looked for (KRB5_CONFIG's), else DefaultPath.
func confTarget(cfg *config.Config) string {
	if f := cfg.Files(); len(f) > 0 {
		return f[0]
	}
	if paths, _ := cfg.Searched(); len(paths) > 0 && paths[0] != "" {
		return paths[0]
	}
	return config.DefaultPath
}

// Login gets an initial ticket-granting ticket for r.Client from the
// realm's KDCs (krb5.conf [realms]; each in turn, UDP then TCP) as MIT's
// kinit does, and replaces the credential cache (Name) with a new one
// holding it, r.Client as its default principal, the KDC's clock offset
// in the header and the pa_type configuration entry. The file is written
// atomically with mode 0600; a KCM cache is replaced with REPLACE, as
// kinit does. A DIR collection's directory and primary file are created
// as MIT's library does.
func (s *Source) Login(ctx context.Context, r *LoginRequest) (*client.Credential, error) {
	p := r.Client
	if p.Name.IsZero() || p.Realm == "" {
		return nil, errors.New("tickets: Login needs a client principal with its realm")
	}
	if r.Keytab == nil && r.Password == nil {
		return nil, errors.New("tickets: Login needs a password or a keytab")
	}
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	realm := string(p.Realm)
	kdcs, err := cfg.KDCs(realm)
	if err != nil {
		return nil, err
	}
	if len(kdcs) == 0 {
		return nil, &LoginError{Reason: ErrNoKDC, Principal: p, msg: fmt.Sprintf(
			"%s names no KDC for realm %s: add one under [realms] (hop client-config > %s writes a krb5.conf for a hop domain)",
			cfg.Describe(), realm, confTarget(cfg))}
	}
	req, err := s.loginRequest(cfg, r)
	if err != nil {
		return nil, err
	}
	var (
		key  *crypto.Key
		sent time.Time
	)
	cred, tried, err := s.eachKDC(ctx, kdcs, func(conn *client.Conn) (*client.Credential, error) {
		info, err := conn.PreauthInfo(ctx, req)
		if err != nil {
			return nil, err
		}
		if key == nil {
			if key, err = r.clientKey(p, info); err != nil {
				return nil, err
			}
		}
		sent = s.now()
		return conn.LoginWithKey(ctx, req, key)
	})
	if err != nil {
		return nil, loginError(r, cfg, err, sent, tried)
	}
	if err := s.store(ctx, cred, p, s.now()); err != nil {
		return nil, err
	}
	return cred, nil
}

func (s *Source) loginRequest(cfg *config.Config, r *LoginRequest) (*client.Request, error) {
	realm := string(r.Client.Realm)
	req := &client.Request{Client: r.Client, Lifetime: r.Lifetime, RenewLifetime: r.RenewLifetime, Now: s.Now, Rand: r.Rand}
	if req.Lifetime == 0 {
		d, err := cfg.TicketLifetime(realm)
		if err != nil {
			return nil, err
		}
		req.Lifetime = d
	}
	if req.RenewLifetime == 0 {
		d, err := cfg.RenewLifetime(realm)
		if err != nil {
			return nil, err
		}
		req.RenewLifetime = d
	}
	switch {
	case req.RenewLifetime > 0:
		req.Options |= krb5.OptRenewable
	case req.RenewLifetime == 0:
		// MIT's default KDC options (kdc_default_options): a ticket the
		// KDC cannot make last as long as asked may come back renewable
		// up to that time instead.
		req.Options |= krb5.OptRenewableOK
	}
	if fw := cfg.Forwardable(realm); r.Forwardable != nil && *r.Forwardable || r.Forwardable == nil && fw {
		req.Options |= krb5.OptForwardable
	}
	if r.Keytab != nil {
		req.ETypes = keytabETypes(r.Keytab, r.Client)
		if len(req.ETypes) == 0 {
			return nil, fmt.Errorf("the keytab %s holds no key of a supported type for %s (it holds %s): export it again with hop keytab export",
				r.KeytabName, r.Client, keytabPrincipals(r.Keytab))
		}
	}
	return req, nil
}

// keytabETypes lists the supported types of p's keys in kt, strongest first.
func keytabETypes(kt *keytab.Keytab, p krb5.Principal) []krb5.EncType {
	var out []krb5.EncType
	for _, e := range kt.Entries {
		if e.Principal.Name.Equal(p.Name) && e.Principal.Realm.Equal(p.Realm) &&
			crypto.Supported(e.EncType) && !slices.Contains(out, e.EncType) {
			out = append(out, e.EncType)
		}
	}
	slices.SortStableFunc(out, func(a, b krb5.EncType) int { return crypto.Preference(b) - crypto.Preference(a) })
	return out
}

func keytabPrincipals(kt *keytab.Keytab) string {
	var names []string
	for _, e := range kt.Entries {
		if s := e.Principal.String(); !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return "no keys"
	}
	return "keys for " + strings.Join(names, ", ")
}

// clientKey returns the key to pre-authenticate with: from the keytab, of
// the first type the KDC lists, or from the password and the salt the KDC
// gave.
func (r *LoginRequest) clientKey(p krb5.Principal, info []wire.ETypeInfo2Entry) (*crypto.Key, error) {
	if r.Keytab == nil {
		pw, err := r.Password(p)
		if err != nil {
			return nil, err
		}
		return client.KeyFromPassword(p, pw, info)
	}
	for _, e := range info {
		ent, err := r.Keytab.Find(p, 0, e.EType)
		if err != nil {
			continue
		}
		return crypto.NewKey(ent.EncType, ent.Key)
	}
	var offered []string
	for _, e := range info {
		offered = append(offered, e.EType.String())
	}
	return nil, fmt.Errorf("the keytab %s has no key of the types the KDC holds for %s (%s): export it again with hop keytab export",
		r.KeytabName, p, strings.Join(offered, ", "))
}

// eachKDC runs exchange with each KDC in turn, over UDP (with TCP when the
// reply is too big) and then over TCP, until one answers. Only network
// failures move on to the next attempt; an answer, even a refusal, ends
// the search.
func (s *Source) eachKDC(ctx context.Context, kdcs []string, exchange func(*client.Conn) (*client.Credential, error)) (*client.Credential, []string, error) {
	var (
		tried []string
		errs  []error
	)
	for _, addr := range kdcs {
		for _, t := range []struct {
			tr   client.Transport
			name string
		}{{client.UDPThenTCP, "UDP"}, {client.TCPOnly, "TCP"}} {
			conn := client.Dial(addr, t.tr, s.Timeout)
			cred, err := exchange(conn)
			conn.Close()
			if err == nil || !isNetError(err) || ctx.Err() != nil {
				return cred, tried, err
			}
			tried = append(tried, addr+" ("+t.name+")")
			errs = append(errs, err)
		}
	}
	return nil, tried, &netFailure{errors.Join(errs...)}
}

// netFailure is every KDC failing to answer.
type netFailure struct{ err error }

func (n *netFailure) Error() string { return n.err.Error() }
func (n *netFailure) Unwrap() error { return n.err }

func isNetError(err error) bool {
	var ne net.Error
	var errno syscall.Errno
	return errors.As(err, &ne) || errors.As(err, &errno) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded)
}

// loginError turns what went wrong into a LoginError that says what to do.
// sent is when the pre-authenticated request left, for the clock skew.
func loginError(r *LoginRequest, cfg *config.Config, err error, sent time.Time, tried []string) error {
	p := r.Client
	user := p.Name.String()
	le := &LoginError{Principal: p, Cause: err}
	var nf *netFailure
	var kerr *client.Error
	switch {
	case errors.As(err, &nf):
		le.Reason, le.Tried = ErrNoKDC, tried
		le.msg = fmt.Sprintf("no KDC of realm %s answered (tried %s): is the KDC running (hop kdc)? check the kdc lines of [realms] %s in %s",
			p.Realm, strings.Join(tried, ", "), p.Realm, cfg.Describe())
	case errors.As(err, &kerr):
		etext := ""
		if kerr.Msg != nil && kerr.Msg.EText != "" {
			etext = " (the KDC says: " + kerr.Msg.EText + ")"
		}
		switch kerr.Code {
		case krb5.KDCErrPreauthFailed, krb5.KRBAPErrBadIntegrity:
			le.Reason = ErrWrongPassword
			if r.Keytab != nil {
				le.msg = fmt.Sprintf("the key of %s in the keytab %s is not the account's current key; export the keytab again (hop keytab export %s -o FILE)",
					p, r.KeytabName, user)
			} else {
				le.msg = fmt.Sprintf("the password for %s is wrong; type it again (an administrator can set a new one with hop account passwd %s)", p, user)
			}
		case krb5.KDCErrCPrincipalUnknown:
			le.Reason = ErrUnknownPrincipal
			le.msg = fmt.Sprintf("the KDC of %s knows no principal %s: check the name (hop account list shows the accounts)", p.Realm, p)
		case krb5.KRBAPErrSkew:
			le.Reason = ErrClockSkew
			if kerr.Msg != nil && !kerr.Msg.STime.IsZero() && !sent.IsZero() {
				le.Skew = kerr.Msg.STime.Add(time.Duration(kerr.Msg.Susec) * time.Microsecond).Sub(sent).Round(time.Second)
			}
			switch {
			case le.Skew > 0:
				le.msg = fmt.Sprintf("this computer's clock is %s behind the KDC's of %s, more than the KDC allows: synchronise it (e.g. with chrony or systemd-timesyncd)", le.Skew, p.Realm)
			case le.Skew < 0:
				le.msg = fmt.Sprintf("this computer's clock is %s ahead of the KDC's of %s, more than the KDC allows: synchronise it (e.g. with chrony or systemd-timesyncd)", -le.Skew, p.Realm)
			default:
				le.msg = fmt.Sprintf("this computer's clock and the KDC's of %s differ by more than the KDC allows%s: synchronise it", p.Realm, etext)
			}
		case krb5.KDCErrKeyExpired:
			le.Reason = ErrPasswordExpired
			le.msg = fmt.Sprintf("the password of %s has expired: change it with kpasswd %s (or ask an administrator: hop account passwd %s)", p, user, user)
		case krb5.KDCErrClientRevoked:
			if kerr.HasStatus && kerr.Status == wire.StatusAccountLockedOut ||
				!(kerr.HasStatus && kerr.Status == wire.StatusAccountDisabled) && kerr.Msg != nil && strings.Contains(kerr.Msg.EText, "locked") {
				le.Reason = ErrLockedOut
				le.msg = fmt.Sprintf("%s is locked out after too many wrong passwords; wait for the lockout to end or ask an administrator (hop account set %s --unlock)%s", p, user, etext)
			} else {
				le.Reason = ErrDisabled
				le.msg = fmt.Sprintf("the account %s is disabled; ask an administrator to enable it (hop account enable %s)%s", p, user, etext)
			}
		case krb5.KDCErrNameExp:
			le.Reason = ErrAccountExpired
			le.msg = fmt.Sprintf("the account %s has expired; ask an administrator to extend it (hop account set %s --expires never)%s", p, user, etext)
		default:
			le.Reason = err
			le.msg = fmt.Sprintf("the KDC of %s refused the login of %s: %s%s", p.Realm, p, kerr.Code, etext)
		}
	default:
		return err
	}
	return le
}

// paTypeEncTimestamp is the value of the pa_type configuration entry
// kinit stores after encrypted-timestamp pre-authentication.
const paTypeEncTimestamp = "2"

// store writes a new cache holding cred, as kinit does.
func (s *Source) store(ctx context.Context, cred *client.Credential, p krb5.Principal, now time.Time) error {
	_, cc, err := s.open(ctx, true)
	if err != nil {
		return err
	}
	defer cc.close()
	c := &ccache.Cache{
		Version: 4, Default: p,
		// The KDC's clock minus ours, from the ticket's authtime, as MIT
		// records it with kdc_timesync (krb5_set_real_time, whole seconds).
		HasTimeOffset: true,
		TimeOffset:    time.Duration(cred.AuthTime.Unix()-now.Unix()) * time.Second,
		Credentials:   []ccache.Credential{ccache.FromClient(cred)},
	}
	c.SetConfig("pa_type", cred.Server, []byte(paTypeEncTimestamp))
	return cc.replace(ctx, c)
}

// prepareDir creates what MIT's library creates when it resolves a DIR
// cache: the directory (mode 0700, not its parents) and, for the
// collection itself (DIR:dir), a primary file naming "tkt" when there is
// none.
func prepareDir(name config.CCache) error {
	if name.Type != "DIR" {
		return nil
	}
	dir := name.Residual
	sub, isSub := strings.CutPrefix(dir, ":")
	if isSub {
		dir = filepath.Dir(sub)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("tickets: credential cache %s: %w", name, err)
	}
	if isSub {
		return nil
	}
	primary := filepath.Join(dir, "primary")
	if _, err := os.Lstat(primary); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := atomicfile.WriteFile(primary, []byte("tkt\n"), 0o600); err != nil {
		return fmt.Errorf("tickets: credential cache %s: write its primary file: %w", name, err)
	}
	return nil
}

// Destroy removes the credential cache, as MIT's kdestroy does (it
// unlinks a cache file, and has a KCM server destroy a KCM cache). It
// returns the cache's name; a missing cache is an error wrapping
// os.ErrNotExist.
func (s *Source) Destroy(ctx context.Context) (config.CCache, error) {
	name, cc, err := s.open(ctx, false)
	if err != nil {
		return name, err
	}
	defer cc.close()
	if err := cc.destroy(ctx); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return name, fmt.Errorf("there is no credential cache %s to destroy: %w", cc.shown, os.ErrNotExist)
		}
		return name, fmt.Errorf("tickets: destroy %s: %w", cc.shown, err)
	}
	return name, nil
}
