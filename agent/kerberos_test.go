package agent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hop/broker"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/gssapi"
)

func TestAdminURLMustBeAuthenticated(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://kdc.example.test:8749", true},
		{"http://127.0.0.1:8749", true},
		{"http://127.0.0.2:8749/", true},
		{"http://[::1]:8749", true},
		{"http://localhost:8749", true},
		{"http://kdc.example.test:8749", false},
		{"http://10.0.0.1:8749", false},
		{"ftp://kdc.example.test", false},
		{"kdc.example.test:8749", false},
	} {
		_, err := newAdminResolver(tc.url, "", nil, &broker.Keytab{})
		if (err == nil) != tc.ok {
			t.Errorf("newAdminResolver(%q): %v", tc.url, err)
		}
	}
}

func TestKerberosRefusals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cred := f.ticket(t, "alice", alicePW)
	for _, tc := range []struct {
		name string
		g    *gssClient
		code krb5.ErrorCode
	}{
		{"skew", &gssClient{cred: cred, now: func() time.Time { return time.Now().Add(10 * time.Minute) }}, krb5.KRBAPErrSkew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.dial(t, "alice", tc.g)
			var ke *gssapi.KRBError
			if r.err == nil || !errors.As(tc.g.err, &ke) || ke.Msg.ErrorCode != tc.code {
				t.Fatalf("err %v, acceptor's answer %v; want %v", r.err, tc.g.err, tc.code)
			}
		})
	}
	// A replayed AP-REQ is refused.
	first := &gssClient{cred: cred}
	if r := f.dial(t, "alice", first); r.err != nil {
		t.Fatal(r.err)
	}
	replay := &gssClient{cred: cred, replay: first.sent}
	r := f.dial(t, "alice", replay)
	var ke *gssapi.KRBError
	if r.err == nil || !errors.As(replay.err, &ke) || ke.Msg.ErrorCode != krb5.KRBAPErrRepeat {
		t.Fatalf("replay: err %v, answer %v", r.err, replay.err)
	}
	// And after a restart: the replay cache is kept in the state folder.
	f.agent.Close()
	f.start(t, fixtureOptions{})
	again := &gssClient{cred: cred, replay: first.sent}
	if r := f.dial(t, "alice", again); r.err == nil || !errors.As(again.err, &ke) || ke.Msg.ErrorCode != krb5.KRBAPErrRepeat {
		t.Fatalf("replay after a restart: err %v, answer %v", r.err, again.err)
	}
	codes := map[string]bool{}
	for _, e := range f.eventsOf("logon.refused") {
		codes[e.Code] = true
	}
	if !codes[krb5.KRBAPErrSkew.String()] || !codes[krb5.KRBAPErrRepeat.String()] {
		t.Errorf("audited codes %v", codes)
	}
}

// TestExpiredTicket runs the agent's clock 11 hours ahead along with
// the client's: the authenticator is fresh, the ticket has expired.
func TestExpiredTicket(t *testing.T) {
	later := func() time.Time { return time.Now().Add(11 * time.Hour) }
	f := newFixture(t, fixtureOptions{now: later, resolver: staticResolver(nil)})
	g := &gssClient{cred: f.ticket(t, "alice", alicePW), now: later}
	r := f.dial(t, "alice", g)
	var ke *gssapi.KRBError
	if r.err == nil || !errors.As(g.err, &ke) || ke.Msg.ErrorCode != krb5.KRBAPErrTktExpired {
		t.Fatalf("err %v, answer %v", r.err, g.err)
	}
	if ev := f.eventsOf("logon.refused"); len(ev) != 1 || !strings.Contains(ev[0].Reason, "your ticket expired: run hop login") {
		t.Errorf("audit %+v", ev)
	}
}

// TestDelegatedCredentialIsDropped: a TGT the client delegates is kept
// while its connection is open (for sessions in mode forward) and its key
// is zeroed when the connection ends.
func TestDelegatedCredentialIsDropped(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	ctx := context.Background()
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}
	tgt, _, err := conn.Login(ctx, &client.Request{Client: alice, Options: krb5.OptForwardable}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", testHost)})
	if err != nil {
		t.Fatal(err)
	}
	r := f.dial(t, "alice", &gssClient{cred: cred, deleg: tgt})
	if r.err != nil {
		t.Fatalf("logon: %v (%q)", r.err, r.banner)
	}
	f.agent.mu.Lock()
	var (
		gctx *gssapi.Context
		key  []byte
	)
	for c := range f.agent.open {
		c.mu.Lock()
		gctx = c.gss
		if d := gctx.Delegated(); d != nil && len(d.Info) == 1 {
			key = d.Info[0].Key.Value
		}
		c.mu.Unlock()
	}
	f.agent.mu.Unlock()
	if gctx == nil || gctx.Flags()&gssapi.FlagDeleg == 0 {
		t.Fatal("the test delegated nothing")
	}
	if key == nil {
		t.Fatal("the delegated credential is not kept while the connection is open")
	}
	r.client.Close()
	if !waitFor(5*time.Second, func() bool {
		f.agent.mu.Lock()
		defer f.agent.mu.Unlock()
		return len(f.agent.open) == 0
	}) {
		t.Fatal("the connection did not end")
	}
	if gctx.Delegated() != nil || !bytes.Equal(key, make([]byte, len(key))) {
		t.Errorf("the delegated credential survives its connection (key zeroed: %v)", bytes.Equal(key, make([]byte, len(key))))
	}
}

// s4uTicket returns a ticket to host/b.example.test in alice's name that
// the host got by protocol transition (S4U2Self) with its own key.
func (f *fixture) s4uTicket(t *testing.T) *client.Credential {
	t.Helper()
	acct, err := f.lab.Dir.Account(context.Background(), "b$")
	if err != nil {
		t.Fatal(err)
	}
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	ctx := context.Background()
	host := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", testHost), Realm: testrealm.Realm}
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}
	var last error
	for _, k := range acct.Keys {
		ck, err := crypto.NewKey(k.EncType, k.Material())
		if err != nil {
			continue
		}
		tgt, err := conn.LoginWithKey(ctx, &client.Request{Client: host, ETypes: []krb5.EncType{ck.EncType()}}, ck)
		if err != nil {
			last = err
			continue
		}
		cred, err := conn.ServiceTicket(ctx, tgt, &client.Request{Impersonate: &alice, Service: host.Name})
		if err != nil {
			t.Fatalf("S4U2Self: %v", err)
		}
		return cred
	}
	t.Fatalf("login as %s: %v", host, last)
	return nil
}

// TestServiceAssertedIdentity: a ticket obtained by protocol transition
// (PAC SID S-1-18-2) logs on by default, and the session.start event
// says so; refuse_service_asserted refuses it.
func TestServiceAssertedIdentity(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.dial(t, "alice", &gssClient{cred: f.s4uTicket(t)})
	if r.err != nil {
		t.Fatalf("S4U logon: %v (%q)", r.err, r.banner)
	}
	if out := run(t, r.client, "echo ok", "", nil); out.stdout != "ok\n" {
		t.Fatalf("session: %+v", out)
	}
	ev := f.eventsOf("session.start")
	if len(ev) != 1 || !strings.Contains(ev[0].Flags, "service-asserted-identity") {
		t.Errorf("session.start of an S4U logon: %+v", ev)
	}
	// alice's own ticket is not flagged.
	c := f.login(t)
	run(t, c, "true", "", nil)
	if ev := f.eventsOf("session.start"); len(ev) != 2 || strings.Contains(ev[1].Flags, "service-asserted") {
		t.Errorf("session.start of alice's own logon: %+v", ev)
	}

	f2 := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) { c.RefuseServiceAsserted = true }})
	r = f2.dial(t, "alice", &gssClient{cred: f2.s4uTicket(t)})
	if r.err == nil {
		t.Fatal("an S4U ticket logged on with refuse_service_asserted")
	}
	if !strings.Contains(r.banner, "protocol transition") {
		t.Errorf("banner %q", r.banner)
	}
	if ev := f2.eventsOf("logon.refused"); len(ev) != 1 || !strings.Contains(ev[0].Reason, "S-1-18-2") {
		t.Errorf("logon.refused: %+v", ev)
	}
	f2.login(t) // alice's own ticket still logs on
}
