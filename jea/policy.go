package jea

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what [Policy.Check] accepts and on the configuration.
const (
	MaxArgs     = 64   // arguments after argv[0]
	MaxArgLen   = 4096 // bytes per argument, argv[0] included
	maxRegexLen = 1024 // bytes of one configured regex
	maxNameLen  = 256  // run_as, group names, placeholders
	maxShown    = 160  // runes of a user's command line repeated in a reason
)

// Endpoint is the TOML schema of a JEA endpoint ([endpoints.NAME] with
// type = "jea" in the agent configuration).
type Endpoint struct {
	Type        string   `toml:"type"`        // "jea" (empty is taken as "jea")
	RunAs       string   `toml:"run_as"`      // the privileged local account commands run as ("virtual account")
	Groups      []string `toml:"groups"`      // optional: who may use the endpoint at all (default: anyone allowed by a role)
	Roles       []Role   `toml:"roles"`       // role capabilities
	Description string   `toml:"description"` // shown by hop endpoints
	// NetworkKeytab is the keytab of the account whose identity the
	// endpoint's commands use to reach other hosts (the counterpart of a
	// group managed service account); its first principal, unless
	// NetworkIdentity names another. Empty: the host's own identity. The
	// commands never read it: the agent's credential broker does.
	NetworkKeytab   string `toml:"network_keytab"`
	NetworkIdentity string `toml:"network_identity"`

	// Name is the endpoint's name (the NAME of [endpoints.NAME]), used in
	// messages; the agent sets it. Empty: "this endpoint".
	Name string `toml:"-"`
}

// Role maps groups (names or SID strings, as the caller's member function
// understands them) to the commands their members may run.
type Role struct {
	Groups   []string  `toml:"groups"`
	Commands []Command `toml:"commands"`
}

// Command is one allowed executable with its positional argument rules.
type Command struct {
	Path          string `toml:"path"`            // absolute and clean; executed exactly, never looked up in PATH
	Args          []Arg  `toml:"args"`            // positional rules, in order
	AllowMoreArgs bool   `toml:"allow_more_args"` // default false: extra arguments refused
	Description   string `toml:"description"`     // appended to the help line
}

// Arg is the rule for one argument. Exactly one of Value, Values and Regex
// is set (an empty Value means "not set": to allow an empty argument use
// values = [""]).
type Arg struct {
	Value    string   `toml:"value"`    // exactly this
	Values   []string `toml:"values"`   // one of these
	Regex    string   `toml:"regex"`    // anchored on the whole argument (^(?:…)$ is added)
	Optional bool     `toml:"optional"` // may be absent (only trailing args may be optional)
	// Name is the placeholder shown for a regex argument in help lines
	// (default "NAME").
	Name string `toml:"name"`
}

// Warning is something legal in a JEA endpoint that probably allows more
// than intended, found by [Endpoint.Compile].
type Warning struct {
	Role    string // e.g. "roles[0] (dns-operators)"; empty for the endpoint itself
	Command string // the command's path; empty for role- or endpoint-wide warnings
	Msg     string
}

func (w Warning) String() string {
	var b strings.Builder
	b.WriteString("jea: ")
	if w.Role != "" {
		b.WriteString(w.Role)
		b.WriteString(": ")
	}
	if w.Command != "" {
		b.WriteString(w.Command)
		b.WriteString(": ")
	}
	b.WriteString(w.Msg)
	return b.String()
}

// Decision is the result of [Policy.Check].
type Decision struct {
	Allowed bool
	Path    string   // the configured absolute path to execute (allowed only)
	Argv    []string // argv to execute: Argv[0] == Path, then the user's arguments (allowed only)
	Rule    string   // the rule that allowed it, e.g. "roles[0].commands[1] (rndc reload|status [NAME])"
	Reason  string   // refused: one line saying why and what the user may run instead
}

// Policy is a compiled, validated [Endpoint]. It is immutable and safe for
// concurrent use.
type Policy struct {
	name                           string
	runAs                          string
	description                    string
	groups                         []string
	roles                          []role
	networkKeytab, networkIdentity string
}

// Network returns the keytab and the principal (empty: the keytab's first)
// of the endpoint's network identity; an empty keytab means the host's.
func (p *Policy) Network() (keytab, identity string) { return p.networkKeytab, p.networkIdentity }

type role struct {
	groups   []string
	commands []*command
}

type command struct {
	rule     string // "roles[i].commands[j]"
	path     string
	base     string
	args     []argRule
	more     bool
	desc     string
	argsHelp string // the help line without the command name
}

type argKind int

const (
	argValue argKind = iota
	argValues
	argRegex
)

type argRule struct {
	kind     argKind
	value    string
	values   []string
	re       *regexp.Regexp
	src      string // the regex as configured
	optional bool
	name     string
}

// Name returns the endpoint's name as given in [Endpoint.Name].
func (p *Policy) Name() string { return p.name }

// RunAs returns the local account allowed commands run as.
func (p *Policy) RunAs() string { return p.runAs }

// Description returns the endpoint's description.
func (p *Policy) Description() string { return p.description }

// Groups returns every group named in the endpoint (endpoint groups first,
// then the roles'), without duplicates, in configuration order: the names a
// caller must be able to answer membership for (e.g. resolve to SIDs).
func (p *Policy) Groups() []string {
	seen := map[string]bool{}
	var out []string
	add := func(gs []string) {
		for _, g := range gs {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	add(p.groups)
	for _, r := range p.roles {
		add(r.groups)
	}
	return out
}

// MayUse reports whether a user whose groups member answers for may use the
// endpoint: in one of the endpoint's groups (when set) and in at least one
// role.
func (p *Policy) MayUse(member func(group string) bool) bool {
	return p.admitted(member) && len(p.allowed(member)) > 0
}

func (p *Policy) displayName() string {
	if p.name == "" {
		return "this endpoint"
	}
	return p.name
}

// Compile validates the endpoint and compiles it into a Policy. Errors are
// configuration mistakes that make the endpoint unusable; warnings are
// legal rules that probably allow more than intended (see the package
// documentation) and checks of the executables on this machine.
func (e *Endpoint) Compile() (*Policy, []Warning, error) {
	if e.Type != "" && e.Type != "jea" {
		return nil, nil, fmt.Errorf("jea: endpoint %s has type %q, not \"jea\"", e.nameOr(), e.Type)
	}
	if err := checkName("run_as", e.RunAs); err != nil {
		return nil, nil, fmt.Errorf("jea: endpoint %s: %w", e.nameOr(), err)
	}
	if strings.HasPrefix(e.RunAs, "-") {
		return nil, nil, fmt.Errorf("jea: endpoint %s: run_as %q starts with '-'", e.nameOr(), e.RunAs)
	}
	for i, g := range e.Groups {
		if err := checkName(fmt.Sprintf("groups[%d]", i), g); err != nil {
			return nil, nil, fmt.Errorf("jea: endpoint %s: %w", e.nameOr(), err)
		}
	}
	if len(e.Roles) == 0 {
		return nil, nil, fmt.Errorf("jea: endpoint %s has no roles: add [[endpoints.%s.roles]] with groups and commands", e.nameOr(), e.nameOr())
	}
	if e.NetworkKeytab != "" && !filepath.IsAbs(e.NetworkKeytab) {
		return nil, nil, fmt.Errorf("jea: endpoint %s: network_keytab %q must be an absolute path", e.nameOr(), e.NetworkKeytab)
	}
	if e.NetworkIdentity != "" && e.NetworkKeytab == "" {
		return nil, nil, fmt.Errorf("jea: endpoint %s: network_identity %q needs network_keytab, the keytab that holds its keys", e.nameOr(), e.NetworkIdentity)
	}
	p := &Policy{
		name:          e.Name,
		runAs:         e.RunAs,
		description:   e.Description,
		groups:        append([]string(nil), e.Groups...),
		networkKeytab: e.NetworkKeytab, networkIdentity: e.NetworkIdentity,
	}
	var warns []Warning
	for ri, r := range e.Roles {
		where := fmt.Sprintf("roles[%d]", ri)
		if len(r.Groups) == 0 {
			return nil, nil, fmt.Errorf("jea: endpoint %s: %s has no groups (a role applies to the members of its groups)", e.nameOr(), where)
		}
		for gi, g := range r.Groups {
			if err := checkName(fmt.Sprintf("groups[%d]", gi), g); err != nil {
				return nil, nil, fmt.Errorf("jea: endpoint %s: %s: %w", e.nameOr(), where, err)
			}
		}
		if len(r.Commands) == 0 {
			return nil, nil, fmt.Errorf("jea: endpoint %s: %s has no commands", e.nameOr(), where)
		}
		roleLabel := fmt.Sprintf("%s (%s)", where, strings.Join(r.Groups, ", "))
		cr := role{groups: append([]string(nil), r.Groups...)}
		for ci, c := range r.Commands {
			cc, err := compileCommand(fmt.Sprintf("%s.commands[%d]", where, ci), c)
			if err != nil {
				return nil, nil, fmt.Errorf("jea: endpoint %s: %w", e.nameOr(), err)
			}
			for _, m := range commandWarnings(c) {
				warns = append(warns, Warning{Role: roleLabel, Command: c.Path, Msg: m})
			}
			cr.commands = append(cr.commands, cc)
		}
		p.roles = append(p.roles, cr)
	}
	warns = append(warns, p.baseNameWarnings()...)
	return p, warns, nil
}

func (e *Endpoint) nameOr() string {
	if e.Name == "" {
		return "(unnamed)"
	}
	return e.Name
}

func checkName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", what)
	case len(s) > maxNameLen:
		return fmt.Errorf("%s is longer than %d bytes", what, maxNameLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '/' }) >= 0:
		return fmt.Errorf("%s %q contains a control character or '/'", what, s)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%s %q has leading or trailing space", what, s)
	}
	return nil
}

func compileCommand(where string, c Command) (*command, error) {
	p := c.Path
	switch {
	case p == "":
		return nil, fmt.Errorf("%s has no path", where)
	case !utf8.ValidString(p) || strings.IndexFunc(p, unicode.IsControl) >= 0:
		return nil, fmt.Errorf("%s: path %q contains a control character or invalid UTF-8", where, p)
	case !path.IsAbs(p):
		return nil, fmt.Errorf("%s: path %q is not absolute (commands are never looked up in PATH)", where, p)
	case path.Clean(p) != p:
		return nil, fmt.Errorf("%s: path %q is not clean: write %q", where, p, path.Clean(p))
	case p == "/":
		return nil, fmt.Errorf("%s: path is /", where)
	case len(p) > MaxArgLen:
		return nil, fmt.Errorf("%s: path is longer than %d bytes", where, MaxArgLen)
	}
	if strings.IndexFunc(c.Description, unicode.IsControl) >= 0 {
		return nil, fmt.Errorf("%s: description contains a control character (it is shown on one line)", where)
	}
	if len(c.Args) > MaxArgs {
		return nil, fmt.Errorf("%s has %d argument rules, more than %d", where, len(c.Args), MaxArgs)
	}
	cc := &command{rule: where, path: p, base: path.Base(p), more: c.AllowMoreArgs, desc: c.Description}
	optional := false
	for ai, a := range c.Args {
		aw := fmt.Sprintf("%s.args[%d]", where, ai)
		r, err := compileArg(aw, a)
		if err != nil {
			return nil, err
		}
		if optional && !r.optional {
			return nil, fmt.Errorf("%s is required but follows an optional argument (only trailing arguments may be optional)", aw)
		}
		optional = r.optional
		cc.args = append(cc.args, r)
	}
	cc.argsHelp = argsHelp(cc.args, cc.more)
	return cc, nil
}

func compileArg(where string, a Arg) (argRule, error) {
	r := argRule{optional: a.Optional, name: a.Name}
	if r.name == "" {
		r.name = "NAME"
	} else if err := checkName(where+".name", a.Name); err != nil {
		return r, err
	}
	set := 0
	if a.Value != "" {
		set++
		r.kind = argValue
		r.value = a.Value
		if err := checkLiteral(where+".value", a.Value); err != nil {
			return r, err
		}
	}
	if a.Values != nil {
		set++
		r.kind = argValues
		if len(a.Values) == 0 {
			return r, fmt.Errorf("%s.values is empty", where)
		}
		for i, v := range a.Values {
			if err := checkLiteral(fmt.Sprintf("%s.values[%d]", where, i), v); err != nil {
				return r, err
			}
		}
		r.values = append([]string(nil), a.Values...)
	}
	if a.Regex != "" {
		set++
		r.kind = argRegex
		if len(a.Regex) > maxRegexLen {
			return r, fmt.Errorf("%s.regex is longer than %d bytes", where, maxRegexLen)
		}
		re, err := regexp.Compile(`^(?:` + a.Regex + `)$`)
		if err != nil {
			return r, fmt.Errorf("%s.regex %q: %w", where, a.Regex, err)
		}
		r.re = re
		r.src = a.Regex
	}
	switch set {
	case 0:
		return r, fmt.Errorf("%s has none of value, values, regex", where)
	case 1:
		return r, nil
	}
	return r, fmt.Errorf("%s has more than one of value, values, regex", where)
}

func checkLiteral(where, v string) error {
	if err := checkArgument(v); err != nil {
		return fmt.Errorf("%s %q: %v (it could never match)", where, v, err)
	}
	return nil
}

// checkArgument is the check every argument passes before any rule.
func checkArgument(a string) error {
	switch {
	case len(a) > MaxArgLen:
		return fmt.Errorf("is longer than %d bytes", MaxArgLen)
	case !utf8.ValidString(a):
		return errors.New("is not valid UTF-8")
	case strings.ContainsAny(a, "\x00\n\r"):
		return errors.New("contains a NUL byte or a line break")
	}
	return nil
}

func (r *argRule) match(a string) bool {
	switch r.kind {
	case argValue:
		return a == r.value
	case argValues:
		for _, v := range r.values {
			if a == v {
				return true
			}
		}
		return false
	}
	return r.re.MatchString(a)
}

// token is the rule's form in a help line.
func (r *argRule) token() string {
	switch r.kind {
	case argValue:
		return quoteWord(r.value)
	case argValues:
		q := make([]string, len(r.values))
		for i, v := range r.values {
			q[i] = quoteWord(v)
		}
		return strings.Join(q, "|")
	}
	return r.name
}

// want describes what the rule accepts, for a refusal reason.
func (r *argRule) want() string {
	switch r.kind {
	case argValue:
		return quoteWord(r.value)
	case argValues:
		if len(r.values) == 1 {
			return quoteWord(r.values[0])
		}
		q := make([]string, len(r.values))
		for i, v := range r.values {
			q[i] = quoteWord(v)
		}
		return "one of " + strings.Join(q, ", ")
	}
	return fmt.Sprintf("%s matching %s", r.name, r.src)
}

// argsHelp renders the rules: required tokens, then the optional ones nested
// ("A [B [C]]" since each optional argument needs the ones before it), then
// " ..." when more arguments are allowed.
func argsHelp(rules []argRule, more bool) string {
	var req []string
	i := 0
	for ; i < len(rules) && !rules[i].optional; i++ {
		req = append(req, rules[i].token())
	}
	opt := ""
	for j := len(rules) - 1; j >= i; j-- {
		inner := rules[j].token()
		if opt != "" {
			inner += " " + opt
		}
		opt = "[" + inner + "]"
	}
	s := strings.Join(req, " ")
	if opt != "" {
		if s != "" {
			s += " "
		}
		s += opt
	}
	if more {
		if s != "" {
			s += " "
		}
		s += "..."
	}
	return s
}
