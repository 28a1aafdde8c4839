package jea

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// admitted reports whether the endpoint's own groups (when set) admit the user.
func (p *Policy) admitted(member func(string) bool) bool {
	if len(p.groups) == 0 {
		return true
	}
	return anyMember(member, p.groups)
}

func anyMember(member func(string) bool, groups []string) bool {
	if member == nil {
		return false
	}
	for _, g := range groups {
		if member(g) {
			return true
		}
	}
	return false
}

// allowed returns the commands of the roles the user is in, in
// configuration order.
func (p *Policy) allowed(member func(string) bool) []*command {
	var out []*command
	for i := range p.roles {
		if anyMember(member, p.roles[i].groups) {
			out = append(out, p.roles[i].commands...)
		}
	}
	return out
}

// shownNames maps each allowed path to the name a user types and sees: the
// base name when no other allowed path has the same base name, else the
// full path.
func shownNames(cmds []*command) map[string]string {
	paths := map[string]map[string]bool{}
	for _, c := range cmds {
		if paths[c.base] == nil {
			paths[c.base] = map[string]bool{}
		}
		paths[c.base][c.path] = true
	}
	out := map[string]string{}
	for _, c := range cmds {
		if len(paths[c.base]) == 1 {
			out[c.path] = c.base
		} else {
			out[c.path] = c.path
		}
	}
	return out
}

func helpLines(cmds []*command) []string {
	names := shownNames(cmds)
	seen := map[string]bool{}
	var out []string
	for _, c := range cmds {
		l := quoteWord(names[c.path])
		if c.argsHelp != "" {
			l += " " + c.argsHelp
		}
		if c.desc != "" {
			l += "  # " + c.desc
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// Help returns one line per command the user whose groups member answers
// for may run, in configuration order, e.g. "rndc reload|status [NAME]":
// the name to type (the base name, or the full path when two allowed paths
// share a base name), then each argument rule (a value, values joined by |,
// a regex's placeholder; optional ones in brackets; "..." when more
// arguments are allowed), then "  # description" when there is one. It is
// empty when the user may not use the endpoint.
func (p *Policy) Help(member func(group string) bool) []string {
	if !p.admitted(member) {
		return nil
	}
	return helpLines(p.allowed(member))
}

// Check decides whether the user whose groups member answers for may run
// argv (as split by [Split]) on the endpoint. argv[0] must be exactly a
// configured path, or the base name of exactly one path the user may run;
// the decision's Path is always the configured absolute path. Each argument
// must match its positional rule; extra arguments are refused unless the
// command allows more. A refusal's Reason is one printable line (control
// characters in the user's input escaped) that says why and lists what the
// user may run.
func (p *Policy) Check(member func(group string) bool, argv []string) Decision {
	if !p.admitted(member) {
		return Decision{Reason: fmt.Sprintf("you may not use %s: it is for members of %s", p.displayName(), strings.Join(p.groups, ", "))}
	}
	cmds := p.allowed(member)
	if len(cmds) == 0 {
		return Decision{Reason: fmt.Sprintf("you may not run any command on %s: you are in none of the groups of its roles (%s)",
			p.displayName(), strings.Join(p.roleGroups(), ", "))}
	}
	refuse := func(why string) Decision {
		return Decision{Reason: why + "; you may run: " + strings.Join(helpLines(cmds), "; ")}
	}
	if len(argv) == 0 {
		return refuse("empty command")
	}
	if len(argv)-1 > MaxArgs {
		return refuse(fmt.Sprintf("%s has %d arguments, more than %d", display(argv), len(argv)-1, MaxArgs))
	}
	for i, a := range argv {
		if err := checkArgument(a); err != nil {
			what := fmt.Sprintf("argument %d", i)
			if i == 0 {
				what = "the command name"
			}
			return refuse(fmt.Sprintf("%s is refused: %s %v", display(argv), what, err))
		}
	}

	// Which path does argv[0] name?
	var cands []*command
	if strings.Contains(argv[0], "/") {
		for _, c := range cmds {
			if c.path == argv[0] {
				cands = append(cands, c)
			}
		}
	} else {
		paths := map[string]bool{}
		for _, c := range cmds {
			if c.base == argv[0] {
				cands = append(cands, c)
				paths[c.path] = true
			}
		}
		if len(paths) > 1 {
			var ps []string
			for _, c := range cands {
				if !containsString(ps, c.path) {
					ps = append(ps, c.path)
				}
			}
			return refuse(fmt.Sprintf("%s is ambiguous on %s: type the full path (%s)",
				display(argv[:1]), p.displayName(), strings.Join(ps, " or ")))
		}
	}
	if len(cands) == 0 {
		return refuse(fmt.Sprintf("%s is not allowed on %s: %s is not one of its commands you may run",
			display(argv), p.displayName(), display(argv[:1])))
	}

	bestScore, why := -1, ""
	for _, c := range cands {
		score, w := c.match(argv[1:])
		if w == "" {
			out := make([]string, len(argv))
			out[0] = c.path
			copy(out[1:], argv[1:])
			return Decision{
				Allowed: true,
				Path:    c.path,
				Argv:    out,
				Rule:    fmt.Sprintf("%s (%s)", c.rule, helpLines([]*command{c})[0]),
			}
		}
		if score > bestScore {
			bestScore, why = score, w
		}
	}
	return refuse(fmt.Sprintf("%s is not allowed on %s: %s", display(argv), p.displayName(), why))
}

func (p *Policy) roleGroups() []string {
	var out []string
	for _, r := range p.roles {
		for _, g := range r.groups {
			if !containsString(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// match checks args against the command's rules. It returns how many
// arguments matched and, when they do not all match, why.
func (c *command) match(args []string) (int, string) {
	for i := range c.args {
		r := &c.args[i]
		if i >= len(args) {
			if r.optional {
				return i, ""
			}
			return i, fmt.Sprintf("argument %d is missing (want %s)", i+1, r.want())
		}
		if !r.match(args[i]) {
			return i, fmt.Sprintf("argument %d %s is not %s", i+1, display(args[i:i+1]), r.want())
		}
	}
	if len(args) > len(c.args) && !c.more {
		return len(c.args), fmt.Sprintf("extra argument %s (at most %d)", display(args[len(c.args):len(c.args)+1]), len(c.args))
	}
	return len(args), ""
}

// display renders user input for a one-line message: quoted like [Join],
// cut to maxShown runes, with anything not graphic (control and format
// characters such as bidirectional overrides, invalid UTF-8) escaped.
func display(argv []string) string {
	// Quote only as many words as can be shown (a rune is at most 4
	// bytes, a quoted word at most 4 times longer plus 2).
	var j strings.Builder
	for i, w := range argv {
		if j.Len() > 4*maxShown {
			break
		}
		if i > 0 {
			j.WriteByte(' ')
		}
		if len(w) > 4*maxShown {
			w = w[:4*maxShown]
		}
		j.WriteString(quoteWord(w))
	}
	s := j.String()
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if n == maxShown {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsGraphic(r) && !unicode.Is(unicode.Zs, r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
		n++
	}
	return b.String()
}
