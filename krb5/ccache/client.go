package ccache

import (
	"bytes"

	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// ToClient returns the credential as hop's client uses it: the ticket
// decoded, the session key made.
func ToClient(c *Credential) (*client.Credential, error) {
	t, err := wire.ParseTicket(c.Ticket)
	if err != nil {
		return nil, err
	}
	k, err := crypto.NewKey(c.KeyType, c.Key)
	if err != nil {
		return nil, err
	}
	return &client.Credential{
		Client: c.Client, Server: c.Server, Ticket: *t, SessionKey: k, Flags: c.Flags,
		AuthTime: c.AuthTime, StartTime: c.StartTime, EndTime: c.EndTime, RenewTill: c.RenewTill,
	}, nil
}

// FromClient returns the credential as a cache holds it, sharing no
// memory with c: its key and ticket are copies (a cache zeroes what it
// drops), to zero when done if secret.
func FromClient(c *client.Credential) Credential {
	raw := bytes.Clone(c.Ticket.Raw)
	if len(raw) == 0 {
		raw, _ = c.Ticket.Marshal()
	}
	return Credential{
		Client: c.Client, Server: c.Server, KeyType: c.SessionKey.EncType(), Key: c.SessionKey.Material(),
		AuthTime: c.AuthTime, StartTime: c.StartTime, EndTime: c.EndTime, RenewTill: c.RenewTill,
		Flags: c.Flags, Ticket: raw,
	}
}
