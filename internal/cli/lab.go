package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"hop/lab"
)

func labCommand() *command {
	return &command{
		name:    "lab",
		summary: "perform every way of making the second hop on this machine, and compare them (hop lab down stops a kept lab)",
		usage:   "lab [--dir FOLDER] [--keep] [--json] [--method ID]... | lab down --dir FOLDER",
		help: `Stands up a throw-away domain on loopback: the KDC and its admin API on
127.0.0.1, hop agents for b.lab.test (127.0.0.2) and c.lab.test (127.0.0.3),
and this machine as host A, with four users: alice (ordinary), sam (sensitive),
pat (Protected Users) and helen (helpdesk administrator). Ports are chosen
free; names resolve through the lab's krb5.conf, not /etc/hosts.

Then, for each method — none, credssp, rbcd, kcd, unconstrained, jea, runas,
explicit, remote-guard, restricted-admin — and each user, it performs
A → B → C: a session on B that runs hop exec c.lab.test and MIT kvno
host/c.lab.test. It prints, per cell, whether the second hop worked and whom
C saw; what credential material reached B, as B's credential broker reports
it and as a scan of the agent's memory and B's files confirms; and whether B
could still reach C as the user once the session had ended, tried with
everything it held (the TGTs and tickets taken from the broker, the password,
its own key with S4U2Self and S4U2Proxy). Then the Remote Credential Guard
document's comparison, and what no original does (explain, an RBCD change
at the very next attempt, remote-guard refusing a target outside
hop exec --allow-hop).

As root, each user's sessions run as a local account of their own (made for
the lab, removed after); as an ordinary user everything runs as you, and the
lab says what that changes. The lab stops everything it started, also on
failure or ^C; a failure names the step and its logs. Every command it ran
is in FOLDER/lab.log. Without --dir the lab works in a new temporary folder,
which it removes when it ends well and is not kept (it holds the domain's
master key and every password); with --dir the files stay.

--keep leaves the lab running and prints how to use it; hop lab down --dir
FOLDER stops it. --json prints every cell as JSON on standard output (progress
goes to standard error). --method ID (repeatable) performs only those methods.`,
		run: runLab,
	}
}

// methodList is a repeatable --method.
type methodList []string

func (m *methodList) String() string     { return strings.Join(*m, ",") }
func (m *methodList) Set(s string) error { *m = append(*m, s); return nil }

func runLab(ctx context.Context, e *env, c *command, args []string) error {
	if len(args) > 0 && args[0] == "down" {
		return runLabDown(ctx, e, c, args[1:])
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", "", "the lab's `FOLDER` (default: a new temporary folder); it must be new or empty")
	keep := fs.Bool("keep", false, "leave the lab running and print how to use it (hop lab down --dir FOLDER stops it)")
	asJSON := fs.Bool("json", false, "print every cell as JSON")
	var only methodList
	fs.Var(&only, "method", "perform only the method `ID` (repeatable): "+strings.Join(lab.MethodIDs(), ", "))
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	for _, m := range only {
		if !slices.Contains(lab.MethodIDs(), m) {
			return usagef("%s: --method %q: use one of %s", c.path, m, strings.Join(lab.MethodIDs(), ", "))
		}
	}
	progress := e.stdout
	if *asJSON {
		progress = e.stderr
	}
	// ^C and SIGTERM stop the lab in order: the context ends, Run stops
	// what it started.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := lab.Run(ctx, lab.Options{Dir: *dir, Keep: *keep, Methods: only, Progress: progress})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintln(e.stdout)
	lab.Write(e.stdout, rep)
	return nil
}

func runLabDown(_ context.Context, e *env, c *command, args []string) error {
	c = &command{name: "down", path: c.path + " down", usage: "lab down --dir FOLDER", summary: "stop a lab that hop lab --keep left running"}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", "", "the `FOLDER` hop lab --keep printed")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("%s: give --dir, the folder hop lab --keep printed", c.path)
	}
	if err := lab.Down(*dir); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "the lab in %s is stopped; its files stay there\n", *dir)
	return nil
}
