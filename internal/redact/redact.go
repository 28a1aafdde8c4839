// Package redact is how hop's types that hold key material, passwords or
// one-time tokens print: every fmt verb (%v %+v %#v %s %x %d %q …) prints the
// type's own description, never a field. It is a standard-library leaf so
// that the Kerberos packages, the directory and the admin API share one rule.
package redact

import (
	"fmt"
	"io"
	"strconv"
)

// Format writes s for every verb, goString for %#v, and s quoted for %q.
// A type's Format method calls it with its String and GoString.
func Format(f fmt.State, verb rune, s, goString string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		s = goString
	case verb == 'q':
		s = strconv.Quote(s)
	}
	io.WriteString(f, s)
}

// Secret describes a secret string by whether it is set: "redacted" or
// "none".
func Secret(s string) string {
	if s == "" {
		return "none"
	}
	return "redacted"
}
