package cli

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"text/tabwriter"

	"hop/admin"
)

func spnCommand() *command {
	return &command{
		name:    "spn",
		summary: "manage service principal names",
		subs: []*command{
			{name: "add", summary: "give an account an SPN (unique in the domain)", usage: "spn add ACCOUNT SPN [--dir DIR | --server URL]", run: runSPN(true)},
			{name: "remove", summary: "take an SPN from an account", usage: "spn remove ACCOUNT SPN [--dir DIR | --server URL]", run: runSPN(false)},
			{name: "list", summary: "list SPNs and the accounts that own them", usage: "spn list [ACCOUNT] [--dir DIR | --server URL] [--json]", run: runSPNList},
		},
	}
}

func runSPN(add bool) func(context.Context, *env, *command, []string) error {
	return serviceAction(2, func(ctx context.Context, e *env, svc admin.Service, pos []string) error {
		if add {
			if _, err := svc.AddSPN(ctx, pos[0], 0, pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Added SPN %s to %s; export a new keytab if the host needs it.\n", pos[1], pos[0])
			return nil
		}
		if _, err := svc.RemoveSPN(ctx, pos[0], 0, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Removed SPN %s from %s.\n", pos[1], pos[0])
		return nil
	})
}

func runSPNList(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(e, fs, c, args, 0, 1)
	if err != nil {
		return err
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	type row struct {
		SPN     string `json:"spn"`
		Account string `json:"account"`
	}
	rows := []row{}
	var accts []admin.Account
	if len(pos) == 1 {
		a, err := svc.Account(ctx, pos[0])
		if err != nil {
			return err
		}
		accts = []admin.Account{*a}
	} else if accts, err = svc.Accounts(ctx, ""); err != nil {
		return err
	}
	for _, a := range accts {
		for _, s := range a.SPNs {
			rows = append(rows, row{s, a.Name})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].SPN < rows[j].SPN })
	if *asJSON {
		return printJSON(e.stdout, rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SPN\tACCOUNT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r.SPN, r.Account)
	}
	return tw.Flush()
}
