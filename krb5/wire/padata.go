package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// This file holds the padata-value structures hop reads and writes:
// PA-ENC-TS-ENC and ETYPE-INFO2 (RFC 4120 §5.2.7), KERB-PA-PAC-REQUEST and
// PA-PAC-OPTIONS (MS-KILE §2.2.3, §2.2.10) and PA-FOR-USER (MS-SFU
// §2.2.1). METHOD-DATA is in types.go.

// PAEncTSEnc is RFC 4120 §5.2.7.2's PA-ENC-TS-ENC, the plaintext of
// PA-ENC-TIMESTAMP.
type PAEncTSEnc struct {
	PATimestamp time.Time
	PAUsec      *int32 // nil: absent
}

// ETypeInfo2Entry is RFC 4120 §5.2.7.5's ETYPE-INFO2-ENTRY.
type ETypeInfo2Entry struct {
	EType     krb5.EncType
	Salt      *string // nil: absent (the default salt)
	S2KParams []byte  // empty: absent
}

// PAPACRequest is MS-KILE §2.2.3's KERB-PA-PAC-REQUEST.
type PAPACRequest struct {
	IncludePAC bool
}

// PAForUser is MS-SFU §2.2.1's PA-FOR-USER (S4U2Self).
type PAForUser struct {
	UserName    krb5.PrincipalName
	UserRealm   krb5.Realm
	Cksum       Checksum
	AuthPackage string
}

// PAPACOptions is MS-KILE §2.2.10's PA-PAC-OPTIONS.
type PAPACOptions struct {
	Flags krb5.Flags
}

// PA-PAC-OPTIONS flags (MS-KILE §2.2.10, MS-SFU §2.2.5).
var (
	PACOptClaims                  = krb5.Bit(0)
	PACOptBranchAware             = krb5.Bit(1)
	PACOptForwardToFullDC         = krb5.Bit(2)
	PACOptResourceBasedDelegation = krb5.Bit(3)
)

// PA-ENC-TS-ENC ::= SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds OPTIONAL }

var paEncTSEncFields = []string{"patimestamp", "pausec"}

// ParsePAEncTSEnc decodes the plaintext of PA-ENC-TIMESTAMP.
func ParsePAEncTSEnc(b []byte) (*PAEncTSEnc, error) {
	p := new(PAEncTSEnc)
	err := decodeSequence(b, paEncTSEncFields, 0b11, 1, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			p.PATimestamp, err = kerberosTime(v)
		case 1:
			p.PAUsec, err = optInt32(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: PA-ENC-TS-ENC: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *PAEncTSEnc) Marshal() ([]byte, error) {
	b := newBuilder(32)
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addTime(b, 0, p.PATimestamp)
		if p.PAUsec != nil {
			addInt(b, 1, int64(*p.PAUsec))
		}
	})
	return finish(b, "PA-ENC-TS-ENC")
}

// ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY
// ETYPE-INFO2-ENTRY ::= SEQUENCE { etype [0] Int32, salt [1] KerberosString OPTIONAL,
//     s2kparams [2] OCTET STRING OPTIONAL }

var etypeInfo2Fields = []string{"etype", "salt", "s2kparams"}

func (e *ETypeInfo2Entry) decode(v cryptobyte.String) error {
	*e = ETypeInfo2Entry{}
	return decodeSequence(v, etypeInfo2Fields, 0b111, 1, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			e.EType, err = int32As[krb5.EncType](v)
		case 1:
			var s string
			s, err = kerberosString(v, 0)
			e.Salt = &s
		case 2:
			e.S2KParams, err = optOctets(v)
		}
		return err
	})
}

// ParseETypeInfo2 decodes ETYPE-INFO2, the salts and string-to-key
// parameters a KDC offers (RFC 4120 §5.2.7.5).
func ParseETypeInfo2(b []byte) ([]ETypeInfo2Entry, error) {
	e, err := seqOf(b, MaxETypeInfo2, tagSequence, (*ETypeInfo2Entry).decode)
	if err != nil {
		return nil, fmt.Errorf("wire: ETYPE-INFO2: %w", err)
	}
	return e, nil
}

// MarshalETypeInfo2 encodes ETYPE-INFO2.
func MarshalETypeInfo2(entries []ETypeInfo2Entry) ([]byte, error) {
	b := newBuilder(16 + 64*len(entries))
	if checkCount(b, "ETYPE-INFO2", len(entries), MaxETypeInfo2) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range entries {
				e := &entries[i]
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					addInt(b, 0, int64(e.EType))
					if e.Salt != nil {
						addString(b, 1, *e.Salt)
					}
					if len(e.S2KParams) > 0 {
						addOctets(b, 2, e.S2KParams)
					}
				})
			}
		})
	}
	return finish(b, "ETYPE-INFO2")
}

// KERB-PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN }

// ParsePAPACRequest decodes KERB-PA-PAC-REQUEST.
func ParsePAPACRequest(b []byte) (*PAPACRequest, error) {
	p := new(PAPACRequest)
	err := decodeSequence(b, []string{"include-pac"}, 1, 1, func(_ uint32, v cryptobyte.String) (err error) {
		p.IncludePAC, err = boolean(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: KERB-PA-PAC-REQUEST: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *PAPACRequest) Marshal() ([]byte, error) {
	b := newBuilder(8)
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { addBool(b, 0, p.IncludePAC) })
	return finish(b, "KERB-PA-PAC-REQUEST")
}

// PA-FOR-USER ::= SEQUENCE { userName [0] PrincipalName, userRealm [1] Realm,
//     cksum [2] Checksum, auth-package [3] KerberosString }

var paForUserFields = []string{"userName", "userRealm", "cksum", "auth-package"}

// ParsePAForUser decodes PA-FOR-USER.
func ParsePAForUser(b []byte) (*PAForUser, error) {
	p := new(PAForUser)
	err := decodeSequence(b, paForUserFields, 0b1111, 0b1111, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			p.UserName, err = principalName(v)
		case 1:
			p.UserRealm, err = realm(v)
		case 2:
			err = p.Cksum.decode(v)
		case 3:
			p.AuthPackage, err = kerberosString(v, 0)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: PA-FOR-USER: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *PAForUser) Marshal() ([]byte, error) {
	b := newBuilder(96 + len(p.Cksum.Sum))
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addName(b, 0, p.UserName)
		addRealm(b, 1, p.UserRealm)
		b.AddASN1(explicit(2), p.Cksum.marshal)
		addString(b, 3, p.AuthPackage)
	})
	return finish(b, "PA-FOR-USER")
}

// PA-PAC-OPTIONS ::= SEQUENCE { KerbFlags [0] PAC-OPTIONS-FLAGS }

// ParsePAPACOptions decodes PA-PAC-OPTIONS.
func ParsePAPACOptions(b []byte) (*PAPACOptions, error) {
	p := new(PAPACOptions)
	err := decodeSequence(b, []string{"KerbFlags"}, 1, 1, func(_ uint32, v cryptobyte.String) (err error) {
		p.Flags, err = flags(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: PA-PAC-OPTIONS: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *PAPACOptions) Marshal() ([]byte, error) {
	b := newBuilder(16)
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { addFlags(b, 0, p.Flags) })
	return finish(b, "PA-PAC-OPTIONS")
}
