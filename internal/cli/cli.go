// Package cli implements the hop command line: one file per subcommand,
// with standard input and output passed in so that tests drive it exactly
// as a user does.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// env is what a command may touch of the outside world.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is a node of the command tree.
type command struct {
	name    string
	summary string
	usage   string // the synopsis after "hop "
	help    string // longer text shown by --help
	run     func(ctx context.Context, e *env, c *command, args []string) error
	subs    []*command
	path    string // "hop account add", set by dispatch
}

// usageError is a mistake in how a command was called (exit status 2).
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError ends hop with a given exit status, printing err if it is not
// nil (the status of a remote command, which printed its own errors).
type exitError struct {
	code int
	err  error
}

func (x *exitError) Error() string {
	if x.err == nil {
		return fmt.Sprintf("exit status %d", x.code)
	}
	return x.err.Error()
}

func (x *exitError) Unwrap() error { return x.err }

// ExitStatus is the status hop exits with.
func (x *exitError) ExitStatus() int { return x.code }

// exitStatus is ExitCode's rule for errors that carry their own exit
// status (hop exec returns the remote command's): it prints the error, if
// there is one to print, and returns the status.
func exitStatus(err error, stderr io.Writer) (int, bool) {
	var x *exitError
	if !errors.As(err, &x) {
		return 0, false
	}
	if x.err != nil {
		fmt.Fprintln(stderr, "hop:", x.err)
	}
	return x.code, true
}

// errHelpShown ends a run after --help was printed.
var errHelpShown = errors.New("help shown")

// Run runs the hop command line with args (without the program name).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	err := dispatch(ctx, e, root(), args, "hop")
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

// ExitCode prints err (if any) and returns the process exit status.
func ExitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if code, ok := exitStatus(err, stderr); ok {
		return code
	}
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "hop:", u.msg)
		return 2
	}
	fmt.Fprintln(stderr, "hop:", err)
	return 1
}

func root() *command {
	return &command{
		name:    "hop",
		summary: "a Kerberos domain for the second hop of remote administration",
		subs: []*command{
			domainCommand(),
			kdcCommand(),
			agentCommand(),
			accountCommand(),
			groupCommand(),
			spnCommand(),
			keytabCommand(),
			hostCommand(),
			knownHostsCommand(),
			execCommand(), shellCommand(), endpointsCommand(),
			delegationCommand(),
			clientConfigCommand(),
			benchCommand(),
			auditCommand(),
			loginCommand(), ticketsCommand(), logoutCommand(),
			labCommand(),
		},
	}
}

func dispatch(ctx context.Context, e *env, c *command, args []string, path string) error {
	if len(c.subs) > 0 {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			printGroupHelp(e.stdout, c, path)
			if len(args) == 0 {
				return usagef("%s needs a subcommand (see %s --help)", path, path)
			}
			return errHelpShown
		}
		for _, s := range c.subs {
			if s.name == args[0] {
				return dispatch(ctx, e, s, args[1:], path+" "+s.name)
			}
		}
		return usagef("%s: unknown command %q (see %s --help)", path, args[0], path)
	}
	c.path = path
	return c.run(ctx, e, c, args)
}

func printGroupHelp(w io.Writer, c *command, path string) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s <command> [flags]\n\nCommands:\n", path, c.summary, path)
	subs := append([]*command(nil), c.subs...)
	if path != "hop" {
		sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	}
	for _, s := range subs {
		fmt.Fprintf(w, "  %-16s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
}

// parse parses flags that may come before, between or after positional
// arguments, and checks the number of positionals. It prints help for -h.
func parse(e *env, fs *flag.FlagSet, c *command, args []string, minPos, maxPos int) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(e.stdout, fs, c)
				return nil, errHelpShown
			}
			return nil, usagef("%s: %v (see %s --help)", c.path, err, c.path)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first positional; "--" ends flags for good.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		return nil, usagef("usage: hop %s (see --help)", c.usage)
	}
	return pos, nil
}

func printHelp(w io.Writer, fs *flag.FlagSet, c *command) {
	fmt.Fprintf(w, "Usage: hop %s\n\n%s\n", c.usage, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			if name != "" {
				name = " " + name
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s%s\n      %s%s\n", f.Name, name, usage, def)
		})
	}
}

// stringList is a repeatable flag that also splits on commas.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}
