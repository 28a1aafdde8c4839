package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/dc"
	"hop/directory"
	"hop/domain"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/config"
	"hop/krb5/tickets"
)

// Where a directory command acts: the domain in a local folder (--dir, as
// the domain administrator) or an admin server (--server, as the caller's
// Kerberos identity). See (*env).service.
type target struct {
	dir    *string
	server *string
	fs     *flag.FlagSet
	// authentic: the command trusts what the server answers (SSH host
	// keys), so a server it reaches must be one whose replies cannot be
	// forged in transit (see admin.NewClient).
	authentic bool
}

// targetFlags adds --dir and --server to fs.
func (e *env) targetFlags(fs *flag.FlagSet) *target {
	return &target{
		fs:     fs,
		dir:    fs.String("dir", e.defaultDir(), "the folder that holds the domain (acts as the domain administrator)"),
		server: fs.String("server", "", "the admin server's `URL` (default: admin_url in krb5.conf's [hop] section); acts with your Kerberos ticket"),
	}
}

func (t *target) given(name string) bool {
	return givenFlags(t.fs)[name]
}

// service opens what t names. Without --server or --dir: the domain in
// $HOP_DIR or the default folder if there is one, else the admin server of
// krb5.conf's admin_url for the default realm (see config.HopSettings).
func (e *env) service(ctx context.Context, t *target) (admin.Service, func(), error) {
	if t.given("server") && t.given("dir") {
		return nil, nil, usagef("give either --server or --dir, not both")
	}
	if t.given("server") {
		return e.remote(*t.server, t.authentic)
	}
	local := t.given("dir") || e.getenv("HOP_DIR") != ""
	if !local {
		if domain.Folder(*t.dir).HasDomain() {
			local = true
		}
	}
	if !local {
		_, hs, err := e.hopSettings()
		if err != nil {
			return nil, nil, err
		}
		if hs.AdminURL != "" {
			return e.remote(hs.AdminURL, t.authentic)
		}
	}
	d, done, err := openDirectory(ctx, *t.dir)
	if err != nil {
		if !t.given("dir") {
			err = fmt.Errorf("%w; or, to administer a domain over the network, give --server URL (or admin_url in krb5.conf's [hop] section, as hop client-config writes it)", err)
		}
		return nil, nil, err
	}
	return &adminserver.Local{Dir: d, Actor: directory.LocalAdmin, AuditLog: dc.AuditReader(domain.Folder(*t.dir).AuditLog())}, done, nil
}

func (e *env) krb5Config() (*config.Config, error) {
	return config.Load(e.getenv)
}

// hopSettings returns krb5.conf and hop's settings in it for the default
// realm.
func (e *env) hopSettings() (*config.Config, config.HopSettings, error) {
	cfg, err := e.krb5Config()
	if err != nil {
		return nil, config.HopSettings{}, err
	}
	realm, _ := cfg.DefaultRealm()
	return cfg, cfg.HopSettings(realm), nil
}

// remote returns a client of the admin server at rawURL that authenticates
// with the caller's Kerberos tickets (SPNEGO, service HTTP/host) and, for
// https, trusts the server by the key pinned in krb5.conf (admin_tls_pin)
// or else by the system's roots.
func (e *env) remote(rawURL string, authentic bool) (admin.Service, func(), error) {
	c, err := e.adminClient(rawURL, true, authentic)
	if err != nil {
		return nil, nil, serverURLError(rawURL, err)
	}
	return c, c.Close, nil
}

// anonymous returns a client of t's admin server that does not
// authenticate (token joins): --server, else krb5.conf's admin_url for the
// default realm.
func (e *env) anonymous(ctx context.Context, t *target) (admin.Service, func(), error) {
	u := *t.server
	if !t.given("server") {
		_, hs, err := e.hopSettings()
		if err != nil {
			return nil, nil, err
		}
		if hs.AdminURL == "" {
			return nil, nil, usagef("a join with a token goes to the admin server: give --server URL (or admin_url in krb5.conf's [hop] section)")
		}
		u = hs.AdminURL
	}
	c, err := e.adminClient(u, false, false)
	if err != nil {
		return nil, nil, serverURLError(u, err)
	}
	return c, c.Close, nil
}

// adminClient returns a client of the admin server at rawURL, with the
// TLS pin of krb5.conf's admin_tls_pin for the default realm: with the
// caller's tickets if negotiate, and refusing a URL whose replies could be
// forged if authenticatedReplies (see admin.NewClient).
func (e *env) adminClient(rawURL string, negotiate, authenticatedReplies bool) (*admin.Client, error) {
	cfg, hs, err := e.hopSettings()
	if err != nil {
		return nil, err
	}
	opts := admin.ClientOptions{TLSPin: hs.AdminTLSPin, AuthenticatedReplies: authenticatedReplies, HostAddress: hs.AdminAddress}
	if negotiate {
		src := &tickets.Source{Config: cfg, Getenv: e.getenv}
		opts.Credential = func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error) {
			c, err := src.ServiceTicket(ctx, spn)
			if err != nil {
				return nil, &adminTicketError{err}
			}
			return c, nil
		}
	}
	return admin.NewClient(rawURL, opts)
}

// adminTicketError is a failure to get the Kerberos ticket for the admin
// server, which is not the server being unreachable.
type adminTicketError struct{ err error }

func (e *adminTicketError) Error() string { return e.err.Error() }
func (e *adminTicketError) Unwrap() error { return e.err }

// serverURLError turns NewClient's refusal of a malformed URL into a usage
// error.
func serverURLError(rawURL string, err error) error {
	if ue := (*admin.URLError)(nil); errors.As(err, &ue) && !ue.Insecure {
		return usagef("--server %q is not an admin server URL: give http(s)://HOST:PORT", rawURL)
	}
	return err
}

// serviceAction makes the run function of a command that takes npos
// positional arguments, --dir and --server, and acts on the service.
func serviceAction(npos int, do func(ctx context.Context, e *env, svc admin.Service, pos []string) error) func(context.Context, *env, *command, []string) error {
	return func(ctx context.Context, e *env, c *command, args []string) error {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		tgt := e.targetFlags(fs)
		pos, err := parse(e, fs, c, args, npos, npos)
		if err != nil {
			return err
		}
		svc, done, err := e.service(ctx, tgt)
		if err != nil {
			return err
		}
		defer done()
		return do(ctx, e, svc, pos)
	}
}
