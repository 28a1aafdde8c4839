package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/directory"
	"hop/krb5"
)

func accountCommand() *command {
	return &command{
		name:    "account",
		summary: "manage users, computers and service accounts",
		subs: []*command{
			{name: "add", summary: "add a user account", usage: "account add NAME [--dir DIR | --server URL] [--password-file FILE | --random-key] [--upn UPN] [--description TEXT] [--allow-rc4] [--json]",
				help: `NAME is the account name (sAMAccountName), which is also its principal
(NAME@REALM). The password is asked at the terminal, read from the first line
of a non-terminal standard input, or from --password-file ("-" = stdin).`,
				run: runAccountAdd(directory.KindUser)},
			{name: "add-computer", summary: "add a computer account (b.example.test → b$ with host SPNs)",
				usage: "account add-computer FQDN [--dir DIR | --server URL] [--password-file FILE | --random-key] [--spn SPN]... [--json]",
				help: `Creates the computer account NAME$ for host FQDN, with the SPNs
host/FQDN and host/NAME, and random keys unless --password-file is given.
Export its keys for the host with: hop keytab export NAME$ -o FILE`,
				run: runAccountAdd(directory.KindComputer)},
			{name: "add-service", summary: "add a service account with SPNs",
				usage: "account add-service NAME --spn SPN [--spn SPN]... [--dir DIR | --server URL] [--password-file FILE | --random-key] [--json]",
				run:   runAccountAdd(directory.KindService)},
			{name: "list", summary: "list accounts", usage: "account list [--dir DIR | --server URL] [--kind user|computer|service] [--json]", run: runAccountList},
			{name: "show", summary: "show one account", usage: "account show NAME [--dir DIR | --server URL] [--json]", run: runAccountShow},
			{name: "set", summary: "change an account's settings",
				usage: "account set NAME [--dir DIR | --server URL] [--description T] [--upn U] [--expires TIME|never] [--password-expires TIME|never] [--preauth-required=BOOL] [--allow-rc4=BOOL] [--max-ticket-life D] [--max-renew-life D] [--unlock] [delegation flags]",
				help: `TIME is RFC 3339 (2027-01-31T00:00:00Z) or a date (2027-01-31), or
"never". Changes reach a running KDC at its next request.

Delegation: --trusted-for-delegation (unconstrained), --allowed-to-delegate-to
SPNs and --protocol-transition (classic constrained delegation) are for Domain
Admins; --allowed-to-act PRINCIPALS (resource-based, set on the resource: the
seed's Set-ADComputer C -PrincipalsAllowedToDelegateToAccount B) may be set by
the account's managers (--managed-by) too. "none" clears a list; with
--allowed-to-act, +NAME adds and -NAME removes one principal. Boolean flags take
=false to clear (--sensitive=false). The KDC applies a change at its next
request; hop delegation explain says what a setting allows.`,
				run: runAccountSet},
			{name: "disable", summary: "disable an account (its tickets stop working at the next TGS request)", usage: "account disable NAME [--dir DIR | --server URL]", run: runAccountEnable(false)},
			{name: "enable", summary: "enable a disabled account", usage: "account enable NAME [--dir DIR | --server URL]", run: runAccountEnable(true)},
			{name: "delete", summary: "delete an account", usage: "account delete NAME [--dir DIR | --server URL]", run: runAccountDelete},
			{name: "passwd", summary: "set an account's password or give it new random keys (increments its kvno)",
				usage: "account passwd NAME [--dir DIR | --server URL] [--password-file FILE | --random-key]",
				help: `Sets new keys; the key version number (kvno) increases by one and the
previous keys are kept so that tickets issued under them stay valid until they
expire. For krbtgt this is the krbtgt key rotation. After changing a service's
keys, export a new keytab for it.`,
				run: runAccountPasswd},
		},
	}
}

func runAccountAdd(kind directory.Kind) func(context.Context, *env, *command, []string) error {
	return func(ctx context.Context, e *env, c *command, args []string) error {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		tgt := e.targetFlags(fs)
		pwFile := fs.String("password-file", "", "read the password from `FILE` (- for standard input)")
		random := fs.Bool("random-key", kind == directory.KindComputer, "give the account random keys instead of a password")
		upn := fs.String("upn", "", "user principal name, e.g. alice@example.test")
		desc := fs.String("description", "", "free text")
		rc4 := fs.Bool("allow-rc4", false, "also create an rc4-hmac key and allow RC4 for this account (weak; off by default)")
		asJSON := fs.Bool("json", false, "print the new account as JSON")
		var spns stringList
		if kind != directory.KindUser {
			fs.Var(&spns, "spn", "a service principal name, e.g. HTTP/web.example.test (repeatable or comma separated)")
		}
		pos, err := parse(e, fs, c, args, 1, 1)
		if err != nil {
			return err
		}
		if *pwFile != "" && *random {
			fs.Visit(func(f *flag.Flag) {
				if f.Name == "random-key" && *random {
					err = usagef("%s: give either --password-file or --random-key, not both", c.path)
				}
			})
			if err != nil {
				return err
			}
			*random = false // the computer default yields to an explicit password
		}
		n := admin.NewAccount{Kind: kind.String(), Name: pos[0], UPN: *upn, Description: *desc, AllowRC4: *rc4, SPNs: spns, RandomKey: *random}
		if kind == directory.KindComputer {
			if _, _, err := adminserver.ComputerName(pos[0]); err != nil {
				return usagef("%s: %v", c.path, err)
			}
		}
		if kind == directory.KindService && len(n.SPNs) == 0 {
			return usagef("%s: a service account needs at least one --spn (e.g. --spn HTTP/web.example.test)", c.path)
		}
		svc, done, err := e.service(ctx, tgt)
		if err != nil {
			return err
		}
		defer done()
		if !*random {
			if n.Password, err = e.readPassword(*pwFile, "Password for "+pos[0]+": ", true); err != nil {
				return err
			}
		}
		created, err := svc.CreateAccount(ctx, n)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, created)
		}
		fmt.Fprintf(e.stdout, "Created %s %s (%s, RID %d, kvno %d).\n", created.Kind, created.Name, created.Principal, created.RID, created.KVNO)
		if len(created.SPNs) > 0 {
			fmt.Fprintf(e.stdout, "SPNs: %s\n", strings.Join(created.SPNs, ", "))
		}
		if kind != directory.KindUser && *random {
			fmt.Fprintf(e.stdout, "Export its keys with: hop keytab export %s -o FILE\n", created.Name)
		}
		return nil
	}
}

func runAccountList(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	kind := fs.String("kind", "", "only accounts of this kind: user, computer or service")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *kind != "" {
		if _, err := directory.ParseKind(*kind); err != nil {
			return usagef("%s: %v", c.path, err)
		}
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	views, err := svc.Accounts(ctx, *kind)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, views)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tRID\tKVNO\tSTATE\tSPNS")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", v.Name, v.Kind, v.RID, v.KVNO, v.State(now), strings.Join(v.SPNs, ","))
	}
	return tw.Flush()
}

func runAccountShow(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	v, err := svc.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	writeAccount(e.stdout, v)
	return nil
}

func writeAccount(w io.Writer, v *admin.Account) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	row := func(k, val string) { fmt.Fprintf(tw, "%s:\t%s\n", k, val) }
	row("name", v.Name)
	row("kind", v.Kind)
	row("principal", v.Principal)
	row("sid", v.SID)
	row("state", v.State(time.Now()))
	row("revision", fmt.Sprint(v.Revision))
	if v.Locked && v.LockedUntil != nil {
		row("locked until", v.LockedUntil.Format(time.RFC3339))
	}
	if v.UPN != "" {
		row("upn", v.UPN)
	}
	if v.DNSHostName != "" {
		row("dns host name", v.DNSHostName)
	}
	if v.Description != "" {
		row("description", v.Description)
	}
	row("spns", strings.Join(v.SPNs, ", "))
	row("groups", strings.Join(v.Groups, ", "))
	row("preauth required", fmt.Sprint(v.PreauthRequired))
	row("rc4 allowed", fmt.Sprint(v.AllowRC4))
	row("expires", timeOrNever(v.Expires))
	row("password last set", timeOrNever(v.PasswordLastSet))
	row("password expires", timeOrNever(v.PasswordExpires))
	if v.MaxTicketLife != "" {
		row("max ticket life", v.MaxTicketLife)
	}
	if v.MaxRenewLife != "" {
		row("max renew life", v.MaxRenewLife)
	}
	row("kvno", fmt.Sprint(v.KVNO))
	var ks []string
	for _, k := range v.Keys {
		ks = append(ks, k.EType)
	}
	row("keys", strings.Join(ks, ", "))
	if len(v.OldKeys) > 0 {
		var old []string
		for _, k := range v.OldKeys {
			old = append(old, fmt.Sprintf("%s (kvno %d)", k.EType, k.KVNO))
		}
		row("old keys", strings.Join(old, ", "))
	}
	if d := v.Delegation; d != nil {
		row("delegation", delegationSummary(d))
		row("allowed to delegate to", orNone(d.AllowedToDelegateTo))
		row("allowed to act (RBCD)", orNone(d.AllowedToAct))
		row("managed by", orNone(d.ManagedBy))
		if d.NoAuthDataRequired {
			row("pac", "none in its tickets (no-auth-data-required)")
		}
	}
	if len(v.SSHHostKeys) > 0 {
		row("ssh host keys", fmt.Sprintf("%d registered (hop known-hosts prints them)", len(v.SSHHostKeys)))
	}
	row("failed logons", fmt.Sprint(v.BadPwdCount))
	row("created", v.Created.Format(time.RFC3339))
	row("modified", v.Modified.Format(time.RFC3339))
	tw.Flush()
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// delegationSummary says in words what may be delegated from and of the account.
func delegationSummary(d *admin.Delegation) string {
	var parts []string
	if d.TrustedForDelegation {
		parts = append(parts, "unconstrained (trusted for delegation)")
	}
	if d.ProtocolTransition {
		parts = append(parts, "protocol transition")
	}
	if len(d.AllowedToDelegateTo) > 0 {
		parts = append(parts, "constrained to its allowed-to-delegate-to list")
	}
	switch {
	case d.Sensitive:
		parts = append(parts, "sensitive: cannot be delegated")
	case d.ProtectedUsers:
		parts = append(parts, "in Protected Users: cannot be delegated")
	}
	if len(parts) == 0 {
		return "none configured"
	}
	return strings.Join(parts, "; ")
}

func timeOrNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}

func runAccountSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	desc := fs.String("description", "", "free text")
	upn := fs.String("upn", "", "user principal name (empty clears it)")
	expires := fs.String("expires", "", "when the account expires (`TIME` or never)")
	pwExpires := fs.String("password-expires", "", "when the password expires (`TIME` or never)")
	preauth := fs.Bool("preauth-required", true, "require Kerberos pre-authentication (turning it off exposes the account to offline password guessing)")
	rc4 := fs.Bool("allow-rc4", false, "allow rc4-hmac for this account (it needs an RC4 key: set its password afterwards)")
	maxLife := fs.Duration("max-ticket-life", 0, "cap this account's ticket lifetime (0 = domain policy)")
	maxRenew := fs.Duration("max-renew-life", 0, "cap this account's renewable lifetime (0 = domain policy)")
	unlock := fs.Bool("unlock", false, "clear a lockout and the failed-logon count")
	rev := fs.Uint64("revision", 0, "change only if the account's revision is still `N` (as account show prints it)")
	var deleg delegationFlags
	deleg.register(fs)
	asJSON := fs.Bool("json", false, "print the account as JSON afterwards")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	set := givenFlags(fs)
	for _, f := range []string{"dir", "server", "json", "revision"} {
		delete(set, f)
	}
	if len(set) == 0 {
		return usagef("%s: nothing to change; give at least one setting (see --help)", c.path)
	}
	ch := deleg.change(set)
	str := func(name string, v *string) *string {
		if !set[name] {
			return nil
		}
		return v
	}
	boolean := func(name string, v *bool) *bool {
		if !set[name] {
			return nil
		}
		return v
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"expires", expires}, {"password-expires", pwExpires}} {
		if set[f.name] {
			if _, err := admin.ParseTime(*f.v); err != nil {
				return usagef("%s: --%s: %v", c.path, f.name, err)
			}
		}
	}
	if *maxLife < 0 || *maxRenew < 0 {
		return usagef("%s: lifetimes cannot be negative", c.path)
	}
	ch.Description = str("description", desc)
	ch.UPN = str("upn", upn)
	ch.Expires = str("expires", expires)
	ch.PasswordExpires = str("password-expires", pwExpires)
	ch.PreauthRequired = boolean("preauth-required", preauth)
	ch.AllowRC4 = boolean("allow-rc4", rc4)
	if set["max-ticket-life"] {
		d := admin.Duration(*maxLife)
		ch.MaxTicketLife = &d
	}
	if set["max-renew-life"] {
		d := admin.Duration(*maxRenew)
		ch.MaxRenewLife = &d
	}
	ch.Unlock = *unlock
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	a, err := svc.UpdateAccount(ctx, pos[0], *rev, ch)
	if err != nil {
		return err
	}
	if ch.AllowedToDelegateTo != nil {
		if a.Delegation != nil && len(a.Delegation.UnknownSPNs) > 0 {
			fmt.Fprintf(e.stderr, "Note: no account has the SPN %s yet; delegation to it will work once one does.\n", strings.Join(a.Delegation.UnknownSPNs, ", "))
		}
	}
	if *asJSON {
		return printJSON(e.stdout, a)
	}
	fmt.Fprintf(e.stdout, "Updated %s (revision %d).\n", a.Name, a.Revision)
	if set["allow-rc4"] && *rc4 && !slices.ContainsFunc(a.Keys, func(k admin.Key) bool { return k.EType == krb5.RC4HMAC.String() }) {
		fmt.Fprintf(e.stdout, "Note: %s has no RC4 key yet; set its password (hop account passwd %s) to create one.\n", a.Name, a.Name)
	}
	return nil
}

func runAccountEnable(enable bool) func(context.Context, *env, *command, []string) error {
	return serviceAction(1, func(ctx context.Context, e *env, svc admin.Service, pos []string) error {
		disabled := !enable
		a, err := svc.UpdateAccount(ctx, pos[0], 0, admin.AccountChange{Disabled: &disabled})
		if err != nil {
			return err
		}
		state := "enabled"
		if !enable {
			state = "disabled"
		}
		fmt.Fprintf(e.stdout, "Account %s is %s.\n", a.Name, state)
		return nil
	})
}

var runAccountDelete = serviceAction(1, func(ctx context.Context, e *env, svc admin.Service, pos []string) error {
	if err := svc.DeleteAccount(ctx, pos[0], 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted account %s.\n", pos[0])
	return nil
})

func runAccountPasswd(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	pwFile := fs.String("password-file", "", "read the new password from `FILE` (- for standard input)")
	random := fs.Bool("random-key", false, "set new random keys instead of a password")
	change := fs.Bool("change", false, "change your own password: asks for the current one first (the first line of standard input when it is not a terminal)")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	if *pwFile != "" && *random {
		return usagef("%s: give either --password-file or --random-key, not both", c.path)
	}
	if *change && *random {
		return usagef("%s: --change sets a password, not random keys", c.path)
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	var a *admin.Account
	if *random {
		k, err := svc.AccountKeys(ctx, pos[0], 0, admin.KeysRequest{Rotate: true})
		if err != nil {
			return err
		}
		clear(k.Keys)
		if a, err = svc.Account(ctx, pos[0]); err != nil {
			return err
		}
	} else {
		var pc admin.PasswordChange
		if *change {
			if pc.Old, err = e.readPassword("", "Current password for "+pos[0]+": ", false); err != nil {
				return err
			}
		}
		if pc.New, err = e.readPassword(*pwFile, "New password for "+pos[0]+": ", true); err != nil {
			return err
		}
		if a, err = svc.SetPassword(ctx, pos[0], 0, pc); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "New keys for %s (kvno %d); the previous keys stay valid for tickets already issued.\n", a.Name, a.KVNO)
	if a.Kind != directory.KindUser.String() {
		fmt.Fprintf(e.stdout, "Export a new keytab: hop keytab export %s -o FILE\n", a.Name)
	}
	return nil
}
