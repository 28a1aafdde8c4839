package cli

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestHelpCommand(t *testing.T) {
	for _, c := range [][]string{
		{"exec"}, {"account", "add"}, {"host", "token", "create"}, {"audit", "verify"}, {"tickets", "export"}, {"account"}, {"lab", "down"},
	} {
		want := ok(t, "", append(c, "--help")...)
		if got := ok(t, "", append([]string{"help"}, c...)...); got != want || got == "" {
			t.Errorf("hop help %s:\n%s\nwant (hop %[1]s --help):\n%s", strings.Join(c, " "), got, want)
		}
	}
	if got, want := ok(t, "", "help"), ok(t, "", "--help"); got != want || !strings.Contains(got, "completion") {
		t.Errorf("hop help:\n%s\nwant (hop --help):\n%s", got, want)
	}
	if got, want := ok(t, "", "account", "help", "add"), ok(t, "", "account", "add", "--help"); got != want {
		t.Errorf("hop account help add:\n%s\nwant:\n%s", got, want)
	}
	fails(t, 2, `hop: unknown command "exce"; did you mean exec?`, "", "help", "exce")
}

func TestSuggestions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"exce", "b", "--", "true"}, `hop: unknown command "exce"; did you mean exec? (see hop --help)`},
		{[]string{"acount", "list"}, `unknown command "acount"; did you mean account?`},
		{[]string{"account", "lst"}, `hop account: unknown command "lst"; did you mean list?`},
		{[]string{"account", "add-comp", "b.example.test"}, `unknown command "add-comp"; did you mean add-computer?`},
		{[]string{"audit", "verfy"}, `did you mean verify?`},
		{[]string{"kdc", "--dri", "/tmp/x"}, `hop kdc: unknown flag --dri; did you mean --dir? (see hop kdc --help)`},
		{[]string{"exec", "b", "--delgate", "kcd", "--", "true"}, `unknown flag --delgate; did you mean --delegate?`},
		{[]string{"account", "list", "-jsn"}, `unknown flag -jsn; did you mean --json?`},
		{[]string{"--verison"}, `hop: unknown flag --verison; did you mean --version?`},
		{[]string{"exec", "b", "--parallel", "many", "--", "true"}, `hop exec: --parallel "many": parse error`},
		{[]string{"domain", "backup", "--dir"}, `hop domain backup: --dir needs a value`},
		{[]string{"account", "set", "alice", "--allow-rc4=maybe"}, `--allow-rc4 "maybe": parse error`},
	} {
		_, errOut, code := hop(t, "", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("hop %s: exit %d, %q; want exit 2 and %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
		if strings.Contains(errOut, " -dri") || strings.Contains(errOut, "flag provided") {
			t.Errorf("hop %s: %q speaks of flags as package flag does", strings.Join(c.args, " "), errOut)
		}
	}
	// Nothing near: no suggestion.
	if _, errOut, _ := hop(t, "", "frobnicate"); strings.Contains(errOut, "did you mean") {
		t.Errorf("hop frobnicate: %q", errOut)
	}
	for typed, want := range map[string]string{"exce": "exec", "shel": "shell", "tickts": "tickets", "logn": "login", "zzz": ""} {
		got := didYouMean(typed, []string{"exec", "shell", "tickets", "login", "logout"})
		if (want == "" && got != "") || (want != "" && !strings.Contains(got, " "+want+"?")) {
			t.Errorf("didYouMean(%q) = %q, want %q", typed, got, want)
		}
	}
}

func TestVersion(t *testing.T) {
	var v versionInfo
	if err := json.Unmarshal([]byte(ok(t, "", "version", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Go != runtime.Version() || v.OS != runtime.GOOS || v.Arch != runtime.GOARCH || v.Version == "" {
		t.Errorf("hop version --json = %+v, want %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	if a, b := ok(t, "", "version"), ok(t, "", "--version"); a != b || !strings.HasPrefix(a, "hop ") || !strings.Contains(a, runtime.Version()) {
		t.Errorf("hop version %q, hop --version %q", a, b)
	}

	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "hop", Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-12-03T17:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	if got, want := buildVersion(bi, true).String(), "hop v1.2.3, commit 0123456789abcdef0123456789abcdef01234567 of 2026-12-03T17:00:00Z (modified), go1.26.0 linux/arm64"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	bi.Main.Version = "(devel)"
	bi.Settings = bi.Settings[:2]
	if got := buildVersion(bi, true); got.Version != "devel" || got.Commit != "" || got.Modified {
		t.Errorf("a build without VCS information: %+v", got)
	}
	if got := buildVersion(nil, false); got.Version != "devel" || got.Go != runtime.Version() {
		t.Errorf("no build information: %+v", got)
	}
}
