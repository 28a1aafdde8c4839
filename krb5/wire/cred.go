package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// KRBCred is RFC 4120 §5.8.1's KRB-CRED, [APPLICATION 22]: forwarded
// credentials (the GSS-API delegation token, and .kirbi files).
type KRBCred struct {
	Tickets []Ticket
	EncPart EncryptedData
}

// EncKRBCredPart is RFC 4120 §5.8.1's EncKrbCredPart, [APPLICATION 29].
type EncKRBCredPart struct {
	TicketInfo []KRBCredInfo
	Nonce      *uint32   // nil: absent
	Timestamp  time.Time // zero: absent
	Usec       *int32    // nil: absent
	SAddress   *HostAddress
	RAddress   *HostAddress
}

// KRBCredInfo is RFC 4120 §5.8.1's KrbCredInfo. Every field but Key is
// optional: zero values are absent.
type KRBCredInfo struct {
	Key                                     EncryptionKey
	PRealm                                  krb5.Realm
	PName                                   *krb5.PrincipalName
	Flags                                   krb5.Flags
	AuthTime, StartTime, EndTime, RenewTill time.Time
	SRealm                                  krb5.Realm
	SName                                   *krb5.PrincipalName
	CAddr                                   []HostAddress
}

// KRB-CRED ::= [APPLICATION 22] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (22),
//     tickets [2] SEQUENCE OF Ticket, enc-part [3] EncryptedData }

var krbCredFields = []string{"pvno", "msg-type", "tickets", "enc-part"}

// ParseKRBCred decodes a KRB-CRED.
func ParseKRBCred(b []byte) (*KRBCred, error) {
	c := new(KRBCred)
	err := decodeMessage(b, int(krb5.MsgKRBCred), krbCredFields, 0b1111, 0b1111, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "pvno")
		case 1:
			err = msgType(v, int(krb5.MsgKRBCred))
		case 2:
			c.Tickets, err = tickets(v)
		case 3:
			err = c.EncPart.decode(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: KRB-CRED: %w", err)
	}
	return c, nil
}

// Marshal encodes c.
func (c *KRBCred) Marshal() ([]byte, error) {
	size := 64 + len(c.EncPart.Cipher)
	for i := range c.Tickets {
		size += c.Tickets[i].size()
	}
	b := newBuilder(size)
	addApplication(b, int(krb5.MsgKRBCred), func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addInt(b, 1, int64(krb5.MsgKRBCred))
		addTickets(b, 2, c.Tickets)
		addEncryptedData(b, 3, &c.EncPart)
	})
	return finish(b, "KRB-CRED")
}

// EncKrbCredPart ::= [APPLICATION 29] SEQUENCE { ticket-info [0] SEQUENCE OF KrbCredInfo,
//     nonce [1] UInt32 OPTIONAL, timestamp [2] KerberosTime OPTIONAL, usec [3] Microseconds OPTIONAL,
//     s-address [4] HostAddress OPTIONAL, r-address [5] HostAddress OPTIONAL }

var encKRBCredPartFields = []string{"ticket-info", "nonce", "timestamp", "usec", "s-address", "r-address"}

// ParseEncKRBCredPart decodes the plaintext of a KRB-CRED's enc-part.
func ParseEncKRBCredPart(b []byte) (*EncKRBCredPart, error) {
	p := new(EncKRBCredPart)
	err := decodeMessage(b, 29, encKRBCredPartFields, 1<<6-1, 1, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			p.TicketInfo, err = seqOf(v, MaxTickets, tagSequence, (*KRBCredInfo).decode)
		case 1:
			p.Nonce, err = optUint32(v)
		case 2:
			p.Timestamp, err = kerberosTime(v)
		case 3:
			p.Usec, err = optInt32(v)
		case 4:
			p.SAddress, err = optHostAddress(v)
		case 5:
			p.RAddress, err = optHostAddress(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: EncKrbCredPart: %w", err)
	}
	return p, nil
}

// Marshal encodes p.
func (p *EncKRBCredPart) Marshal() ([]byte, error) {
	b := newBuilder(128 + 256*len(p.TicketInfo))
	addApplication(b, 29, func(b *cryptobyte.Builder) {
		if !checkCount(b, "ticket-info", len(p.TicketInfo), MaxTickets) {
			return
		}
		b.AddASN1(explicit(0), func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := range p.TicketInfo {
					p.TicketInfo[i].marshal(b)
				}
			})
		})
		if p.Nonce != nil {
			addUint(b, 1, *p.Nonce)
		}
		addOptTime(b, 2, p.Timestamp)
		if p.Usec != nil {
			addInt(b, 3, int64(*p.Usec))
		}
		if p.SAddress != nil {
			b.AddASN1(explicit(4), p.SAddress.marshal)
		}
		if p.RAddress != nil {
			b.AddASN1(explicit(5), p.RAddress.marshal)
		}
	})
	return finish(b, "EncKrbCredPart")
}

// KrbCredInfo ::= SEQUENCE { key [0] EncryptionKey, prealm [1] Realm OPTIONAL,
//     pname [2] PrincipalName OPTIONAL, flags [3] TicketFlags OPTIONAL,
//     authtime [4] KerberosTime OPTIONAL, starttime [5] KerberosTime OPTIONAL,
//     endtime [6] KerberosTime OPTIONAL, renew-till [7] KerberosTime OPTIONAL,
//     srealm [8] Realm OPTIONAL, sname [9] PrincipalName OPTIONAL,
//     caddr [10] HostAddresses OPTIONAL }

var krbCredInfoFields = []string{"key", "prealm", "pname", "flags", "authtime", "starttime", "endtime",
	"renew-till", "srealm", "sname", "caddr"}

func (c *KRBCredInfo) decode(v cryptobyte.String) error {
	*c = KRBCredInfo{}
	return decodeSequence(v, krbCredInfoFields, 1<<11-1, 1, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = c.Key.decode(v)
		case 1:
			c.PRealm, err = realm(v)
		case 2:
			c.PName, err = optName(v)
		case 3:
			c.Flags, err = flags(v)
		case 4:
			c.AuthTime, err = kerberosTime(v)
		case 5:
			c.StartTime, err = kerberosTime(v)
		case 6:
			c.EndTime, err = kerberosTime(v)
		case 7:
			c.RenewTill, err = kerberosTime(v)
		case 8:
			c.SRealm, err = realm(v)
		case 9:
			c.SName, err = optName(v)
		case 10:
			c.CAddr, err = hostAddresses(v)
		}
		return err
	})
}

func (c *KRBCredInfo) marshal(b *cryptobyte.Builder) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(explicit(0), c.Key.marshal)
		if c.PRealm != "" {
			addRealm(b, 1, c.PRealm)
		}
		if c.PName != nil {
			addName(b, 2, *c.PName)
		}
		if c.Flags != 0 {
			addFlags(b, 3, c.Flags)
		}
		addOptTime(b, 4, c.AuthTime)
		addOptTime(b, 5, c.StartTime)
		addOptTime(b, 6, c.EndTime)
		addOptTime(b, 7, c.RenewTill)
		if c.SRealm != "" {
			addRealm(b, 8, c.SRealm)
		}
		if c.SName != nil {
			addName(b, 9, *c.SName)
		}
		if len(c.CAddr) > 0 {
			addHostAddresses(b, 10, c.CAddr)
		}
	})
}
