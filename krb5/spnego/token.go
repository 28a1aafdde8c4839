package spnego

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5/gssapi"
)

// Mechanism OIDs.
var (
	// OIDSPNEGO is SPNEGO itself (RFC 4178 §4.1).
	OIDSPNEGO = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	// OIDNTLM is Microsoft's NTLMSSP, which hop does not offer.
	OIDNTLM = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
	// OIDNegoEx is Microsoft's NEGOEX (MS-NEGOEX), which hop does not offer.
	OIDNegoEx = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 30}
)

// NegState is a NegTokenResp's negState (RFC 4178 §4.2.2).
type NegState int

// Negotiation states. NoState stands for an absent negState.
const (
	AcceptCompleted  NegState = 0
	AcceptIncomplete NegState = 1
	Reject           NegState = 2
	RequestMIC       NegState = 3
	NoState          NegState = -1
)

func (s NegState) String() string {
	switch s {
	case AcceptCompleted:
		return "accept-completed"
	case AcceptIncomplete:
		return "accept-incomplete"
	case Reject:
		return "reject"
	case RequestMIC:
		return "request-mic"
	case NoState:
		return "absent"
	}
	return fmt.Sprintf("negState(%d)", int(s))
}

// MaxMechTypes bounds the mechanism list ParseNegTokenInit accepts.
const MaxMechTypes = 32

// ErrDefectiveToken is wrapped by the errors for SPNEGO tokens that do not
// decode.
var ErrDefectiveToken = errors.New("spnego: defective token")

func defective(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDefectiveToken, fmt.Sprintf(format, args...))
}

// NegTokenInit is the initiator's first SPNEGO token (RFC 4178 §4.2.1),
// and Microsoft's NegTokenInit2 (MS-SPNG §2.2.1), whose negHints hop skips.
type NegTokenInit struct {
	MechTypes []asn1.ObjectIdentifier
	// RawMechTypes is the DER MechTypeList as received, which the
	// mechListMIC covers (RFC 4178 §5); Marshal sets it.
	RawMechTypes []byte
	ReqFlags     asn1.BitString // informational; RFC 4178 §4.2.1
	MechToken    []byte         // the optimistic token of MechTypes[0]
	MechListMIC  []byte
}

// NegTokenResp is every later SPNEGO token (RFC 4178 §4.2.2).
type NegTokenResp struct {
	NegState      NegState
	SupportedMech asn1.ObjectIdentifier
	ResponseToken []byte
	MechListMIC   []byte
}

func ctx(n int) cbasn1.Tag { return cbasn1.Tag(n).Constructed().ContextSpecific() }

// ParseNegTokenInit decodes an initiator's first token: an RFC 2743
// InitialContextToken of OIDSPNEGO holding the negTokenInit choice. Byte
// slices alias b.
func ParseNegTokenInit(b []byte) (*NegTokenInit, error) {
	oid, inner, err := gssapi.ParseInitialToken(b)
	if err != nil {
		return nil, defective("not an InitialContextToken")
	}
	if !oid.Equal(OIDSPNEGO) {
		return nil, defective("token of mechanism %v, not SPNEGO", oid)
	}
	s := cryptobyte.String(inner)
	var choice, seq cryptobyte.String
	if !s.ReadASN1(&choice, ctx(0)) || !s.Empty() || !choice.ReadASN1(&seq, cbasn1.SEQUENCE) || !choice.Empty() {
		return nil, defective("no negTokenInit")
	}
	t := new(NegTokenInit)
	var f cryptobyte.String
	var present bool
	if !seq.ReadASN1(&f, ctx(0)) {
		return nil, defective("NegTokenInit without mechTypes")
	}
	var list cryptobyte.String
	if !f.ReadASN1Element(&list, cbasn1.SEQUENCE) || !f.Empty() {
		return nil, defective("mechTypes is not a SEQUENCE")
	}
	t.RawMechTypes = list
	var elems cryptobyte.String
	if !list.ReadASN1(&elems, cbasn1.SEQUENCE) {
		return nil, defective("mechTypes is not a SEQUENCE")
	}
	for !elems.Empty() {
		if len(t.MechTypes) == MaxMechTypes {
			return nil, defective("more than %d mechanisms", MaxMechTypes)
		}
		var oid asn1.ObjectIdentifier
		if !elems.ReadASN1ObjectIdentifier(&oid) {
			return nil, defective("bad mechanism OID")
		}
		t.MechTypes = append(t.MechTypes, oid)
	}
	if !seq.ReadOptionalASN1(&f, &present, ctx(1)) {
		return nil, defective("bad reqFlags")
	}
	if present && (!f.ReadASN1BitString(&t.ReqFlags) || !f.Empty()) {
		return nil, defective("bad reqFlags")
	}
	if t.MechToken, err = optOctets(&seq, 2, "mechToken"); err != nil {
		return nil, err
	}
	// [3] is mechListMIC in RFC 4178 and negHints (a SEQUENCE) in
	// NegTokenInit2, whose mechListMIC is [4].
	if !seq.ReadOptionalASN1(&f, &present, ctx(3)) {
		return nil, defective("bad field [3]")
	}
	if present {
		if f.PeekASN1Tag(cbasn1.SEQUENCE) {
			if t.MechListMIC, err = optOctets(&seq, 4, "mechListMIC"); err != nil {
				return nil, err
			}
		} else if !f.ReadASN1Bytes(&t.MechListMIC, cbasn1.OCTET_STRING) || !f.Empty() {
			return nil, defective("bad mechListMIC")
		}
	}
	if !seq.Empty() {
		return nil, defective("unknown fields after the NegTokenInit")
	}
	return t, nil
}

func optOctets(s *cryptobyte.String, n int, name string) ([]byte, error) {
	var f cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&f, &present, ctx(n)) {
		return nil, defective("bad %s", name)
	}
	if !present {
		return nil, nil
	}
	var v []byte
	if !f.ReadASN1Bytes(&v, cbasn1.OCTET_STRING) || !f.Empty() {
		return nil, defective("bad %s", name)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Marshal encodes t as an InitialContextToken and sets t.RawMechTypes.
func (t *NegTokenInit) Marshal() ([]byte, error) {
	var lb cryptobyte.Builder
	lb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, m := range t.MechTypes {
			b.AddASN1ObjectIdentifier(m)
		}
	})
	list, err := lb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("spnego: encode mechTypes: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(ctx(0), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(ctx(0), func(b *cryptobyte.Builder) { b.AddBytes(list) })
			if t.ReqFlags.BitLength > 0 {
				b.AddASN1(ctx(1), func(b *cryptobyte.Builder) {
					b.AddASN1BitString(t.ReqFlags.Bytes)
				})
			}
			addOctets(b, 2, t.MechToken)
			addOctets(b, 3, t.MechListMIC)
		})
	})
	inner, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("spnego: encode NegTokenInit: %w", err)
	}
	t.RawMechTypes = list
	return gssapi.MarshalInitialToken(OIDSPNEGO, inner)
}

func addOctets(b *cryptobyte.Builder, n int, v []byte) {
	if v == nil {
		return
	}
	b.AddASN1(ctx(n), func(b *cryptobyte.Builder) { b.AddASN1OctetString(v) })
}

// ParseNegTokenResp decodes a NegTokenResp: the negTokenResp choice ([1]),
// or, as old Sun SPNEGO sent it and MIT krb5 accepts, the same framed as an
// InitialContextToken of OIDSPNEGO. Byte slices alias b.
func ParseNegTokenResp(b []byte) (*NegTokenResp, error) {
	s := cryptobyte.String(b)
	if len(b) > 0 && b[0] == 0x60 {
		oid, inner, err := gssapi.ParseInitialToken(b)
		if err != nil || !oid.Equal(OIDSPNEGO) {
			return nil, defective("framed NegTokenResp of another mechanism")
		}
		s = inner
	}
	var choice, seq cryptobyte.String
	if !s.ReadASN1(&choice, ctx(1)) || !s.Empty() || !choice.ReadASN1(&seq, cbasn1.SEQUENCE) || !choice.Empty() {
		return nil, defective("no negTokenResp")
	}
	t := &NegTokenResp{NegState: NoState}
	var f cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&f, &present, ctx(0)) {
		return nil, defective("bad negState")
	}
	if present {
		var st int
		if !f.ReadASN1Enum(&st) || !f.Empty() || st < 0 || st > 3 {
			return nil, defective("bad negState")
		}
		t.NegState = NegState(st)
	}
	if !seq.ReadOptionalASN1(&f, &present, ctx(1)) {
		return nil, defective("bad supportedMech")
	}
	if present {
		if !f.ReadASN1ObjectIdentifier(&t.SupportedMech) || !f.Empty() {
			return nil, defective("bad supportedMech")
		}
	}
	var err error
	if t.ResponseToken, err = optOctets(&seq, 2, "responseToken"); err != nil {
		return nil, err
	}
	if t.MechListMIC, err = optOctets(&seq, 3, "mechListMIC"); err != nil {
		return nil, err
	}
	if !seq.Empty() {
		return nil, defective("unknown fields after the NegTokenResp")
	}
	return t, nil
}

// Marshal encodes t as the negTokenResp choice.
func (t *NegTokenResp) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(ctx(1), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if t.NegState != NoState {
				b.AddASN1(ctx(0), func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(t.NegState)) })
			}
			if t.SupportedMech != nil {
				b.AddASN1(ctx(1), func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(t.SupportedMech) })
			}
			addOctets(b, 2, t.ResponseToken)
			addOctets(b, 3, t.MechListMIC)
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("spnego: encode NegTokenResp: %w", err)
	}
	return out, nil
}
