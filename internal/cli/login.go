package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"hop/krb5"
	"hop/krb5/config"
	"hop/krb5/keytab"
	"hop/krb5/tickets"
	"hop/remoting"
)

func loginCommand() *command {
	return &command{
		name:    "login",
		summary: "get a ticket-granting ticket into the credential cache (kinit)",
		usage:   "login [PRINCIPAL] [--keytab FILE] [--password-file FILE] [--lifetime D] [--renewable D] [--forwardable=BOOL] [--ccache CACHE] | login --credential ACCOUNT",
		help: `PRINCIPAL is NAME or NAME@REALM (default: $USER in krb5.conf's
default_realm; with --keytab, the keytab's first principal). The KDCs come from
krb5.conf ([realms] REALM kdc), each tried over UDP then TCP. The password is
asked at the terminal, read from the first line of a non-terminal standard
input, or from --password-file ("-" = stdin); with --keytab the principal's
key comes from the keytab instead (kinit -k -t), e.g. one written by
hop keytab export.

The ticket replaces the content of the credential cache: --ccache, else
$KRB5CCNAME, else krb5.conf's default_ccache_name, else FILE:/tmp/krb5cc_UID.
FILE: and DIR: caches are written in MIT's format (mode 0600, atomically), so
klist, kvno, ssh and every GSS-API program use the ticket. Durations D are
MIT's (10h, 1d, 90m, 3600); --lifetime and --renewable default to
ticket_lifetime and renew_lifetime of krb5.conf, --forwardable to its
forwardable. Like kinit, login prints nothing when it succeeds.

In a hop session, --credential ACCOUNT makes the credential passed into the
session for ACCOUNT (hop exec HOST --pass-credential ACCOUNT on the host you
came from) the session's default, so that every Kerberos program there
authenticates as ACCOUNT.`,
		run: runLogin,
	}
}

func logoutCommand() *command {
	return &command{
		name:    "logout",
		summary: "destroy the credential cache (kdestroy)",
		usage:   "logout [--ccache CACHE]",
		help: `Removes the credential cache file (--ccache, else $KRB5CCNAME, else the
default one), as MIT's kdestroy does. A missing cache is an error.`,
		run: runLogout,
	}
}

// durationFlag is an MIT duration ("10h", "1d", "3600").
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 10h, 1d, 90m)", s)
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	f.d, f.set = d, true
	return nil
}

func runLogin(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	ktFile := fs.String("keytab", "", "take the principal's key from the keytab `FILE` instead of a password")
	pwFile := fs.String("password-file", "", "read the password from the first line of `FILE` (- for standard input)")
	ccName := fs.String("ccache", "", "the credential `CACHE` to write (FILE:path, DIR:dir, KCM:[NAME] or a path)")
	var lifetime, renew durationFlag
	fs.Var(&lifetime, "lifetime", "ticket lifetime `D` (default: krb5.conf ticket_lifetime)")
	fs.Var(&renew, "renewable", "ask for a ticket renewable for `D` (0: not renewable; default: krb5.conf renew_lifetime)")
	forwardable := fs.Bool("forwardable", false, "ask for a forwardable ticket (default: krb5.conf forwardable)")
	credential := fs.String("credential", "", "in a hop session: make the credential passed into it for `ACCOUNT` (hop exec --pass-credential) the session's default")
	pos, err := parse(e, fs, c, args, 0, 1)
	if err != nil {
		return err
	}
	if *credential != "" {
		if len(pos) != 0 || *ktFile != "" || *pwFile != "" || lifetime.set || renew.set {
			return usagef("%s: --credential takes no principal, keytab, password or lifetime: the credential was obtained when it was passed", c.path)
		}
		return loginPassed(ctx, e, *ccName, *credential)
	}
	if *ktFile != "" && *pwFile != "" {
		return usagef("%s: give either --keytab or --password-file, not both", c.path)
	}
	if lifetime.set && lifetime.d == 0 {
		return usagef("%s: --lifetime must be positive", c.path)
	}
	src := &tickets.Source{CCache: *ccName, Getenv: e.getenv}
	req := &tickets.LoginRequest{Lifetime: lifetime.d}
	switch {
	case renew.set && renew.d == 0:
		req.RenewLifetime = -1
	case renew.set:
		req.RenewLifetime = renew.d
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "forwardable" {
			req.Forwardable = forwardable
		}
	})
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	if *ktFile != "" {
		kt, err := keytab.Load(*ktFile)
		if err != nil {
			return err
		}
		if name == "" {
			if len(kt.Entries) == 0 {
				return fmt.Errorf("the keytab %s is empty: export one with hop keytab export ACCOUNT -o %s", *ktFile, *ktFile)
			}
			name = kt.Entries[0].Principal.String()
		}
		req.Keytab, req.KeytabName = kt, *ktFile
	} else {
		req.Password = func(p krb5.Principal) (string, error) {
			return e.readPassword(*pwFile, "Password for "+p.String()+": ", false)
		}
	}
	if req.Client, err = src.Principal(name); err != nil {
		return err
	}
	_, err = src.Login(ctx, req)
	return err
}

func runLogout(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	ccName := fs.String("ccache", "", "the credential `CACHE` to destroy (FILE:path, DIR:dir, KCM:[NAME] or a path)")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	_, err := (&tickets.Source{CCache: *ccName, Getenv: e.getenv}).Destroy(ctx)
	return err
}

// loginPassed makes the credential passed into this hop session for name
// the default cache's (or --ccache's) content.
func loginPassed(ctx context.Context, e *env, ccName, name string) error {
	if !remoting.ValidCredentialName(name) {
		return usagef("--credential %q: give the account name given to --pass-credential", name)
	}
	dst := &tickets.Source{CCache: ccName, Getenv: e.getenv}
	cache, err := dst.Name()
	if err != nil {
		return err
	}
	if cache.Type != "KCM" {
		return fmt.Errorf("--credential %s: the credential cache is %s, not the KCM cache of a hop session: a credential is passed into a session with hop exec HOST --pass-credential %s", name, cache, name)
	}
	from := &tickets.Source{CCache: "KCM:" + remoting.CredentialCache(name), Getenv: e.getenv}
	if _, err := dst.CopyFrom(ctx, from); err != nil {
		if errors.Is(err, tickets.ErrNoTicket) {
			return fmt.Errorf("no credential for %s was passed into this hop session: on the first host, run hop exec THIS-HOST --pass-credential %s", name, name)
		}
		return err
	}
	return nil
}
