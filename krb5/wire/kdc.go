package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// This file holds the KDC exchanges (RFC 4120 §5.4): AS-REQ/TGS-REQ,
// AS-REP/TGS-REP and the encrypted part of a reply.

// KDCReqBody is RFC 4120 §5.4.1's KDC-REQ-BODY.
type KDCReqBody struct {
	Options           krb5.Flags
	CName             *krb5.PrincipalName // nil: absent
	Realm             krb5.Realm
	SName             *krb5.PrincipalName // nil: absent
	From, Till, RTime time.Time           // zero: absent
	Nonce             uint32
	ETypes            []krb5.EncType
	Addresses         []HostAddress
	EncAuthData       *EncryptedData
	AdditionalTickets []Ticket
}

// KDCReq is RFC 4120 §5.4.1's AS-REQ [APPLICATION 10] or TGS-REQ
// [APPLICATION 12]; MsgType says which.
type KDCReq struct {
	MsgType krb5.MsgType
	PAData  []PAData
	Body    KDCReqBody
	// RawBody is the req-body's exact DER as received; the PA-TGS-REQ
	// authenticator checksum covers these bytes. Marshal writes RawBody
	// when it is non-nil and encodes Body otherwise.
	RawBody []byte
}

// KDCRep is RFC 4120 §5.4.2's AS-REP [APPLICATION 11] or TGS-REP
// [APPLICATION 13]; MsgType says which.
type KDCRep struct {
	MsgType krb5.MsgType
	PAData  []PAData
	CRealm  krb5.Realm
	CName   krb5.PrincipalName
	Ticket  Ticket
	EncPart EncryptedData
}

// EncKDCRepPart is RFC 4120 §5.4.2's EncKDCRepPart, tagged EncASRepPart
// [APPLICATION 25] or EncTGSRepPart [APPLICATION 26].
type EncKDCRepPart struct {
	Key           EncryptionKey
	LastReq       []LastReq
	Nonce         uint32
	KeyExpiration time.Time // zero: absent
	Flags         krb5.Flags
	AuthTime      time.Time
	StartTime     time.Time // zero: absent
	EndTime       time.Time
	RenewTill     time.Time // zero: absent
	SRealm        krb5.Realm
	SName         krb5.PrincipalName
	CAddr         []HostAddress
	EncPAData     []PAData // RFC 6806 §11 encrypted-pa-data
}

// Application tags of EncKDCRepPart.
const (
	TagEncASRepPart  = 25
	TagEncTGSRepPart = 26
)

// MsgTypeOf peeks at the application tag of a Kerberos message without
// decoding it; ok is false when b does not start like one of RFC 4120's
// messages.
func MsgTypeOf(b []byte) (t krb5.MsgType, ok bool) {
	if len(b) < 2 || b[0]&0xe0 != 0x60 {
		return 0, false
	}
	switch t := krb5.MsgType(b[0] & 0x1f); t {
	case krb5.MsgASReq, krb5.MsgASRep, krb5.MsgTGSReq, krb5.MsgTGSRep, krb5.MsgAPReq, krb5.MsgAPRep,
		krb5.MsgKRBSafe, krb5.MsgKRBPriv, krb5.MsgKRBCred, krb5.MsgKRBError:
		return t, true
	}
	return 0, false
}

func msgName(t krb5.MsgType) string {
	switch t {
	case krb5.MsgASReq:
		return "AS-REQ"
	case krb5.MsgTGSReq:
		return "TGS-REQ"
	case krb5.MsgASRep:
		return "AS-REP"
	case krb5.MsgTGSRep:
		return "TGS-REP"
	}
	return fmt.Sprintf("message %d", int32(t))
}

// KDC-REQ-BODY ::= SEQUENCE { kdc-options [0] KDCOptions, cname [1] PrincipalName OPTIONAL,
//     realm [2] Realm, sname [3] PrincipalName OPTIONAL, from [4] KerberosTime OPTIONAL,
//     till [5] KerberosTime, rtime [6] KerberosTime OPTIONAL, nonce [7] UInt32,
//     etype [8] SEQUENCE OF Int32, addresses [9] HostAddresses OPTIONAL,
//     enc-authorization-data [10] EncryptedData OPTIONAL,
//     additional-tickets [11] SEQUENCE OF Ticket OPTIONAL }
//
// till is decoded as optional (Heimdal treats a missing till as "no limit").

var reqBodyFields = []string{"kdc-options", "cname", "realm", "sname", "from", "till", "rtime",
	"nonce", "etype", "addresses", "enc-authorization-data", "additional-tickets"}

const reqBodyRequired = 1<<0 | 1<<2 | 1<<7 | 1<<8

func (r *KDCReqBody) decode(v cryptobyte.String) error {
	*r = KDCReqBody{}
	return decodeSequence(v, reqBodyFields, 1<<12-1, reqBodyRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			r.Options, err = flags(v)
		case 1:
			r.CName, err = optName(v)
		case 2:
			r.Realm, err = realm(v)
		case 3:
			r.SName, err = optName(v)
		case 4:
			r.From, err = kerberosTime(v)
		case 5:
			r.Till, err = kerberosTime(v)
		case 6:
			r.RTime, err = kerberosTime(v)
		case 7:
			r.Nonce, err = uint32Value(v)
		case 8:
			r.ETypes, err = etypes(v)
		case 9:
			r.Addresses, err = hostAddresses(v)
		case 10:
			r.EncAuthData = new(EncryptedData)
			err = r.EncAuthData.decode(v)
		case 11:
			r.AdditionalTickets, err = tickets(v)
		}
		return err
	})
}

func etypes(v cryptobyte.String) ([]krb5.EncType, error) {
	seq, err := only(v, tagSequence)
	if err != nil {
		return nil, err
	}
	count, err := countElements(seq, MaxETypes)
	if err != nil || count == 0 {
		return nil, err
	}
	out := make([]krb5.EncType, count)
	for i := range out {
		var t tag
		var c, full cryptobyte.String
		readTLV(&seq, &t, &c, &full) // cannot fail: countElements read it
		e, err := int32Value(full)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out[i] = krb5.EncType(e)
	}
	return out, nil
}

func (r *KDCReqBody) marshal(b *cryptobyte.Builder) {
	if !checkCount(b, "etype", len(r.ETypes), MaxETypes) {
		return
	}
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addFlags(b, 0, r.Options)
		if r.CName != nil {
			addName(b, 1, *r.CName)
		}
		addRealm(b, 2, r.Realm)
		if r.SName != nil {
			addName(b, 3, *r.SName)
		}
		addOptTime(b, 4, r.From)
		addOptTime(b, 5, r.Till)
		addOptTime(b, 6, r.RTime)
		addUint(b, 7, r.Nonce)
		b.AddASN1(explicit(8), func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range r.ETypes {
					b.AddASN1Int64(int64(e))
				}
			})
		})
		if len(r.Addresses) > 0 {
			addHostAddresses(b, 9, r.Addresses)
		}
		if r.EncAuthData != nil {
			addEncryptedData(b, 10, r.EncAuthData)
		}
		if len(r.AdditionalTickets) > 0 {
			addTickets(b, 11, r.AdditionalTickets)
		}
	})
}

func (r *KDCReqBody) size() int {
	n := 256
	if r.EncAuthData != nil {
		n += len(r.EncAuthData.Cipher)
	}
	for i := range r.AdditionalTickets {
		n += r.AdditionalTickets[i].size()
	}
	return n
}

// ParseKDCReqBody decodes a KDC-REQ-BODY on its own.
func ParseKDCReqBody(b []byte) (*KDCReqBody, error) {
	return parseNew(b, "KDC-REQ-BODY", (*KDCReqBody).decode)
}

// Marshal encodes the KDC-REQ-BODY, as a client does to checksum it before
// sending a TGS-REQ.
func (r *KDCReqBody) Marshal() ([]byte, error) {
	b := newBuilder(r.size())
	r.marshal(b)
	return finish(b, "KDC-REQ-BODY")
}

// KDC-REQ ::= SEQUENCE { pvno [1] INTEGER (5), msg-type [2] INTEGER,
//     padata [3] SEQUENCE OF PA-DATA OPTIONAL, req-body [4] KDC-REQ-BODY }

var kdcReqFields = []string{"", "pvno", "msg-type", "padata", "req-body"}

const kdcReqRequired = 1<<1 | 1<<2 | 1<<4

// ParseKDCReq decodes an AS-REQ or a TGS-REQ and sets RawBody.
func ParseKDCReq(b []byte) (*KDCReq, error) {
	seq, app, err := topLevel(b, int(krb5.MsgASReq), int(krb5.MsgTGSReq))
	if err != nil {
		return nil, fmt.Errorf("wire: KDC-REQ: %w", err)
	}
	r := &KDCReq{MsgType: krb5.MsgType(app)}
	err = decodeFields(seq, kdcReqFields, kdcReqRequired|1<<3, kdcReqRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 1:
			err = version(v, "pvno")
		case 2:
			err = msgType(v, app)
		case 3:
			r.PAData, err = paDataSeq(v)
		case 4:
			var full cryptobyte.String
			if _, full, err = onlyFull(v, tagSequence); err == nil {
				r.RawBody = full
				err = r.Body.decode(v)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: %s: %w", msgName(r.MsgType), err)
	}
	return r, nil
}

// Marshal encodes the request with RawBody, or Body when RawBody is nil.
func (r *KDCReq) Marshal() ([]byte, error) {
	if r.MsgType != krb5.MsgASReq && r.MsgType != krb5.MsgTGSReq {
		return nil, fmt.Errorf("wire: marshal KDC-REQ: msg-type %d is neither AS-REQ nor TGS-REQ", r.MsgType)
	}
	size := 64
	if r.RawBody != nil {
		size += len(r.RawBody)
	} else {
		size += r.Body.size()
	}
	for i := range r.PAData {
		size += len(r.PAData[i].Value) + 16
	}
	b := newBuilder(size)
	addApplication(b, int(r.MsgType), func(b *cryptobyte.Builder) {
		addInt(b, 1, krb5.PVNO)
		addInt(b, 2, int64(r.MsgType))
		if len(r.PAData) > 0 {
			addPAData(b, 3, r.PAData)
		}
		b.AddASN1(explicit(4), func(b *cryptobyte.Builder) {
			if r.RawBody != nil {
				addRaw(b, r.RawBody, tagSequence, "RawBody")
				return
			}
			r.Body.marshal(b)
		})
	})
	return finish(b, msgName(r.MsgType))
}

// KDC-REP ::= SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER,
//     padata [2] SEQUENCE OF PA-DATA OPTIONAL, crealm [3] Realm, cname [4] PrincipalName,
//     ticket [5] Ticket, enc-part [6] EncryptedData }

var kdcRepFields = []string{"pvno", "msg-type", "padata", "crealm", "cname", "ticket", "enc-part"}

const kdcRepRequired = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6

// ParseKDCRep decodes an AS-REP or a TGS-REP.
func ParseKDCRep(b []byte) (*KDCRep, error) {
	seq, app, err := topLevel(b, int(krb5.MsgASRep), int(krb5.MsgTGSRep))
	if err != nil {
		return nil, fmt.Errorf("wire: KDC-REP: %w", err)
	}
	r := &KDCRep{MsgType: krb5.MsgType(app)}
	err = decodeFields(seq, kdcRepFields, kdcRepRequired|1<<2, kdcRepRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "pvno")
		case 1:
			err = msgType(v, app)
		case 2:
			r.PAData, err = paDataSeq(v)
		case 3:
			r.CRealm, err = realm(v)
		case 4:
			r.CName, err = principalName(v)
		case 5:
			err = r.Ticket.decode(v)
		case 6:
			err = r.EncPart.decode(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: %s: %w", msgName(r.MsgType), err)
	}
	return r, nil
}

// Marshal encodes the reply.
func (r *KDCRep) Marshal() ([]byte, error) {
	if r.MsgType != krb5.MsgASRep && r.MsgType != krb5.MsgTGSRep {
		return nil, fmt.Errorf("wire: marshal KDC-REP: msg-type %d is neither AS-REP nor TGS-REP", r.MsgType)
	}
	size := 160 + r.Ticket.size() + len(r.EncPart.Cipher)
	for i := range r.PAData {
		size += len(r.PAData[i].Value) + 16
	}
	b := newBuilder(size)
	addApplication(b, int(r.MsgType), func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addInt(b, 1, int64(r.MsgType))
		if len(r.PAData) > 0 {
			addPAData(b, 2, r.PAData)
		}
		addRealm(b, 3, r.CRealm)
		addName(b, 4, r.CName)
		b.AddASN1(explicit(5), r.Ticket.marshal)
		addEncryptedData(b, 6, &r.EncPart)
	})
	return finish(b, msgName(r.MsgType))
}

// EncKDCRepPart ::= SEQUENCE { key [0] EncryptionKey, last-req [1] LastReq, nonce [2] UInt32,
//     key-expiration [3] KerberosTime OPTIONAL, flags [4] TicketFlags, authtime [5] KerberosTime,
//     starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime,
//     renew-till [8] KerberosTime OPTIONAL, srealm [9] Realm, sname [10] PrincipalName,
//     caddr [11] HostAddresses OPTIONAL, encrypted-pa-data [12] SEQUENCE OF PA-DATA OPTIONAL }

var encKDCRepPartFields = []string{"key", "last-req", "nonce", "key-expiration", "flags", "authtime",
	"starttime", "endtime", "renew-till", "srealm", "sname", "caddr", "encrypted-pa-data"}

const encKDCRepPartRequired = 1<<0 | 1<<1 | 1<<2 | 1<<4 | 1<<5 | 1<<7 | 1<<9 | 1<<10

// ParseEncKDCRepPart decodes the plaintext of a KDC reply's enc-part. It
// accepts both EncASRepPart and EncTGSRepPart whatever the exchange, as
// MIT and Heimdal clients do, and returns the tag seen (25 or 26).
func ParseEncKDCRepPart(b []byte) (*EncKDCRepPart, int, error) {
	seq, app, err := topLevel(b, TagEncASRepPart, TagEncTGSRepPart)
	if err != nil {
		return nil, 0, fmt.Errorf("wire: EncKDCRepPart: %w", err)
	}
	p := new(EncKDCRepPart)
	err = decodeFields(seq, encKDCRepPartFields, 1<<13-1, encKDCRepPartRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = p.Key.decode(v)
		case 1:
			p.LastReq, err = seqOf(v, MaxLastReq, tagSequence, (*LastReq).decode)
		case 2:
			p.Nonce, err = uint32Value(v)
		case 3:
			p.KeyExpiration, err = kerberosTime(v)
		case 4:
			p.Flags, err = flags(v)
		case 5:
			p.AuthTime, err = kerberosTime(v)
		case 6:
			p.StartTime, err = kerberosTime(v)
		case 7:
			p.EndTime, err = kerberosTime(v)
		case 8:
			p.RenewTill, err = kerberosTime(v)
		case 9:
			p.SRealm, err = realm(v)
		case 10:
			p.SName, err = principalName(v)
		case 11:
			p.CAddr, err = hostAddresses(v)
		case 12:
			p.EncPAData, err = paDataSeq(v)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("wire: EncKDCRepPart: %w", err)
	}
	return p, app, nil
}

// Marshal encodes p as EncASRepPart (tag 25) or EncTGSRepPart (tag 26).
func (p *EncKDCRepPart) Marshal(tag int) ([]byte, error) {
	if tag != TagEncASRepPart && tag != TagEncTGSRepPart {
		return nil, fmt.Errorf("wire: marshal EncKDCRepPart: tag %d is neither 25 nor 26", tag)
	}
	size := 256 + len(p.Key.Value)
	for i := range p.EncPAData {
		size += len(p.EncPAData[i].Value) + 16
	}
	b := newBuilder(size)
	addApplication(b, tag, func(b *cryptobyte.Builder) {
		b.AddASN1(explicit(0), p.Key.marshal)
		if !checkCount(b, "last-req", len(p.LastReq), MaxLastReq) {
			return
		}
		b.AddASN1(explicit(1), func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := range p.LastReq {
					p.LastReq[i].marshal(b)
				}
			})
		})
		addUint(b, 2, p.Nonce)
		addOptTime(b, 3, p.KeyExpiration)
		addFlags(b, 4, p.Flags)
		addTime(b, 5, p.AuthTime)
		addOptTime(b, 6, p.StartTime)
		addTime(b, 7, p.EndTime)
		addOptTime(b, 8, p.RenewTill)
		addRealm(b, 9, p.SRealm)
		addName(b, 10, p.SName)
		if len(p.CAddr) > 0 {
			addHostAddresses(b, 11, p.CAddr)
		}
		if len(p.EncPAData) > 0 {
			addPAData(b, 12, p.EncPAData)
		}
	})
	return finish(b, "EncKDCRepPart")
}
