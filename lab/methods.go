package lab

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// method is one way of making the second hop.
type method struct {
	id, title, seed string
	// flags are the hop exec flags the user gives on A.
	flags func(l *lab, u *user) []string
	// how is the command, as the README shows it.
	how string
	// setUp configures the method (and returns what was configured);
	// tearDown undoes what setUp changed in the domain.
	setUp    func(ctx context.Context, l *lab) ([]Action, error)
	tearDown func(ctx context.Context, l *lab) error
	// credential: the probe makes the credential passed into the session
	// its default first (explicit credentials).
	credential bool
	// freshCredentials: A's krb5.conf allows sending the password to B.
	freshCredentials bool
}

// Who acts.
const (
	byAdmin = "Administrator (a Domain Admin)"
	byCarol = "carol (a manager of c$, not a Domain Admin)"
	byB     = "B's administrator (agent.toml; no domain right)"
	byUser  = "the user, on A"
)

// methods are the seed's methods, and the Remote Credential Guard
// document's, in the tables' order.
var methods = []*method{
	{
		id: "none", title: "no delegation (hop's default)",
		seed:  "the second-hop problem itself: B has nothing to reach C with",
		how:   "hop exec b.lab.test -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string { return nil },
	},
	{
		id: "credssp", title: "CredSSP (fresh credentials)",
		seed: "a balance of ease of use and security; the password is on B",
		how:  "hop exec b.lab.test --delegate credssp -- hop exec c.lab.test -- id",
		flags: func(l *lab, u *user) []string {
			return []string{"--delegate", "credssp", "--password-file", l.pwFile(u)}
		},
		freshCredentials: true,
		setUp: func(context.Context, *lab) ([]Action, error) {
			return []Action{
				{By: byB, What: "accept fresh credentials", Command: "credssp = true"},
				{By: byUser, What: "allow sending the password to B", Command: "allow_fresh_credentials = host/b.lab.test    # krb5.conf [hop]"},
			}, nil
		},
	},
	{
		id: "rbcd", title: "resource-based constrained delegation",
		seed:  "simple to configure, high security",
		how:   "hop exec b.lab.test --delegate constrained -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string { return []string{"--delegate", "constrained"} },
		setUp: func(ctx context.Context, l *lab) ([]Action, error) {
			return l.set(ctx, l.carol, byCarol, "let b$ delegate to C (on C's account)", "c$", "--allowed-to-act", "b$")
		},
		tearDown: func(ctx context.Context, l *lab) error {
			_, err := l.set(ctx, l.carol, byCarol, "", "c$", "--allowed-to-act", "none")
			return err
		},
	},
	{
		id: "kcd", title: "Kerberos constrained delegation",
		seed:  "high security, but a Domain Admin must configure it",
		how:   "hop exec b.lab.test --delegate constrained -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string { return []string{"--delegate", "constrained"} },
		setUp: func(ctx context.Context, l *lab) ([]Action, error) {
			return l.set(ctx, l.admin, byAdmin, "let b$ delegate to host/c (on B's account)", "b$", "--allowed-to-delegate-to", "host/"+hostC)
		},
		tearDown: func(ctx context.Context, l *lab) error {
			_, err := l.set(ctx, l.admin, byAdmin, "", "b$", "--allowed-to-delegate-to", "none")
			return err
		},
	},
	{
		id: "unconstrained", title: "unconstrained delegation",
		seed:  "not recommended",
		how:   "hop exec b.lab.test --delegate forward -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string { return []string{"--delegate", "forward"} },
		setUp: func(ctx context.Context, l *lab) ([]Action, error) {
			return l.set(ctx, l.admin, byAdmin, "trust b$ for delegation", "b$", "--trusted-for-delegation")
		},
		tearDown: func(ctx context.Context, l *lab) error {
			_, err := l.set(ctx, l.admin, byAdmin, "", "b$", "--trusted-for-delegation=false")
			return err
		},
	},
	{
		id: "jea", title: "Just Enough Administration",
		seed:  "the most secure, but needs detailed configuration",
		how:   "hop exec b.lab.test --config c-ops -- hop-lab-probe …",
		flags: func(*lab, *user) []string { return []string{"--config", "c-ops"} },
		setUp: func(context.Context, *lab) ([]Action, error) {
			return []Action{
				{By: byAdmin, DomainAdmin: true, What: "an account for the endpoint's network identity, its keys on B, allowed on C", Command: "hop account add-service svc-jea …; hop keytab export svc-jea …; hop group add-member c-remote-users svc-jea"},
				{By: byB, What: "a JEA endpoint whose role allows only the probe, run as a local account, reaching other hosts as svc-jea", Command: "[endpoints.c-ops] type = \"jea\", network_keytab, roles"},
			}, nil
		},
	},
	{
		id: "runas", title: "RunAs endpoint",
		seed:  "easy to configure, but its credentials must be managed",
		how:   "hop exec b.lab.test --config runas -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string { return []string{"--config", "runas"} },
		setUp: func(context.Context, *lab) ([]Action, error) {
			return []Action{
				{By: byAdmin, DomainAdmin: true, What: "a service account, its keys on B, allowed on C", Command: "hop account add-service svc-runas …; hop keytab export svc-runas …; hop group add-member c-remote-users svc-runas"},
				{By: byB, What: "a RunAs endpoint with svc-runas's keytab", Command: "[endpoints.runas] type = \"runas\", keytab"},
			}, nil
		},
	},
	{
		id: "explicit", title: "explicit credentials",
		seed: "the easiest to use, but the credentials must be given",
		how:  "hop exec b.lab.test --pass-credential alice -- hop exec c.lab.test --credential alice -- id",
		flags: func(l *lab, u *user) []string {
			return []string{"--pass-credential", u.name, "--password-file", l.pwFile(u)}
		},
		credential: true,
		setUp: func(context.Context, *lab) ([]Action, error) {
			return []Action{{By: byUser, What: "type the password for the session", Command: "--pass-credential USER"}}, nil
		},
	},
	{
		id: "remote-guard", title: "Remote Credential Guard",
		seed: "credentials stay on the client; B acts as the user only while the session lasts",
		how:  "hop exec b.lab.test --delegate remote-guard --allow-hop host/c.lab.test -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string {
			return []string{"--delegate", "remote-guard", "--allow-hop", "host/" + hostC}
		},
		setUp: func(context.Context, *lab) ([]Action, error) {
			return []Action{{By: byUser, What: "choose the targets B may ask for", Command: "--allow-hop host/c.lab.test"}}, nil
		},
	},
	{
		id: "restricted-admin", title: "Restricted Admin",
		seed:  "administrators only; the session reaches other hosts as B itself",
		how:   "hop exec b.lab.test --delegate restricted-admin -- hop exec c.lab.test -- id",
		flags: func(*lab, *user) []string { return []string{"--delegate", "restricted-admin"} },
		setUp: func(context.Context, *lab) ([]Action, error) {
			return []Action{
				{By: byB, What: "enable restricted-admin for B's admin group", Command: "restricted_admin = true; admin_groups = [\"helpdesk\"]"},
				{By: byAdmin, DomainAdmin: true, What: "helen in helpdesk; C accepts B's own identity", Command: "hop group add-member helpdesk helen; hop group add-member c-remote-users 'b$'"},
			}, nil
		},
	},
}

// set changes an account's delegation settings as who, over the admin
// API with who's ticket, and returns the action.
func (l *lab) set(ctx context.Context, who *user, by, what, account string, flags ...string) ([]Action, error) {
	args := append([]string{"account", "set", account}, flags...)
	if _, err := l.run(ctx, command{step: fmt.Sprintf("%s: hop %s", who.name, display(args)), env: l.env(who), args: append(args, "--server", l.adminURL)}); err != nil {
		return nil, err
	}
	return []Action{{By: by, DomainAdmin: who == l.admin, What: what, Command: "hop " + display(args)}}, nil
}

// perform sets m up, performs it for every user at once, and undoes the
// set-up.
func (l *lab) perform(ctx context.Context, m *method) (*Method, error) {
	l.step("%s: %s", m.id, m.title)
	res := &Method{ID: m.id, Title: m.title, Seed: m.seed, How: m.how, Configured: []Action{}}
	if m.setUp != nil {
		acts, err := m.setUp(ctx, l)
		if err != nil {
			return nil, err
		}
		res.Configured = acts
	}
	for _, a := range res.Configured {
		res.DomainAdmin = res.DomainAdmin || a.DomainAdmin
	}
	if m.freshCredentials {
		if err := l.writeFreshConf(); err != nil {
			return nil, l.fail(m.id, err)
		}
	}
	cells := make([]Cell, len(l.users))
	errs := make([]error, len(l.users))
	var wg sync.WaitGroup
	for i, u := range l.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cells[i], errs[i] = l.cell(ctx, m, u)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	res.Cells = cells
	for _, c := range cells {
		hop := "second hop refused"
		if c.SecondHop {
			hop = "C saw " + c.CSaw
		} else if c.Session != "opened" {
			hop = "session refused"
		}
		l.step("  %-6s %s; reached B: %s; after the session: %s", c.User, hop, orNothing(c.Reached), c.After.Summary)
	}
	if m.tearDown != nil {
		if err := m.tearDown(ctx, l); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func orNothing(kinds []string) string {
	if len(kinds) == 0 {
		return "nothing"
	}
	return strings.Join(kinds, ", ")
}

// freshConf is A's krb5.conf that allows sending the password to B.
func (l *lab) freshConf() string { return l.path("a", "krb5-credssp.conf") }

// writeFreshConf writes freshConf: the lab's krb5.conf, with
// allow_fresh_credentials in its [hop] section.
func (l *lab) writeFreshConf() error {
	b, err := os.ReadFile(l.conf)
	if err != nil {
		return err
	}
	s := string(b)
	line := "\tallow_fresh_credentials = host/" + hostB + "\n"
	if i := strings.Index(s, "[hop]\n"); i >= 0 {
		s = s[:i+len("[hop]\n")] + line + s[i+len("[hop]\n"):]
	} else {
		s += "\n[hop]\n" + line
	}
	return os.WriteFile(l.freshConf(), []byte(s), 0o600)
}

// seconds is the time since t, in seconds.
func seconds(t time.Time) float64 { return time.Since(t).Seconds() }

// MethodIDs lists the methods' IDs, in the tables' order.
func MethodIDs() []string {
	out := make([]string, len(methods))
	for i, m := range methods {
		out[i] = m.id
	}
	return out
}
