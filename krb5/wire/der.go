package wire

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"hop/krb5"
)

// This file holds the DER decoding primitives: reading one element (tag,
// length, contents), the scalar types Kerberos uses, and the reader of
// explicitly tagged SEQUENCE components with extensibility (RFC 4120
// §5.1). encode.go holds their encoding counterparts.

// Bounds on SEQUENCE OF counts accepted from the wire (and written).
const (
	MaxPAData     = 64 // padata, METHOD-DATA, encrypted-pa-data
	MaxETypes     = 32 // KDC-REQ-BODY etype
	MaxTickets    = 16 // additional-tickets, KRB-CRED tickets and ticket-info
	MaxADEntries  = 64 // AuthorizationData elements
	MaxAddresses  = 32 // HostAddresses
	MaxLastReq    = 16 // LastReq entries
	MaxETypeInfo2 = 32 // ETYPE-INFO2 entries
	maxRealmLen   = krb5.MaxComponentLen
)

// ErrBadPVNO is wrapped by the error returned for a pvno, tkt-vno or
// authenticator-vno other than 5; the KDC answers it with KDC_ERR_BAD_PVNO
// or KRB_AP_ERR_BADVERSION.
var ErrBadPVNO = errors.New("wire: unsupported protocol version number")

// ErrMsgType is wrapped by the error returned when a message's msg-type does
// not match its application tag (KRB_AP_ERR_MSG_TYPE).
var ErrMsgType = errors.New("wire: msg-type does not match the message")

var (
	errMalformed = errors.New("malformed DER element")
	errTrailing  = errors.New("trailing data")
)

// versionError is a pvno, tkt-vno or authenticator-vno other than 5.
type versionError struct {
	field string
	got   int64
}

func (e *versionError) Error() string { return fmt.Sprintf("%s is %d, not 5", e.field, e.got) }

func (e *versionError) Is(target error) bool { return target == ErrBadPVNO }

// msgTypeError is a msg-type that differs from the application tag.
type msgTypeError struct{ got, want int64 }

func (e *msgTypeError) Error() string {
	return fmt.Sprintf("msg-type is %d in a message tagged [APPLICATION %d]", e.got, e.want)
}

func (e *msgTypeError) Is(target error) bool { return target == ErrMsgType }

// version decodes a pvno-like component, which must be 5.
func version(v cryptobyte.String, field string) error {
	x, err := integer(v)
	if err != nil {
		return err
	}
	if x != krb5.PVNO {
		return &versionError{field, x}
	}
	return nil
}

// msgType decodes a msg-type component, which must equal the application
// tag want.
func msgType(v cryptobyte.String, want int) error {
	x, err := integer(v)
	if err != nil {
		return err
	}
	if x != int64(want) {
		return &msgTypeError{x, int64(want)}
	}
	return nil
}

// tag is an ASN.1 identifier: the class in bits 30-31, the constructed flag
// in bit 29 and the tag number below.
type tag uint32

const (
	classUniversal   = 0
	classApplication = 1
	classContext     = 2

	constructed tag = 1 << 29
	numberMask  tag = constructed - 1

	tagBoolean         tag = 1
	tagInteger         tag = 2
	tagBitString       tag = 3
	tagOctetString     tag = 4
	tagUTF8String      tag = 12
	tagSequence        tag = constructed | 16
	tagPrintableString tag = 19
	tagIA5String       tag = 22
	tagGeneralizedTime tag = 24
	tagVisibleString   tag = 26
	tagGeneralString   tag = 27
)

func appTag(n int) tag { return classApplication<<30 | constructed | tag(n) }

func (t tag) class() int          { return int(t >> 30) }
func (t tag) number() uint32      { return uint32(t & numberMask) }
func (t tag) isConstructed() bool { return t&constructed != 0 }

func (t tag) String() string {
	var c string
	switch t.class() {
	case classUniversal:
		switch t &^ constructed {
		case tagBoolean:
			return "BOOLEAN"
		case tagInteger:
			return "INTEGER"
		case tagBitString:
			return "BIT STRING"
		case tagOctetString:
			return "OCTET STRING"
		case tagSequence &^ constructed:
			return "SEQUENCE"
		case tagGeneralizedTime:
			return "GeneralizedTime"
		case tagGeneralString:
			return "GeneralString"
		}
		c = "UNIVERSAL "
	case classApplication:
		c = "APPLICATION "
	case classContext:
		c = ""
	default:
		c = "PRIVATE "
	}
	return fmt.Sprintf("[%s%d]", c, t.number())
}

// readTLV reads one element from s: its tag, its contents and the whole
// element. It accepts high tag numbers (up to 28 bits) and long-form
// lengths that are not minimal, and rejects the indefinite length.
func readTLV(s *cryptobyte.String, t *tag, contents, full *cryptobyte.String) bool {
	in := *s
	if len(in) < 2 {
		return false
	}
	b0 := in[0]
	num := uint32(b0 & 0x1f)
	i := 1
	if num == 0x1f {
		num = 0
		for {
			if i >= len(in) || i > 4 {
				return false
			}
			c := in[i]
			i++
			num = num<<7 | uint32(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(in) {
		return false
	}
	l := int(in[i])
	i++
	var n uint64
	if l < 0x80 {
		n = uint64(l)
	} else {
		k := l & 0x7f
		if k == 0 || k > 4 || len(in)-i < k {
			return false
		}
		for j := 0; j < k; j++ {
			n = n<<8 | uint64(in[i])
			i++
		}
	}
	if n > uint64(len(in)-i) {
		return false
	}
	end := i + int(n)
	*t = tag(b0>>6)<<30 | tag(b0>>5&1)<<29 | tag(num)
	*contents = in[i:end:end]
	*full = in[:end:end]
	*s = in[end:]
	return true
}

func tagError(want, got tag) error {
	return fmt.Errorf("want %v, got %v", want, got)
}

// element reads one element of tag want from s and returns its contents.
func element(s *cryptobyte.String, want tag) (cryptobyte.String, error) {
	var t tag
	var c, full cryptobyte.String
	if !readTLV(s, &t, &c, &full) {
		return nil, errMalformed
	}
	if t != want {
		return nil, tagError(want, t)
	}
	return c, nil
}

// only returns the contents of the single element of tag want that v holds.
func only(v cryptobyte.String, want tag) (cryptobyte.String, error) {
	c, err := element(&v, want)
	if err != nil {
		return nil, err
	}
	if !v.Empty() {
		return nil, errTrailing
	}
	return c, nil
}

// onlyFull is only returning the whole element as well.
func onlyFull(v cryptobyte.String, want tag) (contents, full cryptobyte.String, err error) {
	var t tag
	if !readTLV(&v, &t, &contents, &full) {
		return nil, nil, errMalformed
	}
	if t != want {
		return nil, nil, tagError(want, t)
	}
	if !v.Empty() {
		return nil, nil, errTrailing
	}
	return contents, full, nil
}

// topLevel returns the SEQUENCE contents of a message b = [APPLICATION n]
// SEQUENCE {...}, with n one of apps, and the application tag seen.
func topLevel(b []byte, apps ...int) (cryptobyte.String, int, error) {
	s := cryptobyte.String(b)
	var t tag
	var c, full cryptobyte.String
	if !readTLV(&s, &t, &c, &full) {
		return nil, 0, errMalformed
	}
	n := -1
	for _, a := range apps {
		if t == appTag(a) {
			n = a
		}
	}
	if n < 0 {
		if len(apps) == 2 {
			return nil, 0, fmt.Errorf("want %v or %v, got %v", appTag(apps[0]), appTag(apps[1]), t)
		}
		return nil, 0, tagError(appTag(apps[0]), t)
	}
	if !s.Empty() {
		return nil, 0, fmt.Errorf("%w after the message", errTrailing)
	}
	seq, err := only(c, tagSequence)
	return seq, n, err
}

// fields reads the explicitly tagged components of a SEQUENCE. Tags must
// increase; components whose tag is not in known are skipped.
type fields struct {
	s     cryptobyte.String
	known uint64
	min   uint32
}

func newFields(seq cryptobyte.String, known uint64) fields {
	return fields{s: seq, known: known}
}

// next returns the next known component's tag number and the contents of
// its [n] wrapper; ok is false at the end of the SEQUENCE.
func (f *fields) next() (n uint32, v cryptobyte.String, ok bool, err error) {
	for !f.s.Empty() {
		var t tag
		var full cryptobyte.String
		if !readTLV(&f.s, &t, &v, &full) {
			return 0, nil, false, errMalformed
		}
		if t.class() != classContext {
			return 0, nil, false, fmt.Errorf("unexpected %v in SEQUENCE", t)
		}
		n = t.number()
		if n < f.min {
			return 0, nil, false, fmt.Errorf("component [%d] repeated or out of order", n)
		}
		f.min = n + 1
		if n >= 64 || f.known&(1<<n) == 0 {
			continue // an extension this decoder does not know
		}
		if !t.isConstructed() {
			return 0, nil, false, fmt.Errorf("component [%d] is not explicitly tagged", n)
		}
		return n, v, true, nil
	}
	return 0, nil, false, nil
}

// decodeFields is the skeleton of every SEQUENCE decoder: it reads the
// explicitly tagged components of seq in increasing tag order, skips those
// whose tag is not in known (extensions), calls field with each known one,
// names the component in field's error, and reports the first component
// of required that is absent. names gives the components' names by tag
// number, for error messages.
func decodeFields(seq cryptobyte.String, names []string, known, required uint64, field func(n uint32, v cryptobyte.String) error) error {
	f := newFields(seq, known)
	var have uint64
	for {
		n, v, ok, err := f.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		have |= 1 << n
		if err := field(n, v); err != nil {
			return fieldErr(names, n, err)
		}
	}
	return missing(have, required, names)
}

// decodeSequence is decodeFields for v holding exactly one SEQUENCE.
func decodeSequence(v cryptobyte.String, names []string, known, required uint64, field func(n uint32, v cryptobyte.String) error) error {
	seq, err := only(v, tagSequence)
	if err != nil {
		return err
	}
	return decodeFields(seq, names, known, required, field)
}

// decodeMessage is decodeFields for b holding exactly one message, an
// [APPLICATION app] SEQUENCE.
func decodeMessage(b []byte, app int, names []string, known, required uint64, field func(n uint32, v cryptobyte.String) error) error {
	seq, _, err := topLevel(b, app)
	if err != nil {
		return err
	}
	return decodeFields(seq, names, known, required, field)
}

// decodeNew decodes v into a new T with dec.
func decodeNew[T any](v cryptobyte.String, dec func(*T, cryptobyte.String) error) (*T, error) {
	x := new(T)
	if err := dec(x, v); err != nil {
		return nil, err
	}
	return x, nil
}

// parseNew is decodeNew for a Parse function: the error names the type.
func parseNew[T any](b []byte, name string, dec func(*T, cryptobyte.String) error) (*T, error) {
	x, err := decodeNew(b, dec)
	if err != nil {
		return nil, fmt.Errorf("wire: %s: %w", name, err)
	}
	return x, nil
}

// missing reports the first required component absent from have.
func missing(have, required uint64, names []string) error {
	if m := required &^ have; m != 0 {
		for i := 0; i < 64; i++ {
			if m&(1<<i) != 0 {
				name := fmt.Sprintf("[%d]", i)
				if i < len(names) && names[i] != "" {
					name = names[i]
				}
				return fmt.Errorf("missing %s", name)
			}
		}
	}
	return nil
}

// fieldErr names the component n of a structure in err.
func fieldErr(names []string, n uint32, err error) error {
	if int(n) < len(names) && names[n] != "" {
		return fmt.Errorf("%s: %w", names[n], err)
	}
	return fmt.Errorf("[%d]: %w", n, err)
}

// countElements counts the elements of a SEQUENCE OF's contents, failing
// past max.
func countElements(s cryptobyte.String, max int) (int, error) {
	n := 0
	for !s.Empty() {
		var t tag
		var c, full cryptobyte.String
		if !readTLV(&s, &t, &c, &full) {
			return 0, errMalformed
		}
		if n++; n > max {
			return 0, fmt.Errorf("more than %d entries", max)
		}
	}
	return n, nil
}

// Scalars. Each takes the contents of an explicit [n] wrapper.

// integer decodes an INTEGER of at most 64 bits, accepting redundant
// leading octets.
func integer(v cryptobyte.String) (int64, error) {
	c, err := only(v, tagInteger)
	if err != nil {
		return 0, err
	}
	if len(c) == 0 {
		return 0, errors.New("empty INTEGER")
	}
	for len(c) > 1 && (c[0] == 0 && c[1]&0x80 == 0 || c[0] == 0xff && c[1]&0x80 != 0) {
		c = c[1:]
	}
	if len(c) > 8 {
		return 0, errors.New("INTEGER out of range")
	}
	x := int64(int8(c[0]))
	for _, o := range c[1:] {
		x = x<<8 | int64(o)
	}
	return x, nil
}

func int32Value(v cryptobyte.String) (int32, error) {
	x, err := integer(v)
	if err != nil {
		return 0, err
	}
	if x < -1<<31 || x > 1<<31-1 {
		return 0, errors.New("INTEGER out of Int32 range")
	}
	return int32(x), nil
}

// int32As is int32Value for a named Int32 type such as krb5.EncType.
func int32As[T ~int32](v cryptobyte.String) (T, error) {
	x, err := int32Value(v)
	return T(x), err
}

// uint32Value decodes a UInt32, accepting the Int32 encoding of values at
// or above 2^31 that some implementations write.
func uint32Value(v cryptobyte.String) (uint32, error) {
	x, err := integer(v)
	if err != nil {
		return 0, err
	}
	if x < -1<<31 || x > 1<<32-1 {
		return 0, errors.New("INTEGER out of UInt32 range")
	}
	return uint32(x), nil
}

// boolean decodes a BOOLEAN; any non-zero octet is TRUE.
func boolean(v cryptobyte.String) (bool, error) {
	c, err := only(v, tagBoolean)
	if err != nil {
		return false, err
	}
	if len(c) != 1 {
		return false, errors.New("BOOLEAN is not one octet")
	}
	return c[0] != 0, nil
}

// flags decodes KerberosFlags of any length into 32 bits.
func flags(v cryptobyte.String) (krb5.Flags, error) {
	c, err := only(v, tagBitString)
	if err != nil {
		return 0, err
	}
	if len(c) == 0 || c[0] > 7 || len(c) == 1 && c[0] != 0 {
		return 0, errors.New("malformed BIT STRING")
	}
	unused, bits := c[0], c[1:]
	var buf [4]byte
	n := copy(buf[:], bits)
	if n == len(bits) && n > 0 {
		buf[n-1] &= 0xff << unused
	}
	return krb5.Flags(uint32(buf[0])<<24 | uint32(buf[1])<<16 | uint32(buf[2])<<8 | uint32(buf[3])), nil
}

// octets decodes an OCTET STRING; the result aliases v.
func octets(v cryptobyte.String) ([]byte, error) {
	c, err := only(v, tagOctetString)
	return []byte(c), err
}

// optOctets is octets for an OPTIONAL field: empty decodes to nil.
func optOctets(v cryptobyte.String) ([]byte, error) {
	c, err := octets(v)
	if len(c) == 0 {
		c = nil
	}
	return c, err
}

// kerberosString decodes a KerberosString of at most max bytes (0: any).
func kerberosString(v cryptobyte.String, max int) (string, error) {
	var t tag
	var c, full cryptobyte.String
	if !readTLV(&v, &t, &c, &full) {
		return "", errMalformed
	}
	if !v.Empty() {
		return "", errTrailing
	}
	if !isStringTag(t) {
		return "", tagError(tagGeneralString, t)
	}
	if max > 0 && len(c) > max {
		return "", fmt.Errorf("string longer than %d bytes", max)
	}
	return string(c), nil
}

func isStringTag(t tag) bool {
	switch t {
	case tagGeneralString, tagUTF8String, tagIA5String, tagVisibleString, tagPrintableString:
		return true
	}
	return false
}

func realm(v cryptobyte.String) (krb5.Realm, error) {
	s, err := kerberosString(v, maxRealmLen)
	return krb5.Realm(s), err
}

// kerberosTime decodes a GeneralizedTime "YYYYMMDDHHMMSS[.f]Z" (RFC 4120
// §5.2.3), discarding fractional seconds.
func kerberosTime(v cryptobyte.String) (time.Time, error) {
	c, err := only(v, tagGeneralizedTime)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseGeneralizedTime(c)
	if !ok {
		return time.Time{}, errors.New("malformed KerberosTime")
	}
	return t, nil
}

func parseGeneralizedTime(c []byte) (time.Time, bool) {
	if len(c) < 15 || c[len(c)-1] != 'Z' {
		return time.Time{}, false
	}
	if len(c) > 15 {
		frac := c[14 : len(c)-1]
		if len(frac) < 2 || frac[0] != '.' && frac[0] != ',' {
			return time.Time{}, false
		}
		for _, d := range frac[1:] {
			if d < '0' || d > '9' {
				return time.Time{}, false
			}
		}
	}
	var d [14]int
	for i := range d {
		if c[i] < '0' || c[i] > '9' {
			return time.Time{}, false
		}
		d[i] = int(c[i] - '0')
	}
	year := d[0]*1000 + d[1]*100 + d[2]*10 + d[3]
	month := time.Month(d[4]*10 + d[5])
	day := d[6]*10 + d[7]
	hour := d[8]*10 + d[9]
	minute := d[10]*10 + d[11]
	sec := d[12]*10 + d[13]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 30 February and the like
		return time.Time{}, false
	}
	return t, true
}
