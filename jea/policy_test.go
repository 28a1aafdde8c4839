package jea

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// groups returns a member function for a user in exactly these groups.
func groups(gs ...string) func(string) bool {
	return func(g string) bool {
		for _, x := range gs {
			if x == g {
				return true
			}
		}
		return false
	}
}

// sampleTOML is the dns-ops endpoint of the remoting spec plus a second
// role, as an agent configuration would hold it.
const sampleTOML = `
[endpoints.dns-ops]
type = "jea"
run_as = "hop-dns"
description = "DNS operations"
[[endpoints.dns-ops.roles]]
groups = ["dns-operators", "S-1-5-21-1-2-3-1105"]
[[endpoints.dns-ops.roles.commands]]
path = "/usr/sbin/rndc"
args = [ { values = ["reload", "status"] }, { regex = "[a-z0-9.-]+", optional = true } ]
[[endpoints.dns-ops.roles]]
groups = ["web-ops"]
[[endpoints.dns-ops.roles.commands]]
path = "/usr/sbin/nginx"
args = [ { value = "-t" } ]
description = "test the configuration"
[[endpoints.dns-ops.roles.commands]]
path = "/usr/bin/svc"
args = [ { regex = "start|stop", name = "ACTION" }, { values = ["web", "api"] }, { regex = "[0-9]+", optional = true, name = "N" }, { value = "now", optional = true } ]
[[endpoints.dns-ops.roles]]
groups = ["other-dns"]
[[endpoints.dns-ops.roles.commands]]
path = "/usr/local/sbin/rndc"
args = [ { value = "status" } ]
`

func samplePolicy(t testing.TB) *Policy {
	t.Helper()
	var cfg struct {
		Endpoints map[string]Endpoint `toml:"endpoints"`
	}
	md, err := toml.Decode(sampleTOML, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	e := cfg.Endpoints["dns-ops"]
	e.Name = "dns-ops"
	p, _, err := e.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeTOML(t *testing.T) {
	var cfg struct {
		Endpoints map[string]Endpoint `toml:"endpoints"`
	}
	if _, err := toml.Decode(sampleTOML, &cfg); err != nil {
		t.Fatal(err)
	}
	e := cfg.Endpoints["dns-ops"]
	want := Command{Path: "/usr/sbin/rndc", Args: []Arg{{Values: []string{"reload", "status"}}, {Regex: "[a-z0-9.-]+", Optional: true}}}
	if e.Type != "jea" || e.RunAs != "hop-dns" || len(e.Roles) != 3 || !reflect.DeepEqual(e.Roles[0].Commands[0], want) {
		t.Errorf("decoded %+v", e)
	}
	p := samplePolicy(t)
	if p.RunAs() != "hop-dns" || p.Name() != "dns-ops" || p.Description() != "DNS operations" {
		t.Errorf("policy %q %q %q", p.RunAs(), p.Name(), p.Description())
	}
	wantGroups := []string{"dns-operators", "S-1-5-21-1-2-3-1105", "web-ops", "other-dns"}
	if g := p.Groups(); !reflect.DeepEqual(g, wantGroups) {
		t.Errorf("Groups() = %q, want %q", g, wantGroups)
	}
}

func TestCheck(t *testing.T) {
	p := samplePolicy(t)
	dns := groups("dns-operators")
	const rndcHelp = "you may run: rndc reload|status [NAME]"
	tests := []struct {
		name   string
		member func(string) bool
		cmd    string   // split with Split, unless argv is set
		argv   []string // used as is
		want   []string // allowed: the argv executed; nil: refused
		reason []string // refused: substrings of the reason
	}{
		{name: "reload", member: dns, cmd: "rndc reload", want: []string{"/usr/sbin/rndc", "reload"}},
		{name: "status zone", member: dns, cmd: "rndc status example.test", want: []string{"/usr/sbin/rndc", "status", "example.test"}},
		{name: "full path", member: dns, cmd: "/usr/sbin/rndc reload", want: []string{"/usr/sbin/rndc", "reload"}},
		{name: "by SID", member: groups("S-1-5-21-1-2-3-1105"), cmd: "rndc reload", want: []string{"/usr/sbin/rndc", "reload"}},
		{name: "quotes removed", member: dns, cmd: `"rndc" 'reload'`, want: []string{"/usr/sbin/rndc", "reload"}},
		{name: "optional zone is one argument", member: dns, cmd: "rndc reload extra", want: []string{"/usr/sbin/rndc", "reload", "extra"}},

		{name: "not allowed value", member: dns, cmd: "rndc flush", reason: []string{"rndc flush is not allowed on dns-ops", `argument 1 flush is not one of reload, status`, rndcHelp}},
		{name: "semicolon", member: dns, cmd: "rndc reload; rm -rf /", reason: []string{"reload;", rndcHelp}},
		{name: "semicolon glued", member: dns, cmd: "rndc reload;id", reason: []string{"'reload;id'", rndcHelp}},
		{name: "zone with semicolon", member: dns, cmd: "rndc reload zone;id", reason: []string{"argument 2 'zone;id' is not NAME matching [a-z0-9.-]+", rndcHelp}},
		{name: "command substitution", member: dns, cmd: "rndc $(id)", reason: []string{"'$(id)'", rndcHelp}},
		{name: "command substitution in zone", member: dns, cmd: "rndc reload $(id)", reason: []string{"'$(id)'", rndcHelp}},
		{name: "backticks", member: dns, cmd: "rndc reload `id`", reason: []string{"'`id`'", rndcHelp}},
		{name: "and list", member: dns, cmd: "rndc reload && id", reason: []string{"argument 2 '&&'", rndcHelp}},
		{name: "pipe", member: dns, cmd: "rndc status | sh", reason: []string{"argument 2 '|'", rndcHelp}},
		{name: "redirect", member: dns, cmd: "rndc status >/etc/passwd", reason: []string{rndcHelp}},
		{name: "extra argument", member: dns, cmd: "rndc reload example.test extra", reason: []string{"extra argument extra (at most 2)", rndcHelp}},
		{name: "extra argument nginx", member: groups("web-ops"), cmd: "nginx -t -g daemon", reason: []string{"extra argument -g"}},
		{name: "double dash", member: dns, cmd: "rndc -- reload", reason: []string{"argument 1 -- is not"}},
		{name: "option", member: dns, cmd: "rndc -s evil reload", reason: []string{"argument 1 -s"}},
		{name: "case", member: dns, cmd: "RNDC reload", reason: []string{"RNDC is not one of its commands", rndcHelp}},
		{name: "regex case", member: dns, cmd: "rndc reload EXAMPLE", reason: []string{"EXAMPLE is not NAME"}},
		{name: "dotdot to shell", member: dns, cmd: "/usr/sbin/../bin/sh", reason: []string{"/usr/sbin/../bin/sh is not one of its commands", rndcHelp}},
		{name: "dotdot to rndc", member: dns, cmd: "/usr/sbin/../sbin/rndc reload", reason: []string{rndcHelp}},
		{name: "dot", member: dns, cmd: "/usr/sbin/./rndc reload", reason: []string{rndcHelp}},
		{name: "double slash", member: dns, cmd: "/usr/sbin//rndc reload", reason: []string{rndcHelp}},
		{name: "leading double slash", member: dns, cmd: "//usr/sbin/rndc reload", reason: []string{rndcHelp}},
		{name: "relative", member: dns, cmd: "../sbin/rndc reload", reason: []string{rndcHelp}},
		{name: "dot relative", member: dns, cmd: "./rndc reload", reason: []string{rndcHelp}},
		{name: "trailing slash", member: dns, cmd: "/usr/sbin/rndc/ reload", reason: []string{rndcHelp}},
		{name: "shell", member: dns, cmd: "sh -c 'rndc reload'", reason: []string{"sh is not one of its commands", rndcHelp}},
		{name: "NUL in name", member: dns, argv: []string{"rndc\x00", "reload"}, reason: []string{`rndc\x00`, "NUL", rndcHelp}},
		{name: "NUL in arg", member: dns, argv: []string{"rndc", "reload\x00x"}, reason: []string{"argument 1", "NUL"}},
		{name: "newline in arg", member: dns, cmd: "rndc 'reload\nid'", reason: []string{`reload\nid`, "line break"}},
		{name: "CR in arg", member: dns, argv: []string{"rndc", "reload", "a\rb"}, reason: []string{`a\rb`, "line break"}},
		{name: "invalid UTF-8", member: dns, argv: []string{"rndc", "reload", "a\xffb"}, reason: []string{`a\xffb`, "UTF-8"}},
		{name: "quoting hides a space", member: dns, cmd: "'rndc reload'", reason: []string{"'rndc reload' is not one of its commands"}},
		{name: "quoted space in argument", member: dns, cmd: "rndc 'reload example.test'", reason: []string{"argument 1 'reload example.test'"}},
		{name: "escaped space", member: dns, cmd: `rndc\ reload`, reason: []string{rndcHelp}},
		{name: "cyrillic es", member: dns, cmd: "/usr/sbin/rnd\u0441 reload", reason: []string{rndcHelp}},
		{name: "cyrillic base", member: dns, cmd: "rnd\u0441 reload", reason: []string{rndcHelp}},
		{name: "fullwidth", member: dns, cmd: "\uff52ndc reload", reason: []string{rndcHelp}},
		{name: "division slash", member: dns, cmd: "\u2215usr\u2215sbin\u2215rndc reload", reason: []string{rndcHelp}},
		{name: "zero width", member: dns, cmd: "rndc\u200b reload", reason: []string{`rndc\u200b`, rndcHelp}},
		{name: "bidi override", member: dns, cmd: "rndc reload \u202eexample", reason: []string{`\u202e`}},
		{name: "nbsp", member: dns, cmd: "rndc\u00a0reload", reason: []string{`rndc\u00a0reload`}},
		{name: "empty command", member: dns, cmd: "", reason: []string{"empty command", rndcHelp}},
		{name: "blank command", member: dns, cmd: "   ", reason: []string{"empty command"}},
		{name: "empty name", member: dns, cmd: "'' reload", reason: []string{"'' is not one of its commands"}},
		{name: "long argument", member: dns, argv: []string{"rndc", "reload", strings.Repeat("a", MaxArgLen+1)}, reason: []string{"longer than 4096", "…"}},
		{name: "long argument at bound", member: dns, argv: []string{"rndc", "reload", strings.Repeat("a", MaxArgLen)}, want: []string{"/usr/sbin/rndc", "reload", strings.Repeat("a", MaxArgLen)}},
		{name: "many arguments", member: dns, argv: append([]string{"rndc"}, strings.Fields(strings.Repeat("x ", MaxArgs+1))...), reason: []string{"65 arguments, more than 64"}},
		{name: "not in any group", member: groups("users"), cmd: "rndc reload", reason: []string{"you may not run any command on dns-ops", "dns-operators"}},
		{name: "nil member", member: nil, cmd: "rndc reload", reason: []string{"you may not run any command"}},
		{name: "other role's command", member: groups("web-ops"), cmd: "rndc reload", reason: []string{"rndc is not one of its commands", "you may run: nginx -t  # test the configuration; svc ACTION web|api [N [now]]"}},
		{name: "other role's path", member: groups("web-ops"), cmd: "/usr/sbin/rndc reload", reason: []string{"/usr/sbin/rndc is not one of its commands"}},
		{name: "value rule", member: groups("web-ops"), cmd: "nginx -t", want: []string{"/usr/sbin/nginx", "-t"}},
		{name: "anchored alternation", member: groups("web-ops"), cmd: "svc start web", want: []string{"/usr/bin/svc", "start", "web"}},
		{name: "anchored alternation suffix", member: groups("web-ops"), cmd: "svc startx web", reason: []string{"startx is not ACTION matching start|stop"}},
		{name: "anchored alternation prefix", member: groups("web-ops"), cmd: "svc xstop web", reason: []string{"xstop is not ACTION"}},
		{name: "missing argument", member: groups("web-ops"), cmd: "svc stop", reason: []string{"argument 2 is missing (want one of web, api)"}},
		{name: "optional chain", member: groups("web-ops"), cmd: "svc stop api 3 now", want: []string{"/usr/bin/svc", "stop", "api", "3", "now"}},
		{name: "optional order", member: groups("web-ops"), cmd: "svc stop api now", reason: []string{"argument 3 now is not N matching [0-9]+"}},
		{name: "ambiguous base name", member: groups("dns-operators", "other-dns"), cmd: "rndc status", reason: []string{"rndc is ambiguous on dns-ops: type the full path (/usr/sbin/rndc or /usr/local/sbin/rndc)"}},
		{name: "ambiguous resolved by path", member: groups("dns-operators", "other-dns"), cmd: "/usr/local/sbin/rndc status", want: []string{"/usr/local/sbin/rndc", "status"}},
		{name: "unique for other role", member: groups("other-dns"), cmd: "rndc status", want: []string{"/usr/local/sbin/rndc", "status"}},
		{name: "unique for other role refuses reload", member: groups("other-dns"), cmd: "rndc reload", reason: []string{"argument 1 reload is not status", "you may run: rndc status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := tt.argv
			if argv == nil {
				var err error
				if argv, err = Split(tt.cmd); err != nil {
					t.Fatalf("Split(%q): %v", tt.cmd, err)
				}
			}
			d := p.Check(tt.member, argv)
			if tt.want != nil {
				if !d.Allowed || d.Path != tt.want[0] || !reflect.DeepEqual(d.Argv, tt.want) || d.Reason != "" || d.Rule == "" {
					t.Fatalf("Check(%q) = %+v, want allowed %q", argv, d, tt.want)
				}
				return
			}
			if d.Allowed || d.Path != "" || d.Argv != nil {
				t.Fatalf("Check(%q) = %+v, want refused", argv, d)
			}
			for _, s := range tt.reason {
				if !strings.Contains(d.Reason, s) {
					t.Errorf("Check(%q).Reason = %q, want it to contain %q", argv, d.Reason, s)
				}
			}
			if strings.ContainsAny(d.Reason, "\x00\n\r\u200b\u202e") || len([]rune(d.Reason)) > 1000 {
				t.Errorf("Reason is not one short printable line: %q", d.Reason)
			}
		})
	}
}

func TestCheckDoesNotAliasArgv(t *testing.T) {
	p := samplePolicy(t)
	argv := []string{"rndc", "reload"}
	d := p.Check(groups("dns-operators"), argv)
	argv[1] = "flush"
	if d.Argv[1] != "reload" || argv[0] != "rndc" {
		t.Errorf("Decision.Argv aliases the input: %q, input %q", d.Argv, argv)
	}
}

func TestRule(t *testing.T) {
	p := samplePolicy(t)
	d := p.Check(groups("web-ops"), []string{"svc", "stop", "api"})
	if want := "roles[1].commands[1] (svc ACTION web|api [N [now]])"; d.Rule != want {
		t.Errorf("Rule = %q, want %q", d.Rule, want)
	}
}

func TestHelp(t *testing.T) {
	p := samplePolicy(t)
	tests := []struct {
		member func(string) bool
		want   []string
	}{
		// The line the remoting spec shows for its dns-ops example.
		{groups("dns-operators"), []string{"rndc reload|status [NAME]"}},
		{groups("web-ops"), []string{"nginx -t  # test the configuration", "svc ACTION web|api [N [now]]"}},
		{groups("dns-operators", "other-dns"), []string{"/usr/sbin/rndc reload|status [NAME]", "/usr/local/sbin/rndc status"}},
		{groups("dns-operators", "S-1-5-21-1-2-3-1105"), []string{"rndc reload|status [NAME]"}},
		{groups("nobody"), nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := p.Help(tt.member); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Help = %q, want %q", got, tt.want)
		}
	}
}

func TestEndpointGroups(t *testing.T) {
	e := Endpoint{Name: "ops", Type: "jea", RunAs: "root", Groups: []string{"ops-all"}, Roles: []Role{{
		Groups:   []string{"ops"},
		Commands: []Command{{Path: "/usr/bin/uptime", AllowMoreArgs: false}},
	}}}
	p, _, err := e.Compile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		member  func(string) bool
		mayUse  bool
		allowed bool
		help    []string
	}{
		{groups("ops", "ops-all"), true, true, []string{"uptime"}},
		{groups("ops"), false, false, nil},
		{groups("ops-all"), false, false, nil},
		{nil, false, false, nil},
	}
	for i, tt := range tests {
		if got := p.MayUse(tt.member); got != tt.mayUse {
			t.Errorf("%d: MayUse = %v", i, got)
		}
		d := p.Check(tt.member, []string{"uptime"})
		if d.Allowed != tt.allowed {
			t.Errorf("%d: Check = %+v", i, d)
		}
		if !tt.allowed && !strings.Contains(d.Reason, "ops") {
			t.Errorf("%d: Reason %q does not name the groups", i, d.Reason)
		}
		if got := p.Help(tt.member); !reflect.DeepEqual(got, tt.help) {
			t.Errorf("%d: Help = %q, want %q", i, got, tt.help)
		}
	}
	if d := p.Check(groups("ops"), []string{"uptime"}); !strings.Contains(d.Reason, "you may not use ops: it is for members of ops-all") {
		t.Errorf("Reason = %q", d.Reason)
	}
}

func TestCompileErrors(t *testing.T) {
	cmd := func(c Command) Endpoint {
		return Endpoint{Type: "jea", RunAs: "hop-dns", Roles: []Role{{Groups: []string{"g"}, Commands: []Command{c}}}}
	}
	ok := cmd(Command{Path: "/usr/bin/true"})
	if _, _, err := ok.Compile(); err != nil {
		t.Fatalf("valid endpoint: %v", err)
	}
	tests := []struct {
		name string
		e    Endpoint
		err  string
	}{
		{"type", Endpoint{Type: "runas", RunAs: "x", Roles: ok.Roles}, `type "runas"`},
		{"no run_as", Endpoint{Type: "jea", Roles: ok.Roles}, "run_as is empty"},
		{"run_as option", Endpoint{Type: "jea", RunAs: "-x", Roles: ok.Roles}, "starts with '-'"},
		{"run_as slash", Endpoint{Type: "jea", RunAs: "a/b", Roles: ok.Roles}, "'/'"},
		{"empty endpoint group", Endpoint{Type: "jea", RunAs: "x", Groups: []string{""}, Roles: ok.Roles}, "groups[0] is empty"},
		{"no roles", Endpoint{Type: "jea", RunAs: "x"}, "has no roles"},
		{"role without groups", Endpoint{Type: "jea", RunAs: "x", Roles: []Role{{Commands: ok.Roles[0].Commands}}}, "roles[0] has no groups"},
		{"role group space", Endpoint{Type: "jea", RunAs: "x", Roles: []Role{{Groups: []string{" g"}, Commands: ok.Roles[0].Commands}}}, "leading or trailing space"},
		{"role without commands", Endpoint{Type: "jea", RunAs: "x", Roles: []Role{{Groups: []string{"g"}}}}, "roles[0] has no commands"},
		{"no path", cmd(Command{}), "has no path"},
		{"relative path", cmd(Command{Path: "rndc"}), "not absolute"},
		{"dot path", cmd(Command{Path: "./rndc"}), "not absolute"},
		{"unclean dotdot", cmd(Command{Path: "/usr/sbin/../sbin/rndc"}), `write "/usr/sbin/rndc"`},
		{"unclean slashes", cmd(Command{Path: "/usr/sbin//rndc"}), "not clean"},
		{"unclean dot", cmd(Command{Path: "/usr/sbin/./rndc"}), "not clean"},
		{"trailing slash", cmd(Command{Path: "/usr/sbin/rndc/"}), "not clean"},
		{"root", cmd(Command{Path: "/"}), "path is /"},
		{"newline path", cmd(Command{Path: "/usr/sbin/rndc\n"}), "control character"},
		{"no rule", cmd(Command{Path: "/x", Args: []Arg{{}}}), "args[0] has none of value, values, regex"},
		{"two rules", cmd(Command{Path: "/x", Args: []Arg{{Value: "a", Regex: "a"}}}), "more than one"},
		{"empty values", cmd(Command{Path: "/x", Args: []Arg{{Values: []string{}}}}), "values is empty"},
		{"bad regex", cmd(Command{Path: "/x", Args: []Arg{{Regex: "a("}}}), "missing closing )"},
		{"backreference", cmd(Command{Path: "/x", Args: []Arg{{Regex: `(a)\1`}}}), "invalid escape"},
		{"long regex", cmd(Command{Path: "/x", Args: []Arg{{Regex: strings.Repeat("a", 1025)}}}), "longer than 1024"},
		{"newline value", cmd(Command{Path: "/x", Args: []Arg{{Value: "a\nb"}}}), "could never match"},
		{"NUL in values", cmd(Command{Path: "/x", Args: []Arg{{Values: []string{"a", "b\x00"}}}}), "values[1]"},
		{"required after optional", cmd(Command{Path: "/x", Args: []Arg{{Value: "a", Optional: true}, {Value: "b"}}}), "args[1] is required but follows an optional"},
		{"too many rules", cmd(Command{Path: "/x", Args: make([]Arg, MaxArgs+1)}), "more than 64"},
		{"multi-line description", cmd(Command{Path: "/x", Description: "a\nb"}), "description contains a control character"},
		{"bad placeholder", cmd(Command{Path: "/x", Args: []Arg{{Regex: "a", Name: "a\tb"}}}), "name"},
	}
	for _, tt := range tests {
		_, _, err := tt.e.Compile()
		if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "jea: ") {
			t.Errorf("%s: Compile error %v, want one containing %q", tt.name, err, tt.err)
		}
	}
}

// warningsFor compiles a one-command endpoint and returns its warnings'
// messages.
func warningsFor(t *testing.T, c Command) []string {
	t.Helper()
	e := Endpoint{Type: "jea", RunAs: "root", Roles: []Role{{Groups: []string{"g"}, Commands: []Command{c}}}}
	_, ws, err := e.Compile()
	if err != nil {
		t.Fatalf("Compile(%+v): %v", c, err)
	}
	var out []string
	for _, w := range ws {
		if w.Role != "roles[0] (g)" || w.Command != c.Path {
			t.Errorf("warning %+v does not name its role and command", w)
		}
		out = append(out, w.Msg)
	}
	return out
}

func containsAll(list []string, want string) bool {
	for _, s := range list {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

func TestRegexWarnings(t *testing.T) {
	tests := []struct {
		regex string
		want  []string // substrings, each of some warning; nil: no warning at all
	}{
		{".*", []string{"matches any argument"}},
		{".+", []string{"matches any argument"}},
		{"(?s).*", []string{"matches any argument"}},
		{`[\s\S]*`, []string{"matches any argument"}},
		{`[\x00-\x{10FFFF}]+`, []string{"matches any argument"}},
		{"[^ ]*", []string{"contains [^ ]*"}},
		{"[^\\n]+", []string{"matches any argument"}},
		{"[[:print:]]+", []string{"contains"}},
		{"[a-z]+|.*", []string{"matches any argument"}},
		{"a.*", []string{"contains .*", `matches "a..": a path argument may leave its directory`}},
		{"[a-z]{1,300}", nil},
		{"x.{1,300}", []string{"contains .{1,300}"}},
		{"/var/log/.+", []string{"contains .+", `a path argument may leave its directory`}},
		{"x(.|y)*", []string{"contains"}},
		{"[a-z0-9.-]+", []string{"option-like", `matches ".."`}},
		{"-[a-z]", []string{"option-like"}},
		{"[a-z]+", nil},
		{"[a-z][a-z0-9.]*", nil},
		{"reload|status", nil},
		{"[0-9]{1,5}", nil},
		{".", nil}, // one character, not repeated: no wildcard; a single "." is not ".."
	}
	for _, tt := range tests {
		ws := warningsFor(t, Command{Path: "/usr/bin/true", Args: []Arg{{Regex: tt.regex}}})
		if tt.want == nil && len(ws) != 0 {
			t.Errorf("regex %q: unexpected warnings %q", tt.regex, ws)
		}
		for _, w := range tt.want {
			if !containsAll(ws, w) {
				t.Errorf("regex %q: warnings %q, want one containing %q", tt.regex, ws, w)
			}
		}
	}
}

func TestCommandWarnings(t *testing.T) {
	tests := []struct {
		c    Command
		want []string
	}{
		{Command{Path: "/usr/bin/true"}, nil},
		{Command{Path: "/usr/bin/true", Args: []Arg{{Values: []string{"-x", ".."}}}}, nil}, // explicit values are intended
		{Command{Path: "/bin/sh"}, []string{"sh is a shell"}},
		{Command{Path: "/usr/bin/bash"}, []string{"bash is a shell"}},
		{Command{Path: "/usr/bin/python3.11"}, []string{"python3.11 is an interpreter"}},
		{Command{Path: "/usr/bin/perl"}, []string{"is an interpreter"}},
		{Command{Path: "/usr/bin/env"}, []string{"env is a program that runs other programs"}},
		{Command{Path: "/usr/bin/sudo"}, []string{"runs other programs"}},
		{Command{Path: "/usr/bin/xargs"}, []string{"runs other programs"}},
		{Command{Path: "/usr/bin/find"}, []string{"find is a program with a shell escape, exec option or pager"}},
		{Command{Path: "/usr/bin/less"}, []string{"shell escape"}},
		{Command{Path: "/usr/bin/tee"}, []string{"writes or re-permissions any file"}},
		{Command{Path: "/usr/bin/true", AllowMoreArgs: true}, []string{"allow_more_args: any further arguments"}},
		{Command{Path: "/usr/bin/find", AllowMoreArgs: true}, []string{"allow_more_args on a program with a shell escape", "users can run anything"}},
		{Command{Path: "/usr/bin/tru\u0435"}, []string{"non-ASCII", "does not exist"}},
		{Command{Path: "/nonexistent/hop-jea-test"}, []string{"does not exist (yet)"}},
		{Command{Path: "/usr/bin"}, []string{"/usr/bin is not a regular file"}},
		{Command{Path: "/etc/passwd"}, []string{"/etc/passwd is not executable"}},
	}
	for _, tt := range tests {
		ws := warningsFor(t, tt.c)
		if tt.want == nil && len(ws) != 0 {
			t.Errorf("%+v: unexpected warnings %q", tt.c, ws)
		}
		for _, w := range tt.want {
			if !containsAll(ws, w) {
				t.Errorf("%+v: warnings %q, want one containing %q", tt.c, ws, w)
			}
		}
	}
}

func TestPathWarnings(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: checks ownership of files it creates and chowns")
	}
	// A root-owned 0700 directory, so that only what the test changes is
	// reported (t.TempDir is under the world-writable /tmp).
	base := filepath.Join(t.TempDir(), "safe")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "tool")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /tmp is world-writable but sticky, and the test's folder in it is
	// root's: nobody else can replace it.
	ws := pathWarnings(bin)
	if containsAll(ws, "/tmp is writable by group or others") {
		t.Errorf("warnings %q report the sticky /tmp above a root-owned folder", ws)
	}
	var local []string
	for _, w := range ws {
		if strings.HasPrefix(w, base) {
			local = append(local, w)
		}
	}
	if len(local) != 0 {
		t.Errorf("root-owned 0755 file in a 0755 directory: warnings %q", local)
	}

	os.Chmod(bin, 0o775)
	if ws := pathWarnings(bin); !containsAll(ws, bin+" is writable by group or others (mode 0775)") {
		t.Errorf("group-writable file: warnings %q", ws)
	}
	os.Chmod(bin, 0o755)
	os.Chmod(base, 0o777)
	if ws := pathWarnings(bin); !containsAll(ws, base+" is writable by group or others (mode 0777)") {
		t.Errorf("world-writable parent: warnings %q", ws)
	}
	// Sticky and world-writable, as /tmp: safe for root's entries, not
	// for another user's.
	os.Chmod(base, 0o777|fs.ModeSticky)
	if ws := pathWarnings(bin); containsAll(ws, base+" is writable") {
		t.Errorf("sticky parent of a root-owned file: warnings %q", ws)
	}
	os.Chown(bin, 65534, 65534)
	if ws := pathWarnings(bin); !containsAll(ws, base+" is writable by group or others") {
		t.Errorf("sticky parent of another user's file: warnings %q", ws)
	}
	os.Chown(bin, 0, 0)
	os.Chmod(base, 0o755)
	os.Chown(bin, 65534, 65534)
	if ws := pathWarnings(bin); !containsAll(ws, bin+" is owned by uid 65534, not root") {
		t.Errorf("file owned by nobody: warnings %q", ws)
	}
	os.Chown(bin, 0, 0)

	// A symlink to a file in a directory owned by someone else: the
	// resolved path is checked too.
	other := filepath.Join(base, "other")
	os.Mkdir(other, 0o755)
	target := filepath.Join(other, "real")
	os.WriteFile(target, []byte("#!/bin/true\n"), 0o755)
	os.Chown(other, 65534, 65534)
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if ws := pathWarnings(link); !containsAll(ws, other+" is owned by uid 65534") {
		t.Errorf("symlink into a directory owned by another user: warnings %q", ws)
	}
	// The merged-/usr layout (/bin -> usr/bin, root-owned) is not reported.
	if fi, err := os.Lstat("/bin"); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if ws := pathWarnings("/bin/true"); len(ws) != 0 {
			t.Errorf("/bin/true: warnings %q", ws)
		}
	}
}

func TestBaseNameWarning(t *testing.T) {
	_, ws, err := (&Endpoint{RunAs: "x", Roles: []Role{
		{Groups: []string{"a"}, Commands: []Command{{Path: "/usr/bin/true"}}},
		{Groups: []string{"b"}, Commands: []Command{{Path: "/bin/true"}, {Path: "/usr/bin/true"}}},
	}}).Compile()
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range ws {
		msgs = append(msgs, w.String())
	}
	if !containsAll(msgs, "jea: true is the base name of /usr/bin/true and /bin/true") {
		t.Errorf("warnings %q", msgs)
	}
}

func TestSampleWarnings(t *testing.T) {
	// The spec's example regex admits "-x" and ".." (a zone name cannot
	// start with '-' or be ".."): both are reported.
	ws := warningsFor(t, Command{Path: "/usr/bin/true", Args: []Arg{{Values: []string{"reload", "status"}}, {Regex: "[a-z0-9.-]+", Optional: true}}})
	if len(ws) != 2 || !containsAll(ws, "option-like") || !containsAll(ws, `".."`) {
		t.Errorf("warnings %q", ws)
	}
}
