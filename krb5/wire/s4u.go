package wire

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// This file holds the S4U2Self structures that padata.go does not:
// PA-S4U-X509-USER (MS-SFU §2.2.2), the checksum input of PA-FOR-USER
// (MS-SFU §2.2.1), and the KERB-ERROR-DATA e-data that carries an NTSTATUS
// in a KRB-ERROR (MS-KILE §2.2.1, §2.2.2).

// S4UUserID is MS-SFU §2.2.2's S4UUserID, the user-id of PA-S4U-X509-USER.
type S4UUserID struct {
	Nonce              uint32              // the nonce of the KDC-REQ-BODY
	CName              *krb5.PrincipalName // nil: absent
	CRealm             krb5.Realm
	SubjectCertificate []byte // empty: absent
	// Options is written when HasOptions is set or Options is non-zero;
	// a decoded value has HasOptions set whenever options was present.
	Options    krb5.Flags
	HasOptions bool
}

// PAS4UX509User is MS-SFU §2.2.2's PA-S4U-X509-USER (padata 130), in a
// TGS-REQ and echoed in the TGS-REP.
//
// Its checksum covers the DER of user-id as the client sent it (MIT's KDC
// verifies over the received bytes before re-encoding), so a decoded value
// keeps those bytes in RawUserID; Marshal writes RawUserID unchanged when it
// is non-nil, so clear it after changing UserID.
type PAS4UX509User struct {
	UserID    S4UUserID
	RawUserID []byte // the S4UUserID element as received
	Cksum     Checksum
}

// S4UUserID options (MS-SFU §2.2.2; MIT k5-int.h KRB5_S4U_OPTS_*). Bit 0
// is the most significant, as in every KerberosFlags.
const (
	// S4UOptCheckLogonHours asks the KDC to apply the user's logon hours.
	S4UOptCheckLogonHours = krb5.Flags(0x40000000) // bit 1
	// S4UOptUseReplyKeyUsage asks the KDC to sign the PA-S4U-X509-USER of
	// its reply with key usage 27 instead of 26 (Windows calls it
	// SIGNED_WITH_KUN_27); it is the only bit the reply echoes.
	S4UOptUseReplyKeyUsage = krb5.Flags(0x20000000) // bit 2
)

// S4UUserID ::= SEQUENCE { nonce [0] UInt32, cname [1] PrincipalName OPTIONAL,
//     crealm [2] Realm, subject-certificate [3] OCTET STRING OPTIONAL,
//     options [4] BIT STRING OPTIONAL, ... }

var s4uUserIDFields = []string{"nonce", "cname", "crealm", "subject-certificate", "options"}

func (u *S4UUserID) decode(v cryptobyte.String) error {
	*u = S4UUserID{}
	return decodeSequence(v, s4uUserIDFields, 0b11111, 0b101, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			u.Nonce, err = uint32Value(v)
		case 1:
			u.CName, err = optName(v)
		case 2:
			u.CRealm, err = realm(v)
		case 3:
			u.SubjectCertificate, err = optOctets(v)
		case 4:
			u.Options, err = flags(v)
			u.HasOptions = true
		}
		return err
	})
}

func (u *S4UUserID) marshal(b *cryptobyte.Builder) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addUint(b, 0, u.Nonce)
		if u.CName != nil {
			addName(b, 1, *u.CName)
		}
		addRealm(b, 2, u.CRealm)
		if len(u.SubjectCertificate) > 0 {
			addOctets(b, 3, u.SubjectCertificate)
		}
		if u.HasOptions || u.Options != 0 {
			addFlags(b, 4, u.Options)
		}
	})
}

// ParseS4UUserID decodes an S4UUserID.
func ParseS4UUserID(b []byte) (*S4UUserID, error) {
	return parseNew(b, "S4UUserID", (*S4UUserID).decode)
}

// Marshal encodes u. The KDC signs these bytes in the PA-S4U-X509-USER of
// its reply (MS-SFU §3.2.5.1.2).
func (u *S4UUserID) Marshal() ([]byte, error) {
	b := newBuilder(64 + len(u.SubjectCertificate))
	u.marshal(b)
	return finish(b, "S4UUserID")
}

// PA-S4U-X509-USER ::= SEQUENCE { user-id [0] S4UUserID, checksum [1] Checksum }

var paS4UX509UserFields = []string{"user-id", "checksum"}

// ParsePAS4UX509User decodes PA-S4U-X509-USER.
func ParsePAS4UX509User(b []byte) (*PAS4UX509User, error) {
	p := new(PAS4UX509User)
	err := decodeSequence(b, paS4UX509UserFields, 0b11, 0b11, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			var full cryptobyte.String
			if _, full, err = onlyFull(v, tagSequence); err == nil {
				if err = p.UserID.decode(full); err == nil {
					p.RawUserID = full
				}
			}
		case 1:
			err = p.Cksum.decode(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: PA-S4U-X509-USER: %w", err)
	}
	return p, nil
}

// Marshal encodes p, with RawUserID as user-id when it is non-nil.
func (p *PAS4UX509User) Marshal() ([]byte, error) {
	b := newBuilder(96 + len(p.RawUserID) + len(p.UserID.SubjectCertificate) + len(p.Cksum.Sum))
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(explicit(0), func(b *cryptobyte.Builder) {
			if p.RawUserID != nil {
				addRaw(b, p.RawUserID, tagSequence, "RawUserID")
			} else {
				p.UserID.marshal(b)
			}
		})
		b.AddASN1(explicit(1), p.Cksum.marshal)
	})
	return finish(b, "PA-S4U-X509-USER")
}

// ChecksumInput returns the bytes PA-FOR-USER's cksum covers (MS-SFU
// §2.2.1, "S4UByteArray"): the userName name-type as a little-endian 32-bit
// integer, then the name-string components, userRealm and auth-package,
// concatenated without separators or terminators. The strings are used as
// received, with no canonicalisation. The checksum is HMAC-MD5 (-138) with
// key usage 17 (krb5.UsagePAForUserCksum), keyed with the TGT session key.
func (p *PAForUser) ChecksumInput() []byte {
	n := 4 + len(p.UserRealm) + len(p.AuthPackage)
	for _, c := range p.UserName.Components {
		n += len(c)
	}
	out := make([]byte, 4, n)
	binary.LittleEndian.PutUint32(out, uint32(p.UserName.Type))
	for _, c := range p.UserName.Components {
		out = append(out, c...)
	}
	out = append(out, p.UserRealm...)
	return append(out, p.AuthPackage...)
}

// NTStatus is a Windows NTSTATUS code (MS-ERREF §2.3), which an Active
// Directory KDC adds to some KRB-ERRORs in KERB-ERROR-DATA.
type NTStatus uint32

// NTSTATUS codes a KDC sends (MS-ERREF §2.3.1; Samba
// libcli/util/ntstatus_err_table.txt).
const (
	StatusLogonFailure          NTStatus = 0xC000006D
	StatusWrongPassword         NTStatus = 0xC000006A
	StatusAccountRestriction    NTStatus = 0xC000006E
	StatusInvalidLogonHours     NTStatus = 0xC000006F
	StatusPasswordExpired       NTStatus = 0xC0000071
	StatusAccountDisabled       NTStatus = 0xC0000072
	StatusInsufficientResources NTStatus = 0xC000009A
	StatusNotSupported          NTStatus = 0xC00000BB
	StatusAccountExpired        NTStatus = 0xC0000193
	StatusNotFound              NTStatus = 0xC0000225
	StatusAccountLockedOut      NTStatus = 0xC0000234
	StatusNoMatch               NTStatus = 0xC0000272
)

var ntStatusNames = map[NTStatus]string{
	StatusLogonFailure:          "STATUS_LOGON_FAILURE",
	StatusWrongPassword:         "STATUS_WRONG_PASSWORD",
	StatusAccountRestriction:    "STATUS_ACCOUNT_RESTRICTION",
	StatusInvalidLogonHours:     "STATUS_INVALID_LOGON_HOURS",
	StatusPasswordExpired:       "STATUS_PASSWORD_EXPIRED",
	StatusAccountDisabled:       "STATUS_ACCOUNT_DISABLED",
	StatusInsufficientResources: "STATUS_INSUFFICIENT_RESOURCES",
	StatusNotSupported:          "STATUS_NOT_SUPPORTED",
	StatusAccountExpired:        "STATUS_ACCOUNT_EXPIRED",
	StatusNotFound:              "STATUS_NOT_FOUND",
	StatusAccountLockedOut:      "STATUS_ACCOUNT_LOCKED_OUT",
	StatusNoMatch:               "STATUS_NO_MATCH",
}

// String returns the code's MS-ERREF name, or its value in hexadecimal.
func (s NTStatus) String() string {
	if n, ok := ntStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("NTSTATUS(0x%08X)", uint32(s))
}

// KerbErrorData is MS-KILE §2.2.1's KERB-ERROR-DATA, the e-data of a
// KRB-ERROR that carries an NTSTATUS. Its tags are [1] and [2].
type KerbErrorData struct {
	DataType  int32
	DataValue []byte // empty: absent
}

// KerbErrTypeExtended is the data-type of KERB-ERROR-DATA whose data-value
// is a KERB_EXT_ERROR (MS-KILE §2.2.1).
const KerbErrTypeExtended = 3

// kerbExtErrorLen is the size of KERB_EXT_ERROR: status, reserved and
// flags, each a little-endian 32-bit integer (MS-KILE §2.2.2).
const kerbExtErrorLen = 12

// KERB_EXT_ERROR flags as Windows sets them: 1 always (MS-KILE §2.2.2),
// and 2 as well in errors answering a TGS-REQ (Samba raw_testcase.py
// expects 3 there; hdb-samba4.c sets 1, or 3 for a TGS-REQ).
const (
	kerbExtErrorFlagAS  = 1
	kerbExtErrorFlagTGS = 2
)

// KERB-ERROR-DATA ::= SEQUENCE { data-type [1] INTEGER, data-value [2] OCTET STRING OPTIONAL }

var kerbErrorDataFields = []string{"", "data-type", "data-value"}

// ParseKerbErrorData decodes KERB-ERROR-DATA.
func ParseKerbErrorData(b []byte) (*KerbErrorData, error) {
	e := new(KerbErrorData)
	err := decodeSequence(b, kerbErrorDataFields, 0b110, 0b10, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 1:
			e.DataType, err = int32Value(v)
		case 2:
			e.DataValue, err = optOctets(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: KERB-ERROR-DATA: %w", err)
	}
	return e, nil
}

// Marshal encodes e.
func (e *KerbErrorData) Marshal() ([]byte, error) {
	b := newBuilder(16 + len(e.DataValue))
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addInt(b, 1, int64(e.DataType))
		if len(e.DataValue) > 0 {
			addOctets(b, 2, e.DataValue)
		}
	})
	return finish(b, "KERB-ERROR-DATA")
}

// MarshalNTStatusEData returns the e-data that carries status in a
// KRB-ERROR, as an Active Directory KDC sends it: KERB-ERROR-DATA of type
// KERB_ERR_TYPE_EXTENDED whose value is KERB_EXT_ERROR (MS-KILE §2.2.1,
// §2.2.2), placed directly in e-data (not inside METHOD-DATA). Its flags
// are 3 in an error answering a TGS-REQ (tgs) and 1 otherwise.
func MarshalNTStatusEData(status NTStatus, tgs bool) ([]byte, error) {
	var v [kerbExtErrorLen]byte
	fl := uint32(kerbExtErrorFlagAS)
	if tgs {
		fl |= kerbExtErrorFlagTGS
	}
	binary.LittleEndian.PutUint32(v[0:], uint32(status))
	binary.LittleEndian.PutUint32(v[8:], fl)
	e := KerbErrorData{DataType: KerbErrTypeExtended, DataValue: v[:]}
	return e.Marshal()
}

// ParseNTStatusEData decodes the e-data of a KRB-ERROR as KERB-ERROR-DATA.
// When its data-type is KERB_ERR_TYPE_EXTENDED it returns the NTSTATUS of
// the KERB_EXT_ERROR and ext true; for another data-type, status 0 and ext
// false. A KERB_EXT_ERROR that is not 12 bytes long is an error; reserved
// and flags are not checked.
func ParseNTStatusEData(b []byte) (status NTStatus, ext bool, err error) {
	e, err := ParseKerbErrorData(b)
	if err != nil {
		return 0, false, err
	}
	if e.DataType != KerbErrTypeExtended {
		return 0, false, nil
	}
	if len(e.DataValue) != kerbExtErrorLen {
		return 0, false, fmt.Errorf("wire: KERB-ERROR-DATA: KERB_EXT_ERROR is %d bytes, not %d", len(e.DataValue), kerbExtErrorLen)
	}
	return NTStatus(binary.LittleEndian.Uint32(e.DataValue)), true, nil
}
