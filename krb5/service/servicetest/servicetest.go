// Package servicetest mints Kerberos V5 service tickets and AP-REQs for
// tests of the code that accepts them (hop/krb5/service, hop/krb5/gssapi,
// hop/krb5/spnego), as net/http/httptest serves tests of HTTP code: a Realm
// holds a krbtgt key and a keytab of service keys, and issues tickets the
// way hop's KDC does (RFC 4120 §5.3 EncTicketPart; an [MS-PAC] PAC signed
// as [MS-PAC] §2.8 says, with the ticket signature). Everything is
// deterministic given the Realm's clock and random source.
//
// It is for tests only: it checks nothing a KDC would check.
package servicetest

import (
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/keytab"
	"hop/krb5/wire"
	"hop/pac"
	"hop/sid"
)

// DomainSID is the domain SID of the PACs a Realm issues.
const DomainSID = "S-1-5-21-3623811015-3361044348-30300820"

// Realm issues tickets for the services of its keytab.
type Realm struct {
	Name   krb5.Realm
	KDCKey *crypto.Key    // the krbtgt key; signs the PAC's KDC and ticket signatures
	Keytab *keytab.Keytab // the services' keys
	Now    func() time.Time
	Rand   io.Reader
}

// New returns a realm with a fresh AES-256 krbtgt key and an empty keytab.
// now and rnd default to time.Now and crypto/rand.
func New(name krb5.Realm, now func() time.Time, rnd io.Reader) (*Realm, error) {
	if now == nil {
		now = time.Now
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	k, err := crypto.RandomKey(krb5.AES256CTSHMACSHA196, rnd)
	if err != nil {
		return nil, err
	}
	return &Realm{Name: name, KDCKey: k, Keytab: &keytab.Keytab{}, Now: now, Rand: rnd}, nil
}

// Principal parses "name/inst" (no realm) as a principal of the realm.
func (r *Realm) Principal(name string) krb5.Principal {
	p, err := krb5.ParsePrincipal(name)
	if err != nil {
		panic(fmt.Sprintf("servicetest: %v", err))
	}
	p.Realm = r.Name
	return p
}

// AddKey gives service a random key of type e and version kvno, adds it to
// the keytab and returns it.
func (r *Realm) AddKey(service krb5.Principal, e krb5.EncType, kvno uint32) (*crypto.Key, error) {
	k, err := crypto.RandomKey(e, r.Rand)
	if err != nil {
		return nil, err
	}
	r.Keytab.Entries = append(r.Keytab.Entries, keytab.Entry{
		Principal: service, Timestamp: r.Now().Truncate(time.Second), KVNO: kvno, EncType: e, Key: k.Material(),
	})
	return k, nil
}

// TicketOptions shape a ticket. The zero value is a ticket valid from now
// for ten hours, flags forwardable|pre-authent, with a PAC, sealed in the
// service's newest key of the first type in the keytab, with an AES-256
// session key.
type TicketOptions struct {
	Flags          krb5.Flags
	AuthTime       time.Time // default now
	StartTime      time.Time // default absent
	EndTime        time.Time // default AuthTime + 10h
	SessionKeyType krb5.EncType
	// ServiceKey seals the ticket instead of the keytab's key; KVNO is the
	// key version written in the ticket (default: the keytab entry's).
	ServiceKey *crypto.Key
	KVNO       uint32
	NoPAC      bool
	// EditPAC changes the PAC before it is signed.
	EditPAC func(*pac.PAC)
	// AuthorizationData is put in the ticket after the PAC.
	AuthorizationData wire.AuthorizationData
}

// Ticket issues a ticket for client to service and returns it as a client
// holds it.
func (r *Realm) Ticket(cl, service krb5.Principal, o TicketOptions) (*client.Credential, error) {
	now := r.Now()
	skey, kvno := o.ServiceKey, o.KVNO
	if skey == nil {
		ent, err := r.Keytab.Find(service, o.KVNO, 0)
		if err != nil {
			return nil, err
		}
		if skey, err = crypto.NewKey(ent.EncType, ent.Key); err != nil {
			return nil, err
		}
		kvno = ent.KVNO
	}
	st := o.SessionKeyType
	if st == 0 {
		st = krb5.AES256CTSHMACSHA196
	}
	sk, err := crypto.RandomKey(st, r.Rand)
	if err != nil {
		return nil, err
	}
	auth := o.AuthTime
	if auth.IsZero() {
		auth = now
	}
	auth = auth.UTC().Truncate(time.Second)
	end := o.EndTime
	if end.IsZero() {
		end = auth.Add(10 * time.Hour)
	}
	flags := o.Flags
	if flags == 0 {
		flags = krb5.TktForwardable | krb5.TktPreAuthent
	}
	etp := &wire.EncTicketPart{
		Flags:             flags,
		Key:               wire.EncryptionKey{Type: sk.EncType(), Value: sk.Material()},
		CRealm:            cl.Realm,
		CName:             cl.Name,
		Transited:         wire.TransitedEncoding{Type: krb5.TransitedDomainX500Compress},
		AuthTime:          auth,
		StartTime:         o.StartTime.UTC().Truncate(time.Second),
		EndTime:           end.UTC().Truncate(time.Second),
		AuthorizationData: slices.Clone(o.AuthorizationData),
	}
	if !o.NoPAC {
		p, err := r.pac(cl, auth)
		if err != nil {
			return nil, err
		}
		if o.EditPAC != nil {
			o.EditPAC(p)
		}
		in, err := pac.TicketSigningInput(etp)
		if err != nil {
			return nil, err
		}
		signed, err := p.Sign(skey, r.KDCKey, pac.SignOptions{Ticket: in})
		if err != nil {
			return nil, err
		}
		ad, err := pac.AuthorizationData(signed)
		if err != nil {
			return nil, err
		}
		etp.AuthorizationData = append(ad, etp.AuthorizationData...)
	}
	tkt, err := r.Seal(etp, skey, kvno, service)
	if err != nil {
		return nil, err
	}
	return &client.Credential{
		Client: cl, Server: service, Ticket: *tkt, SessionKey: sk, Flags: flags,
		AuthTime: auth, StartTime: etp.StartTime, EndTime: etp.EndTime,
	}, nil
}

// Seal encrypts etp in skey (key usage 2) as the ticket of service.
func (r *Realm) Seal(etp *wire.EncTicketPart, skey *crypto.Key, kvno uint32, service krb5.Principal) (*wire.Ticket, error) {
	plain, err := etp.Marshal()
	if err != nil {
		return nil, err
	}
	ct, err := skey.Encrypt(r.Rand, krb5.UsageTicket, plain)
	if err != nil {
		return nil, err
	}
	t := &wire.Ticket{Realm: service.Realm, SName: service.Name,
		EncPart: wire.EncryptedData{EType: skey.EncType(), KVNO: kvno, HasKVNO: true, Cipher: ct}}
	b, err := t.Marshal()
	if err != nil {
		return nil, err
	}
	return wire.ParseTicket(b)
}

// Open decrypts a ticket of the keytab, for tests that tamper with it and
// Seal it again.
func (r *Realm) Open(t *wire.Ticket) (*wire.EncTicketPart, *crypto.Key, error) {
	service := krb5.Principal{Name: t.SName, Realm: t.Realm}
	ent, err := r.Keytab.Find(service, t.EncPart.KVNO, t.EncPart.EType)
	if err != nil {
		return nil, nil, err
	}
	k, err := crypto.NewKey(ent.EncType, ent.Key)
	if err != nil {
		return nil, nil, err
	}
	plain, err := k.Decrypt(krb5.UsageTicket, t.EncPart.Cipher)
	if err != nil {
		return nil, nil, err
	}
	etp, err := wire.ParseEncTicketPart(plain)
	return etp, k, err
}

func (r *Realm) pac(cl krb5.Principal, auth time.Time) (*pac.PAC, error) {
	dom, err := sid.Parse(DomainSID)
	if err != nil {
		return nil, err
	}
	name := cl.Name.Components[len(cl.Name.Components)-1]
	return &pac.PAC{
		LogonInfo: &pac.ValidationInfo{
			LogonTime:          auth,
			EffectiveName:      name,
			UserID:             1105,
			PrimaryGroupID:     513,
			Groups:             []pac.GroupMembership{{RID: 513, Attributes: pac.GroupDefault}},
			LogonDomainName:    "EXAMPLE",
			LogonDomainID:      dom,
			UserAccountControl: pac.UserNormalAccount,
		},
		ClientInfo: &pac.ClientInfo{ClientID: auth, Name: strings.Join(cl.Name.Components, "/")},
		UPNDNSInfo: &pac.UPNDNSInfo{UPN: name + "@" + string(cl.Realm), DNSDomainName: string(cl.Realm)},
	}, nil
}

// APReqOptions shape an AP-REQ. The zero value is an AP-REQ with the
// current time, no subkey, no sequence number and no checksum.
type APReqOptions struct {
	Options   krb5.Flags
	CTime     time.Time // default now
	Subkey    *crypto.Key
	SeqNumber *uint32
	Cksum     *wire.Checksum
	// CName and CRealm replace the authenticator's client name.
	CName  *krb5.PrincipalName
	CRealm krb5.Realm
	// AuthKey seals the authenticator instead of the session key.
	AuthKey *crypto.Key
}

// APReq builds an AP-REQ (RFC 4120 §5.5.1) for cred.
func (r *Realm) APReq(cred *client.Credential, o APReqOptions) ([]byte, error) {
	ct := o.CTime
	if ct.IsZero() {
		ct = r.Now()
	}
	a := wire.Authenticator{
		CRealm: cred.Client.Realm, CName: cred.Client.Name, Cksum: o.Cksum,
		Cusec: int32(ct.Nanosecond() / 1000), CTime: ct.UTC().Truncate(time.Second),
		SeqNumber: o.SeqNumber,
	}
	if o.CName != nil {
		a.CName = *o.CName
	}
	if o.CRealm != "" {
		a.CRealm = o.CRealm
	}
	if o.Subkey != nil {
		a.SubKey = &wire.EncryptionKey{Type: o.Subkey.EncType(), Value: o.Subkey.Material()}
	}
	plain, err := a.Marshal()
	if err != nil {
		return nil, err
	}
	k := cred.SessionKey
	if o.AuthKey != nil {
		k = o.AuthKey
	}
	c, err := k.Encrypt(r.Rand, krb5.UsageAPReqAuthenticator, plain)
	if err != nil {
		return nil, err
	}
	return (&wire.APReq{Options: o.Options, Ticket: cred.Ticket,
		Authenticator: wire.EncryptedData{EType: k.EncType(), Cipher: c}}).Marshal()
}
