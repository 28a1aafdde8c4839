package cli

import (
	"context"
	"flag"
	"fmt"

	"hop/delegation"
)

func delegationCommand() *command {
	return &command{
		name:    "delegation",
		summary: "explain delegation decisions",
		subs: []*command{
			{name: "explain", summary: "say whether a service may reach a target on a user's behalf, and why",
				usage: "delegation explain --user USER --service ACCOUNT|SPN --target SPN [--s4u2self] [--dir DIR | --server URL] [--json]",
				help: `Runs the KDC's own decision code on the directory as it is now and prints
every check in order, the rule that decided, and what to change. --s4u2self
asks about protocol transition (the service obtains the user's ticket itself,
as after a non-Kerberos logon); without it, the user authenticated to the
service with Kerberos. The service is an account name (a host's is its
computer account, b$ for b.example.test) or an SPN. Example, the seed's
second hop:
  hop delegation explain --user alice --service 'b$' --target cifs/c.example.test

Exit status: 0 when the delegation is allowed, 3 when it is denied (with
--json too), 1 when it cannot be answered (an unknown name, no server), 2
for a usage mistake.`,
				run: runExplain},
		},
	}
}

func runExplain(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	user := fs.String("user", "", "the user whose identity is delegated")
	service := fs.String("service", "", "the service that delegates (the second host's account or SPN)")
	target := fs.String("target", "", "the SPN it wants to reach")
	s4u := fs.Bool("s4u2self", false, "the service uses protocol transition (S4U2Self) to get the user's ticket")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *user == "" || *service == "" || *target == "" {
		return usagef("%s: --user, --service and --target are required", c.path)
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	x, err := svc.Explain(ctx, *user, *service, *target, *s4u)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(e.stdout, x); err != nil {
			return err
		}
		return deniedStatus(x)
	}
	verdict := "ALLOWED"
	if !x.Allowed {
		verdict = "DENIED"
		if x.Code != "" {
			verdict += " (" + x.Code + ", " + x.NTStatus + ")"
		}
	}
	how := "Kerberos logon"
	if x.S4U2Self {
		how = "protocol transition"
	}
	fmt.Fprintf(e.stdout, "%s via %s to %s (%s): %s by rule %s\n", x.User, x.Service, x.Target, how, verdict, x.Rule)
	for _, ch := range x.Checks {
		mark := "pass"
		if !ch.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(e.stdout, "  [%s] %-24s %s\n", mark, ch.Name, ch.Detail)
	}
	fmt.Fprintf(e.stdout, "%s\n", x.Reason)
	return deniedStatus(x)
}

// ExitDenied is hop delegation explain's exit status when the delegation
// is denied.
const ExitDenied = 3

// deniedStatus is explain's result: nil when x allows the delegation, else
// exit status ExitDenied (the verdict is printed already).
func deniedStatus(x *delegation.Explanation) error {
	if x.Allowed {
		return nil
	}
	return &exitError{code: ExitDenied}
}
