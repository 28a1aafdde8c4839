package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"hop/krb5"
)

// This file holds the client/server exchange (RFC 4120 §5.5): AP-REQ,
// Authenticator, AP-REP and EncAPRepPart.

// APReq is RFC 4120 §5.5.1's AP-REQ, [APPLICATION 14].
type APReq struct {
	Options       krb5.Flags
	Ticket        Ticket
	Authenticator EncryptedData
}

// Authenticator is RFC 4120 §5.5.1's Authenticator, [APPLICATION 2].
type Authenticator struct {
	CRealm            krb5.Realm
	CName             krb5.PrincipalName
	Cksum             *Checksum // nil: absent
	Cusec             int32
	CTime             time.Time
	SubKey            *EncryptionKey // nil: absent
	SeqNumber         *uint32        // nil: absent
	AuthorizationData AuthorizationData
}

// APRep is RFC 4120 §5.5.2's AP-REP, [APPLICATION 15].
type APRep struct {
	EncPart EncryptedData
}

// EncAPRepPart is RFC 4120 §5.5.2's EncAPRepPart, [APPLICATION 27].
type EncAPRepPart struct {
	CTime     time.Time
	Cusec     int32
	SubKey    *EncryptionKey // nil: absent
	SeqNumber *uint32        // nil: absent
}

// AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (14),
//     ap-options [2] APOptions, ticket [3] Ticket, authenticator [4] EncryptedData }

var apReqFields = []string{"pvno", "msg-type", "ap-options", "ticket", "authenticator"}

const apReqRequired = 1<<5 - 1

// ParseAPReq decodes an AP-REQ, such as the padata-value of PA-TGS-REQ.
func ParseAPReq(b []byte) (*APReq, error) {
	r := new(APReq)
	err := decodeMessage(b, int(krb5.MsgAPReq), apReqFields, apReqRequired, apReqRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "pvno")
		case 1:
			err = msgType(v, int(krb5.MsgAPReq))
		case 2:
			r.Options, err = flags(v)
		case 3:
			err = r.Ticket.decode(v)
		case 4:
			err = r.Authenticator.decode(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: AP-REQ: %w", err)
	}
	return r, nil
}

// Marshal encodes r.
func (r *APReq) Marshal() ([]byte, error) {
	b := newBuilder(64 + r.Ticket.size() + len(r.Authenticator.Cipher))
	addApplication(b, int(krb5.MsgAPReq), func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addInt(b, 1, int64(krb5.MsgAPReq))
		addFlags(b, 2, r.Options)
		b.AddASN1(explicit(3), r.Ticket.marshal)
		addEncryptedData(b, 4, &r.Authenticator)
	})
	return finish(b, "AP-REQ")
}

// Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0] INTEGER (5),
//     crealm [1] Realm, cname [2] PrincipalName, cksum [3] Checksum OPTIONAL,
//     cusec [4] Microseconds, ctime [5] KerberosTime, subkey [6] EncryptionKey OPTIONAL,
//     seq-number [7] UInt32 OPTIONAL, authorization-data [8] AuthorizationData OPTIONAL }

var authenticatorFields = []string{"authenticator-vno", "crealm", "cname", "cksum", "cusec", "ctime",
	"subkey", "seq-number", "authorization-data"}

const authenticatorRequired = 1<<0 | 1<<1 | 1<<2 | 1<<4 | 1<<5

// ParseAuthenticator decodes the plaintext of an AP-REQ's authenticator.
func ParseAuthenticator(b []byte) (*Authenticator, error) {
	a := new(Authenticator)
	err := decodeMessage(b, 2, authenticatorFields, 1<<9-1, authenticatorRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "authenticator-vno")
		case 1:
			a.CRealm, err = realm(v)
		case 2:
			a.CName, err = principalName(v)
		case 3:
			a.Cksum = new(Checksum)
			err = a.Cksum.decode(v)
		case 4:
			a.Cusec, err = int32Value(v)
		case 5:
			a.CTime, err = kerberosTime(v)
		case 6:
			a.SubKey, err = optKey(v)
		case 7:
			a.SeqNumber, err = optUint32(v)
		case 8:
			a.AuthorizationData, err = authorizationData(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: Authenticator: %w", err)
	}
	return a, nil
}

func optUint32(v cryptobyte.String) (*uint32, error) {
	x, err := uint32Value(v)
	if err != nil {
		return nil, err
	}
	return &x, nil
}

func optInt32(v cryptobyte.String) (*int32, error) {
	x, err := int32Value(v)
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// Marshal encodes a.
func (a *Authenticator) Marshal() ([]byte, error) {
	size := 160
	if a.Cksum != nil {
		size += len(a.Cksum.Sum)
	}
	for i := range a.AuthorizationData {
		size += len(a.AuthorizationData[i].Data) + 16
	}
	b := newBuilder(size)
	addApplication(b, 2, func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addRealm(b, 1, a.CRealm)
		addName(b, 2, a.CName)
		if a.Cksum != nil {
			b.AddASN1(explicit(3), a.Cksum.marshal)
		}
		addInt(b, 4, int64(a.Cusec))
		addTime(b, 5, a.CTime)
		if a.SubKey != nil {
			b.AddASN1(explicit(6), a.SubKey.marshal)
		}
		if a.SeqNumber != nil {
			addUint(b, 7, *a.SeqNumber)
		}
		if len(a.AuthorizationData) > 0 {
			b.AddASN1(explicit(8), a.AuthorizationData.marshal)
		}
	})
	return finish(b, "Authenticator")
}

// AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (15),
//     enc-part [2] EncryptedData }

var apRepFields = []string{"pvno", "msg-type", "enc-part"}

// ParseAPRep decodes an AP-REP.
func ParseAPRep(b []byte) (*APRep, error) {
	r := new(APRep)
	err := decodeMessage(b, int(krb5.MsgAPRep), apRepFields, 0b111, 0b111, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "pvno")
		case 1:
			err = msgType(v, int(krb5.MsgAPRep))
		case 2:
			err = r.EncPart.decode(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: AP-REP: %w", err)
	}
	return r, nil
}

// Marshal encodes r.
func (r *APRep) Marshal() ([]byte, error) {
	b := newBuilder(48 + len(r.EncPart.Cipher))
	addApplication(b, int(krb5.MsgAPRep), func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addInt(b, 1, int64(krb5.MsgAPRep))
		addEncryptedData(b, 2, &r.EncPart)
	})
	return finish(b, "AP-REP")
}

// EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0] KerberosTime, cusec [1] Microseconds,
//     subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }

var encAPRepPartFields = []string{"ctime", "cusec", "subkey", "seq-number"}

// ParseEncAPRepPart decodes the plaintext of an AP-REP's enc-part.
func ParseEncAPRepPart(b []byte) (*EncAPRepPart, error) {
	p := new(EncAPRepPart)
	err := decodeMessage(b, 27, encAPRepPartFields, 0b1111, 0b11, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			p.CTime, err = kerberosTime(v)
		case 1:
			p.Cusec, err = int32Value(v)
		case 2:
			p.SubKey, err = optKey(v)
		case 3:
			p.SeqNumber, err = optUint32(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: EncAPRepPart: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *EncAPRepPart) Marshal() ([]byte, error) {
	b := newBuilder(96)
	addApplication(b, 27, func(b *cryptobyte.Builder) {
		addTime(b, 0, p.CTime)
		addInt(b, 1, int64(p.Cusec))
		if p.SubKey != nil {
			b.AddASN1(explicit(2), p.SubKey.marshal)
		}
		if p.SeqNumber != nil {
			addUint(b, 3, *p.SeqNumber)
		}
	})
	return finish(b, "EncAPRepPart")
}
