package importpolicy

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "hop"

// A rule limits what the packages matching From may depend on. Patterns are
// import paths; a trailing "/..." also matches every package below.
type rule struct {
	From []string
	// Deny: packages none of From may import, directly or (Transitive)
	// through any chain of imports.
	Deny       []string
	Transitive bool
	// Only, when set: the module packages (and, with NoThirdParty, the
	// only non-standard packages) From may import directly. Standard
	// library imports are always allowed.
	Only         []string
	NoThirdParty bool
	// Except: packages of From the rule does not cover.
	Except []string
	Why    string
}

// testSupport are packages that exist for tests: only test files and other
// test-support packages may import them.
var testSupport = []string{
	"hop/internal/testrealm", "hop/internal/thirdparty",
	"hop/directory/storetest", "hop/krb5/service/servicetest", "hop/remote/remotetest",
	"hop/internal/testio", "hop/krb5/krb5test",
}

// servers are the packages that hold or serve the directory: a client or
// host-side package that links one of them links the whole domain.
var servers = []string{
	"hop/directory/...", "hop/kdc/...", "hop/kpasswd/...", "hop/admin/adminserver/...",
	"hop/dc/...", "hop/domain/...",
}

var rules = []rule{
	{
		From: []string{"hop/sid", "hop/krb5", "hop/delegation", "hop/internal/atomicfile", "hop/internal/redact"},
		Only: []string{}, NoThirdParty: true,
		Why: "vocabulary leaves: the standard library only, so every layer can share them",
	},
	{
		From:   []string{"hop/krb5/...", "hop/pac/..."},
		Only:   []string{"hop/krb5/...", "hop/pac/...", "hop/sid", "hop/internal/atomicfile", "hop/internal/redact"},
		Except: []string{"hop/krb5/service/servicetest"},
		Why:    "the Kerberos protocol layer knows nothing of hop's directory, KDC, admin API or remoting",
	},
	{
		From: []string{"hop/remoting/..."},
		Only: []string{"hop/krb5/...", "hop/sid"},
		Why:  "hop's SSH protocol extension is shared by the agent and the client and depends on neither",
	},
	{
		From:       []string{"hop/remote/..."},
		Except:     []string{"hop/remote/remotetest"},
		Deny:       append([]string{"hop/agent/...", "hop/audit/..."}, servers...),
		Transitive: true,
		Why:        "the remoting client runs on the user's host A: it must not link the domain's servers, their audit log or the agent",
	},
	{
		From:       []string{"hop/agent/..."},
		Deny:       append([]string{"hop/remote/..."}, servers...),
		Transitive: true,
		Why:        "the agent runs on every host (and keeps its own audit log): it reaches the domain through Kerberos and the admin API client, never by linking the KDC, the directory or the admin server",
	},
	{
		From: []string{"hop/broker/..."},
		Only: []string{"hop/krb5/...", "hop/sid", "hop/remoting"},
		Why:  "the per-session credential broker sits beside the agent and speaks Kerberos (and the delegation modes of hop's SSH extension) only: the agent imports it, it imports the protocol layer and its leaves",
	},
	{
		From:       []string{"hop/broker/..."},
		Deny:       append([]string{"hop/agent/...", "hop/remote/...", "hop/audit/..."}, servers...),
		Transitive: true,
		Why:        "the broker runs in the agent on every host: it must not link the domain's servers",
	},
	{
		From:       []string{"hop/admin"},
		Deny:       append([]string{"hop/agent/...", "hop/remote/...", "hop/audit/..."}, servers...),
		Transitive: true,
		Why:        "package admin is the API's types and its client, used by hosts and users; the server side is admin/adminserver",
	},
	{
		From:       []string{"hop/directory/...", "hop/audit/..."},
		Deny:       []string{"hop/kdc/...", "hop/kpasswd/...", "hop/admin/...", "hop/agent/...", "hop/remote/...", "hop/dc/...", "hop/domain/...", "hop/jea/..."},
		Transitive: true,
		Except:     []string{"hop/directory/storetest"},
		Why:        "the directory and the audit log are below everything that serves them",
	},
	{
		From:       []string{"hop/kdc/...", "hop/kpasswd/..."},
		Deny:       []string{"hop/admin/...", "hop/agent/...", "hop/remote/...", "hop/dc/...", "hop/domain/...", "hop/jea/..."},
		Transitive: true,
		Why:        "the KDC and kpasswd serve the directory; the admin API, the daemon and the remoting code sit above them",
	},
	{
		From:       []string{"hop/dc/...", "hop/domain/..."},
		Deny:       []string{"hop/agent/...", "hop/remote/...", "hop/jea/..."},
		Transitive: true,
		Why:        "the domain controller's daemon and its folder serve the domain; the remoting agent and client are separate programs' code",
	},
	{
		From: []string{"hop/domain/..."},
		Deny: []string{"hop/dc/..."},
		Why:  "the domain folder is below the daemon that serves it",
	},
	{
		From: []string{"hop/lab/..."},
		Only: []string{"hop/krb5/...", "hop/sid", "hop/remoting", "hop/internal/scan", "hop/internal/atomicfile"},
		Why:  "the lab drives the system from outside, as its users and an attacker on B would: the hop binary, the Kerberos protocol and the sessions' KCM sockets, never a server's code",
	},
	{
		From: []string{"hop/internal/scan"},
		Only: []string{}, NoThirdParty: true,
		Why: "the scanners read memory and files, and know nothing of what they look for",
	},
	{
		From: []string{"hop/jea/..."},
		Only: []string{},
		Why:  "the JEA policy is a pure function of its configuration and a command line",
	},
	{
		From:   []string{"hop/..."},
		Except: []string{"hop/cmd/hop"},
		Deny:   []string{"hop/internal/cli/...", "hop/cmd/..."},
		Why:    "the command line is the top: only cmd/hop imports internal/cli, and nothing imports a command",
	},
}

// graph is the module's import graph: package → its imports, for non-test
// files (prod) and for test files (test).
type graph struct {
	prod map[string][]string
	test map[string][]string
}

func TestImportPolicy(t *testing.T) {
	g := load(t, filepath.Join("..", ".."))
	if len(g.prod) < 20 {
		t.Fatalf("found only %d packages; is the walk broken?", len(g.prod))
	}
	for _, v := range check(g, rules) {
		t.Error(v)
	}
	for _, pat := range append(append([]string{}, rules[0].From...), testSupport...) {
		if !slices.ContainsFunc(keys(g.prod), func(p string) bool { return match(pat, p) }) && !strings.HasSuffix(pat, "/...") {
			t.Errorf("the policy names %s, which is not a package of the module (renamed? update the policy)", pat)
		}
	}
}

// TestPolicyCatchesEachEdge adds, to the real graph, each edge the policy
// exists to forbid, and checks that the policy reports it with its chain.
func TestPolicyCatchesEachEdge(t *testing.T) {
	base := load(t, filepath.Join("..", ".."))
	for _, c := range []struct{ from, to, via string }{
		{"hop/pac", "hop/directory", ""},
		{"hop/krb5/service", "hop/directory", ""},
		{"hop/krb5/client", "hop/kdc", ""},
		{"hop/sid", "hop/krb5", ""},
		{"hop/sid", "golang.org/x/crypto/cryptobyte", ""},
		{"hop/agent", "hop/kdc", ""},
		{"hop/agent", "hop/admin/adminserver", ""},
		{"hop/remote", "hop/directory", ""},
		{"hop/remote", "hop/audit", ""},
		{"hop/admin", "hop/kdc", ""},
		{"hop/admin", "hop/directory", ""},
		{"hop/kdc", "hop/admin", ""},
		{"hop/directory", "hop/kdc", ""},
		{"hop/agent", "hop/internal/cli", ""},
		{"hop/kdc", "hop/internal/testrealm", ""},
		{"hop/remoting", "hop/agent", ""},
		{"hop/domain", "hop/dc", ""},
		{"hop/dc", "hop/agent", ""},
		{"hop/admin", "hop/admin/adminserver", ""},
		{"hop/lab", "hop/agent", ""},
		{"hop/lab", "hop/directory", ""},
		{"hop/internal/scan", "hop/krb5", ""},
		// Through another package: remote → krb5/service → directory.
		{"hop/krb5/service", "hop/directory", "hop/remote"},
	} {
		g := graph{prod: map[string][]string{}, test: base.test}
		for k, v := range base.prod {
			g.prod[k] = slices.Clone(v)
		}
		if _, ok := g.prod[c.to]; !ok && strings.HasPrefix(c.to, module+"/") {
			g.prod[c.to] = nil
		}
		g.prod[c.from] = append(g.prod[c.from], c.to)
		who := c.from
		if c.via != "" {
			who = c.via
		}
		found := false
		for _, v := range check(g, rules) {
			if strings.Contains(v, who+" ") && strings.Contains(v, c.to) {
				found = true
			}
		}
		if !found {
			t.Errorf("adding the import %s → %s: the policy did not report %s", c.from, c.to, who)
		}
	}
}

// check returns one message per violation of rules (and of the
// test-support rule) in g.
func check(g graph, rules []rule) []string {
	var out []string
	pkgs := keys(g.prod)
	for _, r := range rules {
		for _, p := range pkgs {
			if !matchAny(r.From, p) || matchAny(r.Except, p) {
				continue
			}
			if r.Only != nil {
				for _, imp := range g.prod[p] {
					if isModule(imp) && !matchAny(r.Only, imp) && imp != p {
						out = append(out, fmt.Sprintf("%s imports %s: %s may import only %s from the module (%s)", p, imp, p, allowed(r.Only), r.Why))
					}
					if r.NoThirdParty && !isModule(imp) && !isStd(imp) {
						out = append(out, fmt.Sprintf("%s imports %s: %s may import only the standard library (%s)", p, imp, p, r.Why))
					}
				}
			}
			if r.Deny != nil {
				for _, chain := range g.reaches(p, r.Deny, r.Transitive) {
					out = append(out, fmt.Sprintf("%s depends on %s through %s: forbidden (%s)", p, chain[len(chain)-1], strings.Join(chain, " → "), r.Why))
				}
			}
		}
	}
	for _, p := range pkgs {
		if matchAny(testSupport, p) {
			continue
		}
		for _, imp := range g.prod[p] {
			if matchAny(testSupport, imp) {
				out = append(out, fmt.Sprintf("%s imports %s, a test-support package: only _test.go files and other test-support packages may", p, imp))
			}
		}
	}
	return out
}

// reaches returns, for each package matching deny that p imports (directly,
// or with transitive through any chain), the shortest chain p → … → it.
func (g graph) reaches(p string, deny []string, transitive bool) [][]string {
	prev := map[string]string{p: ""}
	queue := []string{p}
	var out [][]string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, imp := range g.prod[cur] {
			if _, seen := prev[imp]; seen || !isModule(imp) {
				continue
			}
			prev[imp] = cur
			if matchAny(deny, imp) {
				chain := []string{imp}
				for at := cur; at != ""; at = prev[at] {
					chain = append([]string{at}, chain...)
				}
				out = append(out, chain)
				continue
			}
			if transitive {
				queue = append(queue, imp)
			}
		}
	}
	return out
}

// load parses the import clauses of every Go file under root.
func load(t *testing.T, root string) graph {
	t.Helper()
	g := graph{prod: map[string][]string{}, test: map[string][]string{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := module
		if rel != "." {
			pkg += "/" + filepath.ToSlash(rel)
		}
		m := g.prod
		if strings.HasSuffix(path, "_test.go") {
			m = g.test
		} else if _, ok := g.prod[pkg]; !ok {
			g.prod[pkg] = nil
		}
		for _, s := range f.Imports {
			imp, err := strconv.Unquote(s.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(m[pkg], imp) {
				m[pkg] = append(m[pkg], imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the module root: %v", root, err)
	}
	return g
}

func match(pat, p string) bool {
	if base, ok := strings.CutSuffix(pat, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pat
}

func matchAny(pats []string, p string) bool {
	return slices.ContainsFunc(pats, func(pat string) bool { return match(pat, p) })
}

func isModule(p string) bool { return p == module || strings.HasPrefix(p, module+"/") }

// isStd reports whether p is a standard library package (no dot in its
// first element).
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".") && !isModule(p)
}

func allowed(only []string) string {
	if len(only) == 0 {
		return "nothing"
	}
	return strings.Join(only, ", ")
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
