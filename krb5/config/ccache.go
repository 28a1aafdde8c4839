package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultCCacheName is MIT's built-in default credential cache (DEFCCNAME
// of a Linux build), before expansion.
const DefaultCCacheName = "FILE:/tmp/krb5cc_%{uid}"

// CCache names a credential cache as "TYPE:residual" does in KRB5CCNAME.
type CCache struct {
	Type string // "FILE", "DIR", "KEYRING", "KCM" or "MEMORY"
	// Residual is for FILE a path; for DIR a directory, or ":" and a path;
	// for KCM the name of a cache of the KCM server, "" for the server's
	// default cache of the user.
	Residual string
}

func (c CCache) String() string { return c.Type + ":" + c.Residual }

// unsupportedCCache explains, for each cache type MIT knows on Linux and
// hop does not read, what the type is.
var unsupportedCCache = map[string]string{
	"KEYRING": "a kernel keyring cache",
	"MEMORY":  "a cache in the memory of one process",
}

// ParseCCacheName splits a credential cache name as MIT's krb5_cc_resolve
// does: a name without ':' is a FILE cache's path; a one-letter prefix is a
// drive letter, so the whole name is a FILE path; otherwise the text before
// the first ':' is the type, case-sensitive. Types MIT does not know on
// Linux are an error; KEYRING and MEMORY are returned, and Path reports
// them as unsupported. KCM caches live in a KCM server (see KCMSocket), not
// in a file: Path reports that they have none.
func ParseCCacheName(name string) (CCache, error) {
	if name == "" {
		return CCache{}, errors.New("config: empty credential cache name")
	}
	i := strings.IndexByte(name, ':')
	if i < 0 {
		return CCache{Type: "FILE", Residual: name}, nil
	}
	if i == 1 && isASCIILetter(name[0]) {
		return CCache{Type: "FILE", Residual: name}, nil
	}
	typ := name[:i]
	if typ != "FILE" && typ != "DIR" && typ != "KCM" && unsupportedCCache[typ] == "" {
		return CCache{}, fmt.Errorf("config: credential cache %q: unknown cache type %q (want FILE:, DIR: or KCM:)", name, typ)
	}
	return CCache{Type: typ, Residual: name[i+1:]}, nil
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Path returns the file that holds the cache. For FILE it is the residual.
// For DIR:dir it is the cache that dir/primary names (MIT's DIR collection),
// or dir/tkt, the cache MIT creates there, when dir/primary does not exist;
// for DIR::path it is path. Path creates nothing. A KCM cache has no file;
// other types are errors that say what to set instead.
func (c CCache) Path() (string, error) {
	switch c.Type {
	case "FILE":
		if c.Residual == "" {
			return "", fmt.Errorf("config: credential cache %s: empty path", c)
		}
		return c.Residual, nil
	case "DIR":
		if p, ok := strings.CutPrefix(c.Residual, ":"); ok {
			if p == "" {
				return "", fmt.Errorf("config: credential cache %s: empty path", c)
			}
			return p, nil
		}
		if c.Residual == "" {
			return "", fmt.Errorf("config: credential cache %s: empty directory", c)
		}
		name, err := readPrimary(filepath.Join(c.Residual, "primary"))
		if errors.Is(err, fs.ErrNotExist) {
			name = "tkt"
		} else if err != nil {
			return "", fmt.Errorf("config: credential cache %s: %w", c, err)
		}
		return filepath.Join(c.Residual, name), nil
	case "KCM":
		return "", fmt.Errorf("config: credential cache %s is held by a KCM server (kcm_socket in krb5.conf), not in a file", c)
	}
	what := unsupportedCCache[c.Type]
	if what == "" {
		what = "a cache of an unknown type"
	}
	return "", fmt.Errorf("config: credential cache %s is %s; hop reads and writes FILE, DIR and KCM caches only: set KRB5CCNAME=FILE:/tmp/krb5cc_%d (or default_ccache_name in krb5.conf)", c, what, os.Getuid())
}

// readPrimary reads the name of the primary cache from a DIR collection's
// primary file, with MIT's checks (cc_dir.c, read_primary_file): one line
// of at most 63 bytes with its newline, starting with "tkt", naming a file
// in the directory.
func readPrimary(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64).ReadSlice('\n')
	if err != nil || len(line) > 63 {
		return "", fmt.Errorf("%s does not hold one short line", path)
	}
	name := string(line[:len(line)-1])
	if !strings.HasPrefix(name, "tkt") || strings.ContainsAny(name, "/\\") {
		return "", fmt.Errorf("%s contains an invalid cache name %q", path, name)
	}
	return name, nil
}

// CCacheName returns the default credential cache as MIT's
// krb5_cc_default_name finds it: KRB5CCNAME from getenv (taken as written;
// an empty value counts as unset), else [libdefaults] default_ccache_name,
// else DefaultCCacheName, the last two after parameter expansion (see
// ExpandPath). uid is the user's id.
func (c *Config) CCacheName(getenv func(string) string, uid int) (CCache, error) {
	if v := getenv("KRB5CCNAME"); v != "" {
		return ParseCCacheName(v)
	}
	name, ok := c.DefaultCCacheName()
	if !ok {
		name = DefaultCCacheName
	}
	expanded, err := ExpandPath(name, getenv, uid)
	if err != nil {
		return CCache{}, err
	}
	return ParseCCacheName(expanded)
}

// ExpandPath expands the parameters of MIT's krb5.conf(5) "Parameter
// expansion" that apply on Linux: %{TEMP} (TMPDIR from getenv, else /tmp),
// %{uid}, %{USERID} and %{euid} (all three uid: hop does not run set-uid),
// %{username} (uid's user name) and %{null} (nothing). %{LIBDIR},
// %{BINDIR} and %{SBINDIR} name MIT's installation directories, which hop
// does not know: they are errors, as are unknown parameters and a "%{"
// without its "}". Parameter names must be spelled in full (MIT also takes
// some prefixes).
func ExpandPath(s string, getenv func(string) string, uid int) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("config: %q: %%{ without }", s)
		}
		tok := s[i+2 : i+end]
		val, err := expandToken(tok, getenv, uid)
		if err != nil {
			return "", fmt.Errorf("config: %q: %w", s, err)
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

func expandToken(tok string, getenv func(string) string, uid int) (string, error) {
	switch tok {
	case "TEMP":
		if t := getenv("TMPDIR"); t != "" {
			return t, nil
		}
		return "/tmp", nil
	case "uid", "USERID", "euid":
		if uid < 0 {
			return "", fmt.Errorf("%%{%s}: negative uid %d", tok, uid)
		}
		return strconv.Itoa(uid), nil
	case "username":
		u, err := user.LookupId(strconv.Itoa(uid))
		if err != nil {
			return "", fmt.Errorf("%%{username}: %w", err)
		}
		return u.Username, nil
	case "null":
		return "", nil
	case "LIBDIR", "BINDIR", "SBINDIR":
		return "", fmt.Errorf("%%{%s} names a directory of MIT's installation, which hop does not know", tok)
	}
	return "", fmt.Errorf("unknown parameter %%{%s}", tok)
}
