package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// This file holds the private message of RFC 4120 §5.7 (KRB-PRIV and its
// encrypted part) and the ChangePasswdData that RFC 3244 §2 carries in it.

// KRBPriv is RFC 4120 §5.7.1's KRB-PRIV, [APPLICATION 21]: user data
// encrypted in the session key or subkey of an authentication exchange
// (usage 13, krb5.UsageKRBPrivEncPart).
type KRBPriv struct {
	EncPart EncryptedData
}

// EncKRBPrivPart is RFC 4120 §5.7.1's EncKrbPrivPart, [APPLICATION 28].
//
// RFC 4120 makes s-address mandatory, but Heimdal's krb5_mk_priv leaves it
// out when its auth context has no local address, so the decoder accepts a
// part without it (SAddress nil) and the encoder writes it only when set.
type EncKRBPrivPart struct {
	UserData  []byte
	Timestamp time.Time    // zero: absent
	Usec      *int32       // nil: absent
	SeqNumber *uint32      // nil: absent
	SAddress  *HostAddress // nil: absent (see above)
	RAddress  *HostAddress // nil: absent
}

// ChangePasswdData is RFC 3244 §2's ChangePasswdData, the user-data of the
// KRB-PRIV of a set-password request (protocol version 0xff80): the new
// password and, to set another principal's, its name and realm.
type ChangePasswdData struct {
	NewPasswd []byte
	TargName  *krb5.PrincipalName // nil: absent
	TargRealm krb5.Realm          // "": absent
}

// KRB-PRIV ::= [APPLICATION 21] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (21),
//     -- there is no [2] tag
//     enc-part [3] EncryptedData }

var krbPrivFields = []string{"pvno", "msg-type", "", "enc-part"}

const krbPrivRequired = 1<<0 | 1<<1 | 1<<3

// ParseKRBPriv decodes a KRB-PRIV.
func ParseKRBPriv(b []byte) (*KRBPriv, error) {
	p := new(KRBPriv)
	err := decodeMessage(b, int(krb5.MsgKRBPriv), krbPrivFields, krbPrivRequired, krbPrivRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "pvno")
		case 1:
			err = msgType(v, int(krb5.MsgKRBPriv))
		case 3:
			err = p.EncPart.decode(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: KRB-PRIV: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *KRBPriv) Marshal() ([]byte, error) {
	b := newBuilder(40 + len(p.EncPart.Cipher))
	addApplication(b, int(krb5.MsgKRBPriv), func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addInt(b, 1, int64(krb5.MsgKRBPriv))
		addEncryptedData(b, 3, &p.EncPart)
	})
	return finish(b, "KRB-PRIV")
}

// EncKrbPrivPart ::= [APPLICATION 28] SEQUENCE { user-data [0] OCTET STRING,
//     timestamp [1] KerberosTime OPTIONAL, usec [2] Microseconds OPTIONAL,
//     seq-number [3] UInt32 OPTIONAL, s-address [4] HostAddress,
//     r-address [5] HostAddress OPTIONAL }

var encKRBPrivPartFields = []string{"user-data", "timestamp", "usec", "seq-number", "s-address", "r-address"}

// ParseEncKRBPrivPart decodes the plaintext of a KRB-PRIV's enc-part.
func ParseEncKRBPrivPart(b []byte) (*EncKRBPrivPart, error) {
	p := new(EncKRBPrivPart)
	err := decodeMessage(b, 28, encKRBPrivPartFields, 1<<6-1, 1, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			p.UserData, err = octets(v)
		case 1:
			p.Timestamp, err = kerberosTime(v)
		case 2:
			p.Usec, err = optInt32(v)
		case 3:
			p.SeqNumber, err = optUint32(v)
		case 4:
			p.SAddress, err = optHostAddress(v)
		case 5:
			p.RAddress, err = optHostAddress(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: EncKrbPrivPart: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *EncKRBPrivPart) Marshal() ([]byte, error) {
	b := newBuilder(96 + len(p.UserData))
	addApplication(b, 28, func(b *cryptobyte.Builder) {
		addOctets(b, 0, p.UserData)
		addOptTime(b, 1, p.Timestamp)
		if p.Usec != nil {
			addInt(b, 2, int64(*p.Usec))
		}
		if p.SeqNumber != nil {
			addUint(b, 3, *p.SeqNumber)
		}
		if p.SAddress != nil {
			b.AddASN1(explicit(4), p.SAddress.marshal)
		}
		if p.RAddress != nil {
			b.AddASN1(explicit(5), p.RAddress.marshal)
		}
	})
	return finish(b, "EncKrbPrivPart")
}

// ChangePasswdData ::= SEQUENCE { newpasswd [0] OCTET STRING,
//     targname [1] PrincipalName OPTIONAL, targrealm [2] Realm OPTIONAL }
//
// RFC 3244 §2 asks servers to ignore fields after targrealm: the
// extensibility rule of the field reader does that.

var changePasswdDataFields = []string{"newpasswd", "targname", "targrealm"}

// ParseChangePasswdData decodes RFC 3244's ChangePasswdData.
func ParseChangePasswdData(b []byte) (*ChangePasswdData, error) {
	c := new(ChangePasswdData)
	err := decodeSequence(b, changePasswdDataFields, 0b111, 1, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			c.NewPasswd, err = octets(v)
		case 1:
			c.TargName, err = optName(v)
		case 2:
			c.TargRealm, err = realm(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: ChangePasswdData: %w", err)
	}
	return c, nil
}

// Marshal encodes c.
func (c *ChangePasswdData) Marshal() ([]byte, error) {
	b := newBuilder(64 + len(c.NewPasswd))
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addOctets(b, 0, c.NewPasswd)
		if c.TargName != nil {
			addName(b, 1, *c.TargName)
		}
		if c.TargRealm != "" {
			addRealm(b, 2, c.TargRealm)
		}
	})
	return finish(b, "ChangePasswdData")
}
