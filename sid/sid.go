// Package sid is the security identifier of Windows domains ([MS-DTYP]
// §2.4.2) in its string and binary forms, and the well-known SIDs hop uses.
// It imports only the standard library, so the PAC codec, the KDC, the
// directory and the remoting agent share one type without depending on each
// other.
package sid

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error of New, Parse and ParseBytes; the
// error text says what was wrong with the input.
var ErrInvalid = errors.New("sid: invalid security identifier")

// Well-known SIDs ([MS-DTYP] §2.4.2.4) that hop's Kerberos code puts in or
// reads from a PAC ([MS-PAC] §2.2.1, [MS-SFU] §3.2.5.1.2).
var (
	// AuthenticationAuthorityAsserted (S-1-18-1) marks an identity the KDC
	// authenticated from the user's own credentials.
	AuthenticationAuthorityAsserted = SID{auth: 18, n: 1, sub: [maxSubAuthorities]uint32{1}}
	// ServiceAsserted (S-1-18-2, SERVICE_ASSERTED_IDENTITY) marks an
	// identity a service asserted through protocol transition (S4U2Self).
	ServiceAsserted = SID{auth: 18, n: 1, sub: [maxSubAuthorities]uint32{2}}
)

// invalidError says what is wrong with a SID and wraps ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return "sid: " + e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{fmt.Sprintf(format, args...)}
}

// maxSubAuthorities is the most sub-authorities a SID has ([MS-DTYP] §2.4.2).
const maxSubAuthorities = 15

// SID is a security identifier ([MS-DTYP] §2.4.2): revision 1, a 48-bit
// identifier authority and up to 15 32-bit sub-authorities. SIDs are values;
// compare them with Equal (or ==).
type SID struct {
	auth uint64
	n    uint8
	sub  [maxSubAuthorities]uint32
}

// New returns the SID with the given authority and sub-authorities.
func New(authority uint64, subs ...uint32) (SID, error) {
	if authority >= 1<<48 {
		return SID{}, invalid("SID identifier authority %d does not fit in 48 bits", authority)
	}
	if len(subs) > maxSubAuthorities {
		return SID{}, invalid("a SID has at most %d sub-authorities, not %d", maxSubAuthorities, len(subs))
	}
	s := SID{auth: authority, n: uint8(len(subs))}
	copy(s.sub[:], subs)
	return s, nil
}

// IsZero reports whether s is the zero SID (no authority, no sub-authorities).
func (s SID) IsZero() bool { return s == SID{} }

// Equal reports whether s and o are the same SID.
func (s SID) Equal(o SID) bool { return s == o }

// Authority returns the identifier authority.
func (s SID) Authority() uint64 { return s.auth }

// SubAuthorities returns a copy of the sub-authorities.
func (s SID) SubAuthorities() []uint32 { return append([]uint32(nil), s.sub[:s.n]...) }

// RID returns the last sub-authority (the relative identifier of an account
// SID), or 0 when there is none.
func (s SID) RID() uint32 {
	if s.n == 0 {
		return 0
	}
	return s.sub[s.n-1]
}

// Append returns s with rid added as its last sub-authority. A SID that
// already has 15 sub-authorities cannot grow: Append then returns the zero
// SID.
func (s SID) Append(rid uint32) SID {
	if s.n >= maxSubAuthorities {
		return SID{}
	}
	s.sub[s.n] = rid
	s.n++
	return s
}

// String returns the "S-1-5-21-x-y-z" form ([MS-DTYP] §2.4.2.1); the zero
// SID is "S-1-0".
func (s SID) String() string {
	b := make([]byte, 0, 16+11*int(s.n))
	b = append(b, "S-1-"...)
	if s.auth < 1<<32 {
		b = strconv.AppendUint(b, s.auth, 10)
	} else {
		const hexdigits = "0123456789ABCDEF"
		b = append(b, "0x"...)
		for i := 44; i >= 0; i -= 4 {
			b = append(b, hexdigits[(s.auth>>uint(i))&0xf])
		}
	}
	for _, v := range s.sub[:s.n] {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return string(b)
}

// Parse parses the string form "S-1-<authority>(-<sub-authority>)*"
// ([MS-DTYP] §2.4.2.1). The authority is decimal below 2^32 or hexadecimal
// "0x" followed by 12 digits.
func Parse(str string) (SID, error) {
	if len(str) > 256 {
		return SID{}, invalid("SID string is too long (%d bytes)", len(str))
	}
	bad := func(why string) (SID, error) {
		return SID{}, invalid("%q is not a SID (%s); a SID looks like S-1-5-21-1004336348-1177238915-682003330-512", str, why)
	}
	if len(str) < 2 || (str[0] != 'S' && str[0] != 's') || str[1] != '-' {
		return bad(`it must begin with "S-"`)
	}
	parts := strings.Split(str[2:], "-")
	if len(parts) < 2 {
		return bad("it has no identifier authority")
	}
	if parts[0] != "1" {
		return bad("only revision 1 exists")
	}
	var s SID
	a := parts[1]
	switch {
	case strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X"):
		if len(a) != 14 {
			return bad("a hexadecimal authority has exactly 12 digits")
		}
		v, err := strconv.ParseUint(a[2:], 16, 48)
		if err != nil {
			return bad("bad hexadecimal authority")
		}
		s.auth = v
	default:
		v, err := parseDecimal32(a)
		if err != nil {
			return bad("bad authority")
		}
		s.auth = uint64(v)
	}
	subs := parts[2:]
	if len(subs) > maxSubAuthorities {
		return bad("more than 15 sub-authorities")
	}
	for i, p := range subs {
		v, err := parseDecimal32(p)
		if err != nil {
			return bad("bad sub-authority " + strconv.Itoa(i+1))
		}
		s.sub[i] = v
	}
	s.n = uint8(len(subs))
	return s, nil
}

// parseDecimal32 accepts only plain decimal digits (no sign, no spaces).
func parseDecimal32(p string) (uint32, error) {
	if p == "" || len(p) > 10 {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	v, err := strconv.ParseUint(p, 10, 32)
	return uint32(v), err
}

// Bytes returns the binary form ([MS-DTYP] §2.4.2.2): revision, count,
// authority (6 bytes, big-endian), sub-authorities (4 bytes each,
// little-endian), as it appears in an MS-PAC.
func (s SID) Bytes() []byte {
	b := make([]byte, 8+4*int(s.n))
	b[0] = 1
	b[1] = s.n
	for i := 0; i < 6; i++ {
		b[2+i] = byte(s.auth >> (8 * uint(5-i)))
	}
	for i, v := range s.sub[:s.n] {
		binary.LittleEndian.PutUint32(b[8+4*i:], v)
	}
	return b
}

// ParseBytes decodes the binary form written by Bytes; b must hold exactly
// one SID.
func ParseBytes(b []byte) (SID, error) {
	if len(b) < 8 {
		return SID{}, invalid("binary SID is %d bytes, shorter than its 8-byte header", len(b))
	}
	if b[0] != 1 {
		return SID{}, invalid("binary SID has revision %d; only revision 1 exists", b[0])
	}
	n := int(b[1])
	if n > maxSubAuthorities {
		return SID{}, invalid("binary SID claims %d sub-authorities; at most %d exist", n, maxSubAuthorities)
	}
	if len(b) != 8+4*n {
		return SID{}, invalid("binary SID with %d sub-authorities must be %d bytes, not %d", n, 8+4*n, len(b))
	}
	var s SID
	for i := 0; i < 6; i++ {
		s.auth = s.auth<<8 | uint64(b[2+i])
	}
	for i := 0; i < n; i++ {
		s.sub[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	s.n = uint8(n)
	return s, nil
}

// MarshalText implements encoding.TextMarshaler; the zero SID is "".
func (s SID) MarshalText() ([]byte, error) {
	if s.IsZero() {
		return nil, nil
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; "" is the zero SID.
func (s *SID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = SID{}
		return nil
	}
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
