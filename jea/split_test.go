package jea

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: []string{}},
		{in: " \t\n ", want: []string{}},
		{in: "rndc reload", want: []string{"rndc", "reload"}},
		{in: "  rndc   reload  ", want: []string{"rndc", "reload"}},
		{in: "rndc reload; rm -rf /", want: []string{"rndc", "reload;", "rm", "-rf", "/"}},
		{in: "rndc reload;rm", want: []string{"rndc", "reload;rm"}},
		{in: "rndc $(id)", want: []string{"rndc", "$(id)"}},
		{in: "rndc `id`", want: []string{"rndc", "`id`"}},
		{in: "rndc reload && id", want: []string{"rndc", "reload", "&&", "id"}},
		{in: "a|b>c<d&e", want: []string{"a|b>c<d&e"}},
		{in: "echo $HOME ~ * # x", want: []string{"echo", "$HOME", "~", "*", "#", "x"}},
		{in: `'rndc reload'`, want: []string{"rndc reload"}},
		{in: `rndc 're'load`, want: []string{"rndc", "reload"}},
		{in: `'' ""`, want: []string{"", ""}},
		{in: `a''b`, want: []string{"ab"}},
		{in: `'a\b'`, want: []string{`a\b`}},
		{in: `'it'\''s'`, want: []string{"it's"}},
		{in: `"a b" "c\"d" "e\\f" "g\$h" "i\` + "`" + `j" "k\nl"`, want: []string{"a b", `c"d`, `e\f`, "g$h", "i`j", `k\nl`}},
		{in: `"$(id)"`, want: []string{"$(id)"}},
		{in: "\"a\\\nb\"", want: []string{"ab"}},
		{in: "a\\\nb", want: []string{"ab"}},
		{in: `a\ b`, want: []string{"a b"}},
		{in: `\'x`, want: []string{"'x"}},
		{in: `\;`, want: []string{";"}},
		{in: "'a\nb'", want: []string{"a\nb"}},
		{in: "'unbalanced", err: "unbalanced single quote"},
		{in: `"unbalanced`, err: "unbalanced double quote"},
		{in: `"a\"`, err: "unbalanced double quote"},
		{in: `trailing\`, err: "ends with a backslash"},
		{in: "rndc\x00", err: "NUL"},
		{in: "'rndc\x00'", err: "NUL"},
		{in: strings.Repeat("a", MaxCommandLen+1), err: "longer than"},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "jea: ") {
				t.Errorf("Split(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"rndc", "reload", "example.test"}, "rndc reload example.test"},
		{[]string{"a b"}, "'a b'"},
		{[]string{""}, "''"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{"$(id)", ";", "--x=/y"}, `'$(id)' ';' --x=/y`},
		{[]string{}, ""},
	}
	for _, tt := range tests {
		if got := Join(tt.in); got != tt.want {
			t.Errorf("Join(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := Split(tt.want)
		if err != nil || !reflect.DeepEqual(back, tt.in) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.want, back, err, tt.in)
		}
	}
}
