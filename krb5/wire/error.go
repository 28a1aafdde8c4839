package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"hop/krb5"
)

// KRBError is RFC 4120 §5.9.1's KRB-ERROR, [APPLICATION 30].
type KRBError struct {
	CTime     time.Time // zero: absent
	Cusec     int32     // 0: absent
	STime     time.Time
	Susec     int32
	ErrorCode krb5.ErrorCode
	CRealm    krb5.Realm          // "": absent
	CName     *krb5.PrincipalName // nil: absent
	Realm     krb5.Realm
	SName     krb5.PrincipalName
	EText     string // "": absent
	EData     []byte // empty: absent; METHOD-DATA for KDC_ERR_PREAUTH_REQUIRED
}

// KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (30),
//     ctime [2] KerberosTime OPTIONAL, cusec [3] Microseconds OPTIONAL, stime [4] KerberosTime,
//     susec [5] Microseconds, error-code [6] Int32, crealm [7] Realm OPTIONAL,
//     cname [8] PrincipalName OPTIONAL, realm [9] Realm, sname [10] PrincipalName,
//     e-text [11] KerberosString OPTIONAL, e-data [12] OCTET STRING OPTIONAL }

var krbErrorFields = []string{"pvno", "msg-type", "ctime", "cusec", "stime", "susec", "error-code",
	"crealm", "cname", "realm", "sname", "e-text", "e-data"}

const krbErrorRequired = 1<<0 | 1<<1 | 1<<4 | 1<<5 | 1<<6 | 1<<9 | 1<<10

// ParseKRBError decodes a KRB-ERROR.
func ParseKRBError(b []byte) (*KRBError, error) {
	e := new(KRBError)
	err := decodeMessage(b, int(krb5.MsgKRBError), krbErrorFields, 1<<13-1, krbErrorRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "pvno")
		case 1:
			err = msgType(v, int(krb5.MsgKRBError))
		case 2:
			e.CTime, err = kerberosTime(v)
		case 3:
			e.Cusec, err = int32Value(v)
		case 4:
			e.STime, err = kerberosTime(v)
		case 5:
			e.Susec, err = int32Value(v)
		case 6:
			e.ErrorCode, err = int32As[krb5.ErrorCode](v)
		case 7:
			e.CRealm, err = realm(v)
		case 8:
			e.CName, err = optName(v)
		case 9:
			e.Realm, err = realm(v)
		case 10:
			e.SName, err = principalName(v)
		case 11:
			e.EText, err = kerberosString(v, 0)
		case 12:
			e.EData, err = optOctets(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: KRB-ERROR: %w", err)
	}
	return e, nil
}

// Marshal encodes e.
func (e *KRBError) Marshal() ([]byte, error) {
	b := newBuilder(160 + len(e.EText) + len(e.EData))
	addApplication(b, int(krb5.MsgKRBError), func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addInt(b, 1, int64(krb5.MsgKRBError))
		addOptTime(b, 2, e.CTime)
		if e.Cusec != 0 {
			addInt(b, 3, int64(e.Cusec))
		}
		addTime(b, 4, e.STime)
		addInt(b, 5, int64(e.Susec))
		addInt(b, 6, int64(e.ErrorCode))
		if e.CRealm != "" {
			addRealm(b, 7, e.CRealm)
		}
		if e.CName != nil {
			addName(b, 8, *e.CName)
		}
		addRealm(b, 9, e.Realm)
		addName(b, 10, e.SName)
		if e.EText != "" {
			addString(b, 11, e.EText)
		}
		if len(e.EData) > 0 {
			addOctets(b, 12, e.EData)
		}
	})
	return finish(b, "KRB-ERROR")
}
