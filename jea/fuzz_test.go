package jea

import (
	"path"
	"reflect"
	"strings"
	"testing"
)

var splitSeeds = []string{
	"", "rndc reload", "rndc reload; rm -rf /", "rndc $(id)", "rndc `id`", "rndc reload && id",
	`'rndc reload'`, `"a \"b\" \\ \$ c"`, `a\ b\'c`, "a\\\nb", "'unbalanced", `"unbalanced`, `x\`,
	"rndc\x00", "\u2215usr\u2215sbin\u2215rndc", "'it'\\''s'", `""''`, "a\tb\r\nc",
}

func FuzzSplit(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, err := Split(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "jea: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		for _, w := range argv {
			if strings.IndexByte(w, 0) >= 0 {
				t.Fatalf("word with NUL from %q", s)
			}
		}
		// Without quotes or backslashes, splitting is just separating on
		// blanks.
		if !strings.ContainsAny(s, `'"\`) {
			want := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' })
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(argv, want) {
				t.Fatalf("Split(%q) = %q, want %q", s, argv, want)
			}
		}
		// Joining with quotes round-trips.
		j := Join(argv)
		back, err := Split(j)
		if err != nil && len(j) <= MaxCommandLen {
			t.Fatalf("Split(Join(%q)) = %v", argv, err)
		}
		if err == nil && !reflect.DeepEqual(back, argv) {
			t.Fatalf("Split(Join(%q)) = %q", argv, back)
		}
	})
}

var fuzzGroups = []string{"dns-operators", "S-1-5-21-1-2-3-1105", "web-ops", "other-dns", "nobody"}

func FuzzCheck(f *testing.F) {
	for i, s := range splitSeeds {
		f.Add(s, uint8(i))
	}
	for _, s := range []string{"rndc status example.test", "svc stop api 3 now", "nginx -t", "/usr/local/sbin/rndc status",
		"/usr/sbin/../sbin/rndc reload", "rndc reload zone;id"} {
		f.Add(s, uint8(0xff))
	}
	p := samplePolicy(f)
	f.Fuzz(func(t *testing.T, cmd string, mask uint8) {
		in := map[string]bool{}
		for i, g := range fuzzGroups {
			if mask&(1<<i) != 0 {
				in[g] = true
			}
		}
		member := func(g string) bool { return in[g] }
		argv, err := Split(cmd)
		if err != nil {
			argv = []string{cmd} // the raw string as one word, NUL and all
		}
		d := p.Check(member, argv)
		if !d.Allowed {
			if d.Reason == "" || d.Path != "" || d.Argv != nil || strings.ContainsAny(d.Reason, "\x00\r\n") || len(d.Reason) > 4000 {
				t.Fatalf("refusal %+v", d)
			}
			return
		}
		if d.Reason != "" || d.Argv[0] != d.Path || !reflect.DeepEqual(d.Argv[1:], argv[1:]) {
			t.Fatalf("allowed %+v for %q", d, argv)
		}
		if argv[0] != d.Path && argv[0] != path.Base(d.Path) {
			t.Fatalf("%q ran %s", argv[0], d.Path)
		}
		for _, a := range argv {
			if strings.ContainsAny(a, "\x00\r\n") || len(a) > MaxArgLen {
				t.Fatalf("argument %q allowed", a)
			}
		}
		args := argv[1:]
		// Independent restatement of the sample policy.
		ok := false
		switch d.Path {
		case "/usr/sbin/rndc":
			ok = (in["dns-operators"] || in["S-1-5-21-1-2-3-1105"]) && (len(args) == 1 || len(args) == 2) &&
				(args[0] == "reload" || args[0] == "status") &&
				(len(args) == 1 || args[1] != "" && strings.Trim(args[1], "abcdefghijklmnopqrstuvwxyz0123456789.-") == "")
		case "/usr/sbin/nginx":
			ok = in["web-ops"] && len(args) == 1 && args[0] == "-t"
		case "/usr/bin/svc":
			ok = in["web-ops"] && len(args) >= 2 && len(args) <= 4 &&
				(args[0] == "start" || args[0] == "stop") && (args[1] == "web" || args[1] == "api") &&
				(len(args) < 3 || args[2] != "" && strings.Trim(args[2], "0123456789") == "") &&
				(len(args) < 4 || args[3] == "now")
		case "/usr/local/sbin/rndc":
			ok = in["other-dns"] && len(args) == 1 && args[0] == "status"
		}
		if !ok {
			t.Fatalf("Check(%q) with groups %v allowed %+v", argv, in, d)
		}
		if argv[0] == "rndc" && in["other-dns"] && (in["dns-operators"] || in["S-1-5-21-1-2-3-1105"]) {
			t.Fatalf("ambiguous rndc allowed: %+v", d)
		}
	})
}
