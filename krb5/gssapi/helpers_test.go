package gssapi

import (
	mrand "math/rand/v2"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/service"
	"hop/krb5/service/servicetest"
)

// now is the fixed clock of every test.
var now = time.Date(2025, 1, 2, 3, 4, 5, 678900000, time.UTC)

type fixture struct {
	realm *servicetest.Realm
	alice krb5.Principal
	web   krb5.Principal
	acc   *Acceptor
	rnd   *mrand.ChaCha8
	clock time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{rnd: mrand.NewChaCha8([32]byte{2}), clock: now}
	clock := func() time.Time { return f.clock }
	r, err := servicetest.New("EXAMPLE.TEST", clock, f.rnd)
	if err != nil {
		t.Fatal(err)
	}
	f.realm, f.alice, f.web = r, r.Principal("alice"), r.Principal("HTTP/web.example.test")
	for _, e := range []krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196, krb5.AES128CTSHMACSHA256128, krb5.AES256CTSHMACSHA384192, krb5.RC4HMAC} {
		if _, err := r.AddKey(f.web, e, 3); err != nil {
			t.Fatal(err)
		}
	}
	f.acc = &Acceptor{Service: &service.Acceptor{Keys: service.KeytabFile(r.Keytab), Now: clock, Rand: f.rnd}, Rand: f.rnd}
	return f
}

func (f *fixture) cred(t testing.TB, o servicetest.TicketOptions) *client.Credential {
	t.Helper()
	c, err := f.realm.Ticket(f.alice, f.web, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) init(t testing.TB, c *client.Credential, o *InitOptions) (*Context, []byte) {
	t.Helper()
	if o == nil {
		o = &InitOptions{}
	}
	o.Now = func() time.Time { return f.clock }
	o.Rand = f.rnd
	ic, tok, err := InitSecContext(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return ic, tok
}

// pair establishes a context between a fresh initiator and the acceptor.
func (f *fixture) pair(t testing.TB, o *InitOptions, cb *ChannelBindings) (ini, acc *Context) {
	t.Helper()
	ic, tok := f.init(t, f.cred(t, servicetest.TicketOptions{}), o)
	ac, out, err := f.acc.Accept(tok, cb)
	if err != nil {
		t.Fatal(err)
	}
	if ic.Flags()&FlagMutual != 0 {
		if err := ic.Continue(out); err != nil {
			t.Fatal(err)
		}
	} else if out != nil {
		t.Fatalf("acceptor answered a non-mutual context with %d bytes", len(out))
	}
	return ic, ac
}
