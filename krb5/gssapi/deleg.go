package gssapi

import (
	"bytes"
	"fmt"
	"io"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// DelegatedCredential is a credential the initiator forwarded in its
// KRB-CRED (RFC 4121 §4.1.1.1, RFC 4120 §3.6): usually a forwarded TGT.
type DelegatedCredential struct {
	Tickets []wire.Ticket
	Info    []wire.KRBCredInfo // Info[i] describes Tickets[i]
}

// Credentials returns the delegated tickets as a client holds them. The
// client defaults to the context's client where KrbCredInfo leaves it out,
// the server to the ticket's.
func (d *DelegatedCredential) Credentials() ([]*client.Credential, error) {
	out := make([]*client.Credential, 0, len(d.Tickets))
	for i := range d.Tickets {
		info := &d.Info[i]
		k, err := crypto.NewKey(info.Key.Type, info.Key.Value)
		if err != nil {
			return nil, fmt.Errorf("gssapi: delegated ticket %d: %w", i, err)
		}
		c := &client.Credential{
			Client:     krb5.Principal{Realm: info.PRealm},
			Server:     krb5.Principal{Name: d.Tickets[i].SName, Realm: d.Tickets[i].Realm},
			Ticket:     d.Tickets[i],
			SessionKey: k,
			Flags:      info.Flags,
			AuthTime:   info.AuthTime,
			StartTime:  info.StartTime,
			EndTime:    info.EndTime,
			RenewTill:  info.RenewTill,
		}
		if info.PName != nil {
			c.Client.Name = *info.PName
		}
		if info.SName != nil {
			c.Server = krb5.Principal{Name: *info.SName, Realm: info.SRealm}
		}
		out = append(out, c)
	}
	return out, nil
}

// makeKRBCred seals creds in a KRB-CRED with key (RFC 4120 §5.8, key usage
// 14), as MIT krb5's krb5_fwd_tgt_creds does: no nonce, no timestamp.
func makeKRBCred(creds []*client.Credential, key *crypto.Key, rnd io.Reader) ([]byte, error) {
	part := wire.EncKRBCredPart{}
	kc := wire.KRBCred{}
	for _, c := range creds {
		pname, sname := c.Client.Name, c.Server.Name
		part.TicketInfo = append(part.TicketInfo, wire.KRBCredInfo{
			Key:    wire.EncryptionKey{Type: c.SessionKey.EncType(), Value: c.SessionKey.Material()},
			PRealm: c.Client.Realm, PName: &pname,
			Flags:    c.Flags,
			AuthTime: c.AuthTime, StartTime: c.StartTime, EndTime: c.EndTime, RenewTill: c.RenewTill,
			SRealm: c.Server.Realm, SName: &sname,
		})
		kc.Tickets = append(kc.Tickets, c.Ticket)
	}
	plain, err := part.Marshal()
	for i := range part.TicketInfo {
		clear(part.TicketInfo[i].Key.Value)
	}
	if err != nil {
		return nil, err
	}
	ct, err := key.Encrypt(rnd, krb5.UsageKRBCredEncPart, plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	kc.EncPart = wire.EncryptedData{EType: key.EncType(), Cipher: ct}
	return kc.Marshal()
}

// readKRBCred decodes the KRB-CRED of a 0x8003 checksum: sealed in the
// session key, or in the subkey, or not at all (etype 0, which the
// authenticator holding it protects). Every ticket's client must be client.
func readKRBCred(b []byte, session, subkey *crypto.Key, cl krb5.Principal) (*DelegatedCredential, error) {
	kc, err := wire.ParseKRBCred(b)
	if err != nil {
		return nil, err
	}
	var plain []byte
	switch {
	case kc.EncPart.EType == 0:
		plain = kc.EncPart.Cipher
	default:
		for _, k := range []*crypto.Key{session, subkey} {
			if k == nil || k.EncType() != kc.EncPart.EType {
				continue
			}
			if plain, err = k.Decrypt(krb5.UsageKRBCredEncPart, kc.EncPart.Cipher); err == nil {
				break
			}
		}
		if plain == nil {
			return nil, fmt.Errorf("the KRB-CRED (%v) decrypts with neither the session key nor the subkey", kc.EncPart.EType)
		}
	}
	part, err := wire.ParseEncKRBCredPart(plain)
	if err == nil {
		// The session keys are the credential's own copies, so that the
		// decrypted message (which holds them too) can be zeroed now.
		for i := range part.TicketInfo {
			part.TicketInfo[i].Key.Value = bytes.Clone(part.TicketInfo[i].Key.Value)
		}
	}
	if kc.EncPart.EType != 0 {
		clear(plain)
	}
	if err != nil {
		return nil, err
	}
	if len(part.TicketInfo) != len(kc.Tickets) {
		return nil, fmt.Errorf("the KRB-CRED has %d tickets and %d KrbCredInfo", len(kc.Tickets), len(part.TicketInfo))
	}
	for i := range part.TicketInfo {
		info := &part.TicketInfo[i]
		if info.PName == nil {
			n := cl.Name
			info.PName = &n
		}
		if info.PRealm == "" {
			info.PRealm = cl.Realm
		}
		if !info.PName.Equal(cl.Name) || !info.PRealm.Equal(cl.Realm) {
			return nil, fmt.Errorf("the delegated ticket is for %s, not the authenticated %s",
				krb5.Principal{Name: *info.PName, Realm: info.PRealm}, cl)
		}
	}
	return &DelegatedCredential{Tickets: kc.Tickets, Info: part.TicketInfo}, nil
}
