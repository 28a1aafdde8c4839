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
	"regexp"
	"sort"
	"strings"
)

// env is what a command may touch of the outside world.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// describe, when set, receives the flag set and command of the
	// command being run instead of running it (see describeCommand): the
	// flags --help lists are the ones completion and the help tests see.
	describe func(fs *flag.FlagSet, c *command)
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
	// words are subcommands that run handles itself (hop audit verify):
	// completion offers them, a mistyped one is suggested.
	words []string
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
			withWords(auditCommand(), "verify"),
			loginCommand(), withWords(ticketsCommand(), "export"), logoutCommand(),
			withWords(labCommand(), "down"),
			versionCommand(), completionCommand(), helpCommand(),
		},
	}
}

// withWords records the subcommands that c's run function handles itself.
func withWords(c *command, words ...string) *command {
	c.words = words
	return c
}

func dispatch(ctx context.Context, e *env, c *command, args []string, path string) error {
	if path == "hop" && len(args) > 0 && args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(c.subs) > 0 {
		if len(args) > 1 && args[0] == "help" {
			// hop help CMD [SUB] is hop CMD [SUB] --help.
			return dispatch(ctx, e, c, append(args[1:len(args):len(args)], "--help"), path)
		}
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			printGroupHelp(e.stdout, c, path)
			if len(args) == 0 {
				return usagef("%s needs a subcommand (see %s --help)", path, path)
			}
			return errHelpShown
		}
		var names []string
		for _, s := range c.subs {
			if s.name == args[0] {
				return dispatch(ctx, e, s, args[1:], path+" "+s.name)
			}
			names = append(names, s.name)
		}
		where := path + ": "
		if path == "hop" {
			where = "" // ExitCode says hop:
		}
		if strings.HasPrefix(args[0], "-") {
			flags := []string{"help"}
			if path == "hop" {
				flags = append(flags, "version")
			}
			return usagef("%sunknown flag %s%s (see %s --help)", where, args[0], didYouMean(args[0], flagNames(flags)), path)
		}
		return usagef("%sunknown command %q%s (see %s --help)", where, args[0], didYouMean(args[0], names), path)
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
	fmt.Fprintf(w, "\nRun '%s <command> --help' (or 'hop help%s <command>') for a command's flags.\n", path, strings.TrimPrefix(path, "hop"))
}

// errDescribed ends a run whose flags were given to env.describe.
var errDescribed = errors.New("described")

// givenFlags is the set of fs's flags given on the command line.
func givenFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// parse parses flags that may come before, between or after positional
// arguments, and checks the number of positionals. It prints help for -h.
func parse(e *env, fs *flag.FlagSet, c *command, args []string, minPos, maxPos int) ([]string, error) {
	if e.describe != nil {
		e.describe(fs, c)
		return nil, errDescribed
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	all := args
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(e.stdout, fs, c)
				return nil, errHelpShown
			}
			return nil, usagef("%s: %s (see %s --help)", c.path, flagError(err, fs, all), c.path)
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
		hint := ""
		if len(pos) > 0 && len(c.words) > 0 {
			hint = didYouMean(pos[0], c.words)
		}
		return nil, usagef("usage: hop %s (see --help)%s", c.usage, hint)
	}
	return pos, nil
}

// The errors of package flag that name a flag, which they write -name.
var (
	flagUnknownRe = regexp.MustCompile(`^flag provided but not defined: -(.*)$`)
	flagNeedsRe   = regexp.MustCompile(`^flag needs an argument: -(.*)$`)
	flagValueRe   = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([^:]*): (.*)$`)
)

// flagError rewrites an error of fs.Parse so that it names the flag as the
// user typed it in args (--dri, where package flag says -dri) and, for an
// unknown flag, suggests the nearest one fs defines.
func flagError(err error, fs *flag.FlagSet, args []string) string {
	msg := err.Error()
	if m := flagUnknownRe.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		typed := typedFlag(m[1], args)
		return fmt.Sprintf("unknown flag %s%s", typed, didYouMean(typed, flagNames(names)))
	}
	if m := flagNeedsRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s needs a value", typedFlag(m[1], args))
	}
	if m := flagValueRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s %s: %s", typedFlag(m[2], args), m[1], m[3])
	}
	return msg
}

// typedFlag is flag name as the user wrote it in args: -name or --name
// (--name when it is not found).
func typedFlag(name string, args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		for _, dashes := range []string{"--", "-"} {
			if a == dashes+name || strings.HasPrefix(a, dashes+name+"=") {
				return dashes + name
			}
		}
	}
	return dashed(name)
}

// flagNames returns names as a user types them (see dashed).
func flagNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = dashed(n)
	}
	return out
}

// dashed is how a flag is written: -o for a one-letter name, --dir for
// the others (package flag takes either).
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
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
			name, usage := flagPlaceholder(fs, f, c)
			if name != "" {
				name = " " + name
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  %s%s\n      %s%s\n", dashed(f.Name), name, usage, def)
		})
	}
}

// flagPlaceholder returns the placeholder of f's value that --help shows
// (--dir DIR) and f's usage without backquotes: the name in backquotes in
// f's usage, else the one c's usage line gives the flag, else that of
// another name of the same flag in fs (--output: -o FILE), else one named
// for the value's type (N, DURATION, VALUE); none for a boolean flag.
func flagPlaceholder(fs *flag.FlagSet, f *flag.Flag, c *command) (string, string) {
	name, usage := flag.UnquoteUsage(f)
	if strings.Contains(f.Usage, "`") || name == "" {
		return name, usage
	}
	if p := usagePlaceholder(f.Name, c); p != "" {
		return p, usage
	}
	alias := ""
	fs.VisitAll(func(g *flag.Flag) {
		if g != f && g.Value == f.Value && alias == "" {
			if strings.Contains(g.Usage, "`") {
				alias, _ = flag.UnquoteUsage(g)
			} else {
				alias = usagePlaceholder(g.Name, c)
			}
		}
	})
	if alias != "" {
		return alias, usage
	}
	switch name {
	case "int", "uint", "float":
		return "N", usage
	case "duration":
		return "DURATION", usage
	}
	return "VALUE", usage
}

// usagePlaceholder is the placeholder c's usage line gives flag name
// ("--dir DIR": DIR), or "".
func usagePlaceholder(name string, c *command) string {
	m := regexp.MustCompile(`(?:^|[\s\[|])` + regexp.QuoteMeta(dashed(name)) + ` ([^\s\[\]]+)`).FindStringSubmatch(c.usage)
	if m == nil || strings.HasPrefix(m[1], "-") {
		return ""
	}
	return strings.TrimSuffix(m[1], "...")
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
