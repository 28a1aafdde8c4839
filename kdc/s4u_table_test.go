package kdc

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
)

// The delegation decision table of docs/design/delegation-rules.md §6, at
// the protocol level: each row sets up the directory, sends real requests
// with krb5/client to a running KDC (the fixture's, over UDP and TCP) and
// checks the answer as a service would see it. The expected error codes and
// NTSTATUS values come from MS-SFU, MS-KILE and the rules document, never
// from the code under test.

// NTSTATUS values of MS-ERREF §2.3.1, as MS-SFU §3.2.5.2.1 and §3.2.5.2.3
// name them (rules document §0).
const (
	ntNotSupported       = 0xC00000BB // KCD list empty, no RBCD bit
	ntNoMatch            = 0xC0000272 // target not in the KCD list
	ntNotFound           = 0xC0000225 // RBCD access check failed
	ntAccountRestriction = 0xC000006E // evidence not forwardable
)

const (
	bHost   = "host/b.example.test"
	cCIFS   = "cifs/c.example.test"
	cHost   = "host/c.example.test"
	dHTTP   = "http/d.example.test"
	samPW   = "Sam-Pass-1"
	patPW   = "Pat-Pass-1"
	webSrvs = "Web Servers"
)

// s4uWorld is the domain of the table: alice (ordinary), sam (sensitive),
// pat (Protected Users through the nested group "Tier 0"); b$ (host/b…,
// the requesting service, in group "Web Servers"), c$ (cifs/c… and
// host/c…) and d$ (http/d…), all with random keys.
type s4uWorld struct {
	t   *testing.T
	f   *fixture
	ctx context.Context
}

func newS4UWorld(t *testing.T) *s4uWorld {
	f := newFixture(t, nil)
	w := &s4uWorld{t: t, f: f, ctx: context.Background()}
	d := f.dir
	for _, a := range []struct {
		acct *directory.Account
		keys []directory.Key
	}{
		{&directory.Account{Name: "sam", Kind: directory.KindUser}, pwKeys(t, "sam", samPW, allAES)},
		{&directory.Account{Name: "pat", Kind: directory.KindUser}, pwKeys(t, "pat", patPW, allAES)},
		{&directory.Account{Name: "c$", Kind: directory.KindComputer, DNSHostName: "c.example.test", SPNs: []string{cCIFS, cHost}}, rndKeys(t, allAES)},
		{&directory.Account{Name: "d$", Kind: directory.KindComputer, DNSHostName: "d.example.test", SPNs: []string{dHTTP}}, rndKeys(t, allAES)},
	} {
		if _, err := d.As(directory.LocalAdmin).CreateAccount(w.ctx, a.acct, a.keys); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"Tier 0", webSrvs} {
		if _, err := d.As(directory.LocalAdmin).CreateGroup(w.ctx, g, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"Tier 0", "pat"}, {directory.NameProtectedUsers, "Tier 0"}, {webSrvs, "b$"}} {
		if _, err := d.As(directory.LocalAdmin).AddMember(w.ctx, m[0], m[1], 0); err != nil {
			t.Fatal(err)
		}
	}
	w.set("sam", directory.DelegationChange{Sensitive: ptr(true)})
	return w
}

func user(name string) krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: realm}
}

func spn(s string) krb5.PrincipalName {
	return krb5.NewName(krb5.NTSrvInst, strings.Split(s, "/")...)
}

// set changes account's delegation settings as the domain administrator.
func (w *s4uWorld) set(account string, c directory.DelegationChange) {
	w.t.Helper()
	if _, err := w.f.dir.As(directory.LocalAdmin).SetDelegation(w.ctx, account, c, 0); err != nil {
		w.t.Fatal(err)
	}
}

func (w *s4uWorld) kcd(account string, transition bool, spns ...string) {
	w.set(account, directory.DelegationChange{AllowedToDelegateTo: &spns, TrustedToAuthForDelegation: ptr(transition)})
}

func (w *s4uWorld) rbcd(resource string, principals ...string) {
	w.set(resource, directory.DelegationChange{AllowedToAct: &principals})
}

// svcTGT is the TGT of a computer account, obtained with its own key.
func (w *s4uWorld) svcTGT(name string, forwardable bool) *client.Credential {
	w.t.Helper()
	var opts krb5.Flags
	if forwardable {
		opts = krb5.OptForwardable
	}
	key := keyOf(w.t, w.f.dir, name, krb5.AES256CTSHMACSHA384192)
	tgt, err := w.f.conn(client.UDPThenTCP).LoginWithKey(w.ctx, &client.Request{Client: user(name), Options: opts}, key)
	if err != nil {
		w.t.Fatalf("TGT of %s: %v", name, err)
	}
	return tgt
}

func (w *s4uWorld) userTGT(name, pw string, opts krb5.Flags) *client.Credential {
	w.t.Helper()
	tgt, err := w.f.login(&client.Request{Client: user(name), Options: opts}, pw)
	if err != nil {
		w.t.Fatalf("TGT of %s: %v", name, err)
	}
	return tgt
}

// self asks, with tgt (b$'s), for an S4U2Self ticket to host/b… for name.
func (w *s4uWorld) self(tgt *client.Credential, name string, opts krb5.Flags, mod func(*client.Request)) (*client.Credential, error) {
	u := user(name)
	r := &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Impersonate: &u, Options: opts}
	if mod != nil {
		mod(r)
	}
	return w.f.conn(client.UDPThenTCP).ServiceTicket(w.ctx, tgt, r)
}

func (w *s4uWorld) mustSelf(tgt *client.Credential, name string, opts krb5.Flags) *client.Credential {
	w.t.Helper()
	c, err := w.self(tgt, name, opts, nil)
	if err != nil {
		w.t.Fatalf("S4U2Self for %s: %v", name, err)
	}
	return c
}

// proxy asks, with tgt, for a ticket to target in the name of ev's client.
func (w *s4uWorld) proxy(tgt, ev *client.Credential, target string, rbcd bool) (*client.Credential, error) {
	return w.f.conn(client.TCPOnly).ServiceTicket(w.ctx, tgt, &client.Request{Service: spn(target), Evidence: ev, ResourceBased: rbcd, Options: krb5.OptForwardable})
}

// reseal decrypts cred's ticket with the key of owner, lets mod change it,
// and encrypts it again with the same key: what a service holding its own
// key can do to tickets to itself, and what a test holding krbtgt's key can
// do to a TGT.
func (w *s4uWorld) reseal(cred *client.Credential, owner string, mod func(*wire.EncTicketPart)) *client.Credential {
	w.t.Helper()
	key := keyOf(w.t, w.f.dir, owner, cred.Ticket.EncPart.EType)
	etp, _, _ := ticketPAC(w.t, cred.Ticket, key)
	mod(etp)
	plain, err := etp.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	c := *cred
	if c.Ticket.EncPart.Cipher, err = key.Encrypt(nil, krb5.UsageTicket, plain); err != nil {
		w.t.Fatal(err)
	}
	c.Ticket.Raw = nil
	return &c
}

// editPAC changes the PAC of etp and encodes it again with the signatures
// it had, as a forger without the keys would.
func (w *s4uWorld) editPAC(etp *wire.EncTicketPart, mod func(*pac.PAC)) {
	w.t.Helper()
	raw, found, err := pac.FromAuthorizationData(etp.AuthorizationData)
	if err != nil || !found {
		w.t.Fatalf("no PAC to edit (%v)", err)
	}
	p, err := pac.Parse(raw)
	if err != nil {
		w.t.Fatal(err)
	}
	mod(p)
	b, err := p.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	ad, err := pac.AuthorizationData(b)
	if err != nil {
		w.t.Fatal(err)
	}
	etp.AuthorizationData = append(ad, withoutPAC(etp.AuthorizationData)...)
}

// relay is a UDP endpoint in front of the KDC that lets modReq change each
// TGS-REQ (keeping its body bytes, so that the authenticator's checksum
// still holds) and hands each reply to onReply.
func (w *s4uWorld) relay(modReq func(*wire.KDCReq), onReply func([]byte)) *client.Conn {
	w.t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			msg := bytes.Clone(buf[:n])
			if req, err := wire.ParseKDCReq(msg); err == nil && req.MsgType == krb5.MsgTGSReq && modReq != nil {
				modReq(req)
				if msg, err = req.Marshal(); err != nil {
					return
				}
			}
			rep := w.f.kdc.Handle(w.ctx, msg, "relay", 0)
			if onReply != nil {
				onReply(rep)
			}
			pc.WriteTo(rep, from)
		}
	}()
	w.t.Cleanup(func() { pc.Close(); wg.Wait() })
	c := client.Dial(pc.LocalAddr().String(), client.UDPOnly, 5*time.Second)
	w.t.Cleanup(func() { c.Close() })
	return c
}

// editPAData rewrites the value of the request's padata of type t.
func editPAData(req *wire.KDCReq, t krb5.PAType, mod func([]byte) []byte) {
	for i, p := range req.PAData {
		if p.Type == t {
			req.PAData[i].Value = mod(p.Value)
		}
	}
}

// s4uWant is what a row expects.
type s4uWant struct {
	// A refusal: the error code (alt: another code the rules document
	// allows), the NTSTATUS in KERB-ERROR-DATA (0: no e-data at all), and
	// words the e-text must contain.
	code, alt krb5.ErrorCode
	status    uint32
	etext     []string

	// A ticket: its client, whether it is forwardable, and who can open it.
	client      string
	fwd         bool
	owner       string
	noPAC       bool
	asserted    string   // "S-1-18-1" or "S-1-18-2": the asserted-identity SID in ExtraSids (attributes 7), the other absent
	proxyTarget string   // S4U_DELEGATION_INFO's target
	transited   []string // and its transited services
	pacOptions  krb5.Flags
	flags       krb5.Flags // further ticket flags that must be set

	// The audit event of the decision: its type, the user (Client), the
	// target (Service), and the rule the reason must name; "" = no check.
	event, eventUser, eventTarget, rule string
}

type s4uRow struct {
	id, name string
	setup    func(w *s4uWorld)
	do       func(w *s4uWorld) (*client.Credential, error)
	want     s4uWant
}

// Shorthands for the rows.
var (
	fwdOpt  = krb5.OptForwardable
	aliceAt = "alice@EXAMPLE.TEST"
	bTarget = bHost + "@EXAMPLE.TEST"
	cTarget = cCIFS + "@EXAMPLE.TEST"
	bTrans  = []string{bHost + "@EXAMPLE.TEST"}
)

func selfRow(id, name string, setup func(*s4uWorld), userName string, opts krb5.Flags, tgtFwd bool, fwd bool, rule string) s4uRow {
	return s4uRow{id: id, name: name, setup: setup,
		do: func(w *s4uWorld) (*client.Credential, error) {
			return w.self(w.svcTGT("b$", tgtFwd), userName, opts, nil)
		},
		want: s4uWant{client: userName + "@EXAMPLE.TEST", fwd: fwd, owner: "b$", asserted: "S-1-18-2",
			event: "tgs.s4u2self", eventUser: userName + "@EXAMPLE.TEST", eventTarget: bTarget, rule: rule}}
}

// proxyRow: b$ gets an S4U2Self ticket for userName (forwardable asked for)
// and asks for a ticket to target with it.
func proxyRow(id, name string, setup func(*s4uWorld), userName, target string, rbcd bool, want s4uWant) s4uRow {
	return s4uRow{id: id, name: name, setup: setup, want: want,
		do: func(w *s4uWorld) (*client.Credential, error) {
			tgt := w.svcTGT("b$", true)
			return w.proxy(tgt, w.mustSelf(tgt, userName, fwdOpt), target, rbcd)
		}}
}

func refusedProxy(code krb5.ErrorCode, status uint32, rule, userAt, target string, etext ...string) s4uWant {
	return s4uWant{code: code, status: status, etext: etext, event: "tgs.s4u2proxy.refused", eventUser: userAt, eventTarget: target, rule: rule}
}

func grantedProxy(rule, userAt, asserted string, pacOpts krb5.Flags) s4uWant {
	return s4uWant{client: userAt, fwd: true, owner: "c$", asserted: asserted, proxyTarget: cCIFS, transited: bTrans,
		pacOptions: pacOpts, event: "tgs.s4u2proxy", eventUser: userAt, eventTarget: cTarget, rule: rule}
}

func kcdC(w *s4uWorld)    { w.kcd("b$", true, cCIFS) }
func rbcdC(w *s4uWorld)   { w.rbcd("c$", "b$") }
func kcdNoPT(w *s4uWorld) { w.kcd("b$", false, cCIFS) }

func s4uRows() []s4uRow {
	rows := []s4uRow{
		// S4U2Self: who gets a forwardable ticket (MS-SFU §3.2.5.1.2, rules §1.3).
		selfRow("S1", "no delegation settings: empty KCD list", nil, "alice", fwdOpt, true, true, "empty-kcd-list"),
		selfRow("S2", "KCD list without protocol transition", kcdNoPT, "alice", fwdOpt, true, false, "kcd-without-protocol-transition"),
		selfRow("S3", "protocol transition", kcdC, "alice", fwdOpt, true, true, "protocol-transition"),
		selfRow("S4", "forwardable not requested", kcdC, "alice", 0, true, false, "forwardable-not-requested"),
		selfRow("S5", "service TGT not forwardable", kcdC, "alice", fwdOpt, false, false, "tgt-not-forwardable"),
		selfRow("S6", "sensitive user", kcdC, "sam", fwdOpt, true, false, "sensitive-user"),
		selfRow("S7", "Protected Users through a nested group", kcdC, "pat", fwdOpt, true, false, "protected-user"),
		{id: "S9", name: "unknown user",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.self(w.svcTGT("b$", true), "nobody", fwdOpt, nil)
			},
			want: s4uWant{code: 6, etext: []string{"no account", "nobody"}, event: "tgs.s4u2self.refused", eventUser: "nobody@EXAMPLE.TEST", eventTarget: bTarget, rule: "s4u2self-unknown-user"}},
		{id: "S10", name: "sname of another account",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.self(w.svcTGT("b$", true), "alice", fwdOpt, func(r *client.Request) { r.Service = spn(cHost) })
			},
			want: s4uWant{code: 36, etext: []string{"itself"}, event: "tgs.s4u2self.refused", eventUser: aliceAt, eventTarget: cHost + "@EXAMPLE.TEST", rule: "s4u2self-other-service"}},
		{id: "S11", name: "PA-FOR-USER checksum modified",
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				c := w.relay(func(req *wire.KDCReq) {
					editPAData(req, krb5.PAForUser, func(v []byte) []byte {
						p, err := wire.ParsePAForUser(v)
						if err != nil {
							w.t.Error(err)
							return v
						}
						p.Cksum.Sum[0] ^= 1
						b, _ := p.Marshal()
						return b
					})
				}, nil)
				u := user("alice")
				return c.ServiceTicket(w.ctx, tgt, &client.Request{Service: spn(bHost), Impersonate: &u, S4UPAData: client.S4UForUser})
			},
			want: s4uWant{code: 41, etext: []string{"PA-FOR-USER checksum"}, event: "tgs.s4u2self.refused", eventUser: aliceAt, eventTarget: bTarget, rule: "s4u2self-checksum"}},
		{id: "S11b", name: "PA-S4U-X509-USER checksum modified",
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				c := w.relay(func(req *wire.KDCReq) {
					editPAData(req, krb5.PAS4UX509User, func(v []byte) []byte {
						p, err := wire.ParsePAS4UX509User(v)
						if err != nil {
							w.t.Error(err)
							return v
						}
						p.Cksum.Sum[len(p.Cksum.Sum)-1] ^= 0x80
						b, _ := p.Marshal()
						return b
					})
				}, nil)
				u := user("alice")
				return c.ServiceTicket(w.ctx, tgt, &client.Request{Service: spn(bHost), Impersonate: &u, S4UPAData: client.S4UX509User, Subkey: true})
			},
			want: s4uWant{code: 41, etext: []string{"PA-S4U-X509-USER checksum"}, event: "tgs.s4u2self.refused", eventUser: aliceAt, eventTarget: bTarget, rule: "s4u2self-checksum"}},
		{id: "S12", name: "PA-FOR-USER with an unkeyed checksum (rsa-md5)",
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				c := w.relay(func(req *wire.KDCReq) {
					editPAData(req, krb5.PAForUser, func(v []byte) []byte {
						p, _ := wire.ParsePAForUser(v)
						sum := md5.Sum(p.ChecksumInput())
						p.Cksum = wire.Checksum{Type: 7, Sum: sum[:]}
						b, _ := p.Marshal()
						return b
					})
				}, nil)
				u := user("alice")
				return c.ServiceTicket(w.ctx, tgt, &client.Request{Service: spn(bHost), Impersonate: &u, S4UPAData: client.S4UForUser})
			},
			want: s4uWant{code: 50, etext: []string{"not a keyed checksum"}, event: "tgs.s4u2self.refused", eventUser: aliceAt, eventTarget: bTarget, rule: "s4u2self-checksum"}},
		{id: "S13", name: "service TGT without a PAC",
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.reseal(w.svcTGT("b$", true), "krbtgt", func(etp *wire.EncTicketPart) { etp.AuthorizationData = withoutPAC(etp.AuthorizationData) })
				return w.self(tgt, "alice", fwdOpt, nil)
			},
			want: s4uWant{code: 20, etext: []string{"no PAC"}, event: "tgs.s4u2self.refused", eventUser: aliceAt, eventTarget: bTarget, rule: "tgt-without-pac"}},
		{id: "S14", name: "no-auth-data-required service still gets a PAC",
			setup: func(w *s4uWorld) { w.set("b$", directory.DelegationChange{NoAuthDataRequired: ptr(true)}) },
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.self(w.svcTGT("b$", true), "alice", fwdOpt, nil)
			},
			want: s4uWant{client: aliceAt, fwd: true, owner: "b$", asserted: "S-1-18-2", event: "tgs.s4u2self", eventUser: aliceAt, eventTarget: bTarget, rule: "empty-kcd-list"}},
		{id: "S15", name: "disabled user",
			setup: func(w *s4uWorld) {
				if _, err := w.f.dir.As(directory.LocalAdmin).UpdateAccount(w.ctx, "alice", 0, func(a *directory.Account) error { a.Disabled = true; return nil }); err != nil {
					w.t.Fatal(err)
				}
			},
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.self(w.svcTGT("b$", true), "alice", fwdOpt, nil)
			},
			want: s4uWant{code: 18, etext: []string{"disabled"}, event: "tgs.s4u2self.refused", eventUser: aliceAt, eventTarget: bTarget, rule: "user-unusable"}},
		{id: "S16", name: "PA-S4U-X509-USER alone, authenticator subkey present",
			setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				var (
					mu    sync.Mutex
					reply []byte
				)
				c := w.relay(nil, func(rep []byte) { mu.Lock(); reply = bytes.Clone(rep); mu.Unlock() })
				u := user("alice")
				cred, err := c.ServiceTicket(w.ctx, tgt, &client.Request{Service: spn(bHost), Impersonate: &u, S4UPAData: client.S4UX509User, Subkey: true, Options: fwdOpt})
				if err == nil {
					mu.Lock()
					checkX509Echo(w.t, reply, tgt.SessionKey)
					mu.Unlock()
				}
				return cred, err
			},
			want: s4uWant{client: aliceAt, fwd: true, owner: "b$", asserted: "S-1-18-2", event: "tgs.s4u2self", eventUser: aliceAt, eventTarget: bTarget, rule: "protocol-transition"}},
		{id: "S17", name: "user of another realm",
			do: func(w *s4uWorld) (*client.Credential, error) {
				u := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "OTHER.TEST"}
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.svcTGT("b$", true), &client.Request{Service: spn(bHost), Impersonate: &u})
			},
			want: s4uWant{code: 12, etext: []string{"OTHER.TEST"}, event: "tgs.s4u2self.refused", eventUser: "alice@OTHER.TEST", eventTarget: bTarget, rule: "s4u2self-foreign-user"}},

		// S4U2Proxy, classic constrained delegation (MS-SFU §3.2.5.2.1).
		proxyRow("P1", "KCD allowed", kcdC, "alice", cCIFS, false, grantedProxy("kcd", aliceAt, "S-1-18-2", 0)),
		{id: "P1b", name: "KCD with the user's own forwardable ticket", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				ut := w.userTGT("alice", alicePW, fwdOpt)
				ev, err := w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, ut, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Options: fwdOpt})
				if err != nil {
					w.t.Fatal(err)
				}
				return w.proxy(w.svcTGT("b$", true), ev, cCIFS, false)
			},
			want: grantedProxy("kcd", aliceAt, "S-1-18-1", 0)},
		proxyRow("P2", "KCD allowed, RBCD bit sent as well", kcdC, "alice", cCIFS, true, grantedProxy("kcd", aliceAt, "S-1-18-2", krb5.Bit(3))),
		proxyRow("P3", "KCD list matched case-insensitively", func(w *s4uWorld) { w.kcd("b$", true, "CIFS/C.Example.Test") }, "alice", cCIFS, false, grantedProxy("kcd", aliceAt, "S-1-18-2", 0)),
		proxyRow("P4", "KCD list empty, no RBCD bit", nil, "alice", cCIFS, false,
			refusedProxy(13, ntNotSupported, "no-kcd", aliceAt, cTarget, "allowed-to-delegate-to list is empty")),
		proxyRow("P5", "target not in the KCD list", func(w *s4uWorld) { w.kcd("b$", true, cHost) }, "alice", cCIFS, false,
			refusedProxy(13, ntNoMatch, "kcd-no-match", aliceAt, cTarget, "not in b$'s allowed-to-delegate-to list")),
		proxyRow("P27", "delegation to oneself is not implicit", kcdC, "alice", bHost, false,
			refusedProxy(13, ntNoMatch, "kcd-no-match", aliceAt, bTarget, "not in b$'s allowed-to-delegate-to list")),

		// Resource-based constrained delegation (MS-SFU §3.2.5.2.3).
		proxyRow("P6", "RBCD allowed", rbcdC, "alice", cCIFS, true, grantedProxy("rbcd", aliceAt, "S-1-18-2", krb5.Bit(3))),
		proxyRow("P7", "RBCD through a group in the list", func(w *s4uWorld) { w.rbcd("c$", webSrvs) }, "alice", cCIFS, true, grantedProxy("rbcd", aliceAt, "S-1-18-2", krb5.Bit(3))),
		proxyRow("P8a", "RBCD configured, RBCD bit missing, KCD list empty", rbcdC, "alice", cCIFS, false,
			refusedProxy(13, ntNotSupported, "no-kcd", aliceAt, cTarget, "did not ask for resource-based delegation")),
		proxyRow("P8b", "RBCD configured, RBCD bit missing, KCD list without the target", func(w *s4uWorld) { rbcdC(w); w.kcd("b$", true, cHost) }, "alice", cCIFS, false,
			refusedProxy(13, ntNoMatch, "kcd-no-match", aliceAt, cTarget, "not in b$'s allowed-to-delegate-to list")),
		proxyRow("P9", "requester not in the RBCD list", func(w *s4uWorld) { w.rbcd("c$", "d$") }, "alice", cCIFS, true,
			refusedProxy(13, ntNotFound, "rbcd-not-allowed", aliceAt, cTarget, "nor in c$'s allowed-to-act list")),
		proxyRow("P9b", "RBCD list empty", nil, "alice", cCIFS, true,
			refusedProxy(13, ntNotFound, "rbcd-not-allowed", aliceAt, cTarget, "allowed-to-act list")),

		// The evidence ticket must be forwardable (§3.2.5.2.1, §3.2.5.2.3).
		{id: "P10", name: "KCD, evidence not forwardable", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				return w.proxy(tgt, w.mustSelf(tgt, "alice", 0), cCIFS, false)
			},
			want: refusedProxy(13, ntAccountRestriction, "evidence-not-forwardable", aliceAt, cTarget, "not forwardable")},
		{id: "P11", name: "RBCD, evidence not forwardable", setup: rbcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				return w.proxy(tgt, w.mustSelf(tgt, "alice", 0), cCIFS, true)
			},
			want: refusedProxy(13, ntAccountRestriction, "evidence-not-forwardable", aliceAt, cTarget, "not forwardable")},
		proxyRow("P12", "KCD without protocol transition: S4U2Self ticket not forwardable", kcdNoPT, "alice", cCIFS, false,
			refusedProxy(13, ntAccountRestriction, "evidence-not-forwardable", aliceAt, cTarget, "not forwardable", "protocol-transition")),

		// Sensitive and Protected users as the impersonated user (§2.4).
		proxyRow("P13", "sensitive user, KCD", kcdC, "sam", cCIFS, false,
			refusedProxy(13, ntAccountRestriction, "sensitive-user", "sam@EXAMPLE.TEST", cTarget, "sensitive and cannot be delegated")),
		proxyRow("P13b", "sensitive user, RBCD", rbcdC, "sam", cCIFS, true,
			refusedProxy(13, ntAccountRestriction, "sensitive-user", "sam@EXAMPLE.TEST", cTarget, "sensitive and cannot be delegated")),
		{id: "P13c", name: "marked sensitive after a forwardable evidence ticket was issued (hop rule)", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.mustSelf(tgt, "alice", fwdOpt)
				w.set("alice", directory.DelegationChange{Sensitive: ptr(true)})
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(13, ntAccountRestriction, "sensitive-user", aliceAt, cTarget, "sensitive and cannot be delegated")},
		proxyRow("P14", "Protected Users (nested), KCD", kcdC, "pat", cCIFS, false,
			refusedProxy(13, ntAccountRestriction, "protected-user", "pat@EXAMPLE.TEST", cTarget, "Protected Users")),
		proxyRow("P14b", "Protected Users (nested), RBCD", rbcdC, "pat", cCIFS, true,
			refusedProxy(13, ntAccountRestriction, "protected-user", "pat@EXAMPLE.TEST", cTarget, "Protected Users")),
		{id: "P14c", name: "put in Protected Users after a forwardable evidence ticket was issued (hop rule)", setup: rbcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.mustSelf(tgt, "alice", fwdOpt)
				if _, err := w.f.dir.As(directory.LocalAdmin).AddMember(w.ctx, "Tier 0", "alice", 0); err != nil {
					w.t.Fatal(err)
				}
				return w.proxy(tgt, ev, cCIFS, true)
			},
			want: refusedProxy(13, ntAccountRestriction, "protected-user", aliceAt, cTarget, "Protected Users")},

		// Evidence tickets that were altered or are not what they claim
		// (§2.1 #3-#5, §5).
		{id: "P0", name: "control: evidence decrypted and encrypted again unchanged", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", fwdOpt), "b$", func(*wire.EncTicketPart) {})
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: grantedProxy("kcd", aliceAt, "S-1-18-2", 0)},
		{id: "P15", name: "Bronze Bit: forwardable set on a KCD-without-protocol-transition ticket", setup: kcdNoPT,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", fwdOpt), "b$", func(etp *wire.EncTicketPart) { etp.Flags |= krb5.TktForwardable })
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "altered", "forwardable flag")},
		{id: "P15b", name: "Bronze Bit: forwardable set on a sensitive user's ticket", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "sam", fwdOpt), "b$", func(etp *wire.EncTicketPart) { etp.Flags |= krb5.TktForwardable })
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(41, 0, "evidence-pac", "sam@EXAMPLE.TEST", cTarget, "altered")},
		{id: "P16", name: "Bronze Bit under RBCD", setup: rbcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", 0), "b$", func(etp *wire.EncTicketPart) { etp.Flags |= krb5.TktForwardable })
				return w.proxy(tgt, ev, cCIFS, true)
			},
			want: refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "altered")},
		{id: "P17", name: "evidence PAC removed", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", fwdOpt), "b$", func(etp *wire.EncTicketPart) { etp.AuthorizationData = withoutPAC(etp.AuthorizationData) })
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "no valid PAC")},
		{id: "P18", name: "evidence PAC tampered: Domain Admins added", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", fwdOpt), "b$", func(etp *wire.EncTicketPart) {
					w.editPAC(etp, func(p *pac.PAC) {
						p.LogonInfo.Groups = append(p.LogonInfo.Groups, pac.GroupMembership{RID: 512, Attributes: pac.GroupDefault})
					})
				})
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "does not verify")},
		{id: "P18b", name: "evidence PAC ticket signature zeroed", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", fwdOpt), "b$", func(etp *wire.EncTicketPart) {
					w.editPAC(etp, func(p *pac.PAC) { clear(p.TicketChecksum.Value) })
				})
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "does not verify")},
		{id: "P19", name: "evidence PAC without its ticket signature", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.reseal(w.mustSelf(tgt, "alice", fwdOpt), "b$", func(etp *wire.EncTicketPart) {
					w.editPAC(etp, func(p *pac.PAC) { p.TicketChecksum = nil })
				})
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "does not verify")},
		{id: "P21", name: "evidence sname rewritten to krbtgt", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.mustSelf(tgt, "alice", fwdOpt)
				ev.Ticket.SName, ev.Ticket.Raw = krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), nil
				return w.proxy(tgt, ev, cCIFS, false)
			},
			want: refusedProxy(13, 0, "evidence-wrong-service", "", cTarget, "not to the requesting service b$")},
		{id: "P21b", name: "evidence ticket issued for another service", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				ut := w.userTGT("alice", alicePW, fwdOpt)
				ev, err := w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, ut, &client.Request{Service: spn(cCIFS), Options: fwdOpt})
				if err != nil {
					w.t.Fatal(err)
				}
				return w.proxy(w.svcTGT("b$", true), ev, cCIFS, false)
			},
			want: refusedProxy(13, 0, "evidence-wrong-service", aliceAt, cTarget, "alice@EXAMPLE.TEST's ticket to "+cCIFS, "not to the requesting service b$")},
		{id: "P22", name: "evidence for another service with its sname changed to b$'s", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				ut := w.userTGT("alice", alicePW, fwdOpt)
				ev, err := w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, ut, &client.Request{Service: spn(cCIFS), Options: fwdOpt})
				if err != nil {
					w.t.Fatal(err)
				}
				ev.Ticket.SName, ev.Ticket.Raw = spn(bHost), nil
				return w.proxy(w.svcTGT("b$", true), ev, cCIFS, false)
			},
			want: s4uWant{code: 31, alt: 41, etext: []string{"does not decrypt"}, event: "tgs.s4u2proxy.refused", eventTarget: cTarget, rule: "evidence-unusable"}},
		{id: "P23", name: "service TGT without a PAC", setup: kcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.mustSelf(tgt, "alice", fwdOpt)
				bare := w.reseal(tgt, "krbtgt", func(etp *wire.EncTicketPart) { etp.AuthorizationData = withoutPAC(etp.AuthorizationData) })
				return w.proxy(bare, ev, cCIFS, false)
			},
			want: refusedProxy(20, 0, "tgt-without-pac", "", cTarget, "no PAC")},

		// Targets.
		{id: "P24", name: "target in another realm", setup: func(w *s4uWorld) { w.kcd("b$", true, "cifs/x.other.test") },
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.mustSelf(tgt, "alice", fwdOpt)
				return w.f.conn(client.TCPOnly).ServiceTicket(w.ctx, tgt, &client.Request{Service: spn("cifs/x.other.test"), Realm: "OTHER.TEST", Evidence: ev, ResourceBased: true})
			},
			want: refusedProxy(13, 0, "cross-realm-target", "", "cifs/x.other.test@OTHER.TEST", "realm OTHER.TEST")},
		proxyRow("P25", "target with no-auth-data-required gets no PAC", func(w *s4uWorld) {
			kcdC(w)
			w.set("c$", directory.DelegationChange{NoAuthDataRequired: ptr(true)})
		}, "alice", cCIFS, false, s4uWant{client: aliceAt, fwd: true, owner: "c$", noPAC: true, event: "tgs.s4u2proxy", eventUser: aliceAt, eventTarget: cTarget, rule: "kcd"}),
		{id: "P26", name: "second hop: existing S4U_DELEGATION_INFO grows", setup: func(w *s4uWorld) { kcdC(w); w.kcd("c$", false, dHTTP) },
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				toC, err := w.proxy(tgt, w.mustSelf(tgt, "alice", fwdOpt), cCIFS, false)
				if err != nil {
					w.t.Fatal(err)
				}
				return w.proxy(w.svcTGT("c$", true), toC, dHTTP, false)
			},
			want: s4uWant{client: aliceAt, fwd: true, owner: "d$", asserted: "S-1-18-2", proxyTarget: dHTTP,
				transited: []string{bHost + "@EXAMPLE.TEST", cCIFS + "@EXAMPLE.TEST"},
				event:     "tgs.s4u2proxy", eventUser: aliceAt, eventTarget: dHTTP + "@EXAMPLE.TEST", rule: "kcd"}},
		proxyRow("P29", "unknown target", kcdC, "alice", "cifs/nowhere.example.test", false,
			refusedProxy(7, 0, "unknown-target", "", "cifs/nowhere.example.test@EXAMPLE.TEST", "no service")),
		proxyRow("P30", "S4U2Proxy to krbtgt", func(w *s4uWorld) { w.kcd("b$", true, "krbtgt/EXAMPLE.TEST") }, "alice", "krbtgt/EXAMPLE.TEST", false,
			refusedProxy(12, 0, "target-is-krbtgt", "", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", "ticket-granting ticket")),

		// PA-PAC-OPTIONS echo (rules §2.6): bits 0-3 as sent.
		{id: "P28", name: "PA-PAC-OPTIONS echo of claims, branch-aware and RBCD, not bit 5", setup: rbcdC,
			do: func(w *s4uWorld) (*client.Credential, error) {
				tgt := w.svcTGT("b$", true)
				ev := w.mustSelf(tgt, "alice", fwdOpt)
				return w.f.conn(client.TCPOnly).ServiceTicket(w.ctx, tgt, &client.Request{Service: spn(cCIFS), Evidence: ev,
					PACOptions: krb5.Bit(0) | krb5.Bit(1) | krb5.Bit(3) | krb5.Bit(5)})
			},
			want: grantedProxy("rbcd", aliceAt, "S-1-18-2", krb5.Bit(0)|krb5.Bit(1)|krb5.Bit(3))},
		{id: "E1", name: "AS-REP echoes the claims bit",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.login(&client.Request{Client: alice(), PACOptions: krb5.Bit(0)}, alicePW)
			},
			want: s4uWant{client: aliceAt, owner: "krbtgt", pacOptions: krb5.Bit(0)}},
		{id: "E2", name: "TGS-REP echoes branch-aware",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.userTGT("alice", alicePW, 0), &client.Request{Service: spn(cCIFS), PACOptions: krb5.Bit(1)})
			},
			want: s4uWant{client: aliceAt, owner: "c$", asserted: "S-1-18-1", pacOptions: krb5.Bit(1)}},
		{id: "E3", name: "no echo for unknown bits alone",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.userTGT("alice", alicePW, 0), &client.Request{Service: spn(cCIFS), PACOptions: krb5.Bit(4) | krb5.Bit(9)})
			},
			want: s4uWant{client: aliceAt, owner: "c$", asserted: "S-1-18-1"}},

		// Unconstrained delegation and forwarded TGTs (§3), and the TGS
		// side of sensitive and Protected users (§4).
		{id: "U1", name: "ticket to a host trusted for delegation carries OK-AS-DELEGATE",
			setup: func(w *s4uWorld) { w.set("b$", directory.DelegationChange{TrustedForDelegation: ptr(true)}) },
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.userTGT("alice", alicePW, fwdOpt), &client.Request{Service: spn(bHost), Options: fwdOpt})
			},
			want: s4uWant{client: aliceAt, fwd: true, owner: "b$", asserted: "S-1-18-1", flags: krb5.TktOKAsDelegate}},
		{id: "U3", name: "forwarded TGT from a forwardable one",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.userTGT("alice", alicePW, fwdOpt),
					&client.Request{Service: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Options: krb5.OptForwarded | fwdOpt})
			},
			want: s4uWant{client: aliceAt, fwd: true, owner: "krbtgt", flags: krb5.TktForwarded}},
		{id: "U4", name: "no forwarded TGT for a sensitive user",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.userTGT("sam", samPW, fwdOpt),
					&client.Request{Service: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Options: krb5.OptForwarded | fwdOpt})
			},
			want: s4uWant{code: 13, etext: []string{"not forwardable"}}},
		{id: "A1", name: "Protected user's AS-REQ asking forwardable and proxiable",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.login(&client.Request{Client: user("pat"), Options: fwdOpt | krb5.OptProxiable}, patPW)
			},
			want: s4uWant{client: "pat@EXAMPLE.TEST", owner: "krbtgt"}},
		{id: "A5", name: "TGS asks forwardable with a sensitive user's TGT: issued without it",
			do: func(w *s4uWorld) (*client.Credential, error) {
				return w.f.conn(client.UDPOnly).ServiceTicket(w.ctx, w.userTGT("sam", samPW, fwdOpt), &client.Request{Service: spn(cCIFS), Options: fwdOpt})
			},
			want: s4uWant{client: "sam@EXAMPLE.TEST", owner: "c$", asserted: "S-1-18-1"}},
	}
	return rows
}

func TestDelegationDecisionTable(t *testing.T) {
	for _, r := range s4uRows() {
		t.Run(r.id+" "+r.name, func(t *testing.T) {
			t.Parallel()
			w := newS4UWorld(t)
			if r.setup != nil {
				r.setup(w)
			}
			cred, err := r.do(w)
			w.check(r.want, cred, err)
		})
	}
}

// check compares the outcome of a row with what it wants.
func (w *s4uWorld) check(want s4uWant, cred *client.Credential, err error) {
	t := w.t
	t.Helper()
	if want.code != 0 {
		var ke *client.Error
		if !errors.As(err, &ke) {
			t.Fatalf("got %v, want KRB-ERROR %d", err, want.code)
		}
		if ke.Code != want.code && (want.alt == 0 || ke.Code != want.alt) {
			t.Errorf("error %s, want %d", ke.Code, want.code)
		}
		switch {
		case want.status != 0 && (!ke.HasStatus || uint32(ke.Status) != want.status):
			t.Errorf("NTSTATUS %v (present %v), want 0x%08X", ke.Status, ke.HasStatus, want.status)
		case want.status == 0 && len(ke.Msg.EData) != 0:
			t.Errorf("e-data % x, want none", ke.Msg.EData)
		}
		for _, word := range want.etext {
			if !strings.Contains(ke.Msg.EText, word) {
				t.Errorf("e-text %q does not say %q", ke.Msg.EText, word)
			}
		}
	} else {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		w.checkTicket(want, cred)
	}
	if want.event != "" {
		w.checkAudit(want)
	}
}

func (w *s4uWorld) checkTicket(want s4uWant, cred *client.Credential) {
	t := w.t
	t.Helper()
	if got := cred.Client.String(); got != want.client {
		t.Errorf("client %s, want %s", got, want.client)
	}
	if got := cred.Flags.Has(krb5.TktForwardable); got != want.fwd {
		t.Errorf("forwardable %v, want %v (flags %s)", got, want.fwd, krb5.TicketFlagString(cred.Flags))
	}
	if !cred.Flags.Has(want.flags) {
		t.Errorf("flags %s, want %s set", krb5.TicketFlagString(cred.Flags), krb5.TicketFlagString(want.flags))
	}
	var echo krb5.Flags
	for _, p := range cred.EncPAData {
		if p.Type == krb5.PAPACOptions {
			o, err := wire.ParsePAPACOptions(p.Value)
			if err != nil {
				t.Fatal(err)
			}
			if echo = o.Flags; echo == 0 {
				t.Error("PA-PAC-OPTIONS echoed with no bit set")
			}
		}
	}
	if echo != want.pacOptions {
		t.Errorf("PA-PAC-OPTIONS echo %08x, want %08x", uint32(echo), uint32(want.pacOptions))
	}
	key := keyOf(t, w.f.dir, want.owner, cred.Ticket.EncPart.EType)
	etp, raw, found := ticketPAC(t, cred.Ticket, key)
	if etp.Flags != cred.Flags {
		t.Errorf("ticket flags %s, reply flags %s", krb5.TicketFlagString(etp.Flags), krb5.TicketFlagString(cred.Flags))
	}
	if !etp.CName.Equal(cred.Client.Name) {
		t.Errorf("ticket cname %s, reply %s", etp.CName, cred.Client)
	}
	if found == want.noPAC {
		t.Fatalf("PAC present %v, want %v", found, !want.noPAC)
	}
	if !found {
		return
	}
	// Every signature verifies with the service's and krbtgt's keys.
	var opts pac.SignOptions
	if want.owner != "krbtgt" {
		in, err := pac.TicketSigningInput(etp)
		if err != nil {
			t.Fatal(err)
		}
		opts.Ticket = in
	}
	p, err := pac.Verify(raw, key, keyOf(t, w.f.dir, "krbtgt", krb5.AES256CTSHMACSHA196), opts)
	if err != nil {
		t.Fatalf("PAC: %v", err)
	}
	if want.owner != "krbtgt" && (p.TicketChecksum == nil || p.FullChecksum == nil) {
		t.Error("a service ticket's PAC lacks the ticket or full signature")
	}
	if want.asserted != "" {
		other := map[string]string{"S-1-18-1": "S-1-18-2", "S-1-18-2": "S-1-18-1"}[want.asserted]
		var has bool
		for _, x := range p.LogonInfo.ExtraSIDs {
			switch x.SID.String() {
			case want.asserted:
				has = x.Attributes == 7
			case other:
				t.Errorf("ExtraSids hold %s", other)
			}
		}
		if !has {
			t.Errorf("ExtraSids %+v lack %s with attributes 7", p.LogonInfo.ExtraSIDs, want.asserted)
		}
	}
	switch di := p.DelegationInfo; {
	case want.proxyTarget == "" && di != nil:
		t.Errorf("unexpected S4U_DELEGATION_INFO %+v", di)
	case want.proxyTarget != "" && di == nil:
		t.Error("no S4U_DELEGATION_INFO")
	case di != nil && (di.S4U2ProxyTarget != want.proxyTarget || strings.Join(di.TransitedServices, ",") != strings.Join(want.transited, ",")):
		t.Errorf("S4U_DELEGATION_INFO %+v, want target %s, transited %v", di, want.proxyTarget, want.transited)
	}
}

// checkAudit checks the last audit event: the decision.
func (w *s4uWorld) checkAudit(want s4uWant) {
	t := w.t
	t.Helper()
	ev := w.f.audit.Events()
	if len(ev) == 0 {
		t.Fatal("no audit event")
	}
	e := ev[len(ev)-1]
	if e.Type != want.event || e.Client != want.eventUser || e.Service != want.eventTarget {
		t.Errorf("audit event %s client %q service %q, want %s %q %q", e.Type, e.Client, e.Service, want.event, want.eventUser, want.eventTarget)
	}
	if !strings.HasPrefix(e.Reason, want.rule+": ") || !strings.HasSuffix(e.Reason, "; requested by b$") && !strings.HasSuffix(e.Reason, "; requested by c$") {
		t.Errorf("audit reason %q does not name rule %s and the requesting service", e.Reason, want.rule)
	}
	if want.code != 0 && e.Code != krb5.ErrorCode(want.code).String() && (want.alt == 0 || e.Code != want.alt.String()) {
		t.Errorf("audit code %s", e.Code)
	}
}

// checkX509Echo verifies the PA-S4U-X509-USER of an S4U2Self reply
// independently of the client (MS-SFU §2.2.2): the option
// USE_REPLY_KEY_USAGE (0x20000000) set, and a checksum with the TGT session
// key (the key of the request's checksum) and key usage 27.
func checkX509Echo(t *testing.T, reply []byte, session *crypto.Key) {
	t.Helper()
	rep, err := wire.ParseKDCRep(reply)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.PAData {
		if p.Type != 130 {
			continue
		}
		x, err := wire.ParsePAS4UX509User(p.Value)
		if err != nil {
			t.Fatal(err)
		}
		if x.UserID.Options != 0x20000000 {
			t.Errorf("echo options %08x", uint32(x.UserID.Options))
		}
		if err := session.VerifyChecksum(x.Cksum.Type, 27, x.RawUserID, x.Cksum.Sum); err != nil {
			t.Errorf("echo checksum with usage 27: %v", err)
		}
		return
	}
	t.Error("no PA-S4U-X509-USER in the reply's padata")
}

// A ticket issued before a krbtgt key change still serves as evidence: its
// PAC's KDC, ticket and full signatures verify with the generation of
// krbtgt that made them, as long as the directory keeps it (two previous
// generations).
func TestEvidenceAcrossKrbtgtRotation(t *testing.T) {
	for _, tc := range []struct {
		rotations int
		ok        bool
	}{{0, true}, {1, true}, {2, true}, {3, false}} {
		t.Run(fmt.Sprintf("%d rotations", tc.rotations), func(t *testing.T) {
			w := newS4UWorld(t)
			kcdC(w)
			ev := w.mustSelf(w.svcTGT("b$", true), "alice", fwdOpt)
			for i := 0; i < tc.rotations; i++ {
				if _, err := w.f.dir.As(directory.LocalAdmin).SetKeys(w.ctx, "krbtgt", rndKeys(t, allAES), 0); err != nil {
					t.Fatal(err)
				}
			}
			// A TGT from after the rotations: the evidence is the only
			// thing signed with an old krbtgt key.
			cred, err := w.proxy(w.svcTGT("b$", true), ev, cCIFS, false)
			if tc.ok {
				w.check(grantedProxy("kcd", aliceAt, "S-1-18-2", 0), cred, err)
				return
			}
			w.check(refusedProxy(41, 0, "evidence-pac", aliceAt, cTarget, "no longer keeps"), cred, err)
		})
	}
}
