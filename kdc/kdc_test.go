package kdc

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/directory/mem"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

const (
	realm   = krb5.Realm("EXAMPLE.TEST")
	alicePW = "correct horse battery staple"
)

var allAES = []krb5.EncType{krb5.AES256CTSHMACSHA384192, krb5.AES128CTSHMACSHA256128, krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196}

type fixture struct {
	t     *testing.T
	dir   *directory.Directory
	kdc   *KDC
	audit *audit.Memory
	addr  string
	bKeys []directory.Key
}

func pwKeys(t testing.TB, name, pw string, etypes []krb5.EncType) []directory.Key {
	t.Helper()
	salt := crypto.DefaultSalt(krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: realm})
	var out []directory.Key
	for _, e := range etypes {
		k, err := crypto.StringToKey(e, pw, salt, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, directory.NewKeyMaterial(e, salt, k.Material()))
	}
	return out
}

func rndKeys(t testing.TB, etypes []krb5.EncType) []directory.Key {
	t.Helper()
	var out []directory.Key
	for _, e := range etypes {
		k, err := crypto.RandomKey(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, directory.NewKeyMaterial(e, "", k.Material()))
	}
	return out
}

// newDirectory makes a domain with alice (user) and b$ (computer).
func newDirectory(t testing.TB) (*directory.Directory, []directory.Key) {
	t.Helper()
	ctx := context.Background()
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.Init(ctx, mem.New(), mk, realm, pwKeys(t, "Administrator", "admin-pw", allAES), rndKeys(t, allAES), directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: "alice", Kind: directory.KindUser, UPN: "alice@example.test"}, pwKeys(t, "alice", alicePW, allAES)); err != nil {
		t.Fatal(err)
	}
	bKeys := rndKeys(t, allAES)
	if _, err := d.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: "b$", Kind: directory.KindComputer, DNSHostName: "b.example.test",
		SPNs: []string{"host/b.example.test", "host/b"}}, bKeys); err != nil {
		t.Fatal(err)
	}
	return d, bKeys
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	d, bKeys := newDirectory(t)
	mem := &audit.Memory{}
	cfg := Config{Directory: d, Audit: mem}
	if mod != nil {
		mod(&cfg)
	}
	k, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// serve.Server finds a port free for both UDP and TCP.
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- k.ListenAndServe(ctx, "127.0.0.1:0", func(u, _ net.Addr) { ready <- u.String() })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	return &fixture{t: t, dir: d, kdc: k, audit: mem, addr: addr, bKeys: bKeys}
}

func (f *fixture) conn(tr client.Transport) *client.Conn {
	c := client.Dial(f.addr, tr, 5*time.Second)
	f.t.Cleanup(func() { c.Close() })
	return c
}

func alice() krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: realm}
}

func (f *fixture) login(r *client.Request, pw string) (*client.Credential, error) {
	cred, _, err := f.conn(client.UDPThenTCP).Login(context.Background(), r, pw)
	return cred, err
}

func wantCode(t *testing.T, err error, code krb5.ErrorCode) {
	t.Helper()
	var ke *client.Error
	if !errors.As(err, &ke) || ke.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// openTicket decrypts a service ticket with the service's keys.
func openTicket(t *testing.T, tkt wire.Ticket, keys []directory.Key) *wire.EncTicketPart {
	t.Helper()
	for _, k := range keys {
		if k.EncType != tkt.EncPart.EType {
			continue
		}
		ck, err := crypto.NewKey(k.EncType, k.Material())
		if err != nil {
			t.Fatal(err)
		}
		etp, _, _ := ticketPAC(t, tkt, ck)
		return etp
	}
	t.Fatalf("no service key of type %s", tkt.EncPart.EType)
	return nil
}

func TestPreauthRequiredCarriesSalt(t *testing.T) {
	f := newFixture(t, nil)
	info, err := f.conn(client.UDPOnly).PreauthInfo(context.Background(), &client.Request{Client: alice()})
	if err != nil {
		t.Fatal(err)
	}
	if len(info) != 4 || info[0].EType != krb5.AES256CTSHMACSHA384192 || info[0].Salt == nil || *info[0].Salt != "EXAMPLE.TESTalice" {
		t.Fatalf("ETYPE-INFO2 = %+v", info)
	}
}

func TestASIssuesTGT(t *testing.T) {
	f := newFixture(t, nil)
	cred, err := f.login(&client.Request{Client: alice(), Options: krb5.OptForwardable | krb5.OptRenewable, RenewLifetime: 48 * time.Hour}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if cred.SessionKey.EncType() != krb5.AES256CTSHMACSHA384192 {
		t.Errorf("session key %s, want the strongest offered", cred.SessionKey.EncType())
	}
	want := krb5.TktInitial | krb5.TktPreAuthent | krb5.TktForwardable | krb5.TktRenewable
	if !cred.Flags.Has(want) || cred.Flags.Has(krb5.TktProxiable) {
		t.Errorf("flags = %s", krb5.TicketFlagString(cred.Flags))
	}
	if got := cred.EndTime.Sub(cred.StartTime); got != 10*time.Hour {
		t.Errorf("lifetime %s, want the 10h default", got)
	}
	if got := cred.RenewTill.Sub(cred.StartTime); got < 47*time.Hour || got > 48*time.Hour {
		t.Errorf("renewable for %s, want ~48h", got)
	}
	if cred.Server.Name.String() != "krbtgt/EXAMPLE.TEST" {
		t.Errorf("server %s", cred.Server)
	}
	ev := f.audit.Events()
	if len(ev) != 2 || ev[1].Type != "as.issued" || ev[1].Client != "alice@EXAMPLE.TEST" {
		t.Errorf("audit = %+v", ev)
	}
}

func TestASRefusals(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	_, err := f.login(&client.Request{Client: alice()}, "wrong")
	wantCode(t, err, krb5.KDCErrPreauthFailed)

	nobody := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "nobody"), Realm: realm}
	_, err = f.login(&client.Request{Client: nobody}, "x")
	wantCode(t, err, krb5.KDCErrCPrincipalUnknown)

	_, err = f.login(&client.Request{Client: alice(), Service: krb5.NewName(krb5.NTSrvInst, "host", "nowhere")}, alicePW)
	wantCode(t, err, krb5.KDCErrSPrincipalUnknown)

	_, err = f.login(&client.Request{Client: alice(), ETypes: []krb5.EncType{krb5.RC4HMAC}}, alicePW)
	wantCode(t, err, krb5.KDCErrETypeNoSupp)

	_, err = f.login(&client.Request{Client: alice(), Options: krb5.OptPostdated}, alicePW)
	wantCode(t, err, krb5.KDCErrBadOption)

	if _, err := f.dir.As(directory.LocalAdmin).UpdateAccount(ctx, "alice", 0, func(a *directory.Account) error { a.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err = f.login(&client.Request{Client: alice()}, alicePW)
	wantCode(t, err, krb5.KDCErrClientRevoked)

	krbtgt := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "krbtgt"), Realm: realm}
	_, err = f.login(&client.Request{Client: krbtgt}, "x")
	if err == nil {
		t.Fatal("krbtgt logged on as a client")
	}
}

func TestASWithSkewedClock(t *testing.T) {
	f := newFixture(t, nil)
	skewed := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	_, err := f.login(&client.Request{Client: alice(), Now: skewed}, alicePW)
	wantCode(t, err, krb5.KRBAPErrSkew)
}

func TestNamesAndRealmCase(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name     string
		client   krb5.Principal
		opts     krb5.Flags
		wantName string
	}{
		{"lower-case realm", krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "example.test"}, 0, "alice@example.test"},
		{"enterprise", krb5.Principal{Name: krb5.NewName(krb5.NTEnterprise, "alice@EXAMPLE.TEST"), Realm: realm}, 0, `alice\@EXAMPLE.TEST@EXAMPLE.TEST`},
		{"enterprise upn canonicalized", krb5.Principal{Name: krb5.NewName(krb5.NTEnterprise, "alice@example.test"), Realm: realm}, krb5.OptCanonicalize, "alice@EXAMPLE.TEST"},
		{"unknown name type", krb5.Principal{Name: krb5.NewName(krb5.NTUnknown, "ALICE"), Realm: realm}, krb5.OptCanonicalize, "alice@EXAMPLE.TEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := f.login(&client.Request{Client: tt.client, Options: tt.opts}, alicePW)
			if err != nil {
				t.Fatal(err)
			}
			if got := cred.Client.String(); got != tt.wantName {
				t.Errorf("client = %s, want %s", got, tt.wantName)
			}
			// The TGT works for a service ticket with the same names.
			st, err := f.conn(client.TCPOnly).ServiceTicket(context.Background(), cred, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test")})
			if err != nil {
				t.Fatal(err)
			}
			if etp := openTicket(t, st.Ticket, f.bKeys); !etp.CName.Equal(cred.Client.Name) {
				t.Errorf("service ticket cname %s", etp.CName)
			}
		})
	}
}

func TestTGS(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tgt, err := f.login(&client.Request{Client: alice(), Options: krb5.OptForwardable}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	c := f.conn(client.UDPThenTCP)
	for _, tt := range []struct {
		name string
		req  client.Request
		et   krb5.EncType
	}{
		{"checksum", client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Options: krb5.OptForwardable}, krb5.AES256CTSHMACSHA384192},
		{"no checksum, as impacket", client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b"), NoChecksum: true}, krb5.AES256CTSHMACSHA384192},
		{"subkey", client.Request{Service: krb5.NewName(krb5.NTPrincipal, "b$"), Subkey: true}, krb5.AES256CTSHMACSHA384192},
		{"aes128 only", client.Request{Service: krb5.NewName(krb5.NTSrvHst, "HOST", "B.EXAMPLE.TEST"), ETypes: []krb5.EncType{krb5.AES128CTSHMACSHA196}}, krb5.AES128CTSHMACSHA196},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := c.ServiceTicket(ctx, tgt, &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if st.SessionKey.EncType() != tt.et || st.Ticket.EncPart.EType != tt.et {
				t.Errorf("session etype %s, ticket etype %s, want %s", st.SessionKey.EncType(), st.Ticket.EncPart.EType, tt.et)
			}
			etp := openTicket(t, st.Ticket, f.bKeys)
			if !etp.CName.Equal(alice().Name) || etp.Key.Type != st.SessionKey.EncType() {
				t.Errorf("ticket: cname %s key %s", etp.CName, etp.Key.Type)
			}
			if etp.Flags.Has(krb5.TktInitial) || !etp.Flags.Has(krb5.TktPreAuthent) {
				t.Errorf("ticket flags %s", krb5.TicketFlagString(etp.Flags))
			}
			if tt.req.Options.Has(krb5.OptForwardable) != etp.Flags.Has(krb5.TktForwardable) {
				t.Errorf("forwardable = %v", etp.Flags.Has(krb5.TktForwardable))
			}
		})
	}
	_, err = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "c.example.test")})
	wantCode(t, err, krb5.KDCErrSPrincipalUnknown)

	// Disabling the client stops its TGT at once.
	if _, err := f.dir.As(directory.LocalAdmin).UpdateAccount(ctx, "alice", 0, func(a *directory.Account) error { a.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	_, err = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")})
	wantCode(t, err, krb5.KDCErrClientRevoked)
}

// An expired password gets no TGT but still a short ticket to
// kadmin/changepw, so that kpasswd can change it (as MIT's KDC does).
func TestExpiredPasswordOnlyReachesChangepw(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.dir.As(directory.LocalAdmin).UpdateAccount(ctx, "alice", 0, func(a *directory.Account) error {
		a.PasswordExpires = time.Now().Add(-time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := f.login(&client.Request{Client: alice()}, alicePW)
	wantCode(t, err, krb5.KDCErrKeyExpired)
	if err == nil || !strings.Contains(err.Error(), "kpasswd alice") {
		t.Errorf("the refusal should say how to change the password: %v", err)
	}
	cred, err := f.login(&client.Request{Client: alice(), Service: krb5.NewName(krb5.NTSrvInst, "kadmin", "changepw")}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if life := cred.EndTime.Sub(cred.StartTime); life > 5*time.Minute || life <= 0 {
		t.Errorf("a changepw ticket lives %s, want at most 5 minutes", life)
	}
	if !cred.Flags.Has(krb5.TktInitial) {
		t.Error("the changepw ticket is not INITIAL, which kpasswd requires")
	}
}
