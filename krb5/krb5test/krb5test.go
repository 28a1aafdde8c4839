// Package krb5test holds helpers for the tests of hop's Kerberos packages:
// byte fixtures written in hex and principals from their text form. Only
// tests import it.
package krb5test

import (
	"encoding/hex"
	"strings"
	"testing"

	"hop/krb5"
)

// Unhex decodes s, hex digits with any white space between them (fixtures
// are laid out as a dump), and fails the test if s is not hex.
func Unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("krb5test: %q is not hex: %v", s, err)
	}
	return b
}

// Principal parses s ("name/inst@REALM") and gives it the name type nt.
func Principal(t testing.TB, s string, nt krb5.NameType) krb5.Principal {
	t.Helper()
	p, err := krb5.ParsePrincipal(s)
	if err != nil {
		t.Fatalf("krb5test: %q: %v", s, err)
	}
	p.Name.Type = nt
	return p
}
