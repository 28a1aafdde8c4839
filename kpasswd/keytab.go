package kpasswd

import (
	"context"

	"hop/directory"
	"hop/directory/dirkeytab"
	"hop/krb5"
	"hop/krb5/service"
)

// NewAcceptor returns an Acceptor for kadmin/changepw@REALM, the service
// MIT's and Heimdal's kpasswd ask the KDC for, with the keys of the
// directory account that holds that SPN (Keytab). It accepts tickets for no
// other service.
func NewAcceptor(d *directory.Directory) *service.Acceptor {
	return &service.Acceptor{
		Keys: Keytab(d),
		AcceptServer: func(p krb5.Principal) bool {
			snap, err := d.Snapshot(context.Background())
			return err == nil && isChangepw(p, snap.Domain().Realm)
		},
	}
}

// Keytab returns a service.Keytab over d's current snapshot that knows the
// keys of kadmin/changepw@REALM only: those of the account holding the SPN
// kadmin/changepw, current and previous generations (so that a ticket issued
// before a key change stays usable until it expires). A key change in the
// directory takes effect at once.
func Keytab(d *directory.Directory) service.Keytab {
	return dirkeytab.New(d, isChangepw)
}
