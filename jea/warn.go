package jea

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// runsAnything names commands that run other programs or have a documented
// way to (a shell escape, an -exec option, a pager, a hook), and commands
// that write or re-permission any file they are given: allowing them with
// loose arguments gives the role the run_as account.
var runsAnything = map[string]string{}

func init() {
	for kind, names := range map[string]string{
		"a shell": "sh bash dash zsh ksh mksh pdksh oksh csh tcsh fish ash rbash yash busybox pwsh screen tmux script",
		"an interpreter": "python pypy perl ruby irb node nodejs deno bun lua luajit php tclsh wish expect awk gawk mawk nawk " +
			"sed ed ex dc bc R Rscript julia java jshell gdb lldb make",
		"a program that runs other programs": "env sudo su doas pkexec runuser setpriv chroot nsenter unshare setsid " +
			"nohup nice ionice taskset timeout stdbuf time xargs parallel watch flock strace ltrace systemd-run at batch " +
			"crontab ssh sg newgrp chpst setarch capsh firejail docker podman kubectl",
		"a program with a shell escape, exec option or pager": "find vi vim view nvim nano emacs less more most man " +
			"git tar rsync zip scp sftp ftp journalctl systemctl mail mutt",
		"a program that writes or re-permissions any file it is given": "tee dd cp mv install ln chmod chown chgrp truncate rm",
	} {
		for _, n := range strings.Fields(names) {
			runsAnything[n] = kind
		}
	}
}

// dangerKind returns why the command's base name is dangerous, or "".
// Version suffixes are ignored (python3.12, perl5.36, lua5.4).
func dangerKind(base string) string {
	name := strings.TrimRight(base, "0123456789.-")
	if name == "" {
		name = base
	}
	return runsAnything[name]
}

func commandWarnings(c Command) []string {
	var out []string
	if strings.IndexFunc(c.Path, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
		out = append(out, "path contains non-ASCII characters; check it is not a look-alike of the intended one")
	}
	kind := dangerKind(filepath.Base(c.Path))
	if kind != "" {
		out = append(out, fmt.Sprintf("%s is %s: a loose argument rule can give users everything the run_as account can do", filepath.Base(c.Path), kind))
	}
	if c.AllowMoreArgs {
		if kind != "" {
			out = append(out, "allow_more_args on "+kind+": users can run anything as the run_as account")
		} else {
			out = append(out, "allow_more_args: any further arguments, options included, are accepted")
		}
	}
	for i, a := range c.Args {
		if a.Regex == "" {
			continue
		}
		for _, m := range regexWarnings(a.Regex) {
			out = append(out, fmt.Sprintf("args[%d] regex %q %s", i, a.Regex, m))
		}
	}
	out = append(out, pathWarnings(c.Path)...)
	return out
}

// anyProbes are arguments of every kind an attacker might pass; a regex
// that matches all of them matches "any argument" for practical purposes.
var anyProbes = []string{
	"a", "Z", "0", "-", "--", "-rf", "--output=/etc/passwd", "/", "/etc/shadow", "../../etc/shadow",
	".", "..", ";", "|", "&", "$(id)", "`id`", ">", "<", "*", "'", `"`, `\`, "a b", " ", "\t",
	"é", "\u00a0", "\u2215", "x;id", "~root", "%s%n", "\x7f",
}

var optionProbes = []string{"--", "-x", "-rf", "-0", "-v", "--help", "--x", "-o/tmp/x", "--output=/etc/passwd"}

var dotdotProbes = []string{"..", "../x", "x/..", "x/../y", "../../etc/shadow", "/x/../../etc/shadow"}

// regexWarnings analyses a configured argument regex (already known to
// compile).
func regexWarnings(src string) []string {
	re, err := syntax.Parse(`^(?:`+src+`)$`, syntax.Perl)
	if err != nil {
		return nil
	}
	anchored, err := regexp.Compile(`^(?:` + src + `)$`)
	if err != nil {
		return nil
	}
	full := anchored.MatchString
	matchesAll := true
	for _, p := range anyProbes {
		if !full(p) {
			matchesAll = false
			break
		}
	}
	if matchesAll {
		return []string{"matches any argument (options, paths, shell characters): use values or a narrower pattern"}
	}
	var out []string
	if w := wildcard(re); w != "" {
		out = append(out, fmt.Sprintf("contains %s, which matches almost any text (spaces, '/', '..', options): use a narrow character class", w))
	}
	for _, p := range optionProbes {
		if full(p) {
			out = append(out, fmt.Sprintf("matches option-like arguments such as %q, which the command may read as options: make the pattern start with a letter or digit", p))
			break
		}
	}
	// Also after the regex's literal prefix, so that "/srv/www/.+"
	// is tried with "/srv/www/../../etc/shadow".
	prefix, _ := anchored.LiteralPrefix()
	prefix = strings.TrimPrefix(prefix, "^")
dotdot:
	for _, pre := range []string{"", prefix} {
		for _, p := range dotdotProbes {
			if full(pre + p) {
				out = append(out, fmt.Sprintf("matches %q: a path argument may leave its directory", pre+p))
				break dotdot
			}
		}
	}
	return out
}

// wildcard returns the first repeated sub-expression that matches (almost)
// any character — ., \C, [^ ], [\s\S], a class with at least 90 of the 95
// printable ASCII characters — or "".
func wildcard(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		if len(re.Sub) == 1 && universal(re.Sub[0]) {
			return showRepeat(re)
		}
	}
	for _, s := range re.Sub {
		if w := wildcard(s); w != "" {
			return w
		}
	}
	return ""
}

// showRepeat writes a repetition of a universal class the way people write
// it (".*", not "(?-s:.*)").
func showRepeat(re *syntax.Regexp) string {
	sub := re.Sub[0]
	for sub.Op == syntax.OpCapture {
		sub = sub.Sub[0]
	}
	s := sub.String()
	switch sub.Op {
	case syntax.OpAnyCharNotNL:
		s = "."
	case syntax.OpAnyChar:
		s = "(?s:.)"
	case syntax.OpAlternate, syntax.OpConcat:
		s = "(" + s + ")"
	}
	switch re.Op {
	case syntax.OpStar:
		return s + "*"
	case syntax.OpPlus:
		return s + "+"
	}
	if re.Max < 0 {
		return fmt.Sprintf("%s{%d,}", s, re.Min)
	}
	return fmt.Sprintf("%s{%d,%d}", s, re.Min, re.Max)
}

func universal(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpCharClass:
		n := 0
		for c := rune(0x20); c <= 0x7e; c++ {
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= c && c <= re.Rune[i+1] {
					n++
					break
				}
			}
		}
		return n >= 90
	case syntax.OpCapture:
		return universal(re.Sub[0])
	case syntax.OpAlternate:
		// (a|b|.) is as universal as its widest branch.
		for _, s := range re.Sub {
			if universal(s) {
				return true
			}
		}
	}
	return false
}

// pathWarnings checks the executable on this machine: it should exist, be
// a regular executable file, and it and every directory above it (after
// following symbolic links) be owned by root and not writable by group or
// others, or someone else can replace what the run_as account executes.
func pathWarnings(p string) []string {
	var out []string
	seen := map[string]bool{}
	// below is the entry of q the walk came from (nil for the command
	// itself): in a sticky directory (/tmp) others may add entries but not
	// replace one they do not own, so a root-owned entry there is safe.
	check := func(q string, fi, below fs.FileInfo) {
		if seen[q] {
			return
		}
		seen[q] = true
		if uid, ok := ownerUID(fi); ok && uid != 0 {
			out = append(out, fmt.Sprintf("%s is owned by uid %d, not root: that user can replace the command", q, uid))
		}
		if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode().Perm()&0o022 == 0 {
			return
		}
		if fi.Mode()&fs.ModeSticky != 0 && below != nil {
			if uid, ok := ownerUID(below); ok && uid == 0 {
				return
			}
		}
		out = append(out, fmt.Sprintf("%s is writable by group or others (mode %04o): they can replace the command", q, fi.Mode().Perm()))
	}
	walk := func(from string, report bool) {
		var below fs.FileInfo
		for q := from; ; q = filepath.Dir(q) {
			fi, err := os.Lstat(q)
			switch {
			case err == nil:
				check(q, fi, below)
			case !report:
			case errors.Is(err, fs.ErrNotExist):
				if q == p {
					out = append(out, "does not exist (yet) on this host; it will be refused at run time until it does")
				}
			default:
				out = append(out, fmt.Sprintf("cannot check %s: %v", q, err))
			}
			below = fi
			if q == "/" {
				break
			}
		}
	}
	// The path as written, component by component (symlinks themselves),
	// then the path the kernel executes.
	walk(p, true)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return out
	}
	walk(real, false)
	fi, err := os.Stat(real)
	if err == nil {
		switch {
		case !fi.Mode().IsRegular():
			out = append(out, fmt.Sprintf("%s is not a regular file", real))
		case fi.Mode().Perm()&0o111 == 0:
			out = append(out, fmt.Sprintf("%s is not executable", real))
		}
	}
	return out
}

// baseNameWarnings warns when two different paths share a base name: users
// who may run both must type the full path.
func (p *Policy) baseNameWarnings() []Warning {
	paths := map[string][]string{}
	var order []string
	for _, r := range p.roles {
		for _, c := range r.commands {
			if _, ok := paths[c.base]; !ok {
				order = append(order, c.base)
			}
			if !containsString(paths[c.base], c.path) {
				paths[c.base] = append(paths[c.base], c.path)
			}
		}
	}
	var out []Warning
	for _, b := range order {
		if len(paths[b]) > 1 {
			out = append(out, Warning{Msg: fmt.Sprintf("%s is the base name of %s: users allowed several of them must type the full path",
				b, strings.Join(paths[b], " and "))})
		}
	}
	return out
}
