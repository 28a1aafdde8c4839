package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/delegation"
	"hop/directory"
	"hop/domain"
	"hop/krb5"
)

func domainCommand() *command {
	return &command{
		name:    "domain",
		summary: "create and configure the domain (realm, policy)",
		subs: []*command{
			{name: "init", summary: "create a new domain in a directory folder",
				usage: "domain init --dir DIR --realm REALM [--admin-password-file FILE] [--admin-name HOST]...",
				help: `Creates the domain's directory (DIR/directory.db) and its master key
(DIR/master.key, like MIT's stash; both 0600), with the accounts Administrator
(RID 500, whose password you give), krbtgt (502, random keys) and Guest, and
the groups Domain Admins, Domain Users, Domain Computers, Domain Controllers
and Protected Users. The password is asked at the terminal unless
--admin-password-file is given ("-" reads standard input). It also makes the
admin API's self-signed TLS certificate (DIR/admin-tls.crt and .key) for
--admin-name and this host's name; clients trust it by the pin of its key,
which hop client-config writes into krb5.conf.`,
				run: runDomainInit},
			{name: "show", summary: "show the realm, domain SID and policy",
				usage: "domain show [--dir DIR | --server URL] [--json]", run: runDomainShow},
			{name: "set", summary: "change the domain policy (lifetimes, clock skew, lockout, passwords, machine quota)",
				usage: "domain set [--dir DIR | --server URL] [--max-ticket-life D] [--max-renew-life D] [--clock-skew D] [--lockout-threshold N] [--lockout-window D] [--lockout-duration D] [--protected-users-tgt-life D] [--min-password-length N] [--password-history N] [--machine-account-quota N] [--restrict-delegation RESTRICTION]",
				help: `Durations are Go durations (10h, 30m, 168h). Lockout is off while
--lockout-threshold is 0 (the default): then failed pre-authentications are
only audited. With a threshold N, N failures within --lockout-window lock the
account for --lockout-duration.

--restrict-delegation is the domain's "Restrict delegation of credentials to
remote servers" for hop's clients: off, prefer-remote-guard (remote-guard by
default, never a mode that hands credentials to the host), require-remote-guard
or require-restricted-admin. Clients read it through the admin API; a client's
own restrict_delegation (krb5.conf [hop]) may only make it stricter.`,
				run: runDomainSet},
			domainBackupCommand(),
			domainRestoreCommand(),
			domainPopulateCommand(),
		},
	}
}

func runDomainInit(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	realm := fs.String("realm", "", "the realm name, e.g. EXAMPLE.TEST (stored in upper case)")
	pwFile := fs.String("admin-password-file", "", "read Administrator's password from `FILE` (- for standard input)")
	asJSON := fs.Bool("json", false, "print the new domain as JSON")
	var adminNames stringList
	fs.Var(&adminNames, "admin-name", "a host name `HOST` of the admin API, for its TLS certificate (repeatable; default: this host's name)")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *realm == "" {
		return usagef("hop domain init: --realm is required, e.g. --realm EXAMPLE.TEST")
	}
	r := krb5.Realm(*realm).Canonical()
	if err := domain.Folder(*dir).CheckNew(); err != nil {
		return err
	}
	pw, err := e.readPasswordFlag("--admin-password-file", *pwFile, "Password for Administrator@"+string(r)+": ", true)
	if err != nil {
		return err
	}
	dom, err := domain.Create(ctx, *dir, domain.CreateOptions{Realm: r, AdminPassword: pw, AdminNames: adminNames})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, adminserver.DomainView(dom))
	}
	fmt.Fprintf(e.stdout, "Created domain %s (SID %s) in %s.\nNext: hop kdc --dir %s --listen 127.0.0.1:88\n", dom.Realm, dom.SID, *dir, *dir)
	return nil
}

func runDomainShow(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	v, err := svc.Domain(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	lockout := "off"
	if v.Policy.LockoutThreshold > 0 {
		lockout = fmt.Sprintf("%d failures within %s lock for %s", v.Policy.LockoutThreshold, v.Policy.LockoutWindow, v.Policy.LockoutDuration)
	}
	history := fmt.Sprintf("the last %d passwords", v.Policy.PasswordHistory)
	if v.Policy.PasswordHistory <= 0 {
		history = "off"
	}
	quota := fmt.Sprintf("%d computers per account", v.Policy.MachineAccountQuota)
	if v.Policy.MachineAccountQuota == 0 {
		quota = "0 (only Domain Admins and join tokens create computers)"
	}
	scripts := "one script, or Latin with Han, Kana or Hangul (default)"
	if len(v.Policy.NameScripts) > 0 {
		scripts = "as by default, and Latin mixed with " + strings.Join(v.Policy.NameScripts, ", ")
	}
	fmt.Fprintf(e.stdout, "realm:            %s\nsid:              %s\nnetbios name:     %s\ncreated:          %s\nmax ticket life:  %s\nmax renew life:   %s\nclock skew:       %s\nlockout:          %s\nmin password len: %d\npassword history: %s\nmachine quota:    %s\ndelegation:       %s\nname scripts:     %s\n",
		v.Realm, v.SID, v.NetBIOS, v.Created.UTC().Format(time.RFC3339), v.Policy.MaxTicketLife, v.Policy.MaxRenewLife, v.Policy.ClockSkew, lockout,
		v.Policy.MinPasswordLength, history, quota, v.Policy.RestrictDelegation, scripts)
	return nil
}

func runDomainSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("set", flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	var p admin.PolicyChange
	durs := map[string]**admin.Duration{
		"max-ticket-life": &p.MaxTicketLife, "max-renew-life": &p.MaxRenewLife, "clock-skew": &p.ClockSkew,
		"lockout-window": &p.LockoutWindow, "lockout-duration": &p.LockoutDuration, "protected-users-tgt-life": &p.ProtectedUsersTGTLife,
	}
	durFlags := map[string]*time.Duration{}
	for name, usage := range map[string]string{
		"max-ticket-life": "longest ticket lifetime", "max-renew-life": "longest renewable lifetime",
		"clock-skew": "largest accepted clock difference", "lockout-window": "the window in which failures are counted",
		"lockout-duration": "how long a locked account stays locked", "protected-users-tgt-life": "TGT lifetime of Protected Users (default 4h)",
	} {
		durFlags[name] = fs.Duration(name, 0, usage)
	}
	ints := map[string]**int{
		"lockout-threshold": &p.LockoutThreshold, "min-password-length": &p.MinPasswordLength,
		"password-history": &p.PasswordHistory, "machine-account-quota": &p.MachineAccountQuota,
	}
	intFlags := map[string]*int{}
	for name, usage := range map[string]string{
		"lockout-threshold":     "failed pre-authentications that lock an account (0 = lockout off)",
		"min-password-length":   "fewest characters of a new password (default 8)",
		"password-history":      "how many previous passwords an account may not reuse (default 24; 0 = off)",
		"machine-account-quota": "how many computer accounts any user may create (default 0: only Domain Admins and join tokens; AD's 10 invites RBCD abuse)",
	} {
		intFlags[name] = fs.Int(name, 0, usage)
	}
	restrict := fs.String("restrict-delegation", "", "the clients' delegation `RESTRICTION`: off, prefer-remote-guard, require-remote-guard or require-restricted-admin")
	scripts := fs.String("name-scripts", "", "the writing systems `SCRIPTS` (e.g. Cyrillic,Greek) whose letters new account and group names may mix with Latin; \"default\" allows only one script, or Latin with Han, Kana or Hangul")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	changed := 0
	if givenFlags(fs)["name-scripts"] {
		canon, err := directory.ParseNameScripts(*scripts)
		if err != nil {
			return usagef("hop domain set: --name-scripts: %v", err)
		}
		list := []string{}
		if canon != "" {
			list = strings.Split(canon, ",")
		}
		p.NameScripts = &list
		changed++
	}
	if *restrict != "" {
		if _, err := delegation.ParseRestriction(*restrict); err != nil {
			return usagef("hop domain set: --restrict-delegation: %v", err)
		}
		p.RestrictDelegation = restrict
		changed++
	}
	fs.Visit(func(f *flag.Flag) {
		if d, ok := durFlags[f.Name]; ok {
			v := admin.Duration(*d)
			*durs[f.Name] = &v
			changed++
		}
		if n, ok := intFlags[f.Name]; ok {
			v := *n
			*ints[f.Name] = &v
			changed++
		}
	})
	if changed == 0 {
		return usagef("hop domain set: nothing to change; give at least one policy flag (see --help)")
	}
	for _, n := range []**int{&p.LockoutThreshold, &p.MinPasswordLength, &p.MachineAccountQuota, &p.PasswordHistory} {
		if *n != nil && **n < 0 {
			return usagef("hop domain set: counts cannot be negative")
		}
	}
	if p.PasswordHistory != nil && *p.PasswordHistory == 0 {
		off := directory.NoPasswordHistory
		p.PasswordHistory = &off
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	if _, err := svc.SetPolicy(ctx, p); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Policy updated; a running KDC applies it to its next request.")
	return nil
}
