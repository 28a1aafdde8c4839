package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"hop/admin"
)

func groupCommand() *command {
	return &command{
		name:    "group",
		summary: "manage groups and their (nested) members",
		subs: []*command{
			{name: "list", summary: "list groups", usage: "group list [--dir DIR | --server URL] [--json]", run: runGroupList},
			{name: "show", summary: "show a group and its members", usage: "group show GROUP [--dir DIR | --server URL] [--json]", run: runGroupShow},
			{name: "create", summary: "create a group", usage: "group create GROUP [--description TEXT] [--dir DIR | --server URL]", run: runGroupCreate},
			{name: "delete", summary: "delete a group", usage: "group delete GROUP [--dir DIR | --server URL]", run: runGroupDelete},
			{name: "add-member", summary: "add an account or group to a group", usage: "group add-member GROUP MEMBER [--dir DIR | --server URL]",
				help: `Members of privileged groups (Domain Admins, Protected Users, …) are
changed by Domain Admins only; other groups also by their managers
(hop group set-managers).`,
				run: runGroupMember(true)},
			{name: "remove-member", summary: "remove a member from a group", usage: "group remove-member GROUP MEMBER [--dir DIR | --server URL]", run: runGroupMember(false)},
			{name: "set-managers", summary: "set who may change a group's members (Domain Admins only)",
				usage: "group set-managers GROUP PRINCIPALS|none [--dir DIR | --server URL]",
				help:  `PRINCIPALS is a comma-separated list of accounts and groups; "none" clears it.`,
				run:   runGroupManagers},
		},
	}
}

func runGroupList(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
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
	views, err := svc.Groups(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, views)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tRID\tMEMBERS")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", v.Name, v.RID, strings.Join(v.Members, ","))
	}
	return tw.Flush()
}

func runGroupShow(ctx context.Context, e *env, c *command, args []string) error {
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
	v, err := svc.Group(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "name:        %s\nsid:         %s\nrevision:    %d\ndescription: %s\nmembers:     %s\nmanaged by:  %s\n",
		v.Name, v.SID, v.Revision, v.Description, strings.Join(v.Members, ", "), orNone(v.ManagedBy))
	if v.Privileged {
		fmt.Fprintln(e.stdout, "privileged:  yes (only Domain Admins change its members)")
	}
	return nil
}

func runGroupCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	desc := fs.String("description", "", "free text")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	g, err := svc.CreateGroup(ctx, admin.NewGroup{Name: pos[0], Description: *desc})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created group %s (RID %d).\n", g.Name, g.RID)
	return nil
}

var runGroupDelete = serviceAction(1, func(ctx context.Context, e *env, svc admin.Service, pos []string) error {
	if err := svc.DeleteGroup(ctx, pos[0], 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted group %s.\n", pos[0])
	return nil
})

func runGroupMember(add bool) func(context.Context, *env, *command, []string) error {
	return serviceAction(2, func(ctx context.Context, e *env, svc admin.Service, pos []string) error {
		if add {
			if _, err := svc.AddMember(ctx, pos[0], 0, pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Added %s to %s.\n", pos[1], pos[0])
			return nil
		}
		if _, err := svc.RemoveMember(ctx, pos[0], 0, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Removed %s from %s.\n", pos[1], pos[0])
		return nil
	})
}

var runGroupManagers = serviceAction(2, func(ctx context.Context, e *env, svc admin.Service, pos []string) error {
	var managers []string
	for _, m := range strings.Split(pos[1], ",") {
		if m = strings.TrimSpace(m); m != "" && !strings.EqualFold(m, "none") {
			managers = append(managers, m)
		}
	}
	g, err := svc.SetGroupManagers(ctx, pos[0], 0, managers)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Managers of %s: %s.\n", g.Name, orNone(g.ManagedBy))
	return nil
})
