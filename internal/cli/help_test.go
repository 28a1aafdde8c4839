package cli

import (
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// tree returns every command of hop, as --help and completion see it.
func tree(t *testing.T) []*node {
	t.Helper()
	var nodes []*node
	walkTree(root(), "hop", func(n *node) { nodes = append(nodes, n) })
	if len(nodes) < 50 {
		t.Fatalf("only %d commands in the tree", len(nodes))
	}
	return nodes
}

// TestEveryCommandDescribes: every command defines its flags before it
// does anything, so that --help, completion and these tests see them.
func TestEveryCommandDescribes(t *testing.T) {
	walkTree(root(), "hop", func(n *node) {
		if n.fs == nil || n.path == "hop help" {
			return // a group, or hop help, which runs hop CMD --help
		}
		cmd := lookup(t, n.path)
		var args []string
		if cmd.path != n.path { // a word its parent's run handles
			args = []string{n.path[len(cmd.path)+1:]}
		}
		found := false
		e := newDescribeEnv(func(*flag.FlagSet, *command) { found = true })
		if err := cmd.run(t.Context(), e, cmd, args); !errors.Is(err, errDescribed) || !found {
			t.Errorf("%s does not reach parse before doing anything: %v", n.path, err)
		}
	})
}

// lookup returns the command at path, or the command whose run handles
// the path's last word (hop audit verify: hop audit), with its path set.
func lookup(t *testing.T, path string) *command {
	t.Helper()
	c := root()
	p := "hop"
	for _, w := range strings.Fields(path)[1:] {
		var next *command
		for _, s := range c.subs {
			if s.name == w {
				next = s
			}
		}
		if next == nil {
			if c.run != nil && len(c.subs) == 0 {
				c.path = p
				return c
			}
			t.Fatalf("%s: no command %q", p, w)
		}
		c, p = next, p+" "+w
	}
	c.path = p
	return c
}

// placeholder is an upper-case placeholder (DIR, ADDR:PORT, USER[@REALM],
// FQDN=ADDR:PORT, SPN...) or a literal value a flag takes (off, never,
// json), which is allowed only among alternatives (ADDR:PORT|off).
var (
	placeholderRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*(?:[:@/,=.][A-Z][A-Z0-9_]*)*(?:\[[:@/,=.]?[A-Z][A-Z0-9_.]*\])?(?:\.\.\.)?$`)
	literalRe     = regexp.MustCompile(`^(?:[a-z0-9][a-z0-9-]*|-)$`)
	// usageFlagRe finds a flag and the value token after it in a usage line.
	usageFlagRe = regexp.MustCompile(`(?:^|[\s\[|])(--?[a-z][a-z0-9-]*)(?:([ =])([^\s\[\]]+))?`)
)

// placeholderOK says whether v follows the one placeholder style.
func placeholderOK(v string) bool {
	alts := strings.Split(strings.TrimSuffix(v, "..."), "|")
	for _, a := range alts {
		if !placeholderRe.MatchString(a) && !(len(alts) > 1 && literalRe.MatchString(a)) {
			return false
		}
	}
	return true
}

// literals says whether v lists literal values only (text|json).
func literals(v string) bool {
	for _, a := range strings.Split(v, "|") {
		if !literalRe.MatchString(a) {
			return false
		}
	}
	return true
}

// TestPlaceholderStyle walks every command: each flag's value in a usage
// line and in the flag list of --help is written in one style, --dir DIR,
// --parallel N, upper case; and where both name a flag's value, they agree.
func TestPlaceholderStyle(t *testing.T) {
	for _, v := range []string{"DIR", "ADDR:PORT|off", "USER[@REALM]", "FQDN=ADDR:PORT", "SPN...", "user|computer|service", "FILE|-", "TIME|never"} {
		if !placeholderOK(v) {
			t.Errorf("placeholderOK(%q) = false", v)
		}
	}
	for _, v := range []string{"dir", "string", "Dir", "value", "int", "off"} {
		if placeholderOK(v) {
			t.Errorf("placeholderOK(%q) = true", v)
		}
	}
	for _, n := range tree(t) {
		if n.fs == nil {
			continue
		}
		inUsage := map[string]string{}
		for _, line := range strings.Split(n.cmd.usage, "\n") {
			for _, m := range usageFlagRe.FindAllStringSubmatch(line, -1) {
				flagName, sep, v := m[1], m[2], m[3]
				if v == "" || strings.HasPrefix(v, "-") || strings.HasPrefix(v, "|") {
					continue
				}
				v = strings.TrimRight(v, "]")
				if sep == "=" { // --admin-tls=false, --allow-rc4=BOOL
					if !placeholderOK(v) && v != "false" && v != "true" {
						t.Errorf("%s: usage %q: %s=%s is not a placeholder (upper case) or a boolean", n.path, line, flagName, v)
					}
					continue
				}
				if !placeholderOK(v) {
					t.Errorf("%s: usage %q: %s %s: write the placeholder in upper case (--dir DIR, --parallel N)", n.path, line, flagName, v)
				}
				inUsage[strings.TrimLeft(flagName, "-")] = strings.TrimSuffix(v, "...")
			}
		}
		n.fs.VisitAll(func(f *flag.Flag) {
			p, _ := flagPlaceholder(n.fs, f, n.cmd)
			if p == "" {
				return
			}
			if !placeholderOK(p) {
				t.Errorf("%s --help: %s %s: name the value in upper case in backquotes in the flag's usage", n.path, dashed(f.Name), p)
			}
			// A usage line may list the literal values (--log-format
			// text|json) where the flag list names them (FORMAT).
			if u, ok := inUsage[f.Name]; ok && u != p && !strings.HasPrefix(u, p+"|") && !literals(u) {
				t.Errorf("%s: the usage line says %s %s, the flag list %s %s", n.path, dashed(f.Name), u, dashed(f.Name), p)
			}
		})
	}
}

// notHops are flags that help texts name of other programs.
var notHops = map[string]bool{
	"--negotiate": true, // curl --negotiate -u :
}

// TestHelpNamesRealFlags: every --flag a command's help names is a flag of
// that command, or of the hop command named before it in the same
// sentence or clause (hop host join --ssh-key), so help does not speak of flags that
// are gone. (Short flags -x in help are other programs': kinit -k -t.)
func TestHelpNamesRealFlags(t *testing.T) {
	nodes := tree(t)
	flagsOf := map[string]map[string]bool{}
	for _, n := range nodes {
		fl := map[string]bool{"--help": true}
		if n.fs != nil {
			n.fs.VisitAll(func(f *flag.Flag) { fl[dashed(f.Name)] = true })
		}
		if n.path == "hop" {
			fl["--version"] = true
		}
		flagsOf[n.path] = fl
	}
	mention := regexp.MustCompile(`\bhop(?: [a-z][a-z-]*)*|(?:^|[^\w-])(--[a-z][a-z0-9-]*)`)
	sentenceEnd := regexp.MustCompile(`\n\s*\n|[.;]\s|[,()]`)
	for _, n := range nodes {
		texts := []string{n.cmd.usage, n.cmd.summary, n.cmd.help}
		if n.fs != nil {
			n.fs.VisitAll(func(f *flag.Flag) { texts = append(texts, f.Usage) })
		}
		for _, text := range texts {
			for _, sentence := range sentenceEnd.Split(text, -1) {
				sentence = strings.Join(strings.Fields(sentence), " ")
				at := n.path
				for _, m := range mention.FindAllStringSubmatch(sentence, -1) {
					if m[1] == "" {
						// hop CMD [SUB]: the flags after it are its. Plain
						// "hop" is hop's own (hop --version) when a flag
						// follows; "hop session" names no command.
						if p := longestCommand(flagsOf, m[0]); p != "hop" || m[0] == "hop" {
							at = p
						}
						continue
					}
					if f := m[1]; !flagsOf[at][f] && !notHops[f] {
						t.Errorf("%s --help names %s of %s, which has no such flag: %q", n.path, f, at, sentence)
					}
				}
			}
		}
	}
}

// longestCommand returns the longest command path that words begin with.
func longestCommand(paths map[string]map[string]bool, words string) string {
	f := strings.Fields(words)
	for i := len(f); i > 0; i-- {
		if p := strings.Join(f[:i], " "); paths[p] != nil {
			return p
		}
	}
	return "hop"
}
