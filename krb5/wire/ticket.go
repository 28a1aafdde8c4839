package wire

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/krb5"
)

// Ticket is RFC 4120 §5.3's Ticket, [APPLICATION 1].
type Ticket struct {
	Realm   krb5.Realm
	SName   krb5.PrincipalName
	EncPart EncryptedData
	// Raw is the ticket's whole DER encoding as received, set by
	// ParseTicket and by every parser of a message holding a ticket.
	// Marshal writes Raw verbatim when it is non-nil.
	Raw []byte
}

// EncTicketPart is RFC 4120 §5.3's EncTicketPart, [APPLICATION 3]: the
// plaintext of Ticket.EncPart.
type EncTicketPart struct {
	Flags             krb5.Flags
	Key               EncryptionKey
	CRealm            krb5.Realm
	CName             krb5.PrincipalName
	Transited         TransitedEncoding
	AuthTime          time.Time
	StartTime         time.Time // zero: absent
	EndTime           time.Time
	RenewTill         time.Time // zero: absent
	CAddr             []HostAddress
	AuthorizationData AuthorizationData
}

// Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5), realm [1] Realm,
//     sname [2] PrincipalName, enc-part [3] EncryptedData }

var ticketFields = []string{"tkt-vno", "realm", "sname", "enc-part"}

// decode decodes the single [APPLICATION 1] element in v.
func (t *Ticket) decode(v cryptobyte.String) error {
	c, full, err := onlyFull(v, appTag(1))
	if err != nil {
		return err
	}
	seq, err := only(c, tagSequence)
	if err != nil {
		return err
	}
	*t = Ticket{Raw: full}
	return decodeFields(seq, ticketFields, 0b1111, 0b1111, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			err = version(v, "tkt-vno")
		case 1:
			t.Realm, err = realm(v)
		case 2:
			t.SName, err = principalName(v)
		case 3:
			err = t.EncPart.decode(v)
		}
		return err
	})
}

func (t *Ticket) marshal(b *cryptobyte.Builder) {
	if t.Raw != nil {
		addRaw(b, t.Raw, appTag(1), "Ticket.Raw")
		return
	}
	addApplication(b, 1, func(b *cryptobyte.Builder) {
		addInt(b, 0, krb5.PVNO)
		addRealm(b, 1, t.Realm)
		addName(b, 2, t.SName)
		addEncryptedData(b, 3, &t.EncPart)
	})
}

func (t *Ticket) size() int {
	if t.Raw != nil {
		return len(t.Raw)
	}
	return len(t.EncPart.Cipher) + 128
}

func tickets(v cryptobyte.String) ([]Ticket, error) {
	return seqOf(v, MaxTickets, appTag(1), (*Ticket).decode)
}

func addTickets(b *cryptobyte.Builder, n int, ts []Ticket) {
	if !checkCount(b, "tickets", len(ts), MaxTickets) {
		return
	}
	b.AddASN1(explicit(n), func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range ts {
				ts[i].marshal(b)
			}
		})
	})
}

// ParseTicket decodes a Ticket and sets its Raw to b.
func ParseTicket(b []byte) (*Ticket, error) {
	return parseNew(b, "Ticket", (*Ticket).decode)
}

// Marshal encodes t, or returns a copy of t.Raw when it is set.
func (t *Ticket) Marshal() ([]byte, error) {
	b := newBuilder(t.size())
	t.marshal(b)
	return finish(b, "Ticket")
}

// EncTicketPart ::= [APPLICATION 3] SEQUENCE { flags [0] TicketFlags, key [1] EncryptionKey,
//     crealm [2] Realm, cname [3] PrincipalName, transited [4] TransitedEncoding,
//     authtime [5] KerberosTime, starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime,
//     renew-till [8] KerberosTime OPTIONAL, caddr [9] HostAddresses OPTIONAL,
//     authorization-data [10] AuthorizationData OPTIONAL }

var encTicketPartFields = []string{"flags", "key", "crealm", "cname", "transited", "authtime",
	"starttime", "endtime", "renew-till", "caddr", "authorization-data"}

const encTicketPartRequired = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<7

// ParseEncTicketPart decodes the plaintext of a ticket's enc-part.
func ParseEncTicketPart(b []byte) (*EncTicketPart, error) {
	e := new(EncTicketPart)
	err := decodeMessage(b, 3, encTicketPartFields, 1<<11-1, encTicketPartRequired, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			e.Flags, err = flags(v)
		case 1:
			err = e.Key.decode(v)
		case 2:
			e.CRealm, err = realm(v)
		case 3:
			e.CName, err = principalName(v)
		case 4:
			err = e.Transited.decode(v)
		case 5:
			e.AuthTime, err = kerberosTime(v)
		case 6:
			e.StartTime, err = kerberosTime(v)
		case 7:
			e.EndTime, err = kerberosTime(v)
		case 8:
			e.RenewTill, err = kerberosTime(v)
		case 9:
			e.CAddr, err = hostAddresses(v)
		case 10:
			e.AuthorizationData, err = authorizationData(v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("wire: EncTicketPart: %w", err)
	}
	return e, nil
}

// Marshal encodes e.
func (e *EncTicketPart) Marshal() ([]byte, error) {
	size := len(e.Key.Value) + len(e.Transited.Contents) + 256
	for i := range e.AuthorizationData {
		size += len(e.AuthorizationData[i].Data) + 16
	}
	b := newBuilder(size)
	addApplication(b, 3, func(b *cryptobyte.Builder) {
		addFlags(b, 0, e.Flags)
		b.AddASN1(explicit(1), e.Key.marshal)
		addRealm(b, 2, e.CRealm)
		addName(b, 3, e.CName)
		b.AddASN1(explicit(4), e.Transited.marshal)
		addTime(b, 5, e.AuthTime)
		addOptTime(b, 6, e.StartTime)
		addTime(b, 7, e.EndTime)
		addOptTime(b, 8, e.RenewTill)
		if len(e.CAddr) > 0 {
			addHostAddresses(b, 9, e.CAddr)
		}
		if len(e.AuthorizationData) > 0 {
			b.AddASN1(explicit(10), e.AuthorizationData.marshal)
		}
	})
	return finish(b, "EncTicketPart")
}
