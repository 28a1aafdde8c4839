package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
)

func helpCommand() *command {
	return &command{
		name:    "help",
		summary: "show a command's help: hop help CMD [SUB] is hop CMD [SUB] --help",
		usage:   "help [COMMAND [SUBCOMMAND]]",
		run: func(ctx context.Context, e *env, _ *command, args []string) error {
			if len(args) == 0 {
				args = []string{"--help"}
			} else {
				args = append(args[:len(args):len(args)], "--help")
			}
			return dispatch(ctx, e, root(), args, "hop")
		},
	}
}

// node is a command of the tree as --help shows it: a group of
// subcommands, or a command with its flags.
type node struct {
	path string   // "hop account add"
	cmd  *command // for a word (hop audit verify), the command that parse saw
	subs []string // subcommands (a group's, or the words its run handles)
	fs   *flag.FlagSet
}

// walkTree calls fn for every command under c, parents first. The flags
// of a command are the ones its run function defines before parse, read
// by running it with env.describe set, so they are the ones --help lists.
func walkTree(c *command, path string, fn func(n *node)) {
	if len(c.subs) > 0 {
		n := &node{path: path, cmd: c}
		for _, s := range c.subs {
			n.subs = append(n.subs, s.name)
		}
		fn(n)
		for _, s := range c.subs {
			walkTree(s, path+" "+s.name, fn)
		}
		return
	}
	n := describeCommand(c, path, nil)
	n.subs = c.words
	fn(n)
	for _, w := range c.words {
		fn(describeCommand(c, path+" "+w, []string{w}))
	}
}

// describeCommand runs c with args (a word such as verify, or none) to
// learn its flags without doing anything.
func describeCommand(c *command, path string, args []string) *node {
	n := &node{path: path, cmd: c}
	e := newDescribeEnv(func(fs *flag.FlagSet, sub *command) { n.fs, n.cmd = fs, sub })
	cc := *c
	cc.path = path
	if err := c.run(context.Background(), e, &cc, args); !errors.Is(err, errDescribed) {
		// A command that does not parse flags: it has none.
		n.fs = flag.NewFlagSet(c.name, flag.ContinueOnError)
	}
	return n
}

// newDescribeEnv returns an env that gives the flags of the command run
// in it to describe, with no input, output or environment.
func newDescribeEnv(describe func(*flag.FlagSet, *command)) *env {
	return &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, describe: describe}
}
