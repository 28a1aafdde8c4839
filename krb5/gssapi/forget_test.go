package gssapi

import (
	"testing"

	"hop/krb5"
	"hop/krb5/wire"
)

func TestForgetDelegatedZeroesKeys(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	c := &Context{deleg: &DelegatedCredential{Tickets: make([]wire.Ticket, 1),
		Info: []wire.KRBCredInfo{{Key: wire.EncryptionKey{Type: krb5.AES256CTSHMACSHA196, Value: key}}}}}
	if !c.ForgetDelegated() {
		t.Fatal("nothing forgotten")
	}
	for _, b := range key {
		if b != 0 {
			t.Fatalf("the delegated session key was not zeroed: %x", key)
		}
	}
	if c.Delegated() != nil || c.ForgetDelegated() {
		t.Error("the delegated credential is kept")
	}
}
