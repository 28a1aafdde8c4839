package kpasswd

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/directory/mem"
	"hop/kdc"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

const (
	realm   = krb5.Realm("EXAMPLE.TEST")
	adminPW = "Admin-Pass-1"
	alicePW = "Alice-Pass-1"
	bobPW   = "Bob-Pass-1"
	carolPW = "Carol-Pass-1"
	evePW   = "Eve-Pass-1"
)

// t0 is the fixed clock of the KDC, the clients and the server.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func fixedNow() time.Time { return t0 }

var aes = []krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196}

func principal(name string) krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: realm}
}

var changepwName = krb5.NewName(krb5.NTSrvInst, "kadmin", "changepw")

func pwKeys(t testing.TB, name, pw string) []directory.Key {
	t.Helper()
	salt := crypto.DefaultSalt(principal(name))
	var out []directory.Key
	for _, e := range aes {
		k, err := crypto.StringToKey(e, pw, salt, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, directory.NewKeyMaterial(e, salt, k.Material()))
	}
	return out
}

func rndKeys(t testing.TB) []directory.Key {
	t.Helper()
	var out []directory.Key
	for _, e := range aes {
		k, err := crypto.RandomKey(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, directory.NewKeyMaterial(e, "", k.Material()))
	}
	return out
}

type fixture struct {
	t       testing.TB
	dir     *directory.Directory
	store   *failingStore
	kdcAddr string
	srv     *Server
	audit   *audit.Memory
}

// newFixture makes a domain with Administrator (a Domain Admin), alice,
// bob, carol (managed by alice), eve (a Domain Admin managed by alice) and
// svc (a service with SPN HTTP/web.example.test), serves its KDC on
// loopback, and returns a kpasswd Server on the same directory.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	store := &failingStore{Store: mem.New()}
	d, err := directory.Init(ctx, store, mk, realm, pwKeys(t, "Administrator", adminPW), rndKeys(t), directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, pw string }{{"alice", alicePW}, {"bob", bobPW}, {"carol", carolPW}, {"eve", evePW}} {
		if _, err := d.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: u.name, Kind: directory.KindUser}, pwKeys(t, u.name, u.pw)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: "svc", Kind: directory.KindService,
		SPNs: []string{"HTTP/web.example.test"}}, rndKeys(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.As(directory.LocalAdmin).AddMember(ctx, directory.NameDomainAdmins, "eve", 0); err != nil {
		t.Fatal(err)
	}
	managers := []string{"alice"}
	for _, acct := range []string{"carol", "eve"} {
		if _, err := d.As(directory.LocalAdmin).SetDelegation(ctx, acct, directory.DelegationChange{ManagedBy: &managers}, 0); err != nil {
			t.Fatal(err)
		}
	}
	k, err := kdc.New(kdc.Config{Directory: d, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	kctx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- k.ListenAndServe(kctx, "127.0.0.1:0", func(u, _ net.Addr) { ready <- u.String() })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	mem := &audit.Memory{}
	return &fixture{t: t, dir: d, store: store, kdcAddr: addr, audit: mem,
		srv: &Server{Directory: d, Audit: mem, Now: fixedNow}}
}

// failingStore is an in-memory store whose writes fail, once armed, with
// an error of the store's own (not a directory.Error).
type failingStore struct {
	*mem.Store
	fail atomic.Bool
}

// storeFailure is the text of failingStore's error: internal, for the log.
const storeFailure = "mem: page 7 of the store is unreadable"

func (s *failingStore) Update(ctx context.Context, fn func(directory.Tx) error) error {
	if s.fail.Load() {
		return errors.New(storeFailure)
	}
	return s.Store.Update(ctx, fn)
}

// initial gets an INITIAL ticket for kadmin/changepw with name's password,
// as kpasswd does.
func (f *fixture) initial(name, pw string) *client.Credential {
	f.t.Helper()
	c := client.Dial(f.kdcAddr, client.UDPThenTCP, 5*time.Second)
	defer c.Close()
	cred, _, err := c.Login(context.Background(), &client.Request{Client: principal(name), Service: changepwName, Now: fixedNow}, pw)
	if err != nil {
		f.t.Fatalf("AS-REQ for kadmin/changepw as %s: %v", name, err)
	}
	if cred.Flags&krb5.TktInitial == 0 {
		f.t.Fatalf("AS ticket without INITIAL: %v", cred.Flags)
	}
	return cred
}

// fromTGT gets a ticket for service through the TGS: not INITIAL.
func (f *fixture) fromTGT(name, pw string, service krb5.PrincipalName) *client.Credential {
	f.t.Helper()
	c := client.Dial(f.kdcAddr, client.UDPThenTCP, 5*time.Second)
	defer c.Close()
	ctx := context.Background()
	tgt, _, err := c.Login(ctx, &client.Request{Client: principal(name), Now: fixedNow}, pw)
	if err != nil {
		f.t.Fatal(err)
	}
	cred, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: service, Now: fixedNow})
	if err != nil {
		f.t.Fatal(err)
	}
	if cred.Flags&krb5.TktInitial != 0 {
		f.t.Fatalf("TGS ticket with INITIAL")
	}
	return cred
}

// canLogin reports whether name's password is pw, asking the KDC.
func (f *fixture) canLogin(name, pw string) bool {
	f.t.Helper()
	c := client.Dial(f.kdcAddr, client.UDPThenTCP, 5*time.Second)
	defer c.Close()
	_, _, err := c.Login(context.Background(), &client.Request{Client: principal(name), Now: fixedNow}, pw)
	var ke *client.Error
	if err != nil && !errors.As(err, &ke) {
		f.t.Fatal(err)
	}
	return err == nil
}

// reqOpts varies a request away from what a correct client sends.
type reqOpts struct {
	version         uint16 // 0: VersionChange
	userData        []byte // the KRB-PRIV's user-data
	noSubkey        bool
	noAuthSeq       bool
	mitSeq          bool   // as MIT's kpasswd: no sequence number in the authenticator, 0 in the KRB-PRIV
	privSeqDelta    uint32 // added to the KRB-PRIV's sequence number
	sealWithSession bool   // seal the KRB-PRIV in the session key
	privGarbage     bool   // a KRB-PRIV that does not decode
}

// testSession is what the test's client keeps to read a reply.
type testSession struct {
	cred   *client.Credential
	subkey *crypto.Key
	seq    uint32
	ctime  time.Time
	cusec  int32
}

var seqCounter struct {
	sync.Mutex
	n uint32
}

// buildRequest writes a request as RFC 3244 describes it, independently of
// Client: AP-REQ with subkey and sequence number, KRB-PRIV in the subkey.
func buildRequest(t testing.TB, cred *client.Credential, o reqOpts) ([]byte, *testSession) {
	t.Helper()
	seqCounter.Lock()
	seqCounter.n += 1000
	seq := 0x01020304 + seqCounter.n // distinct authenticators: no replay
	seqCounter.Unlock()
	ss := &testSession{cred: cred, seq: seq, ctime: t0, cusec: int32(seq % 1000000)}
	auth := wire.Authenticator{CRealm: cred.Client.Realm, CName: cred.Client.Name, CTime: t0, Cusec: ss.cusec}
	if !o.noSubkey {
		sk, err := crypto.RandomKey(cred.SessionKey.EncType(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ss.subkey = sk
		auth.SubKey = &wire.EncryptionKey{Type: sk.EncType(), Value: sk.Material()}
	}
	if !o.noAuthSeq && !o.mitSeq {
		auth.SeqNumber = &seq
	}
	plain, err := auth.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	encAuth, err := cred.SessionKey.Encrypt(nil, krb5.UsageAPReqAuthenticator, plain)
	if err != nil {
		t.Fatal(err)
	}
	apReq, err := (&wire.APReq{Options: krb5.APMutualRequired, Ticket: cred.Ticket,
		Authenticator: wire.EncryptedData{EType: cred.SessionKey.EncType(), Cipher: encAuth}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	privSeq := seq + o.privSeqDelta
	if o.mitSeq {
		privSeq = 0
	}
	part := wire.EncKRBPrivPart{UserData: o.userData, SeqNumber: &privSeq,
		SAddress: &wire.HostAddress{Type: krb5.AddrIPv4, Address: []byte{127, 0, 0, 1}}}
	plain, err = part.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	key := ss.subkey
	if o.sealWithSession || key == nil {
		key = cred.SessionKey
	}
	encPriv, err := key.Encrypt(nil, krb5.UsageKRBPrivEncPart, plain)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := (&wire.KRBPriv{EncPart: wire.EncryptedData{EType: key.EncType(), Cipher: encPriv}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if o.privGarbage {
		priv = []byte{0x75, 0x03, 0x30, 0x01, 0x00}
	}
	version := o.version
	if version == 0 {
		version = VersionChange
	}
	msg, err := (&Message{Version: version, AP: apReq, Body: priv}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return msg, ss
}

// readPrivReply decodes an AP-REP + KRB-PRIV reply by hand and checks what
// RFC 3244 and MIT's client require of it.
func readPrivReply(t testing.TB, reply []byte, ss *testSession) Result {
	t.Helper()
	m, err := ParseMessage(reply)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if m.Version != VersionChange {
		t.Fatalf("reply version %#x, want 1 (RFC 3244 §2; Heimdal insists)", m.Version)
	}
	if len(m.AP) == 0 {
		e, _ := wire.ParseKRBError(m.Body)
		t.Fatalf("reply is a KRB-ERROR %+v, want AP-REP + KRB-PRIV", e)
	}
	rep, err := wire.ParseAPRep(m.AP)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ss.cred.SessionKey.Decrypt(krb5.UsageAPRepEncPart, rep.EncPart.Cipher)
	if err != nil {
		t.Fatalf("AP-REP: %v", err)
	}
	ep, err := wire.ParseEncAPRepPart(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !ep.CTime.Equal(ss.ctime) || ep.Cusec != ss.cusec {
		t.Fatalf("AP-REP time %v %d, want %v %d", ep.CTime, ep.Cusec, ss.ctime, ss.cusec)
	}
	if ep.SeqNumber == nil {
		t.Fatal("AP-REP without sequence number")
	}
	key := ss.cred.SessionKey
	if ss.subkey != nil {
		key = ss.subkey
		// MIT's kadmind echoes the client's subkey; Heimdal's client then
		// decrypts the KRB-PRIV with it. Any other subkey would break it.
		if ep.SubKey == nil || !ep.SubKey.Equal(wire.EncryptionKey{Type: key.EncType(), Value: key.Material()}) {
			t.Fatal("AP-REP does not echo the client's subkey")
		}
	}
	priv, err := wire.ParseKRBPriv(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err = key.Decrypt(krb5.UsageKRBPrivEncPart, priv.EncPart.Cipher)
	if err != nil {
		t.Fatalf("KRB-PRIV: %v", err)
	}
	part, err := wire.ParseEncKRBPrivPart(plain)
	if err != nil {
		t.Fatal(err)
	}
	if part.SeqNumber == nil || *part.SeqNumber != *ep.SeqNumber {
		t.Fatalf("KRB-PRIV seq %v, AP-REP seq %d", part.SeqNumber, *ep.SeqNumber)
	}
	if *ep.SeqNumber&0xc0000000 != 0 {
		t.Fatalf("server sequence number %#x has a top bit set", *ep.SeqNumber)
	}
	if part.SAddress == nil || part.SAddress.Type != krb5.AddrDirectional || string(part.SAddress.Address) != "\x00\x00\x00\x01" {
		t.Fatalf("s-address %+v, want the directional acceptor address", part.SAddress)
	}
	res, err := ParseResult(part.UserData)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// readErrorReply decodes a KRB-ERROR reply, framed (version 1) or bare
// (version 0xff80).
func readErrorReply(t testing.TB, reply []byte, bare bool) (krb5.ErrorCode, Result) {
	t.Helper()
	body := reply
	if !bare {
		m, err := ParseMessage(reply)
		if err != nil {
			t.Fatalf("reply: %v", err)
		}
		if m.Version != VersionChange || len(m.AP) != 0 {
			t.Fatalf("reply version %#x with %d-byte AP-REP, want a framed KRB-ERROR", m.Version, len(m.AP))
		}
		body = m.Body
	}
	e, err := wire.ParseKRBError(body)
	if err != nil {
		t.Fatalf("reply is no KRB-ERROR: %v", err)
	}
	if !e.SName.Equal(changepwName) || e.Realm != realm {
		t.Fatalf("KRB-ERROR from %v@%v", e.SName, e.Realm)
	}
	if e.EText != "" {
		t.Fatalf("KRB-ERROR has e-text %q; the result is in e-data", e.EText)
	}
	res, err := ParseResult(e.EData)
	if err != nil {
		t.Fatalf("e-data: %v", err)
	}
	if res.Code == Success {
		t.Fatal("KRB-ERROR with SUCCESS")
	}
	return e.ErrorCode, res
}

func setpw(t testing.TB, pw string, target *krb5.Principal) []byte {
	t.Helper()
	c := wire.ChangePasswdData{NewPasswd: []byte(pw)}
	if target != nil {
		n := target.Name
		c.TargName, c.TargRealm = &n, target.Realm
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr(p krb5.Principal) *krb5.Principal { return &p }

// TestHandleAuthenticated covers every outcome of a request whose AP-REQ is
// accepted: the answer is AP-REP + KRB-PRIV, and the directory changes only
// on success.
func TestHandleAuthenticated(t *testing.T) {
	f := newFixture(t)
	type tc struct {
		name     string
		cred     func() *client.Credential
		opts     reqOpts
		want     ResultCode
		msg      []string // substrings of the result message
		login    [2]string
		loginOK  bool
		noLogin  [2]string // a password that must no longer (or not) work
		auditTyp string
		target   string
	}
	tests := []tc{
		{name: "change own password", cred: func() *client.Credential { return f.initial("alice", alicePW) },
			opts: reqOpts{userData: []byte("Alice-New-Pass-2")}, want: Success,
			login: [2]string{"alice", "Alice-New-Pass-2"}, loginOK: true, noLogin: [2]string{"alice", alicePW},
			auditTyp: "kpasswd.change", target: "alice@EXAMPLE.TEST"},
		{name: "too short", cred: func() *client.Credential { return f.initial("bob", bobPW) },
			opts: reqOpts{userData: []byte("short")}, want: SoftError, msg: []string{"5 characters", "at least 8"},
			login: [2]string{"bob", bobPW}, loginOK: true, auditTyp: "kpasswd.change"},
		{name: "reused", cred: func() *client.Credential { return f.initial("alice", "Alice-New-Pass-2") },
			opts: reqOpts{userData: []byte("Alice-New-Pass-2")}, want: SoftError, msg: []string{"used before"},
			login: [2]string{"alice", "Alice-New-Pass-2"}, loginOK: true, auditTyp: "kpasswd.change"},
		{name: "change with a ticket from the TGT", cred: func() *client.Credential { return f.fromTGT("bob", bobPW, changepwName) },
			opts: reqOpts{userData: []byte("Bob-New-Pass-2")}, want: InitialFlagNeeded, msg: []string{"INITIAL", "kpasswd"},
			login: [2]string{"bob", bobPW}, loginOK: true, noLogin: [2]string{"bob", "Bob-New-Pass-2"}, auditTyp: "kpasswd.change"},
		{name: "set self as Heimdal sends it", cred: func() *client.Credential { return f.initial("bob", bobPW) },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Bob-New-Pass-3", ptr(principal("bob")))}, want: Success,
			login: [2]string{"bob", "Bob-New-Pass-3"}, loginOK: true, auditTyp: "kpasswd.change", target: "bob@EXAMPLE.TEST"},
		{name: "set self without targname", cred: func() *client.Credential { return f.initial("bob", "Bob-New-Pass-3") },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Bob-New-Pass-4", nil)}, want: Success,
			login: [2]string{"bob", "Bob-New-Pass-4"}, loginOK: true, auditTyp: "kpasswd.change"},
		{name: "set self from the TGT", cred: func() *client.Credential { return f.fromTGT("bob", "Bob-New-Pass-4", changepwName) },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Bob-New-Pass-5", ptr(principal("bob")))}, want: InitialFlagNeeded,
			login: [2]string{"bob", "Bob-New-Pass-4"}, loginOK: true, auditTyp: "kpasswd.change"},
		{name: "admin sets bob", cred: func() *client.Credential { return f.fromTGT("Administrator", adminPW, changepwName) },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Bob-Set-By-Admin", ptr(principal("bob")))}, want: Success,
			login: [2]string{"bob", "Bob-Set-By-Admin"}, loginOK: true, auditTyp: "kpasswd.set", target: "bob@EXAMPLE.TEST"},
		{name: "manager sets carol", cred: func() *client.Credential { return f.initial("alice", "Alice-New-Pass-2") },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Carol-By-Alice", ptr(principal("carol")))}, want: Success,
			login: [2]string{"carol", "Carol-By-Alice"}, loginOK: true, auditTyp: "kpasswd.set"},
		{name: "user sets another", cred: func() *client.Credential { return f.initial("bob", "Bob-Set-By-Admin") },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Alice-By-Bob-1", ptr(principal("alice")))}, want: AccessDenied,
			login: [2]string{"alice", "Alice-New-Pass-2"}, loginOK: true, noLogin: [2]string{"alice", "Alice-By-Bob-1"}, auditTyp: "kpasswd.set"},
		{name: "manager of a Domain Admin", cred: func() *client.Credential { return f.initial("alice", "Alice-New-Pass-2") },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Eve-By-Alice-1", ptr(principal("eve")))}, want: AccessDenied,
			msg: []string{"Domain Admins"}, login: [2]string{"eve", evePW}, loginOK: true, auditTyp: "kpasswd.set"},
		{name: "unknown target", cred: func() *client.Credential { return f.initial("Administrator", adminPW) },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Nobody-Pass-1", ptr(principal("nobody")))}, want: HardError,
			msg: []string{"nobody"}, auditTyp: "kpasswd.set", target: "nobody@EXAMPLE.TEST"},
		{name: "target in another realm", cred: func() *client.Credential { return f.initial("Administrator", adminPW) },
			opts: reqOpts{version: VersionSet, userData: setpw(t, "Other-Pass-1",
				&krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "bob"), Realm: "OTHER.TEST"})}, want: HardError,
			msg: []string{"OTHER.TEST"}, auditTyp: "kpasswd.set"},
		{name: "password not UTF-8", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte("Carol\xff\xfe-Pass")}, want: SoftError, msg: []string{"UTF-8"},
			login: [2]string{"carol", "Carol-By-Alice"}, loginOK: true},
		{name: "password too long", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte(strings.Repeat("x", directory.MaxPasswordLength+1))}, want: SoftError,
			msg: []string{fmt.Sprint(directory.MaxPasswordLength + 1)}},
		{name: "no subkey", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte("Carol-New-Pass-1"), noSubkey: true}, want: Malformed, msg: []string{"subkey"},
			login: [2]string{"carol", "Carol-By-Alice"}, loginOK: true},
		{name: "no sequence number", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte("Carol-New-Pass-1"), noAuthSeq: true}, want: Malformed, msg: []string{"sequence number"}},
		{name: "sequence numbers differ", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte("Carol-New-Pass-1"), privSeqDelta: 1}, want: Malformed, msg: []string{"sequence number"},
			login: [2]string{"carol", "Carol-By-Alice"}, loginOK: true},
		{name: "KRB-PRIV in the session key", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte("Carol-New-Pass-1"), sealWithSession: true}, want: AuthError, msg: []string{"subkey"},
			login: [2]string{"carol", "Carol-By-Alice"}, loginOK: true},
		{name: "KRB-PRIV garbage", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{privGarbage: true}, want: Malformed, msg: []string{"KRB-PRIV"}},
		{name: "ChangePasswdData garbage", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{version: VersionSet, userData: []byte("Carol-New-Pass-1")}, want: Malformed, msg: []string{"ChangePasswdData"},
			login: [2]string{"carol", "Carol-By-Alice"}, loginOK: true, auditTyp: "kpasswd.set"},
		{name: "MIT's sequence numbers", cred: func() *client.Credential { return f.initial("carol", "Carol-By-Alice") },
			opts: reqOpts{userData: []byte("Carol-Mit-Pass-1"), mitSeq: true}, want: Success,
			login: [2]string{"carol", "Carol-Mit-Pass-1"}, loginOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			cred := tc.cred()
			msg, ss := buildRequest(t, cred, tc.opts)
			n := len(f.audit.Events())
			res := readPrivReply(t, f.srv.Handle(context.Background(), msg, "192.0.2.7:4464"), ss)
			t.Logf("%v: %s", res.Code, res.Message)
			if res.Code != tc.want {
				t.Fatalf("result %v %q, want %v", res.Code, res.Message, tc.want)
			}
			for _, m := range tc.msg {
				if !strings.Contains(res.Message, m) {
					t.Errorf("message %q lacks %q", res.Message, m)
				}
			}
			if tc.login[0] != "" && f.canLogin(tc.login[0], tc.login[1]) != tc.loginOK {
				t.Errorf("login %s with %q: want %v", tc.login[0], tc.login[1], tc.loginOK)
			}
			if tc.noLogin[0] != "" && f.canLogin(tc.noLogin[0], tc.noLogin[1]) {
				t.Errorf("login %s with %q works", tc.noLogin[0], tc.noLogin[1])
			}
			evs := f.audit.Events()[n:]
			if len(evs) != 1 {
				t.Fatalf("%d audit events, want 1: %+v", len(evs), evs)
			}
			ev := evs[0]
			if ev.Code != tc.want.String() || ev.Client != cred.Client.String() || ev.Addr != "192.0.2.7:4464" {
				t.Errorf("audit event %+v", ev)
			}
			if tc.auditTyp != "" && ev.Type != tc.auditTyp {
				t.Errorf("audit type %q, want %q", ev.Type, tc.auditTyp)
			}
			if tc.target != "" && ev.Target != tc.target {
				t.Errorf("audit target %q, want %q", ev.Target, tc.target)
			}
			if tc.want != Success && ev.Reason != res.Message {
				t.Errorf("audit reason %q, want %q", ev.Reason, res.Message)
			}
		})
	}
	f.t = t
	// No event of the server or of the directory contains a password.
	all, _ := json.Marshal(f.audit.Events())
	for _, pw := range []string{"Alice-New-Pass-2", "Bob-New-Pass-3", "Bob-Set-By-Admin", "Carol-By-Alice", "Eve-By-Alice-1", alicePW} {
		if strings.Contains(string(all), pw) {
			t.Errorf("a password is in the audit log: %s", all)
		}
	}
}

// TestHandleStoreFailure: a failure that is no directory.Error, such as
// the store's, goes to the server's log; the client learns only that its
// change failed, never the internal cause.
func TestHandleStoreFailure(t *testing.T) {
	f := newFixture(t)
	var logged bytes.Buffer
	f.srv.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	cred := f.initial("alice", alicePW)
	f.store.fail.Store(true)
	msg, ss := buildRequest(t, cred, reqOpts{userData: []byte("Alice-New-Pass-2")})
	res := readPrivReply(t, f.srv.Handle(context.Background(), msg, "192.0.2.7:4464"), ss)
	if res.Code != HardError || strings.Contains(res.Message, storeFailure) ||
		!strings.Contains(res.Message, "the password of alice could not be set") {
		t.Errorf("result %v %q; want a hard error that names alice and not the store's failure", res.Code, res.Message)
	}
	if !strings.Contains(logged.String(), storeFailure) {
		t.Errorf("the log lacks the store's failure: %s", logged.String())
	}
	f.store.fail.Store(false)
	if !f.canLogin("alice", alicePW) {
		t.Error("alice's password changed")
	}
}

// TestHandleRefused covers the requests refused before a key is
// established: the answer is a KRB-ERROR with the result in e-data, framed
// for version 1 and bare for RFC 3244.
func TestHandleRefused(t *testing.T) {
	f := newFixture(t)
	good, _ := buildRequest(t, f.initial("alice", alicePW), reqOpts{userData: []byte("Alice-New-Pass-9")})
	m, err := ParseMessage(good)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(version uint16, ap, body []byte) []byte {
		b, err := (&Message{Version: version, AP: ap, Body: body}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	svcCred := f.fromTGT("alice", alicePW, krb5.NewName(krb5.NTSrvHst, "HTTP", "web.example.test"))
	wrongSvc, _ := buildRequest(t, svcCred, reqOpts{userData: []byte("x")})
	replayed, _ := buildRequest(t, f.initial("bob", bobPW), reqOpts{version: VersionSet, userData: setpw(t, "Bob-Pass-Replay", nil)})
	if res := f.srv.Handle(context.Background(), replayed, "peer"); res == nil {
		t.Fatal("no reply")
	}
	apReq, err := wire.ParseAPReq(m.AP)
	if err != nil {
		t.Fatal(err)
	}
	apReq.Ticket.Raw = nil
	apReq.Ticket.EncPart.Cipher = append([]byte(nil), apReq.Ticket.EncPart.Cipher...)
	apReq.Ticket.EncPart.Cipher[20] ^= 0x01
	tamperedTicket, err := apReq.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		msg     []byte
		bare    bool
		code    krb5.ErrorCode
		want    ResultCode
		msgs    []string
		typ     string
		hasUser bool
	}{
		{"length field wrong", append(append([]byte(nil), good...), 0), false, krb5.KRBAPErrModified, Malformed,
			[]string{"length field"}, "kpasswd.request", false},
		{"truncated", good[:5], false, krb5.KRBAPErrModified, Malformed, []string{"header"}, "kpasswd.request", false},
		{"version 2", frame(2, m.AP, m.Body), false, krb5.KDCErrBadPVNO, BadVersion, []string{"0x0002"}, "kpasswd.request", false},
		{"no AP-REQ", frame(VersionChange, nil, m.Body), false, krb5.KRBAPErrModified, Malformed, []string{"AP-REQ"}, "kpasswd.change", false},
		{"no KRB-PRIV", frame(VersionChange, m.AP, nil), false, krb5.KRBAPErrModified, Malformed, []string{"KRB-PRIV"}, "kpasswd.change", false},
		{"AP-REQ garbage", frame(VersionChange, []byte{0x6e, 0x00}, m.Body), false, krb5.KRBAPErrMsgType, AuthError,
			[]string{"AP-REQ"}, "kpasswd.change", false},
		{"AP-REQ garbage, RFC 3244", frame(VersionSet, []byte{0x6e, 0x00}, m.Body), true, krb5.KRBAPErrMsgType, AuthError,
			[]string{"AP-REQ"}, "kpasswd.set", false},
		{"tampered ticket", frame(VersionChange, tamperedTicket, m.Body), false, krb5.KRBAPErrBadIntegrity, AuthError,
			nil, "kpasswd.change", false},
		{"ticket for another service", wrongSvc, false, krb5.KRBAPErrNotUs, AuthError, []string{"kadmin/changepw"}, "kpasswd.change", false},
		{"replayed", replayed, true, krb5.KRBAPErrRepeat, AuthError, []string{"replay"}, "kpasswd.set", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(f.audit.Events())
			reply := f.srv.Handle(context.Background(), tc.msg, "192.0.2.8:1464")
			if tc.bare && (len(reply) == 0 || reply[0] != 0x7e) {
				t.Fatalf("reply % x is not a bare KRB-ERROR", reply)
			}
			code, res := readErrorReply(t, reply, tc.bare)
			t.Logf("%v, %v: %s", code, res.Code, res.Message)
			if code != tc.code || res.Code != tc.want {
				t.Fatalf("KRB-ERROR %v with %v %q; want %v with %v", code, res.Code, res.Message, tc.code, tc.want)
			}
			for _, s := range tc.msgs {
				if !strings.Contains(res.Message, s) {
					t.Errorf("message %q lacks %q", res.Message, s)
				}
			}
			evs := f.audit.Events()[n:]
			if len(evs) != 1 || evs[0].Type != tc.typ || evs[0].Code != tc.want.String() || evs[0].Addr != "192.0.2.8:1464" {
				t.Fatalf("audit %+v, want one %s event", evs, tc.typ)
			}
		})
	}
	// (bob's first, accepted, request changed his password.)
	if !f.canLogin("alice", alicePW) || !f.canLogin("bob", "Bob-Pass-Replay") {
		t.Fatal("a refused request changed a password")
	}
	if r := f.srv.Handle(context.Background(), nil, "x"); r != nil {
		t.Fatalf("empty datagram answered % x", r)
	}
}

// TestServeTCPLimits: a length prefix beyond 64 KiB is answered with a
// KRB-ERROR and the connection closed, without reading further.
func TestServeTCPLimits(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.ServeTCP(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	for _, n := range []uint32{0, MaxMessageSize + 1, 0x7fffffff, 0xffffffff} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], n)
		if _, err := c.Write(hdr[:]); err != nil {
			t.Fatal(err)
		}
		var rh [4]byte
		if _, err := c.Read(rh[:]); err != nil {
			t.Fatalf("length %d: no reply: %v", n, err)
		}
		body := make([]byte, binary.BigEndian.Uint32(rh[:]))
		if _, err := readFull(c, body); err != nil {
			t.Fatal(err)
		}
		_, res := readErrorReply(t, body, false)
		if res.Code != Malformed {
			t.Fatalf("length %d: %v", n, res)
		}
		if _, err := c.Read(rh[:]); err == nil {
			t.Fatalf("length %d: connection still open", n)
		}
		c.Close()
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestKeytab checks the directory adapter: kadmin/changepw only.
func TestKeytab(t *testing.T) {
	f := newFixture(t)
	kt := Keytab(f.dir)
	cp := krb5.Principal{Name: changepwName, Realm: realm}
	k1, err := kt.Key(cp, krb5.AES256CTSHMACSHA196, 0)
	if err != nil {
		t.Fatalf("kadmin/changepw: %v", err)
	}
	k2, err := kt.Key(krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "KADMIN", "CHANGEPW"), Realm: "example.test"}, krb5.AES256CTSHMACSHA196, 0)
	if err != nil || k1 != k2 {
		t.Fatalf("the same key is not reused for another spelling: %v", err)
	}
	tests := []struct {
		p    krb5.Principal
		e    krb5.EncType
		kvno uint32
		code krb5.ErrorCode
	}{
		{krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "HTTP", "web.example.test"), Realm: realm}, krb5.AES256CTSHMACSHA196, 0, krb5.KRBAPErrNotUs},
		{principal("alice"), krb5.AES256CTSHMACSHA196, 0, krb5.KRBAPErrNotUs},
		{krb5.Principal{Name: changepwName, Realm: "OTHER.TEST"}, krb5.AES256CTSHMACSHA196, 0, krb5.KRBAPErrNotUs},
		{cp, krb5.AES256CTSHMACSHA196, 77, krb5.KRBAPErrBadKeyVer},
		{cp, krb5.RC4HMAC, 0, krb5.KRBAPErrNoKey},
	}
	for _, tc := range tests {
		_, err := kt.Key(tc.p, tc.e, tc.kvno)
		if !errors.Is(err, tc.code) {
			t.Errorf("Key(%v, %v, %d) = %v, want %v", tc.p, tc.e, tc.kvno, err, tc.code)
		}
	}
}

// checkerSink is an audit.Checker whose log fails while failing is set.
type checkerSink struct {
	audit.Memory
	failing atomic.Bool
}

func (s *checkerSink) Failing() error {
	if s.failing.Load() {
		return errors.New("no space left on device")
	}
	return nil
}

// TestRefuseUnaudited: with RefuseUnaudited, no password changes while
// the audit log cannot be written, and the change goes through once it
// can.
func TestRefuseUnaudited(t *testing.T) {
	f := newFixture(t)
	sink := &checkerSink{}
	f.srv = &Server{Directory: f.dir, Audit: sink, Now: fixedNow, RefuseUnaudited: true}
	sink.failing.Store(true)
	msg, ss := buildRequest(t, f.initial("alice", alicePW), reqOpts{userData: []byte("Alice-New-Pass-9")})
	res := readPrivReply(t, f.srv.Handle(context.Background(), msg, "192.0.2.7:4464"), ss)
	if res.Code != SoftError || !strings.Contains(res.Message, "audit log cannot be written") {
		t.Fatalf("while the log fails: %v %q", res.Code, res.Message)
	}
	if !f.canLogin("alice", alicePW) {
		t.Fatal("alice's password changed while the log could not record it")
	}
	sink.failing.Store(false)
	msg, ss = buildRequest(t, f.initial("alice", alicePW), reqOpts{userData: []byte("Alice-New-Pass-9")})
	if res := readPrivReply(t, f.srv.Handle(context.Background(), msg, "192.0.2.7:4464"), ss); res.Code != Success {
		t.Fatalf("once the log works: %v %q", res.Code, res.Message)
	}
}
