package gssapi

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Mechanism OIDs.
var (
	// OIDKerberos is the Kerberos V5 mechanism (RFC 1964 §1).
	OIDKerberos = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	// OIDKerberosMS is the OID Microsoft's SPNEGO uses for Kerberos V5
	// (a mis-encoding of OIDKerberos that stuck; MS-KILE §3.1.5.11).
	OIDKerberosMS = asn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2}
)

// IsKerberos reports whether oid names the Kerberos V5 mechanism, under
// either OID.
func IsKerberos(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(OIDKerberos) || oid.Equal(OIDKerberosMS)
}

// Token IDs (RFC 4121 §4.1, §4.2.6).
const (
	tokAPReq    = 0x0100
	tokAPRep    = 0x0200
	tokKRBError = 0x0300
	tokMIC      = 0x0404
	tokWrap     = 0x0504
)

// ErrDefectiveToken is wrapped by the errors for tokens that do not decode
// (RFC 2743 GSS_S_DEFECTIVE_TOKEN).
var ErrDefectiveToken = errors.New("gssapi: defective token")

func defective(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDefectiveToken, fmt.Sprintf(format, args...))
}

// MarshalInitialToken frames inner as an RFC 2743 §3.1 InitialContextToken
// of mechanism mech: [APPLICATION 0] { OID, inner }.
func MarshalInitialToken(mech asn1.ObjectIdentifier, inner []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(0x60), func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(mech)
		b.AddBytes(inner)
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("gssapi: encode token framing: %w", err)
	}
	return out, nil
}

// ParseInitialToken undoes MarshalInitialToken: it returns the mechanism
// OID and the inner token (which aliases b). The length must be DER and
// cover b exactly.
func ParseInitialToken(b []byte) (asn1.ObjectIdentifier, []byte, error) {
	s := cryptobyte.String(b)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.Tag(0x60)) || !s.Empty() {
		return nil, nil, defective("not an RFC 2743 InitialContextToken")
	}
	var oid asn1.ObjectIdentifier
	if !body.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, defective("no mechanism OID in the token framing")
	}
	return oid, body, nil
}

// krbToken frames a Kerberos message with its TOK_ID (RFC 4121 §4.1).
func krbToken(mech asn1.ObjectIdentifier, tokID uint16, msg []byte) ([]byte, error) {
	inner := make([]byte, 2+len(msg))
	inner[0], inner[1] = byte(tokID>>8), byte(tokID)
	copy(inner[2:], msg)
	return MarshalInitialToken(mech, inner)
}

// parseKrbToken reads a framed Kerberos mechanism token: its OID, TOK_ID
// and message.
func parseKrbToken(b []byte) (asn1.ObjectIdentifier, uint16, []byte, error) {
	oid, inner, err := ParseInitialToken(b)
	if err != nil {
		return nil, 0, nil, err
	}
	if !IsKerberos(oid) {
		return nil, 0, nil, fmt.Errorf("%w: mechanism %v is not Kerberos V5", ErrBadMech, oid)
	}
	if len(inner) < 2 {
		return nil, 0, nil, defective("no TOK_ID")
	}
	return oid, uint16(inner[0])<<8 | uint16(inner[1]), inner[2:], nil
}

// ErrBadMech is wrapped by the error for a token of another mechanism
// (RFC 2743 GSS_S_BAD_MECH).
var ErrBadMech = errors.New("gssapi: not the Kerberos V5 mechanism")
