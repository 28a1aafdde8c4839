package config

import "strings"

// Config is a client configuration: one or more files, the first taking
// precedence. The zero value (and a nil *Config) is an empty configuration,
// for which every accessor returns MIT's default. A Config is immutable and
// safe for concurrent use.
type Config struct {
	files []*File
	// searched are the paths LoadFiles looked at, found or not; fromEnv:
	// KRB5_CONFIG named them (Load).
	searched []string
	fromEnv  bool
}

// New returns the configuration made of files, in order of precedence (as
// listed in KRB5_CONFIG). Nil files are left out.
func New(files ...*File) *Config {
	c := &Config{}
	for _, f := range files {
		if f != nil {
			c.files = append(c.files, f)
		}
	}
	return c
}

// Files returns the names of the files the configuration was read from, in
// order of precedence (paths of included files are not listed).
func (c *Config) Files() []string {
	if c == nil {
		return nil
	}
	names := make([]string, len(c.files))
	for i, f := range c.files {
		names[i] = f.name
	}
	return names
}

// Searched returns the paths the configuration was looked for at, in
// order, whether they exist or not (Load: KRB5_CONFIG's, else
// DefaultPath), and whether KRB5_CONFIG named them.
func (c *Config) Searched() (paths []string, fromKRB5Config bool) {
	if c == nil {
		return nil, false
	}
	return append([]string(nil), c.searched...), c.fromEnv
}

// Describe names the configuration in messages: the files it was read
// from, else which file is missing ("krb5.conf (/etc/krb5.conf is
// missing)", "krb5.conf (KRB5_CONFIG names /tmp/k.conf, which is
// missing)").
func (c *Config) Describe() string {
	if f := c.Files(); len(f) > 0 {
		return strings.Join(f, ", ")
	}
	paths, env := c.Searched()
	switch {
	case len(paths) == 0:
		return "krb5.conf (none was read)"
	case !env:
		return "krb5.conf (" + strings.Join(paths, ", ") + " is missing)"
	case len(paths) == 1:
		return "krb5.conf (KRB5_CONFIG names " + paths[0] + ", which is missing)"
	}
	return "krb5.conf (KRB5_CONFIG names " + strings.Join(paths, ":") + ", and none of them exists)"
}

// Values returns every value of the relation named by path: a section, the
// subsections within it, then the tag, e.g. ("realms", "EXAMPLE.TEST",
// "kdc"). Values come file by file in order of precedence, and in file
// order within a file. A final section, subsection or relation on the path
// stops the search after the file that holds it (MIT's profile_get_values).
// Names are case-sensitive.
func (c *Config) Values(path ...string) []string {
	if c == nil || len(path) < 2 {
		return nil
	}
	var out []string
	tag := path[len(path)-1]
	for _, f := range c.files {
		s, final := f.root.walk(path[:len(path)-1])
		if s != nil {
			for _, r := range s.rels[tag] {
				out = append(out, r.value)
				if r.final {
					final = true
				}
			}
		}
		if final {
			break
		}
	}
	return out
}

// Value returns the first value of the relation named by path (see Values):
// the one from the file of highest precedence, the first in that file.
func (c *Config) Value(path ...string) (string, bool) {
	if c == nil || len(path) < 2 {
		return "", false
	}
	tag := path[len(path)-1]
	for _, f := range c.files {
		s, final := f.root.walk(path[:len(path)-1])
		if s != nil {
			if rs := s.rels[tag]; len(rs) > 0 {
				return rs[0].value, true
			}
		}
		if final {
			break
		}
	}
	return "", false
}

// Subsections returns the names of the subsections at path, or of the
// top-level sections for an empty path: file by file in order of
// precedence, each file's names in byte order, without repeats (MIT's
// profile_get_subsection_names, deduplicated). Final flags stop the search
// as for Values.
func (c *Config) Subsections(path ...string) []string {
	if c == nil {
		return nil
	}
	var out []string
	seen := make(map[string]bool)
	for _, f := range c.files {
		s, final := f.root.walk(path)
		if s != nil {
			for _, name := range s.sortedSubs() {
				if !seen[name] {
					seen[name] = true
					out = append(out, name)
				}
				if s.subs[name].final {
					final = true
				}
			}
		}
		if final {
			break
		}
	}
	return out
}

// walk descends from s through the subsections named by path. It returns
// the subsection reached, or nil, and whether a subsection on the way was
// final.
func (s *section) walk(path []string) (*section, bool) {
	final := false
	for _, name := range path {
		s = s.subs[name]
		if s == nil {
			return nil, final
		}
		if s.final {
			final = true
		}
	}
	return s, final
}
