package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hop/directory"
	"hop/krb5"
)

func accountCommand() *command {
	return &command{
		name:    "account",
		summary: "manage users, computers and service accounts",
		subs: []*command{
			{name: "add", summary: "add a user account", usage: "account add NAME [--dir DIR] [--password-file FILE | --random-key] [--upn UPN] [--description TEXT] [--allow-rc4] [--json]",
				help: `NAME is the account name (sAMAccountName), which is also its principal
(NAME@REALM). The password is asked at the terminal, read from the first line
of a non-terminal standard input, or from --password-file ("-" = stdin).`,
				run: runAccountAdd(directory.KindUser)},
			{name: "add-computer", summary: "add a computer account (b.example.test → b$ with host SPNs)",
				usage: "account add-computer FQDN [--dir DIR] [--password-file FILE | --random-key] [--spn SPN]... [--json]",
				help: `Creates the computer account NAME$ for host FQDN, with the SPNs
host/FQDN and host/NAME, and random keys unless --password-file is given.
Export its keys for the host with: hop keytab export NAME$ -o FILE`,
				run: runAccountAdd(directory.KindComputer)},
			{name: "add-service", summary: "add a service account with SPNs",
				usage: "account add-service NAME --spn SPN [--spn SPN]... [--dir DIR] [--password-file FILE | --random-key] [--json]",
				run:   runAccountAdd(directory.KindService)},
			{name: "list", summary: "list accounts", usage: "account list [--dir DIR] [--kind user|computer|service] [--json]", run: runAccountList},
			{name: "show", summary: "show one account", usage: "account show NAME [--dir DIR] [--json]", run: runAccountShow},
			{name: "set", summary: "change an account's settings",
				usage: "account set NAME [--dir DIR] [--description T] [--upn U] [--expires TIME|never] [--password-expires TIME|never] [--preauth-required=BOOL] [--allow-rc4=BOOL] [--max-ticket-life D] [--max-renew-life D] [--unlock] [delegation flags]",
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
			{name: "disable", summary: "disable an account (its tickets stop working at the next TGS request)", usage: "account disable NAME [--dir DIR]", run: runAccountEnable(false)},
			{name: "enable", summary: "enable a disabled account", usage: "account enable NAME [--dir DIR]", run: runAccountEnable(true)},
			{name: "delete", summary: "delete an account", usage: "account delete NAME [--dir DIR]", run: runAccountDelete},
			{name: "passwd", summary: "set an account's password or give it new random keys (increments its kvno)",
				usage: "account passwd NAME [--dir DIR] [--password-file FILE | --random-key]",
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
		dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
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
		a := &directory.Account{Kind: kind, Name: pos[0], UPN: *upn, Description: *desc, AllowRC4: *rc4, SPNs: spns}
		if kind == directory.KindComputer {
			fqdn := strings.ToLower(strings.TrimSuffix(pos[0], "."))
			short, _, _ := strings.Cut(fqdn, ".")
			if short == "" || strings.HasSuffix(short, "$") {
				return usagef("%s: give the computer's host name, e.g. b.example.test (the account b$ is derived from it)", c.path)
			}
			a.Name = short + "$"
			a.DNSHostName = fqdn
			extra := a.SPNs
			a.SPNs = []string{"host/" + fqdn}
			if short != fqdn {
				a.SPNs = append(a.SPNs, "host/"+short)
			}
			a.SPNs = append(a.SPNs, extra...)
		}
		if kind == directory.KindService && len(a.SPNs) == 0 {
			return usagef("%s: a service account needs at least one --spn (e.g. --spn HTTP/web.example.test)", c.path)
		}
		d, dom, done, err := openDomain(ctx, *dir)
		if err != nil {
			return err
		}
		defer done()
		if _, err := d.Account(ctx, a.Name); err == nil {
			return fmt.Errorf("account %q already exists; see hop account show %s", a.Name, a.Name)
		}
		keys, err := e.newKeys(dom.Realm, a.Name, *pwFile, *random, a.AllowRC4)
		if err != nil {
			return err
		}
		created, err := d.CreateAccount(ctx, a, keys)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, accountView(dom, created, nil))
		}
		fmt.Fprintf(e.stdout, "Created %s %s (%s, RID %d, kvno %d).\n", created.Kind, created.Name, created.Principal(dom.Realm), created.RID, created.KVNO)
		if len(created.SPNs) > 0 {
			fmt.Fprintf(e.stdout, "SPNs: %s\n", strings.Join(created.SPNs, ", "))
		}
		if kind != directory.KindUser && *random {
			fmt.Fprintf(e.stdout, "Export its keys with: hop keytab export %s -o FILE\n", created.Name)
		}
		return nil
	}
}

// newKeys makes an account's keys from a password (file, terminal or stdin)
// or at random.
func (e *env) newKeys(realm krb5.Realm, name, pwFile string, random, rc4 bool) ([]directory.Key, error) {
	if random {
		return randomKeys(accountETypes(rc4))
	}
	pw, err := e.readPassword(pwFile, "Password for "+name+"@"+string(realm)+": ", true)
	if err != nil {
		return nil, err
	}
	return passwordKeys(realm, name, pw, accountETypes(rc4))
}

type keyJSON struct {
	EType string `json:"etype"`
	KVNO  uint32 `json:"kvno"`
	Salt  string `json:"salt,omitempty"`
}

type accountJSON struct {
	Name            string          `json:"name"`
	Kind            string          `json:"kind"`
	Principal       string          `json:"principal"`
	RID             uint32          `json:"rid"`
	SID             string          `json:"sid"`
	SPNs            []string        `json:"spns"`
	UPN             string          `json:"upn,omitempty"`
	DNSHostName     string          `json:"dns_host_name,omitempty"`
	Description     string          `json:"description,omitempty"`
	Disabled        bool            `json:"disabled"`
	Locked          bool            `json:"locked"`
	LockedUntil     *time.Time      `json:"locked_until,omitempty"`
	BadPwdCount     int             `json:"bad_password_count"`
	Expires         *time.Time      `json:"expires,omitempty"`
	PasswordLastSet *time.Time      `json:"password_last_set,omitempty"`
	PasswordExpires *time.Time      `json:"password_expires,omitempty"`
	PreauthRequired bool            `json:"preauth_required"`
	AllowRC4        bool            `json:"allow_rc4"`
	MaxTicketLife   string          `json:"max_ticket_life,omitempty"`
	MaxRenewLife    string          `json:"max_renew_life,omitempty"`
	KVNO            uint32          `json:"kvno"`
	Keys            []keyJSON       `json:"keys"`
	OldKeys         []keyJSON       `json:"old_keys,omitempty"`
	Groups          []string        `json:"groups,omitempty"`
	Delegation      *delegationJSON `json:"delegation,omitempty"`
	Created         time.Time       `json:"created"`
	Modified        time.Time       `json:"modified"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func optDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func keyViews(keys []directory.Key) []keyJSON {
	out := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyJSON{EType: k.EncType.String(), KVNO: k.KVNO, Salt: k.Salt})
	}
	return out
}

func accountView(dom *directory.Domain, a *directory.Account, groups []string) accountJSON {
	now := time.Now()
	v := accountJSON{
		Name: a.Name, Kind: a.Kind.String(), Principal: a.Principal(dom.Realm).String(), RID: a.RID,
		SID: a.SID(dom.SID).String(), SPNs: append([]string{}, a.SPNs...), UPN: a.UPN, DNSHostName: a.DNSHostName,
		Description: a.Description, Disabled: a.Disabled, Locked: a.IsLocked(now), BadPwdCount: a.BadPwdCount,
		Expires: optTime(a.Expires), PasswordLastSet: optTime(a.PasswordLastSet), PasswordExpires: optTime(a.PasswordExpires),
		PreauthRequired: !a.NoPreauthRequired, AllowRC4: a.AllowRC4,
		MaxTicketLife: optDuration(a.MaxTicketLife), MaxRenewLife: optDuration(a.MaxRenewLife),
		KVNO: a.KVNO, Keys: keyViews(a.Keys), OldKeys: keyViews(a.OldKeys), Groups: groups,
		Created: a.Created.UTC(), Modified: a.Modified.UTC(),
	}
	if v.Locked {
		v.LockedUntil = optTime(a.LockedUntil)
	}
	return v
}

func runAccountList(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	kind := fs.String("kind", "", "only accounts of this kind: user, computer or service")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	var want directory.Kind
	if *kind != "" {
		k, err := directory.ParseKind(*kind)
		if err != nil {
			return usagef("%s: %v", c.path, err)
		}
		want = k
	}
	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	accts, err := d.Accounts(ctx)
	if err != nil {
		return err
	}
	views := []accountJSON{}
	for _, a := range accts {
		if *kind != "" && a.Kind != want {
			continue
		}
		views = append(views, accountView(dom, a, nil))
	}
	if *asJSON {
		return printJSON(e.stdout, views)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tRID\tKVNO\tSTATE\tSPNS")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", v.Name, v.Kind, v.RID, v.KVNO, stateOf(v), strings.Join(v.SPNs, ","))
	}
	return tw.Flush()
}

func stateOf(v accountJSON) string {
	switch {
	case v.Disabled:
		return "disabled"
	case v.Locked:
		return "locked"
	case v.Expires != nil && v.Expires.Before(time.Now()):
		return "expired"
	}
	return "enabled"
}

func runAccountShow(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	a, err := d.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	snap, err := d.Snapshot(ctx)
	if err != nil {
		return err
	}
	var groups []string
	for _, g := range snap.GroupsOf(a.Name) {
		groups = append(groups, g.Name)
	}
	v := accountView(dom, a, groups)
	dv := delegationView(snap, a)
	v.Delegation = &dv
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	writeAccount(e.stdout, v)
	return nil
}

func writeAccount(w io.Writer, v accountJSON) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	row := func(k, val string) { fmt.Fprintf(tw, "%s:\t%s\n", k, val) }
	row("name", v.Name)
	row("kind", v.Kind)
	row("principal", v.Principal)
	row("sid", v.SID)
	row("state", stateOf(v))
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
func delegationSummary(d *delegationJSON) string {
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

// parseTimeOrNever accepts RFC 3339, a date, or "never" (zero time).
func parseTimeOrNever(s string) (time.Time, error) {
	if s == "never" || s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2027-01-31T00:00:00Z), a date (2027-01-31) or never", s)
}

func runAccountSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	desc := fs.String("description", "", "free text")
	upn := fs.String("upn", "", "user principal name (empty clears it)")
	expires := fs.String("expires", "", "when the account expires (`TIME` or never)")
	pwExpires := fs.String("password-expires", "", "when the password expires (`TIME` or never)")
	preauth := fs.Bool("preauth-required", true, "require Kerberos pre-authentication (turning it off exposes the account to offline password guessing)")
	rc4 := fs.Bool("allow-rc4", false, "allow rc4-hmac for this account (it needs an RC4 key: set its password afterwards)")
	maxLife := fs.Duration("max-ticket-life", 0, "cap this account's ticket lifetime (0 = domain policy)")
	maxRenew := fs.Duration("max-renew-life", 0, "cap this account's renewable lifetime (0 = domain policy)")
	unlock := fs.Bool("unlock", false, "clear a lockout and the failed-logon count")
	var deleg delegationFlags
	deleg.register(fs)
	asJSON := fs.Bool("json", false, "print the account as JSON afterwards")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	delete(set, "dir")
	delete(set, "json")
	if len(set) == 0 {
		return usagef("%s: nothing to change; give at least one setting (see --help)", c.path)
	}
	dchange := deleg.change(set)
	for _, f := range []string{"trusted-for-delegation", "protocol-transition", "allowed-to-delegate-to", "allowed-to-act", "sensitive", "no-auth-data-required", "managed-by"} {
		delete(set, f)
	}
	var exp, pwExp time.Time
	if set["expires"] {
		if exp, err = parseTimeOrNever(*expires); err != nil {
			return usagef("%s: --expires: %v", c.path, err)
		}
	}
	if set["password-expires"] {
		if pwExp, err = parseTimeOrNever(*pwExpires); err != nil {
			return usagef("%s: --password-expires: %v", c.path, err)
		}
	}
	if *maxLife < 0 || *maxRenew < 0 {
		return usagef("%s: lifetimes cannot be negative", c.path)
	}
	d, done, err := openDirectory(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	a, err := d.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	if !dchange.IsZero() {
		// The local command line acts as the domain administrator.
		if a, err = d.SetDelegation(ctx, directory.LocalAdmin, pos[0], dchange); err != nil {
			return err
		}
	}
	if len(set) > 0 {
		a, err = d.UpdateAccount(ctx, pos[0], func(a *directory.Account) error {
			if set["description"] {
				a.Description = *desc
			}
			if set["upn"] {
				a.UPN = *upn
			}
			if set["expires"] {
				a.Expires = exp
			}
			if set["password-expires"] {
				a.PasswordExpires = pwExp
			}
			if set["preauth-required"] {
				a.NoPreauthRequired = !*preauth
			}
			if set["allow-rc4"] {
				a.AllowRC4 = *rc4
			}
			if set["max-ticket-life"] {
				a.MaxTicketLife = *maxLife
			}
			if set["max-renew-life"] {
				a.MaxRenewLife = *maxRenew
			}
			if *unlock {
				a.LockedUntil = time.Time{}
				a.BadPwdCount = 0
				a.BadPwdTime = time.Time{}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if dchange.AllowedToDelegateTo != nil {
		if snap, err := d.Snapshot(ctx); err == nil {
			if unknown := snap.UnknownSPNs(*dchange.AllowedToDelegateTo); len(unknown) > 0 {
				fmt.Fprintf(e.stderr, "Note: no account has the SPN %s yet; delegation to it will work once one does.\n", strings.Join(unknown, ", "))
			}
		}
	}
	if *asJSON {
		dom, err := d.Domain(ctx)
		if err != nil {
			return err
		}
		return printJSON(e.stdout, accountView(dom, a, nil))
	}
	fmt.Fprintf(e.stdout, "Updated %s.\n", a.Name)
	if set["allow-rc4"] && *rc4 {
		if _, ok := a.KeyFor(krb5.RC4HMAC, 0); !ok {
			fmt.Fprintf(e.stdout, "Note: %s has no RC4 key yet; set its password (hop account passwd %s) to create one.\n", a.Name, a.Name)
		}
	}
	return nil
}

func runAccountEnable(enable bool) func(context.Context, *env, *command, []string) error {
	return dirAction(1, func(ctx context.Context, e *env, d *directory.Directory, pos []string) error {
		a, err := d.UpdateAccount(ctx, pos[0], func(a *directory.Account) error {
			if a.RID == 502 && enable {
				return errors.New("krbtgt stays disabled as a client, as in Active Directory; it still issues tickets")
			}
			a.Disabled = !enable
			return nil
		})
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

var runAccountDelete = dirAction(1, func(ctx context.Context, e *env, d *directory.Directory, pos []string) error {
	if err := d.DeleteAccount(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted account %s.\n", pos[0])
	return nil
})

func runAccountPasswd(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	pwFile := fs.String("password-file", "", "read the password from `FILE` (- for standard input)")
	random := fs.Bool("random-key", false, "set new random keys instead of a password")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	if *pwFile != "" && *random {
		return usagef("%s: give either --password-file or --random-key, not both", c.path)
	}
	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	a, err := d.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	if a.RID == 502 && !*random {
		return usagef("%s: krbtgt only takes random keys: hop account passwd krbtgt --random-key", c.path)
	}
	keys, err := e.newKeys(dom.Realm, a.Name, *pwFile, *random, a.AllowRC4)
	if err != nil {
		return err
	}
	kvno, err := d.SetKeys(ctx, a.Name, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "New keys for %s (kvno %d); the previous keys stay valid for tickets already issued.\n", a.Name, kvno)
	if a.Kind != directory.KindUser {
		fmt.Fprintf(e.stdout, "Export a new keytab: hop keytab export %s -o FILE\n", a.Name)
	}
	return nil
}
