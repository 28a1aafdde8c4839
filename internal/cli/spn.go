package cli

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"text/tabwriter"

	"hop/directory"
)

func spnCommand() *command {
	return &command{
		name:    "spn",
		summary: "manage service principal names",
		subs: []*command{
			{name: "add", summary: "give an account an SPN (unique in the domain)", usage: "spn add ACCOUNT SPN [--dir DIR]", run: runSPN(true)},
			{name: "remove", summary: "take an SPN from an account", usage: "spn remove ACCOUNT SPN [--dir DIR]", run: runSPN(false)},
			{name: "list", summary: "list SPNs and the accounts that own them", usage: "spn list [ACCOUNT] [--dir DIR] [--json]", run: runSPNList},
		},
	}
}

func runSPN(add bool) func(context.Context, *env, *command, []string) error {
	return dirAction(2, func(ctx context.Context, e *env, d *directory.Directory, pos []string) error {
		if add {
			if err := d.AddSPN(ctx, pos[0], pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Added SPN %s to %s; export a new keytab if the host needs it.\n", pos[1], pos[0])
			return nil
		}
		if err := d.RemoveSPN(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Removed SPN %s from %s.\n", pos[1], pos[0])
		return nil
	})
}

func runSPNList(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(e, fs, c, args, 0, 1)
	if err != nil {
		return err
	}
	d, done, err := openDirectory(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	type row struct {
		SPN     string `json:"spn"`
		Account string `json:"account"`
	}
	rows := []row{}
	if len(pos) == 1 {
		a, err := d.Account(ctx, pos[0])
		if err != nil {
			return err
		}
		for _, s := range a.SPNs {
			rows = append(rows, row{s, a.Name})
		}
	} else {
		accts, err := d.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accts {
			for _, s := range a.SPNs {
				rows = append(rows, row{s, a.Name})
			}
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
