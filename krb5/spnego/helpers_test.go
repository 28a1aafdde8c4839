package spnego

import (
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/gssapi"
	"hop/krb5/service"
	"hop/krb5/service/servicetest"
)

var now = time.Date(2025, 1, 2, 3, 4, 5, 678900000, time.UTC)

type fixture struct {
	realm *servicetest.Realm
	alice krb5.Principal
	web   krb5.Principal
	gss   *gssapi.Acceptor
	rnd   *lockedRand
	mu    sync.Mutex
	clock time.Time
}

// lockedRand is a deterministic random source safe for the HTTP server's
// goroutines.
type lockedRand struct {
	mu sync.Mutex
	c  *mrand.ChaCha8
}

func (r *lockedRand) Read(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Read(b)
}

func (f *fixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{rnd: &lockedRand{c: mrand.NewChaCha8([32]byte{3})}, clock: now}
	clock := f.now
	r, err := servicetest.New("EXAMPLE.TEST", clock, f.rnd)
	if err != nil {
		t.Fatal(err)
	}
	f.realm, f.alice, f.web = r, r.Principal("alice"), r.Principal("HTTP/web.example.test")
	if _, err := r.AddKey(f.web, krb5.AES256CTSHMACSHA196, 1); err != nil {
		t.Fatal(err)
	}
	f.gss = &gssapi.Acceptor{Service: &service.Acceptor{Keys: service.KeytabFile(r.Keytab), Now: clock, Rand: f.rnd}, Rand: f.rnd}
	return f
}

func (f *fixture) cred(t testing.TB) *client.Credential {
	t.Helper()
	c, err := f.realm.Ticket(f.alice, f.web, servicetest.TicketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tick moves the clock so that the next authenticator differs.
func (f *fixture) tick() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(time.Millisecond)
}

func (f *fixture) opts() *gssapi.InitOptions {
	return &gssapi.InitOptions{Now: f.now, Rand: f.rnd}
}
