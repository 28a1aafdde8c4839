package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"hop/directory"
)

func groupCommand() *command {
	return &command{
		name:    "group",
		summary: "manage groups and their (nested) members",
		subs: []*command{
			{name: "list", summary: "list groups", usage: "group list [--dir DIR] [--json]", run: runGroupList},
			{name: "show", summary: "show a group and its members", usage: "group show GROUP [--dir DIR] [--json]", run: runGroupShow},
			{name: "create", summary: "create a group", usage: "group create GROUP [--description TEXT] [--dir DIR]", run: runGroupCreate},
			{name: "delete", summary: "delete a group", usage: "group delete GROUP [--dir DIR]", run: runGroupDelete},
			{name: "add-member", summary: "add an account or group to a group", usage: "group add-member GROUP MEMBER [--dir DIR]", run: runGroupMember(true)},
			{name: "remove-member", summary: "remove a member from a group", usage: "group remove-member GROUP MEMBER [--dir DIR]", run: runGroupMember(false)},
		},
	}
}

type groupJSON struct {
	Name        string   `json:"name"`
	RID         uint32   `json:"rid"`
	SID         string   `json:"sid"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members"`
}

func runGroupList(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	groups, err := d.Groups(ctx)
	if err != nil {
		return err
	}
	views := []groupJSON{}
	for _, g := range groups {
		views = append(views, groupJSON{Name: g.Name, RID: g.RID, SID: g.SID(dom.SID).String(), Description: g.Description, Members: append([]string{}, g.Members...)})
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
	g, err := d.Group(ctx, pos[0])
	if err != nil {
		return err
	}
	v := groupJSON{Name: g.Name, RID: g.RID, SID: g.SID(dom.SID).String(), Description: g.Description, Members: append([]string{}, g.Members...)}
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "name:        %s\nsid:         %s\ndescription: %s\nmembers:     %s\n", v.Name, v.SID, v.Description, strings.Join(v.Members, ", "))
	return nil
}

func runGroupCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	desc := fs.String("description", "", "free text")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	d, done, err := openDirectory(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	g, err := d.CreateGroup(ctx, pos[0], *desc)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created group %s (RID %d).\n", g.Name, g.RID)
	return nil
}

var runGroupDelete = dirAction(1, func(ctx context.Context, e *env, d *directory.Directory, pos []string) error {
	if err := d.DeleteGroup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted group %s.\n", pos[0])
	return nil
})

func runGroupMember(add bool) func(context.Context, *env, *command, []string) error {
	return dirAction(2, func(ctx context.Context, e *env, d *directory.Directory, pos []string) error {
		if add {
			if err := d.AddMember(ctx, pos[0], pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Added %s to %s.\n", pos[1], pos[0])
			return nil
		}
		if err := d.RemoveMember(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Removed %s from %s.\n", pos[1], pos[0])
		return nil
	})
}
