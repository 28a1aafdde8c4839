package krb5

import (
	"errors"
	"fmt"
	"strings"
)

// NameType is a principal name type (RFC 4120 §6.2, RFC 6806 §5).
type NameType int32

// Name types.
const (
	NTUnknown     NameType = 0
	NTPrincipal   NameType = 1
	NTSrvInst     NameType = 2
	NTSrvHst      NameType = 3
	NTSrvXHst     NameType = 4
	NTUID         NameType = 5
	NTX500        NameType = 6
	NTSMTPName    NameType = 7
	NTEnterprise  NameType = 10
	NTWellKnown   NameType = 11
	NTMSPrincipal NameType = -128
)

func (t NameType) String() string {
	switch t {
	case NTUnknown:
		return "NT-UNKNOWN"
	case NTPrincipal:
		return "NT-PRINCIPAL"
	case NTSrvInst:
		return "NT-SRV-INST"
	case NTSrvHst:
		return "NT-SRV-HST"
	case NTSrvXHst:
		return "NT-SRV-XHST"
	case NTUID:
		return "NT-UID"
	case NTX500:
		return "NT-X500-PRINCIPAL"
	case NTSMTPName:
		return "NT-SMTP-NAME"
	case NTEnterprise:
		return "NT-ENTERPRISE"
	case NTWellKnown:
		return "NT-WELLKNOWN"
	case NTMSPrincipal:
		return "NT-MS-PRINCIPAL"
	}
	return fmt.Sprintf("name-type(%d)", int32(t))
}

// Realm is a Kerberos realm name. Realms compare case-insensitively in hop
// (as in Active Directory); Canonical gives the upper-case form hop issues.
type Realm string

// Canonical returns the realm in upper case.
func (r Realm) Canonical() Realm { return Realm(strings.ToUpper(string(r))) }

// Equal reports whether two realm names name the same realm.
func (r Realm) Equal(o Realm) bool { return strings.EqualFold(string(r), string(o)) }

func (r Realm) String() string { return string(r) }

// MaxNameComponents and MaxComponentLen bound what hop accepts in a name.
const (
	MaxNameComponents = 16
	MaxComponentLen   = 1024
)

// PrincipalName is a name type and its components (RFC 4120 §5.2.2).
type PrincipalName struct {
	Type       NameType
	Components []string
}

// NewName returns a principal name of the given type.
func NewName(t NameType, components ...string) PrincipalName {
	return PrincipalName{Type: t, Components: components}
}

// String renders the components joined by "/", with "/", "@" and "\"
// escaped by a backslash, as MIT's krb5_unparse_name does (no realm).
func (n PrincipalName) String() string {
	var b strings.Builder
	for i, c := range n.Components {
		if i > 0 {
			b.WriteByte('/')
		}
		for j := 0; j < len(c); j++ {
			switch ch := c[j]; ch {
			case '/', '@', '\\':
				b.WriteByte('\\')
				b.WriteByte(ch)
			case 0:
				b.WriteString(`\0`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteByte(ch)
			}
		}
	}
	return b.String()
}

// Equal compares two names component by component, ignoring the name type
// (RFC 4120 §6.2: the type is a hint and does not take part in comparisons).
func (n PrincipalName) Equal(o PrincipalName) bool {
	if len(n.Components) != len(o.Components) {
		return false
	}
	for i := range n.Components {
		if n.Components[i] != o.Components[i] {
			return false
		}
	}
	return true
}

// IsZero reports whether the name has no components.
func (n PrincipalName) IsZero() bool { return len(n.Components) == 0 }

// Principal is a name in a realm.
type Principal struct {
	Name  PrincipalName
	Realm Realm
}

func (p Principal) String() string {
	if p.Realm == "" {
		return p.Name.String()
	}
	return p.Name.String() + "@" + escapeRealm(string(p.Realm))
}

func escapeRealm(r string) string {
	if !strings.ContainsAny(r, `@\/`) {
		return r
	}
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		if c := r[i]; c == '@' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(r[i])
	}
	return b.String()
}

// ErrBadName is wrapped by ParsePrincipal's errors.
var ErrBadName = errors.New("invalid principal name")

// ParsePrincipal parses "comp/comp@REALM" in MIT's syntax: "/" separates
// components, the last unescaped "@" starts the realm, and a backslash escapes
// the next character. The realm may be absent. Name type NT-PRINCIPAL is used
// for one component and NT-SRV-INST for more; callers override it as needed.
func ParsePrincipal(s string) (Principal, error) {
	if s == "" {
		return Principal{}, fmt.Errorf("krb5: %w: empty name", ErrBadName)
	}
	var (
		comps        []string
		cur          strings.Builder
		realm        strings.Builder
		inRealm, esc bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if esc {
			esc = false
			switch c {
			case '0':
				c = 0
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			}
			if inRealm {
				realm.WriteByte(c)
			} else {
				cur.WriteByte(c)
			}
			continue
		}
		switch {
		case c == '\\':
			esc = true
		case c == '/' && !inRealm:
			comps = append(comps, cur.String())
			cur.Reset()
		case c == '@' && !inRealm:
			inRealm = true
		case c == '@' && inRealm:
			return Principal{}, fmt.Errorf("krb5: %w: %q has more than one realm separator", ErrBadName, s)
		case inRealm:
			realm.WriteByte(c)
		default:
			cur.WriteByte(c)
		}
	}
	if esc {
		return Principal{}, fmt.Errorf("krb5: %w: %q ends with a lone backslash", ErrBadName, s)
	}
	comps = append(comps, cur.String())
	if len(comps) > MaxNameComponents {
		return Principal{}, fmt.Errorf("krb5: %w: %q has more than %d components", ErrBadName, s, MaxNameComponents)
	}
	for _, c := range comps {
		if c == "" {
			return Principal{}, fmt.Errorf("krb5: %w: %q has an empty component", ErrBadName, s)
		}
		if len(c) > MaxComponentLen {
			return Principal{}, fmt.Errorf("krb5: %w: a component of %q is longer than %d bytes", ErrBadName, s, MaxComponentLen)
		}
	}
	if inRealm && realm.Len() == 0 {
		return Principal{}, fmt.Errorf("krb5: %w: %q has an empty realm", ErrBadName, s)
	}
	t := NTPrincipal
	if len(comps) > 1 {
		t = NTSrvInst
	}
	return Principal{Name: PrincipalName{Type: t, Components: comps}, Realm: Realm(realm.String())}, nil
}
