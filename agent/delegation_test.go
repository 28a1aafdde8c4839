package agent

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/kcm"
	"hop/remoting"
)

// sessionBroker starts a session on c that sleeps (setup may send
// requests first) and returns a KCM client of its broker, as root, and
// the session.
func (f *fixture) sessionBroker(t *testing.T, c *ssh.Client, setup func(*ssh.Session)) (*kcm.Client, *ssh.Session) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(f.cfg.RuntimeDir, "session-*", "kcm.sock"))
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if setup != nil {
		setup(s)
	}
	var stderr strings.Builder
	s.Stderr = &stderr
	if err := s.Start("sleep 300"); err != nil {
		t.Fatal(err)
	}
	var sock string
	var kc *kcm.Client
	// The socket's file appears before the broker listens on it: dial
	// until it answers.
	if !waitFor(5*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(f.cfg.RuntimeDir, "session-*", "kcm.sock"))
		for _, p := range m {
			if !slices.Contains(old, p) {
				sock = p
			}
		}
		if sock != "" {
			kc, err = kcm.Dial(t.Context(), sock)
		}
		return kc != nil
	}) {
		t.Fatalf("no broker answers in runtime_dir (socket %q: %v; stderr %q)", sock, err, stderr.String())
	}
	t.Cleanup(func() { kc.Close() })
	return kc, s
}

// retrieve asks the broker for client's ticket to spn, as MIT's client
// does; nil when it has none to give.
func retrieve(t *testing.T, kc *kcm.Client, cache string, cl krb5.Principal, spn string) *ccache.Credential {
	t.Helper()
	server, err := krb5.ParsePrincipal(spn + "@" + string(cl.Realm))
	if err != nil {
		t.Fatal(err)
	}
	cred, err := kc.Retrieve(t.Context(), cache, kcm.GCCached, &kcm.Match{Client: &cl, Server: &server})
	if errors.Is(err, kcm.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// delegateTo sends delegate@hop for m.
func delegateTo(m remoting.Mode) func(*ssh.Session) {
	return func(s *ssh.Session) { s.SendRequest(remoting.DelegateRequest, true, remoting.EncodeDelegateRequest(m)) }
}

func (f *fixture) setDelegation(t *testing.T, account string, dc directory.DelegationChange) {
	t.Helper()
	if _, err := f.lab.Dir.As(directory.LocalAdmin).Update(context.Background(), account, 0, nil, dc); err != nil {
		t.Fatal(err)
	}
}

// aliceTGT logs alice on, forwardable when forwardable.
func (f *fixture) aliceTGT(t *testing.T, forwardable bool) *client.Credential {
	t.Helper()
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	r := &client.Request{Client: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "EXAMPLE.TEST"}}
	if forwardable {
		r.Options = krb5.OptForwardable
	}
	tgt, _, err := conn.Login(context.Background(), r, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}

// hostTicket is tgt's client's ticket to host/b, forwardable when the
// TGT is, as hop's and MIT's clients ask.
func (f *fixture) hostTicket(t *testing.T, tgt *client.Credential, opts krb5.Flags) *client.Credential {
	t.Helper()
	conn := client.Dial(f.lab.Addr, client.UDPThenTCP, 5*time.Second)
	defer conn.Close()
	cred, err := conn.ServiceTicket(context.Background(), tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", testHost), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// TestModeNone: the broker gives nothing for the next hop, and says why
// in the words a user reads, naming the options.
func TestModeNone(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	kc, _ := f.sessionBroker(t, f.login(t), nil)
	name, _ := kc.DefaultCache(t.Context())
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "EXAMPLE.TEST"}
	if cred := retrieve(t, kc, name, alice, "host/"+testHostC); cred != nil {
		t.Fatalf("mode none gave a ticket: %+v", cred)
	}
	st, err := kc.BrokerStatus(t.Context(), name, "host/"+testHostC)
	if err != nil {
		t.Fatal(err)
	}
	want := "no delegated credential on this hop: the session on b.example.test was opened with --delegate none; use --delegate constrained (the domain must allow host/b.example.test to reach host/c.example.test: hop delegation explain --user alice --service host/b.example.test --target host/c.example.test) or --delegate forward"
	if st.Mode != "none" || st.Target == nil || !strings.HasPrefix(st.Target.Explain, want) || st.Target.Possible {
		t.Errorf("status %+v, target %+v", st, st.Target)
	}
	if len(f.eventsOf("broker.issued"))+len(f.eventsOf("broker.refused")) != 0 {
		t.Error("mode none asked the KDC")
	}
}

// TestModeConstrained: S4U2Proxy with the host's key and alice's ticket to
// the host as evidence; the KDC decides by the directory at every request:
// refused, allowed by classic constrained delegation the moment it is set,
// refused again the moment it is cleared, then allowed by resource-based
// delegation on the target. Nothing is cached from a refusal.
func TestModeConstrained(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tgt := f.aliceTGT(t, true)
	r := f.dial(t, "alice", &gssClient{cred: f.hostTicket(t, tgt, krb5.OptForwardable)})
	if r.err != nil {
		t.Fatal(r.err)
	}
	kc, _ := f.sessionBroker(t, r.client, delegateTo(remoting.ModeConstrained))
	ctx := t.Context()
	name, _ := kc.DefaultCache(ctx)
	alice := tgt.Client
	spn := "host/" + testHostC

	if cred := retrieve(t, kc, name, alice, spn); cred != nil {
		t.Fatal("a ticket without any delegation setting")
	}
	st, err := kc.BrokerStatus(ctx, name, spn)
	if err != nil || st.Mode != "constrained" || st.Target == nil || st.Target.Refused == "" || !strings.Contains(st.Target.Explain, "hop delegation explain --user alice --service host/b.example.test --target host/c.example.test") {
		t.Fatalf("status after the refusal: %+v %+v %v", st, st.Target, err)
	}
	t.Logf("refusal as the session reads it: %s", st.Target.Explain)

	f.setDelegation(t, "b$", directory.DelegationChange{AllowedToDelegateTo: &[]string{spn}})
	cred := retrieve(t, kc, name, alice, spn)
	if cred == nil || cred.Client.String() != "alice@EXAMPLE.TEST" || cred.Server.String() != spn+"@EXAMPLE.TEST" {
		t.Fatalf("constrained delegation set: %+v", cred)
	}
	// The ticket is in the session's cache now; a new request for another
	// target asks the KDC again.
	if _, err := kc.Do(ctx, &kcm.Request{Op: kcm.OpRemoveCred, Name: name, Match: &kcm.Match{Server: &cred.Server}}); err != nil {
		t.Fatal(err)
	}
	f.setDelegation(t, "b$", directory.DelegationChange{AllowedToDelegateTo: &[]string{}})
	if cred := retrieve(t, kc, name, alice, spn); cred != nil {
		t.Fatal("a new ticket after constrained delegation was cleared")
	}
	f.setDelegation(t, "c$", directory.DelegationChange{AllowedToActAdd: []string{"b$"}})
	if cred := retrieve(t, kc, name, alice, spn); cred == nil {
		t.Fatal("no ticket with resource-based delegation on c$")
	}
	if st, _ := kc.BrokerStatus(ctx, name, spn); st.Target.Refused != "" {
		t.Errorf("a refusal is still shown after a ticket was issued: %q", st.Target.Refused)
	}
	issued, refused := f.eventsOf("broker.issued"), f.eventsOf("broker.refused")
	if len(issued) != 2 || len(refused) != 2 {
		t.Fatalf("audit: %d issued, %d refused", len(issued), len(refused))
	}
	for _, e := range append(issued, refused...) {
		if e.Client != "alice@EXAMPLE.TEST" || e.Target != spn+"@EXAMPLE.TEST" || !strings.Contains(e.Reason, "alice@EXAMPLE.TEST via b.example.test (session ") || !strings.Contains(e.Flags, "mode=constrained") {
			t.Errorf("audit event %+v", e)
		}
	}
	if refused[0].Code == "" {
		t.Errorf("a refusal without the KDC's code: %+v", refused[0])
	}
}

// TestModeForward: the TGT alice forwarded is in the session's cache (MIT
// programs use it directly) and the broker uses it for any target; without
// a forwarded TGT, --delegate forward refuses the session.
func TestModeForward(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tgt := f.aliceTGT(t, true)
	r := f.dial(t, "alice", &gssClient{cred: f.hostTicket(t, tgt, 0), deleg: tgt})
	if r.err != nil {
		t.Fatal(r.err)
	}
	// No delegate@hop: a forwarded TGT (ssh -K) means mode forward.
	kc, _ := f.sessionBroker(t, r.client, nil)
	ctx := t.Context()
	name, _ := kc.DefaultCache(ctx)
	creds, err := kc.Credentials(ctx, name)
	if err != nil || len(creds) != 1 || creds[0].Server.String() != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" {
		t.Fatalf("the session's cache: %+v %v", creds, err)
	}
	if cred := retrieve(t, kc, name, tgt.Client, "host/"+testHostC); cred == nil {
		t.Fatal("no ticket from the forwarded TGT")
	}
	if st, _ := kc.BrokerStatus(ctx, name, ""); st.Mode != "forward" {
		t.Errorf("mode %q", st.Mode)
	}

	// Asked for, but nothing was forwarded.
	res := run(t, f.login(t), "echo ran", "", delegateTo(remoting.ModeForward))
	if res.status != ExitRefused || strings.Contains(res.stdout, "ran") || !strings.Contains(res.stderr, "forwarded no ticket-granting ticket") {
		t.Errorf("forward without a TGT: %+v", res)
	}
}

// TestEndpointDelegation: an endpoint refuses the modes it does not list,
// and a mode that does not decode refuses the session.
func TestEndpointDelegation(t *testing.T) {
	f := newFixture(t, fixtureOptions{mutate: func(f *fixture, c *Config) {
		c.Endpoints["admins"].Delegation = []remoting.Mode{remoting.ModeNone}
		c.Endpoints["admins"].Groups = []string{"b-remote-users"}
	}})
	c := f.login(t)
	res := run(t, c, "echo ran", "", func(s *ssh.Session) {
		s.SendRequest(remoting.EndpointRequest, true, sshString("admins"))
		delegateTo(remoting.ModeConstrained)(s)
	})
	if res.status != ExitRefused || !strings.Contains(res.stderr, "the endpoint admins on b.example.test does not allow --delegate constrained; it allows none") {
		t.Errorf("constrained on admins: %+v", res)
	}
	if res := run(t, c, "echo ran", "", delegateTo(remoting.ModeConstrained)); res.status != 0 || res.stdout != "ran\n" {
		t.Errorf("constrained on default: %+v", res)
	}
	if res := run(t, c, "echo ran", "", func(s *ssh.Session) {
		if ok, _ := s.SendRequest(remoting.DelegateRequest, true, sshString("everything")); ok {
			t.Error("an unknown mode was accepted")
		}
	}); res.status != ExitRefused || !strings.Contains(res.stderr, "delegate@hop") {
		t.Errorf("unknown mode: %+v", res)
	}
}

// TestPassCredential: a credential passed into the session is logged on by
// the agent and kept as a TGT in its own cache; a wrong password refuses
// the session; the audit names the account, never the secret.
func TestPassCredential(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.lab.AddUser(t, "svc-sql", "Sql-Pass-1")
	c := f.login(t)
	pass := func(name, pw string) func(*ssh.Session) {
		return func(s *ssh.Session) {
			if ok, err := s.SendRequest(remoting.CredentialRequest, true, remoting.EncodeCredentialRequest(name, []byte(pw))); !ok || err != nil {
				t.Errorf("credential@hop: %v %v", ok, err)
			}
		}
	}
	kc, _ := f.sessionBroker(t, c, pass("svc-sql", "Sql-Pass-1"))
	ctx := t.Context()
	creds, err := kc.Credentials(ctx, remoting.CredentialCache("svc-sql"))
	if err != nil || len(creds) != 1 || creds[0].Client.String() != "svc-sql@EXAMPLE.TEST" || creds[0].Server.String() != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" {
		t.Fatalf("the passed credential's cache: %+v %v", creds, err)
	}
	name, _ := kc.DefaultCache(ctx)
	if p, _ := kc.Principal(ctx, name); p.String() != "alice@EXAMPLE.TEST" {
		t.Errorf("the default cache is %v's", p)
	}
	if st, _ := kc.BrokerStatus(ctx, name, ""); len(st.Credentials) != 1 || st.Credentials[0] != "svc-sql" {
		t.Errorf("status credentials %v", st.Credentials)
	}
	ev := f.eventsOf("session.credential")
	if len(ev) != 1 || ev[0].Actor != "svc-sql@EXAMPLE.TEST" || ev[0].Client != "alice@EXAMPLE.TEST" {
		t.Errorf("audit %+v", ev)
	}

	r := run(t, c, "echo ran", "", pass("svc-sql", "Bad-Secret-9"))
	if r.status != ExitRefused || strings.Contains(r.stdout, "ran") || !strings.Contains(r.stderr, "the credential passed for svc-sql@EXAMPLE.TEST was refused by the KDC") {
		t.Errorf("wrong password: %+v", r)
	}
	for _, e := range f.events.Events() {
		if strings.Contains(e.Reason+e.Target+e.Flags, "Sql-Pass-1") || strings.Contains(e.Reason+e.Target+e.Flags, "Bad-Secret-9") {
			t.Errorf("an audit event holds the secret: %+v", e)
		}
	}
}

// TestSessionStartNamesMode: the session.start event records the
// session's delegation mode.
func TestSessionStartNamesMode(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.login(t)
	run(t, c, "true", "", nil)
	run(t, c, "true", "", delegateTo(remoting.ModeConstrained))
	ev := f.eventsOf("session.start")
	if len(ev) != 2 || !strings.Contains(ev[0].Flags+",", ",mode=none,") || !strings.Contains(ev[1].Flags+",", ",mode=constrained,") {
		t.Errorf("session.start events: %+v", ev)
	}
}
