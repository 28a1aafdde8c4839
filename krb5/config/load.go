package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPath is the krb5.conf read when KRB5_CONFIG is not set.
const DefaultPath = "/etc/krb5.conf"

// Load reads the client configuration as MIT's krb5_init_context does: the
// files named by KRB5_CONFIG (colon-separated; a leading "~/" is the home
// directory, from HOME), or DefaultPath when KRB5_CONFIG is unset or empty.
// getenv is the environment (os.Getenv, or a map's lookup in tests). Files
// that do not exist are skipped, as are unreadable ones unless none can be
// read; with no file at all the configuration is empty, not an error. A
// syntax error in any file, or an include that fails, is an error.
func Load(getenv func(string) string) (*Config, error) {
	spec := getenv("KRB5_CONFIG")
	fromEnv := spec != ""
	if spec == "" {
		spec = DefaultPath
	}
	paths := strings.Split(spec, ":")
	for i, p := range paths {
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			if home := homeDir(getenv); home != "" {
				paths[i] = home + "/" + rest
			}
		}
	}
	c, err := LoadFiles(paths...)
	if c != nil {
		c.fromEnv = fromEnv
	}
	return c, err
}

// homeDir is HOME, else the home directory of the real user (MIT's
// profile_open_file).
func homeDir(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		return u.HomeDir
	}
	return ""
}

// LoadFiles reads the configuration files at paths, in order of precedence
// (MIT's profile_init_flags): a path that does not exist is skipped; one
// that cannot be read for lack of permission is skipped too, but if every
// path was skipped and one of them for that reason, LoadFiles returns that
// error. A path naming a directory reads the directory's files as
// includedir does. Every other error (syntax, a failed include) is returned.
func LoadFiles(paths ...string) (*Config, error) {
	b := &budget{}
	c := &Config{}
	var accessErr error
	for _, p := range paths {
		if p != "" {
			c.searched = append(c.searched, p)
		}
		f, err := b.loadTop(p)
		var pe *ParseError
		switch {
		case err == nil:
			c.files = append(c.files, f)
		case errors.As(err, &pe):
			// A syntax error, or an include that failed (even for
			// a missing file): MIT fails too.
			return nil, err
		case errors.Is(err, fs.ErrNotExist):
			continue
		case errors.Is(err, fs.ErrPermission): // EACCES or EPERM
			if accessErr == nil {
				accessErr = err
			}
		default:
			return nil, err
		}
	}
	if len(c.files) == 0 && accessErr != nil {
		return nil, accessErr
	}
	return c, nil
}

// ParseFile parses the krb5.conf at path and the files it includes (or,
// for a directory, its files as includedir reads them). A missing file is
// an error here (LoadFiles skips it).
func ParseFile(path string) (*File, error) {
	return (&budget{}).loadTop(path)
}

// budget bounds the files and bytes read by one LoadFiles or ParseFile.
type budget struct {
	files int
	bytes int64
}

// loadTop parses the file or directory at path as one tree. Errors in the
// contents, includes among them, are *ParseError; errors opening path itself
// are not, and wrap the *fs.PathError.
func (b *budget) loadTop(path string) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	inc := &osIncluder{budget: b}
	t := &tree{root: &section{}, inc: inc}
	if fi.IsDir() {
		// MIT's profile_process_directory: the directory's files as
		// by includedir, into one tree.
		if err := inc.includeDir(t, path); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return nil, err
			}
			return nil, &ParseError{Path: path, Err: err}
		}
		return &File{name: path, root: t.root}, nil
	}
	data, fi, err := inc.read(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	inc.chain = append(inc.chain, fi)
	if err := t.parse(path, data); err != nil {
		return nil, err
	}
	return &File{name: path, root: t.root}, nil
}

// osIncluder reads included files from the operating system's file system.
type osIncluder struct {
	budget *budget
	chain  []os.FileInfo // the files being parsed, outermost first
}

// read reads the file at path within the budget. A directory reads as an
// empty file, as MIT's fopen and fgets make it.
func (inc *osIncluder) read(path string) ([]byte, os.FileInfo, error) {
	b := inc.budget
	if b.files >= MaxFiles {
		return nil, nil, fmt.Errorf("%s: more than %d files to read", path, MaxFiles)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	b.files++
	if fi.IsDir() {
		return nil, fi, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	b.bytes += int64(len(data))
	if b.bytes > MaxTotalSize {
		return nil, nil, fmt.Errorf("%s: more than %d bytes read in all", path, MaxTotalSize)
	}
	return data, fi, nil
}

func (inc *osIncluder) include(t *tree, path string) error {
	if t.depth >= MaxIncludeDepth {
		return fmt.Errorf("include %s: includes nested deeper than %d levels", path, MaxIncludeDepth)
	}
	data, fi, err := inc.read(path)
	if err != nil {
		return fmt.Errorf("include %s: %w", path, err)
	}
	for _, open := range inc.chain {
		if os.SameFile(open, fi) {
			return fmt.Errorf("include %s: an include cycle (the file is already being read)", path)
		}
	}
	inc.chain = append(inc.chain, fi)
	t.depth++
	err = t.parse(path, data)
	t.depth--
	inc.chain = inc.chain[:len(inc.chain)-1]
	return err
}

func (inc *osIncluder) includeDir(t *tree, dir string) error {
	if t.depth >= MaxIncludeDepth {
		return fmt.Errorf("includedir %s: includes nested deeper than %d levels", dir, MaxIncludeDepth)
	}
	ents, err := os.ReadDir(dir) // sorted by name, in byte order
	if err != nil {
		return fmt.Errorf("includedir %s: %w", dir, err)
	}
	for _, e := range ents {
		if !includableName(e.Name()) {
			continue
		}
		if err := inc.include(t, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// includableName reports whether includedir reads the file name (MIT's
// valid_name): not a dotfile, and either ending in ".conf" or made of
// letters, digits, '-' and '_' only. This leaves out editor backups
// ("krb5.conf~") and package manager leftovers ("x.conf.rpmsave").
func includableName(name string) bool {
	if name == "" || name[0] == '.' {
		return false
	}
	if strings.HasSuffix(name, ".conf") {
		return true
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
