package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hop/directory"
	"hop/directory/bolt"
	"hop/krb5"
)

func domainCommand() *command {
	return &command{
		name:    "domain",
		summary: "create and configure the domain (realm, policy)",
		subs: []*command{
			{name: "init", summary: "create a new domain in a directory folder",
				usage: "domain init --dir DIR --realm REALM [--admin-password-file FILE]",
				help: `Creates the domain's directory (DIR/directory.db) and its master key
(DIR/master.key, like MIT's stash; both 0600), with the accounts Administrator
(RID 500, whose password you give), krbtgt (502, random keys) and Guest, and
the groups Domain Admins, Domain Users, Domain Computers, Domain Controllers
and Protected Users. The password is asked at the terminal unless
--admin-password-file is given ("-" reads standard input).`,
				run: runDomainInit},
			{name: "show", summary: "show the realm, domain SID and policy",
				usage: "domain show [--dir DIR] [--json]", run: runDomainShow},
			{name: "set", summary: "change the domain policy (lifetimes, clock skew, lockout)",
				usage: "domain set [--dir DIR] [--max-ticket-life D] [--max-renew-life D] [--clock-skew D] [--lockout-threshold N] [--lockout-window D] [--lockout-duration D]",
				help: `Durations are Go durations (10h, 30m, 168h). Lockout is off while
--lockout-threshold is 0 (the default): then failed pre-authentications are
only audited. With a threshold N, N failures within --lockout-window lock the
account for --lockout-duration.`,
				run: runDomainSet},
			domainBackupCommand(),
			domainRestoreCommand(),
		},
	}
}

func runDomainInit(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	realm := fs.String("realm", "", "the realm name, e.g. EXAMPLE.TEST (stored in upper case)")
	pwFile := fs.String("admin-password-file", "", "read Administrator's password from `FILE` (- for standard input)")
	asJSON := fs.Bool("json", false, "print the new domain as JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *realm == "" {
		return usagef("hop domain init: --realm is required, e.g. --realm EXAMPLE.TEST")
	}
	r := krb5.Realm(*realm).Canonical()
	if _, err := os.Stat(filepath.Join(*dir, masterFile)); err == nil {
		return fmt.Errorf("%s already holds a domain (%s exists); choose another --dir", *dir, masterFile)
	}
	if _, err := os.Stat(filepath.Join(*dir, dbFile)); err == nil {
		return fmt.Errorf("%s already holds a directory (%s exists); choose another --dir", *dir, dbFile)
	}
	pw, err := e.readPassword(*pwFile, "Password for Administrator@"+string(r)+": ", true)
	if err != nil {
		return err
	}
	adminKeys, err := passwordKeys(r, "Administrator", pw, defaultETypes)
	if err != nil {
		return err
	}
	tgtKeys, err := randomKeys(defaultETypes)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		return err
	}
	mkPath := filepath.Join(*dir, masterFile)
	if err := mk.Save(mkPath); err != nil {
		return err
	}
	st, err := bolt.Open(filepath.Join(*dir, dbFile), bolt.Options{})
	if err != nil {
		os.Remove(mkPath)
		return err
	}
	defer st.Close()
	d, err := directory.Init(ctx, st, mk, r, adminKeys, tgtKeys, directory.Options{})
	if err != nil {
		st.Close()
		os.Remove(mkPath)
		os.Remove(filepath.Join(*dir, dbFile))
		return err
	}
	dom, err := d.Domain(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, domainView(dom))
	}
	fmt.Fprintf(e.stdout, "Created domain %s (SID %s) in %s.\nNext: hop kdc --dir %s --listen 127.0.0.1:88\n", dom.Realm, dom.SID, *dir, *dir)
	return nil
}

type domainJSON struct {
	Realm   string     `json:"realm"`
	SID     string     `json:"sid"`
	NetBIOS string     `json:"netbios_name"`
	Created time.Time  `json:"created"`
	Policy  policyJSON `json:"policy"`
}

type policyJSON struct {
	MaxTicketLife         string `json:"max_ticket_life"`
	MaxRenewLife          string `json:"max_renew_life"`
	ClockSkew             string `json:"clock_skew"`
	LockoutThreshold      int    `json:"lockout_threshold"`
	LockoutWindow         string `json:"lockout_window"`
	LockoutDuration       string `json:"lockout_duration"`
	ProtectedUsersTGTLife string `json:"protected_users_tgt_life"`
}

func domainView(d *directory.Domain) domainJSON {
	p := d.Policy.WithDefaults()
	return domainJSON{
		Realm: string(d.Realm), SID: d.SID.String(), NetBIOS: d.NetBIOSName, Created: d.Created,
		Policy: policyJSON{
			MaxTicketLife: p.MaxTicketLife.String(), MaxRenewLife: p.MaxRenewLife.String(),
			ClockSkew: p.ClockSkew.String(), LockoutThreshold: p.LockoutThreshold,
			LockoutWindow: p.LockoutWindow.String(), LockoutDuration: p.LockoutDuration.String(),
			ProtectedUsersTGTLife: p.ProtectedUsersTGTLife.String(),
		},
	}
}

func runDomainShow(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	_, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	v := domainView(dom)
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	lockout := "off"
	if v.Policy.LockoutThreshold > 0 {
		lockout = fmt.Sprintf("%d failures within %s lock for %s", v.Policy.LockoutThreshold, v.Policy.LockoutWindow, v.Policy.LockoutDuration)
	}
	fmt.Fprintf(e.stdout, "realm:           %s\nsid:             %s\nnetbios name:    %s\ncreated:         %s\nmax ticket life: %s\nmax renew life:  %s\nclock skew:      %s\nlockout:         %s\n",
		v.Realm, v.SID, v.NetBIOS, v.Created.UTC().Format(time.RFC3339), v.Policy.MaxTicketLife, v.Policy.MaxRenewLife, v.Policy.ClockSkew, lockout)
	return nil
}

func runDomainSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("set", flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	maxLife := fs.Duration("max-ticket-life", 0, "longest ticket lifetime")
	maxRenew := fs.Duration("max-renew-life", 0, "longest renewable lifetime")
	skew := fs.Duration("clock-skew", 0, "largest accepted clock difference")
	threshold := fs.Int("lockout-threshold", -1, "failed pre-authentications that lock an account (0 = lockout off)")
	window := fs.Duration("lockout-window", 0, "the window in which failures are counted")
	duration := fs.Duration("lockout-duration", 0, "how long a locked account stays locked")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(set) == 0 || (len(set) == 1 && set["dir"]) {
		return usagef("hop domain set: nothing to change; give at least one policy flag (see --help)")
	}
	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	p := dom.Policy
	if set["max-ticket-life"] {
		p.MaxTicketLife = *maxLife
	}
	if set["max-renew-life"] {
		p.MaxRenewLife = *maxRenew
	}
	if set["clock-skew"] {
		p.ClockSkew = *skew
	}
	if set["lockout-threshold"] {
		if *threshold < 0 {
			return usagef("hop domain set: --lockout-threshold must be 0 (off) or more")
		}
		p.LockoutThreshold = *threshold
	}
	if set["lockout-window"] {
		p.LockoutWindow = *window
	}
	if set["lockout-duration"] {
		p.LockoutDuration = *duration
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if err := d.SetPolicy(ctx, p); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Policy updated; a running KDC applies it to its next request.")
	return nil
}
