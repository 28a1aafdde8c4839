package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeFiles writes name -> contents under dir (names may hold '/').
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadKRB5CONFIG(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"first.conf":      "[libdefaults]\ndefault_realm = FIRST.TEST\n[realms]\nR = {\nkdc = k1\n}\n",
		"second.conf":     "[libdefaults]\ndefault_realm = SECOND.TEST\nforwardable = true\n[realms]\nR = {\nkdc = k2\n}\n",
		"home/.krb5.conf": "[libdefaults]\nticket_lifetime = 10h\n",
	})
	first, second := filepath.Join(dir, "first.conf"), filepath.Join(dir, "second.conf")
	missing := filepath.Join(dir, "missing.conf")
	c, err := Load(env(map[string]string{
		"KRB5_CONFIG": missing + ":" + first + "::" + second + ":~/.krb5.conf",
		"HOME":        filepath.Join(dir, "home"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Files(), ","), first+","+second+","+filepath.Join(dir, "home")+"/.krb5.conf"; got != want {
		t.Errorf("Files() = %s, want %s", got, want)
	}
	if r, _ := c.DefaultRealm(); r != "FIRST.TEST" {
		t.Errorf("DefaultRealm = %q: the first file wins", r)
	}
	if !c.Forwardable("") {
		t.Error("forwardable from the second file is lost")
	}
	if kdcs, _ := c.KDCs("R"); strings.Join(kdcs, ",") != "k1:88,k2:88" {
		t.Errorf("KDCs = %q: values of every file accumulate", kdcs)
	}
	if d, _ := c.TicketLifetime(""); d.Hours() != 10 {
		t.Errorf("TicketLifetime = %v: ~/ is HOME", d)
	}

	// Nothing there at all: an empty configuration, as MIT.
	c, err = Load(env(map[string]string{"KRB5_CONFIG": missing}))
	if err != nil || len(c.Files()) != 0 {
		t.Errorf("Load(missing) = %v, %v; want an empty configuration", c.Files(), err)
	}
	if r, ok := c.DefaultRealm(); ok {
		t.Errorf("empty configuration has default realm %q", r)
	}
}

func TestLoadDefaultPath(t *testing.T) {
	c, err := Load(env(nil))
	if _, serr := os.Stat(DefaultPath); serr != nil {
		if err != nil || len(c.Files()) != 0 {
			t.Errorf("without %s: %v, %v", DefaultPath, c.Files(), err)
		}
		return
	}
	if err != nil {
		t.Skipf("this machine's %s does not parse: %v", DefaultPath, err)
	}
	if got := c.Files(); len(got) != 1 || got[0] != DefaultPath {
		t.Errorf("Files() = %q, want [%s]", got, DefaultPath)
	}
}

func TestLoadSyntaxErrorIsFatal(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.conf": "[a]\nx = 1\n}\n", "good.conf": "[a]\nx = 2\n"})
	_, err := LoadFiles(filepath.Join(dir, "good.conf"), filepath.Join(dir, "bad.conf"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Path != filepath.Join(dir, "bad.conf") {
		t.Fatalf("got %v, want a ParseError at bad.conf:3", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"locked.conf": "[a]\nx = 1\n", "open.conf": "[a]\nx = 2\n"})
	locked := filepath.Join(dir, "locked.conf")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(locked); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("only an unreadable file: %v, want a permission error", err)
	}
	c, err := LoadFiles(locked, filepath.Join(dir, "open.conf"))
	if err != nil || len(c.Values("a", "x")) != 1 {
		t.Errorf("unreadable file then a readable one: %v, %v", c, err)
	}
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		// MIT's test_independence (t_profile.c): an included file
		// starts outside any section; its parent goes on where it was.
		"testinc.ini":  "[sec1]\nvar = {\na = 1\ninclude " + filepath.Join(dir, "testinc2.ini") + "\nc = 3\n}\n",
		"testinc2.ini": "relation before any section = ignored\n[sec2]\nb = 2\n",
		// A file included twice (not a cycle) counts twice.
		"diamond.conf": "[x]\ninclude " + filepath.Join(dir, "leaf.conf") + "\ninclude " + filepath.Join(dir, "leaf.conf") + "\n",
		"leaf.conf":    "[x]\nv = leaf\n",
		// CRLF on the include line.
		"crlf.conf": "include " + filepath.Join(dir, "leaf.conf") + "\r\n",
	})
	f, err := ParseFile(filepath.Join(dir, "testinc.ini"))
	if err != nil {
		t.Fatal(err)
	}
	c := New(f)
	for _, tt := range []struct {
		path []string
		want string
	}{
		{[]string{"sec1", "var", "a"}, "1"},
		{[]string{"sec2", "b"}, "2"},
		{[]string{"sec1", "var", "c"}, "3"},
	} {
		if got := strings.Join(c.Values(tt.path...), ","); got != tt.want {
			t.Errorf("%q = %q, want %q", tt.path, got, tt.want)
		}
	}
	f, err = ParseFile(filepath.Join(dir, "diamond.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if got := New(f).Values("x", "v"); len(got) != 2 {
		t.Errorf("diamond include: %q, want the leaf's value twice", got)
	}
	f, err = ParseFile(filepath.Join(dir, "crlf.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if got := New(f).Values("x", "v"); len(got) != 1 {
		t.Errorf("CRLF include: %q", got)
	}
}

func TestIncludeDir(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "krb5.conf.d")
	body := func(v string) string { return "[s]\nv = " + v + "\n" }
	writeFiles(t, dir, map[string]string{
		// MIT's test_include (t_profile.c): a and b.conf are read;
		// a~ and b.conf.rpmsave are not.
		"krb5.conf.d/a":               body("a"),
		"krb5.conf.d/a~":              body("backup"),
		"krb5.conf.d/b.conf":          body("b.conf"),
		"krb5.conf.d/b.conf.rpmsave":  body("rpmsave"),
		"krb5.conf.d/.hidden.conf":    body("hidden"),
		"krb5.conf.d/C_d-9":           body("C_d-9"),
		"krb5.conf.d/x.y":             body("dot"),
		"krb5.conf.d/dir.conf/inside": body("inside"),
		"krb5.conf":                   "[s]\nv = top\nincludedir " + d + "\n",
		"empty/.keep":                 "",
		"withdot.conf":                "includedir " + d + "/\n",
		"missingdir.conf":             "[s]\nincludedir " + filepath.Join(dir, "nope") + "\n",
		"missingfile.conf":            "[s]\n\ninclude " + filepath.Join(dir, "nope.conf") + "\n",
		"includes-dir-as-a-file.conf": "include " + filepath.Join(dir, "empty") + "\n",
		"bad-in-included.conf":        "include " + filepath.Join(dir, "bad.conf") + "\n",
		"bad.conf":                    "[s]\n\nv = {\n[t]\n",
	})
	// Byte order: "C_d-9" < "a" < "b.conf"; "dir.conf" is a directory,
	// read as an empty file.
	f, err := ParseFile(filepath.Join(dir, "krb5.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(New(f).Values("s", "v"), ","), "top,C_d-9,a,b.conf"; got != want {
		t.Errorf("includedir: %s, want %s", got, want)
	}
	// A directory in KRB5_CONFIG is read the same way.
	c, err := LoadFiles(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Values("s", "v"), ","), "C_d-9,a,b.conf"; got != want {
		t.Errorf("directory in KRB5_CONFIG: %s, want %s", got, want)
	}
	if _, err := ParseFile(filepath.Join(dir, "withdot.conf")); err != nil {
		t.Errorf("includedir with a trailing slash: %v", err)
	}
	if _, err := ParseFile(filepath.Join(dir, "includes-dir-as-a-file.conf")); err != nil {
		t.Errorf("include of a directory (an empty file for MIT): %v", err)
	}

	for _, tt := range []struct {
		file string
		line int
		want string
	}{
		{"missingdir.conf", 2, "includedir"},
		{"missingfile.conf", 3, "include"},
	} {
		_, err := ParseFile(filepath.Join(dir, tt.file))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a ParseError at line %d wrapping ErrNotExist", tt.file, err, tt.line)
		}
		// LoadFiles skips missing files but not missing includes.
		if _, err := LoadFiles(filepath.Join(dir, tt.file)); err == nil {
			t.Errorf("LoadFiles(%s) skipped a failed include", tt.file)
		}
	}
	// An error inside an included file names that file and its line.
	_, err = ParseFile(filepath.Join(dir, "bad-in-included.conf"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "bad.conf") || pe.Line != 4 || !errors.Is(err, errSectionNotTop) {
		t.Errorf("error in an included file: %v", err)
	}
}

func TestIncludeCycles(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	writeFiles(t, dir, map[string]string{
		"self.conf":   "[a]\ninclude " + p("self.conf") + "\n",
		"a.conf":      "[a]\ninclude " + p("b.conf") + "\n",
		"b.conf":      "[b]\ninclude " + p("a.conf") + "\n",
		"d/loop.conf": "includedir " + p("d") + "\n",
	})
	if err := os.Symlink(p("link-target.conf"), p("link.conf")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"link-target.conf": "include " + p("link.conf") + "\n"})
	for _, name := range []string{"self.conf", "a.conf", "d/loop.conf", "link.conf"} {
		if _, err := ParseFile(p(name)); err == nil || !strings.Contains(err.Error(), "cycle") {
			t.Errorf("%s: %v, want an include cycle", name, err)
		}
	}
	// A chain deeper than MaxIncludeDepth.
	files := map[string]string{}
	for i := 0; i <= MaxIncludeDepth; i++ {
		files["chain"+strconv.Itoa(i)+".conf"] = "[s]\nv = " + strconv.Itoa(i) + "\ninclude " + p("chain"+strconv.Itoa(i+1)+".conf") + "\n"
	}
	files["chain"+strconv.Itoa(MaxIncludeDepth+1)+".conf"] = "[s]\n"
	writeFiles(t, dir, files)
	if _, err := ParseFile(p("chain0.conf")); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("include chain of %d: %v", MaxIncludeDepth+1, err)
	}
	f, err := ParseFile(p("chain1.conf"))
	if err != nil {
		t.Fatalf("include chain of %d: %v", MaxIncludeDepth, err)
	}
	if got := len(New(f).Values("s", "v")); got != MaxIncludeDepth {
		t.Errorf("chain of %d includes gives %d values", MaxIncludeDepth, got)
	}
}

func TestLoadBounds(t *testing.T) {
	dir := t.TempDir()
	big := "[a]\n" + strings.Repeat("# padding padding padding\n", MaxFileSize/26+1)
	writeFiles(t, dir, map[string]string{"big.conf": big, "inc.conf": "include " + filepath.Join(dir, "big.conf") + "\n"})
	for _, name := range []string{"big.conf", "inc.conf"} {
		if _, err := LoadFiles(filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("%s: %v, want a size error", name, err)
		}
	}
}

// TestDescribeNamesTheMissingFile: with no file read, the configuration
// names the files looked for, KRB5_CONFIG's when it is set, never
// DefaultPath in their place.
func TestDescribeNamesTheMissingFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"real.conf": "[libdefaults]\ndefault_realm = R.TEST\n"})
	one, two := filepath.Join(dir, "one.conf"), filepath.Join(dir, "two.conf")
	for _, tc := range []struct {
		krb5Config string
		want       string
	}{
		{one, "krb5.conf (KRB5_CONFIG names " + one + ", which is missing)"},
		{one + "::" + two, "krb5.conf (KRB5_CONFIG names " + one + ":" + two + ", and none of them exists)"},
		{one + ":" + filepath.Join(dir, "real.conf"), filepath.Join(dir, "real.conf")},
	} {
		c, err := Load(env(map[string]string{"KRB5_CONFIG": tc.krb5Config}))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Describe(); got != tc.want {
			t.Errorf("KRB5_CONFIG=%s: Describe() = %q, want %q", tc.krb5Config, got, tc.want)
		}
		if strings.Contains(c.Describe(), DefaultPath) {
			t.Errorf("KRB5_CONFIG=%s: Describe() names %s", tc.krb5Config, DefaultPath)
		}
	}
	if paths, env := (&Config{}).Searched(); paths != nil || env {
		t.Errorf("an empty Config searched %q (KRB5_CONFIG: %v)", paths, env)
	}
	c, err := LoadFiles(one)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Describe(), "krb5.conf ("+one+" is missing)"; got != want {
		t.Errorf("LoadFiles: Describe() = %q, want %q", got, want)
	}
}
