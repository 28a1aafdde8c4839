package thirdparty

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// DefaultToolsDir is where scripts/install-test-deps installs when
// HOP_TOOLS_DIR is not set.
const DefaultToolsDir = "/opt/hop-tools"

// maxEnvFile bounds the env file read by the helpers; the real one is ~2 KiB.
const maxEnvFile = 1 << 20

var (
	envFileOnce sync.Once
	envFileVars map[string]string
	envFileErr  error
)

// toolsEnvFile returns the path of the env file written by install-test-deps.
func toolsEnvFile() string {
	dir := os.Getenv("HOP_TOOLS_DIR")
	if dir == "" {
		dir = DefaultToolsDir
	}
	return filepath.Join(dir, "env")
}

// lookupEnv returns the value of the variable name from the process
// environment or, when it is not set there, from the env file written by
// scripts/install-test-deps.
func lookupEnv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v, true
	}
	envFileOnce.Do(func() {
		b, err := os.ReadFile(toolsEnvFile())
		if err != nil {
			envFileErr = err
			return
		}
		if len(b) > maxEnvFile {
			envFileErr = fmt.Errorf("thirdparty: %s is larger than %d bytes", toolsEnvFile(), maxEnvFile)
			return
		}
		envFileVars, envFileErr = ParseEnvFile(b)
	})
	v, ok := envFileVars[name]
	return v, ok && v != ""
}

// ParseEnvFile decodes the shell exports written by scripts/install-test-deps:
// lines "export NAME=VALUE" or "NAME=VALUE", where VALUE is a shell word as
// bash's printf %q writes it (backslash escapes, '...', "..." and $'...'
// quoting). Blank lines and lines starting with # are ignored. It returns an
// error for any other line rather than guess.
func ParseEnvFile(b []byte) (map[string]string, error) {
	vars := make(map[string]string)
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, word, ok := strings.Cut(line, "=")
		if !ok || !validEnvName(name) {
			return nil, fmt.Errorf("thirdparty: env file line %d: not NAME=VALUE", i+1)
		}
		v, err := unquoteShellWord(word)
		if err != nil {
			return nil, fmt.Errorf("thirdparty: env file line %d: %w", i+1, err)
		}
		vars[name] = v
	}
	return vars, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

var errUnterminated = errors.New("unterminated quote")

// unquoteShellWord decodes one shell word: unquoted characters with
// backslash escapes, '...' (literal), "..." (backslash escapes only before
// $ ` " \ and newline) and $'...' (ANSI-C escapes). Unquoted spaces,
// expansions ($, `) and globs are rejected: the file is data, not a script.
func unquoteShellWord(w string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(w); {
		c := w[i]
		switch {
		case c == '\\':
			if i+1 >= len(w) {
				return "", errors.New("trailing backslash")
			}
			out.WriteByte(w[i+1])
			i += 2
		case c == '\'':
			j := strings.IndexByte(w[i+1:], '\'')
			if j < 0 {
				return "", errUnterminated
			}
			out.WriteString(w[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			i++
			for {
				if i >= len(w) {
					return "", errUnterminated
				}
				d := w[i]
				if d == '"' {
					i++
					break
				}
				if d == '$' || d == '`' {
					return "", errors.New("expansion inside double quotes")
				}
				if d == '\\' && i+1 < len(w) && strings.IndexByte("$`\"\\\n", w[i+1]) >= 0 {
					out.WriteByte(w[i+1])
					i += 2
					continue
				}
				out.WriteByte(d)
				i++
			}
		case c == '$' && i+1 < len(w) && w[i+1] == '\'':
			n, err := unquoteANSIC(&out, w[i+2:])
			if err != nil {
				return "", err
			}
			i += 2 + n
		case shellSpecial(c, i == 0):
			return "", fmt.Errorf("unquoted %q", c)
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

// shellSpecial reports whether the shell would give the unquoted byte c a
// meaning other than itself (first: c starts the word).
func shellSpecial(c byte, first bool) bool {
	if first && (c == '#' || c == '~') {
		return true
	}
	return strings.IndexByte(" \t\n$`|&;<>()*?[]{}!", c) >= 0
}

// unquoteANSIC decodes the body of $'...' from s (just after the opening
// quote) into out and returns how many bytes of s it used, closing quote
// included.
func unquoteANSIC(out *strings.Builder, s string) (int, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\'' {
			return i + 1, nil
		}
		if c != '\\' {
			out.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return 0, errUnterminated
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'a':
			out.WriteByte('\a')
		case 'b':
			out.WriteByte('\b')
		case 'e', 'E':
			out.WriteByte(0x1b)
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'v':
			out.WriteByte('\v')
		case '\\', '\'', '"', '?':
			out.WriteByte(e)
		case 'x':
			n := 0
			for n < 2 && i+n < len(s) && isHex(s[i+n]) {
				n++
			}
			if n == 0 {
				return 0, errors.New(`\x without hex digits`)
			}
			v, _ := strconv.ParseUint(s[i:i+n], 16, 8)
			out.WriteByte(byte(v))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := 1
			for n < 3 && i-1+n < len(s) && '0' <= s[i-1+n] && s[i-1+n] <= '7' {
				n++
			}
			v, _ := strconv.ParseUint(s[i-1:i-1+n], 8, 16)
			out.WriteByte(byte(v))
			i += n - 1
		default:
			// bash keeps unknown escapes as written.
			out.WriteByte('\\')
			out.WriteByte(e)
		}
	}
	return 0, errUnterminated
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
