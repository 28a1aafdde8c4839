package jea

import (
	"errors"
	"fmt"
	"strings"
)

// MaxCommandLen bounds the command line [Split] accepts, in bytes.
const MaxCommandLen = (MaxArgs + 1) * (MaxArgLen + 3)

// Split splits a command line into words with shell-like quoting and nothing
// else: words are separated by unquoted spaces, tabs, CR or LF; '…' quotes
// everything up to the next '; "…" quotes everything up to the next
// unescaped ", where a backslash escapes only $ ` " \ and newline (POSIX
// sh §2.2.3) and is kept before any other character; an unquoted backslash
// escapes the next character; backslash-newline is removed. There is no
// expansion of any kind: ; | & $( ` > < * ~ # are ordinary characters of a
// word. Unbalanced quotes, a trailing backslash and NUL bytes are errors.
// An empty or blank line gives no words and no error.
func Split(cmd string) ([]string, error) {
	if len(cmd) > MaxCommandLen {
		return nil, fmt.Errorf("jea: command line is %d bytes, longer than %d", len(cmd), MaxCommandLen)
	}
	if strings.IndexByte(cmd, 0) >= 0 {
		return nil, errors.New("jea: command line contains a NUL byte")
	}
	var (
		words  = []string{}
		word   strings.Builder
		inWord bool
	)
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case '\'':
			j := strings.IndexByte(cmd[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("jea: command line has an unbalanced single quote")
			}
			word.WriteString(cmd[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case '"':
			inWord = true
			closed := false
			for i++; i < len(cmd); i++ {
				c := cmd[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(cmd) {
					switch n := cmd[i+1]; n {
					case '$', '`', '"', '\\':
						word.WriteByte(n)
						i++
						continue
					case '\n':
						i++
						continue
					}
				}
				word.WriteByte(c)
			}
			if !closed {
				return nil, errors.New("jea: command line has an unbalanced double quote")
			}
		case '\\':
			if i+1 >= len(cmd) {
				return nil, errors.New("jea: command line ends with a backslash")
			}
			i++
			if cmd[i] == '\n' {
				continue // line continuation
			}
			word.WriteByte(cmd[i])
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// Join is the inverse of [Split]: it quotes each word so that Split(Join(argv))
// returns argv (for words without NUL bytes). Words made only of letters,
// digits and _ @ % + = : , . / - are written as they are; others are single
// quoted, a ' inside written as '\”. The result is also a safe POSIX shell
// command line. It is meant for logs and transcripts; it does not make
// control characters printable (see [Policy.Check]'s reasons for that).
func Join(argv []string) string {
	var b strings.Builder
	for i, w := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteWord(w))
	}
	return b.String()
}

func quoteWord(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool { return !isPlainWordRune(r) }) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func isPlainWordRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("_@%+=:,./-", r)
}
