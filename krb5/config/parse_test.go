package config

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// dump renders a tree canonically, in a form Parse reads back to the same
// tree (as MIT's dump_profile does): each section once, its relations (tags
// in byte order, values in order) then its subsections (in byte order);
// values bare when they can be, else quoted; final flags on the tags.
func dump(f *File) string {
	var b strings.Builder
	for _, name := range f.root.sortedSubs() {
		s := f.root.subs[name]
		b.WriteString("[" + name + "]")
		if s.final {
			b.WriteString("*")
		}
		b.WriteString("\n")
		dumpSection(&b, s, 1)
	}
	return b.String()
}

func dumpSection(b *strings.Builder, s *section, level int) {
	indent := strings.Repeat("\t", level)
	tags := make([]string, 0, len(s.rels))
	for t := range s.rels {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	for _, t := range tags {
		for _, r := range s.rels[t] {
			b.WriteString(indent + t)
			if r.final {
				b.WriteString("*")
			}
			b.WriteString(" = " + dumpValue(r.value) + "\n")
		}
	}
	for _, name := range s.sortedSubs() {
		sub := s.subs[name]
		b.WriteString(indent + name)
		if sub.final {
			b.WriteString("*")
		}
		b.WriteString(" = {\n")
		dumpSection(b, sub, level+1)
		b.WriteString(indent + "}\n")
	}
}

// dumpValue writes a value bare when Parse would read it back unchanged,
// else quoted with the escapes Parse knows.
func dumpValue(v string) string {
	quote := v == "" || v[0] == '"' || isSpace(v[0]) || isSpace(v[len(v)-1]) ||
		(v[0] == '{' && skipBlanks(v[1:]) == "") || strings.ContainsAny(v, "\n")
	if !quote {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}

func TestParseGrammar(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"section", "[libdefaults]\n\tdefault_realm = EXAMPLE.TEST\n",
			"[libdefaults]\n\tdefault_realm = EXAMPLE.TEST\n"},
		{"no final newline", "[a]\nx = 1", "[a]\n\tx = 1\n"},
		{"comments, leading blanks", "[a]\n# c\n   ; c\n\t# x = 2\nx = 1\n", "[a]\n\tx = 1\n"},
		{"no trailing comments", "[a]\nkdc = host # not a comment\n", "[a]\n\tkdc = host # not a comment\n"},
		{"text before the first section is ignored", "this is = ignored\n  [not a section]\nx = 1\n[a]\ny = 2\n",
			"[a]\n\ty = 2\n"},
		{"values keep inner spaces, lose outer ones", "[a]\nx =    one  two\t three \t \n", "[a]\n\tx = one  two\t three\n"},
		{"no blanks around =", "[a]\nx=1\n", "[a]\n\tx = 1\n"},
		{"blanks after the tag", "[a]\nx \t= 1\n", "[a]\n\tx = 1\n"},
		{"repeated tags accumulate", "[realms]\nR = {\nkdc = a\nkdc = b\n}\nR = {\nkdc = c\n}\n",
			"[realms]\n\tR = {\n\t\tkdc = a\n\t\tkdc = b\n\t\tkdc = c\n\t}\n"},
		{"sections merge", "[a]\nx = 1\n[b]\ny = 2\n[a]\nx = 3\n",
			"[a]\n\tx = 1\n\tx = 3\n[b]\n\ty = 2\n"},
		{"section name with spaces, blanks after ]", "[test section 1]   \nx = 1\n", "[test section 1]\n\tx = 1\n"},
		{"empty section name", "[]\nx = 1\n", "[]\n\tx = 1\n"},
		{"indented section header", "[a]\n   [b]\nx = 1\n", "[a]\n[b]\n\tx = 1\n"},
		{"quoted value", "[a]\nx = \"  padded \"\ny = \"a\\nb\\tc\\bd\\\\e\\\"f\\qg\"\n",
			"[a]\n\tx = \"  padded \"\n\ty = \"a\\nb\tc\bd\\\\e\\\"fqg\"\n"},
		{"quoted value ends at the quote", "[a]\nx = \"one\" two\n", "[a]\n\tx = one\n"},
		{"unterminated quote", "[a]\nx = \"one two \n", "[a]\n\tx = \"one two \"\n"},
		{"empty quoted value", "[a]\nx = \"\"\n", "[a]\n\tx = \"\"\n"},
		{"quoted brace is a value", "[a]\nx = \"{\"\n", "[a]\n\tx = \"{\"\n"},
		{"brace and text is a value", "[a]\nx = { y = z }\n", "[a]\n\tx = { y = z }\n"},
		{"subsection", "[a]\nR = {\n\tkdc = k\n\tsub = {\n\t\tdeep = 1\n\t}\n}\nafter = 2\n",
			"[a]\n\tafter = 2\n\tR = {\n\t\tkdc = k\n\t\tsub = {\n\t\t\tdeep = 1\n\t\t}\n\t}\n"},
		{"brace on the next line", "[a]\nR =\n   { ignored = x\nkdc = k\n}\n", "[a]\n\tR = {\n\t\tkdc = k\n\t}\n"},
		{"text after a closing brace", "[a]\nR = {\nk = 1\n} trailing\nx = 2\n", "[a]\n\tx = 2\n\tR = {\n\t\tk = 1\n\t}\n"},
		{"unclosed subsection at the end", "[a]\nR = {\nk = 1\n", "[a]\n\tR = {\n\t\tk = 1\n\t}\n"},
		{"relation and subsection of one name", "[a]\nx = 1\nx = {\ny = 2\n}\n", "[a]\n\tx = 1\n\tx = {\n\t\ty = 2\n\t}\n"},
		{"CRLF", "[a]\r\nx = 1 \r\ny = \"q\"\r\nR = {\r\nk = v\r\n}\r\n",
			"[a]\n\tx = 1\n\ty = q\n\tR = {\n\t\tk = v\n\t}\n"},
		{"CR inside a value stays", "[a]\nx = 1\r2\n", "[a]\n\tx = 1\r2\n"},
		{"final markers", "[a]*\nx* = 1\nR* = {\n}\nS = {\n}*\n",
			"[a]*\n\tx* = 1\n\tR* = {\n\t}\n\tS* = {\n\t}\n"},
		{"a star inside a tag ends it", "[a]\nab*cd = 1\n", "[a]\n\tab* = 1\n"},
		{"empty final tag", "[a]\n* = 1\n", "[a]\n\t* = 1\n"},
		{"include-like words are not directives", "[a]\nincludes = 1\ninclude=2\n", "[a]\n\tinclude = 2\n\tincludes = 1\n"},
		{"non-ASCII bytes pass through", "[a]\nx = caf\xc3\xa9 \xff\n", "[a]\n\tx = caf\xc3\xa9 \xff\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("krb5.conf", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := dump(f); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		want     error
	}{
		{"relation without =", "[a]\nx = 1\nkdc host\n", 3, errRelation},
		{"blank inside a tag", "[a]\nmy tag = 1\n", 2, errRelation},
		{"no tag", "[a]\n = 1\n", 2, errRelation},
		{"unterminated section header", "[a]\n[b\n", 2, errSectionSyntax},
		{"text after a section header", "[a] # comment\n", 1, errSectionSyntax},
		{"text after the final star", "[a]*x\n", 1, errSectionSyntax},
		{"section inside a subsection", "[a]\nR = {\nk = 1\n[b]\n", 4, errSectionNotTop},
		{"extra closing brace", "[a]\nR = {\n}\n}\n", 4, errExtraBrace},
		{"closing brace in a section", "[a]\n}\n", 2, errExtraBrace},
		{"missing opening brace", "[a]\nR =\nk = 1\n", 3, errMissingBrace},
		{"blank line instead of a brace", "[a]\nR =\n\n{\n", 3, errMissingBrace},
		{"module", "module /lib/x.so:res\n[a]\n", 1, errModule},
		{"include refused by Parse", "[a]\ninclude /etc/x\n", 2, errNoInclude},
		{"includedir refused by Parse", "includedir /etc/x\n", 1, errNoInclude},
		{"NUL", "[a]\nx = a\x00b\n", 2, errNUL},
		{"long line", "[a]\nx = " + strings.Repeat("v", MaxLineLength) + "\n", 2, errLineLength},
		{"long last line", "[a]\n#" + strings.Repeat("v", MaxLineLength), 2, errLineLength},
		{"nesting too deep", "[a]\n" + strings.Repeat("x = {\n", MaxDepth), MaxDepth + 1, errDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("krb5.conf", []byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse: %v, want a *ParseError", err)
			}
			if pe.Path != "krb5.conf" || pe.Line != tt.line || !errors.Is(err, tt.want) {
				t.Errorf("got %q (line %d), want line %d: %v", err, pe.Line, tt.line, tt.want)
			}
			wantPrefix := "config: krb5.conf:" + strconv.Itoa(tt.line) + ": "
			if !strings.HasPrefix(err.Error(), wantPrefix) {
				t.Errorf("error %q does not start with %q", err, wantPrefix)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	// A line of exactly MaxLineLength bytes is fine.
	in := "[a]\nx = " + strings.Repeat("v", MaxLineLength-4) + "\n"
	if _, err := Parse("f", []byte(in)); err != nil {
		t.Errorf("line of %d bytes: %v", MaxLineLength, err)
	}
	// Nesting up to MaxDepth is fine.
	in = "[a]\n" + strings.Repeat("x = {\n", MaxDepth-1) + "k = v\n"
	if _, err := Parse("f", []byte(in)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	if _, err := Parse("f", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over MaxFileSize: %v", err)
	}
	var b strings.Builder
	b.WriteString("[a]\n")
	for i := 0; i <= MaxEntries; i++ {
		b.WriteString("k=v\n")
	}
	if _, err := Parse("f", []byte(b.String())); !errors.Is(err, errEntries) {
		t.Errorf("more than MaxEntries relations: %v", err)
	}
}

// TestMITFinal runs MIT's own tests of final flags (src/util/profile,
// check-unix-final in Makefile.in) and compares with MIT's answers in
// final.expected.
func TestMITFinal(t *testing.T) {
	load := func(names ...string) *Config {
		var files []*File
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join("testdata", "mit", n))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(n, b)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		return New(files...)
	}
	query := []string{"section", "subsection", "key"}
	type q struct {
		files []string
		path  []string
	}
	queries := []q{
		{[]string{"final1.ini", "final1.ini"}, query},
		{[]string{"final2.ini", "final1.ini"}, query},
		{[]string{"final3.ini", "final1.ini"}, query},
		{[]string{"final4.ini", "final1.ini"}, query},
		{[]string{"final5.ini", "final1.ini"}, query},
		{[]string{"final6.ini"}, []string{"a", "ab"}},
		{[]string{"final6.ini"}, []string{"a", "ac"}},
		{[]string{"final6.ini"}, []string{"b", "ba"}},
		{[]string{"final6.ini"}, []string{"b", "bb", "bba"}},
		{[]string{"final6.ini"}, []string{"c", "ca", "caa"}},
		{[]string{"final6.ini"}, []string{"c", "cb", "cba"}},
		{[]string{"final6.ini"}, []string{"c", "cc"}},
	}
	// final.expected: for each query, an empty line then one line per
	// value.
	exp, err := os.ReadFile(filepath.Join("testdata", "mit", "final.expected"))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(exp), "\n"), "\n") {
		if line == "" {
			want = append(want, nil)
			continue
		}
		want[len(want)-1] = append(want[len(want)-1], line)
	}
	if len(want) != len(queries) {
		t.Fatalf("final.expected has %d answers for %d queries", len(want), len(queries))
	}
	for i, qq := range queries {
		got := load(qq.files...).Values(qq.path...)
		if strings.Join(got, ",") != strings.Join(want[i], ",") {
			t.Errorf("%v %v: got %q, want %q", qq.files, qq.path, got, want[i])
		}
	}
}

// TestMITTestIni reads MIT's test.ini and checks it as MIT's parser reads it.
func TestMITTestIni(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "mit", "test.ini"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("test.ini", b)
	if err != nil {
		t.Fatal(err)
	}
	c := New(f)
	for _, tt := range []struct {
		path []string
		want []string
	}{
		{[]string{"test section 1", "foo"}, []string{"bar ", "bar2", "bar3"}},
		{[]string{"test section 1", "bar"}, []string{"foo"}},
		{[]string{"test section 1", "child_section", "child"}, []string{"slick", "harry", "john"}},
		{[]string{"test section 1", "child_section"}, []string{"foo"}},
		{[]string{"test section 2", "test_child"}, []string{"foo\nbar"}},
		{[]string{"test section 2", "child_section2"}, []string{"one", "foo"}},
		{[]string{"test section 2", "child_section2", "child"}, []string{"slick", "harry", "john\tb ", "ron"}},
		{[]string{"test section 2", "child_section2", "chores"}, []string{"cleaning"}},
		{[]string{"realms", "ATHENA.MIT.EDU", "server"}, []string{"KERBEROS.MIT.EDU:88", "KERBEROS1.MIT.EDU", "KERBEROS2.MIT.EDU"}},
		{[]string{"this is a comment.  Everything up to the first square brace is ignored.", "x"}, nil},
	} {
		if got := c.Values(tt.path...); strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("Values(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	if got, want := strings.Join(c.Subsections(), "|"), "realms|test section 1|test section 2"; got != want {
		t.Errorf("Subsections() = %q, want %q", got, want)
	}
}

// TestSamples parses the sample files and reads them back from their dump.
func TestSamples(t *testing.T) {
	for _, name := range []string{"mit/krb5.conf", "mit/config-files-krb5.conf", "mit/test.ini", "mit/final6.ini", "debian-krb5.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(name, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := dump(f)
		f2, err := Parse("dump", []byte(d))
		if err != nil {
			t.Fatalf("%s: reparse of the dump: %v\n%s", name, err, d)
		}
		if d2 := dump(f2); d2 != d {
			t.Errorf("%s: dump changed on reparse:\n%s\nthen:\n%s", name, d, d2)
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "debian-krb5.conf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("debian-krb5.conf", b)
	if err != nil {
		t.Fatal(err)
	}
	c := New(f)
	if r, _ := c.DefaultRealm(); r != "ATHENA.MIT.EDU" {
		t.Errorf("DefaultRealm = %q", r)
	}
	kdcs, err := c.KDCs("ATHENA.MIT.EDU")
	if want := "kerberos.mit.edu:88,kerberos-1.mit.edu:88,kerberos-2.mit.edu:88"; err != nil || strings.Join(kdcs, ",") != want {
		t.Errorf("KDCs = %q, %v; want %s", kdcs, err, want)
	}
	if c.RDNS() || !c.Forwardable("ATHENA.MIT.EDU") {
		t.Errorf("rdns = %v, forwardable = %v; the file sets false and true", c.RDNS(), c.Forwardable("ATHENA.MIT.EDU"))
	}
	if r, err := c.RealmOf("web.media.mit.edu"); err != nil || r != "MEDIA-LAB.MIT.EDU" {
		t.Errorf("RealmOf(web.media.mit.edu) = %q, %v", r, err)
	}
	if got := len(c.Realms()); got != 10 {
		t.Errorf("%d realms, want 10: %q", got, c.Realms())
	}
}
