package service_test

import (
	"errors"
	mrand "math/rand/v2"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/service"
	"hop/krb5/service/servicetest"
	"hop/krb5/wire"
	"hop/pac"
)

// now is the fixed clock of every test.
var now = time.Date(2025, 1, 2, 3, 4, 5, 678900000, time.UTC)

type fixture struct {
	realm  *servicetest.Realm
	alice  krb5.Principal
	web    krb5.Principal
	webKey *crypto.Key
	clock  time.Time
	acc    *service.Acceptor
	rnd    *mrand.ChaCha8
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: now, rnd: mrand.NewChaCha8([32]byte{1})}
	r, err := servicetest.New("EXAMPLE.TEST", func() time.Time { return f.clock }, f.rnd)
	if err != nil {
		t.Fatal(err)
	}
	f.realm = r
	f.alice = r.Principal("alice")
	f.web = r.Principal("HTTP/web.example.test")
	f.web.Name.Type = krb5.NTSrvHst
	if _, err := r.AddKey(f.web, krb5.AES256CTSHMACSHA196, 2); err != nil {
		t.Fatal(err)
	}
	if f.webKey, err = r.AddKey(f.web, krb5.AES256CTSHMACSHA196, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddKey(f.web, krb5.AES128CTSHMACSHA196, 3); err != nil {
		t.Fatal(err)
	}
	f.acc = &service.Acceptor{Keys: service.KeytabFile(r.Keytab), Now: func() time.Time { return f.clock }, Rand: f.rnd}
	return f
}

func (f *fixture) ticket(t testing.TB, o servicetest.TicketOptions) *client.Credential {
	t.Helper()
	c, err := f.realm.Ticket(f.alice, f.web, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) apReq(t testing.TB, c *client.Credential, o servicetest.APReqOptions) []byte {
	t.Helper()
	b, err := f.realm.APReq(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantCode checks that err is an *service.Error with code, seen by
// errors.As and errors.Is alike.
func wantCode(t *testing.T, what string, err error, code krb5.ErrorCode) {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) || se.Code != code || !errors.Is(err, code) {
		t.Errorf("%s: err = %v, want %v", what, err, code)
	}
}

func TestAcceptGood(t *testing.T) {
	f := newFixture(t)
	c := f.ticket(t, servicetest.TicketOptions{})
	sub, err := crypto.RandomKey(krb5.AES256CTSHMACSHA196, f.rnd)
	if err != nil {
		t.Fatal(err)
	}
	seq := uint32(12345)
	req := f.apReq(t, c, servicetest.APReqOptions{Options: krb5.APMutualRequired, Subkey: sub, SeqNumber: &seq})
	x, err := f.acc.Accept(req)
	if err != nil {
		t.Fatal(err)
	}
	if x.Client.String() != "alice@EXAMPLE.TEST" || x.Server.String() != "HTTP/web.example.test@EXAMPLE.TEST" {
		t.Errorf("client %s, server %s", x.Client, x.Server)
	}
	if !x.Mutual || !x.SessionKey.Equal(c.SessionKey) || !x.Subkey.Equal(sub) || !x.Key().Equal(sub) {
		t.Errorf("mutual %v, session key or subkey wrong", x.Mutual)
	}
	if x.Authenticator.SeqNumber == nil || *x.Authenticator.SeqNumber != seq {
		t.Errorf("seq-number %v", x.Authenticator.SeqNumber)
	}
	if x.PAC == nil || x.PAC.LogonInfo == nil || x.PAC.LogonInfo.EffectiveName != "alice" || x.PAC.LogonInfo.UserID != 1105 {
		t.Errorf("PAC = %+v", x.PAC)
	}
	if !x.Ticket.AuthTime.Equal(now.Truncate(time.Second)) {
		t.Errorf("authtime %v", x.Ticket.AuthTime)
	}

	// The same AP-REQ again is a replay; a new authenticator is not.
	_, err = f.acc.Accept(req)
	wantCode(t, "replay", err, krb5.KRBAPErrRepeat)
	if _, err := f.acc.Accept(f.apReq(t, c, servicetest.APReqOptions{})); err != nil {
		t.Errorf("second authenticator: %v", err)
	}
	// Without a subkey, Key is the session key.
	x2, err := f.acc.Accept(f.apReq(t, c, servicetest.APReqOptions{CTime: now.Add(time.Microsecond)}))
	if err != nil {
		t.Fatal(err)
	}
	if x2.Subkey != nil || !x2.Key().Equal(c.SessionKey) || x2.Mutual {
		t.Error("Key() is not the session key without a subkey")
	}
}

func TestAPRep(t *testing.T) {
	f := newFixture(t)
	c := f.ticket(t, servicetest.TicketOptions{})
	ctime := now.Add(-90 * time.Second).Add(321 * time.Microsecond)
	x, err := f.acc.Accept(f.apReq(t, c, servicetest.APReqOptions{Options: krb5.APMutualRequired, CTime: ctime}))
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := crypto.RandomKey(krb5.AES128CTSHMACSHA196, f.rnd)
	seq := uint32(0xfffffff0)
	for _, tc := range []struct {
		sub *crypto.Key
		seq *uint32
	}{{nil, nil}, {sub, &seq}} {
		b, err := x.APRep(tc.sub, tc.seq)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := wire.ParseAPRep(b)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := c.SessionKey.Decrypt(krb5.UsageAPRepEncPart, rep.EncPart.Cipher)
		if err != nil {
			t.Fatalf("the AP-REP does not decrypt with the session key and usage 12: %v", err)
		}
		part, err := wire.ParseEncAPRepPart(plain)
		if err != nil {
			t.Fatal(err)
		}
		if !part.CTime.Equal(ctime.Truncate(time.Second)) || part.Cusec != int32(ctime.Nanosecond()/1000) {
			t.Errorf("ctime %v cusec %d", part.CTime, part.Cusec)
		}
		if (part.SubKey != nil) != (tc.sub != nil) || (part.SeqNumber != nil) != (tc.seq != nil) {
			t.Fatalf("subkey %v seq %v", part.SubKey, part.SeqNumber)
		}
		if tc.sub != nil && (!part.SubKey.Equal(wire.EncryptionKey{Type: sub.EncType(), Value: sub.Material()}) || *part.SeqNumber != seq) {
			t.Error("subkey or seq-number differ")
		}
	}
}

// Each refusal has the code RFC 4120 §3.2.3 gives it.
func TestAcceptRefusals(t *testing.T) {
	other := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "HTTP", "other.example.test"), Realm: "EXAMPLE.TEST"}
	tests := []struct {
		name string
		code krb5.ErrorCode
		// req makes the AP-REQ; acc may adjust the acceptor.
		req func(t *testing.T, f *fixture) []byte
		acc func(f *fixture)
	}{
		{"garbage", krb5.KRBAPErrMsgType, func(t *testing.T, f *fixture) []byte { return []byte{0x6e, 0x03, 0x30, 0x01, 0x00} }, nil},
		{"not an AP-REQ", krb5.KRBAPErrMsgType, func(t *testing.T, f *fixture) []byte {
			b, _ := (&wire.APRep{EncPart: wire.EncryptedData{EType: 18, Cipher: []byte{1}}}).Marshal()
			return b
		}, nil},
		{"pvno 4", krb5.KRBAPErrBadVersion, func(t *testing.T, f *fixture) []byte {
			b := f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{})
			// AP-REQ: 6e len 30 len a0 03 02 01 05: the pvno is the 9th byte
			// after the two headers; find "a0 03 02 01 05".
			for i := 0; i+5 <= len(b); i++ {
				if b[i] == 0xa0 && b[i+1] == 3 && b[i+2] == 2 && b[i+3] == 1 && b[i+4] == 5 {
					b[i+4] = 4
					break
				}
			}
			return b
		}, nil},
		{"user-to-user", krb5.KRBAPErrMethod, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{Options: krb5.APUseSessionKey})
		}, nil},
		{"server not accepted", krb5.KRBAPErrNotUs, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{})
		}, func(f *fixture) {
			f.acc.AcceptServer = func(p krb5.Principal) bool { return p.Name.Components[0] == "host" }
		}},
		{"unknown server", krb5.KRBAPErrNotUs, func(t *testing.T, f *fixture) []byte {
			k, _ := crypto.RandomKey(krb5.AES256CTSHMACSHA196, f.rnd)
			c, err := f.realm.Ticket(f.alice, other, servicetest.TicketOptions{ServiceKey: k, KVNO: 1})
			if err != nil {
				t.Fatal(err)
			}
			return f.apReq(t, c, servicetest.APReqOptions{})
		}, nil},
		{"unknown kvno", krb5.KRBAPErrBadKeyVer, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{ServiceKey: f.webKey, KVNO: 7}), servicetest.APReqOptions{})
		}, nil},
		{"etype not in keytab", krb5.KRBAPErrNoKey, func(t *testing.T, f *fixture) []byte {
			k, _ := crypto.RandomKey(krb5.AES256CTSHMACSHA384192, f.rnd)
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{ServiceKey: k, KVNO: 3}), servicetest.APReqOptions{})
		}, nil},
		{"ticket in another key", krb5.KRBAPErrBadIntegrity, func(t *testing.T, f *fixture) []byte {
			k, _ := crypto.RandomKey(krb5.AES256CTSHMACSHA196, f.rnd)
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{ServiceKey: k, KVNO: 3}), servicetest.APReqOptions{})
		}, nil},
		{"authenticator in another key", krb5.KRBAPErrBadIntegrity, func(t *testing.T, f *fixture) []byte {
			k, _ := crypto.RandomKey(krb5.AES256CTSHMACSHA196, f.rnd)
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{AuthKey: k})
		}, nil},
		{"authenticator of another etype", krb5.KRBAPErrBadIntegrity, func(t *testing.T, f *fixture) []byte {
			k, _ := crypto.RandomKey(krb5.AES128CTSHMACSHA196, f.rnd)
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{AuthKey: k})
		}, nil},
		{"cname mismatch", krb5.KRBAPErrBadMatch, func(t *testing.T, f *fixture) []byte {
			n := krb5.NewName(krb5.NTPrincipal, "mallory")
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{CName: &n})
		}, nil},
		{"crealm mismatch", krb5.KRBAPErrBadMatch, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{CRealm: "OTHER.TEST"})
		}, nil},
		{"clock ahead", krb5.KRBAPErrSkew, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{CTime: now.Add(5*time.Minute + time.Second)})
		}, nil},
		{"clock behind", krb5.KRBAPErrSkew, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{CTime: now.Add(-5*time.Minute - time.Second)})
		}, nil},
		{"smaller MaxSkew", krb5.KRBAPErrSkew, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{CTime: now.Add(-61 * time.Second)})
		}, func(f *fixture) { f.acc.MaxSkew = time.Minute }},
		{"postdated", krb5.KRBAPErrTktNYV, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{StartTime: now.Add(6 * time.Minute)}), servicetest.APReqOptions{})
		}, nil},
		{"invalid flag", krb5.KRBAPErrTktNYV, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{Flags: krb5.TktInvalid | krb5.TktPostdated}), servicetest.APReqOptions{})
		}, nil},
		{"expired", krb5.KRBAPErrTktExpired, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{AuthTime: now.Add(-11 * time.Hour), EndTime: now.Add(-6 * time.Minute)}), servicetest.APReqOptions{})
		}, nil},
		{"PAC names another client", krb5.KRBAPErrModified, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{EditPAC: func(p *pac.PAC) { p.ClientInfo.Name = "bob" }}), servicetest.APReqOptions{})
		}, nil},
		{"PAC of another logon", krb5.KRBAPErrModified, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{EditPAC: func(p *pac.PAC) { p.ClientInfo.ClientID = now.Add(-time.Hour) }}), servicetest.APReqOptions{})
		}, nil},
		{"PAC without client info", krb5.KRBAPErrModified, func(t *testing.T, f *fixture) []byte {
			return f.apReq(t, f.ticket(t, servicetest.TicketOptions{EditPAC: func(p *pac.PAC) { p.ClientInfo = nil }}), servicetest.APReqOptions{})
		}, nil},
		{"PAC tampered", krb5.KRBAPErrModified, func(t *testing.T, f *fixture) []byte {
			c := f.ticket(t, servicetest.TicketOptions{})
			tamperPAC(t, f, c, func(b []byte) {
				// Flip a byte of the logon info buffer (UserID lives there,
				// far from the signatures at the end).
				b[len(b)/4] ^= 1
			})
			return f.apReq(t, c, servicetest.APReqOptions{})
		}, nil},
		{"PAC signed with another server key", krb5.KRBAPErrModified, func(t *testing.T, f *fixture) []byte {
			c := f.ticket(t, servicetest.TicketOptions{})
			tamperPAC(t, f, c, func(b []byte) {
				p, err := pac.Parse(b)
				if err != nil {
					t.Fatal(err)
				}
				k, _ := crypto.RandomKey(krb5.AES256CTSHMACSHA196, f.rnd)
				p.LogonInfo.UserID = 500
				signed, err := p.Sign(k, f.realm.KDCKey, pac.SignOptions{Ticket: []byte{0}})
				if err != nil || len(signed) != len(b) {
					t.Fatalf("re-sign: %v (%d bytes, was %d)", err, len(signed), len(b))
				}
				copy(b, signed)
			})
			return f.apReq(t, c, servicetest.APReqOptions{})
		}, nil},
		{"two PACs", krb5.KRBAPErrModified, func(t *testing.T, f *fixture) []byte {
			c := f.ticket(t, servicetest.TicketOptions{})
			etp, k, err := f.realm.Open(&c.Ticket)
			if err != nil {
				t.Fatal(err)
			}
			etp.AuthorizationData = append(etp.AuthorizationData, etp.AuthorizationData...)
			tkt, err := f.realm.Seal(etp, k, 3, f.web)
			if err != nil {
				t.Fatal(err)
			}
			c.Ticket = *tkt
			return f.apReq(t, c, servicetest.APReqOptions{})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.acc != nil {
				tt.acc(f)
			}
			_, err := f.acc.Accept(tt.req(t, f))
			wantCode(t, tt.name, err, tt.code)
		})
	}
}

// tamperPAC lets edit change the PAC bytes in c's ticket, which it seals
// again in the service key (so that only the PAC signatures can tell).
func tamperPAC(t *testing.T, f *fixture, c *client.Credential, edit func([]byte)) {
	t.Helper()
	etp, k, err := f.realm.Open(&c.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	b, ok, err := pac.FromAuthorizationData(etp.AuthorizationData)
	if err != nil || !ok {
		t.Fatalf("no PAC: %v", err)
	}
	b = append([]byte(nil), b...)
	edit(b)
	ad, err := pac.AuthorizationData(b)
	if err != nil {
		t.Fatal(err)
	}
	etp.AuthorizationData = ad
	tkt, err := f.realm.Seal(etp, k, c.Ticket.EncPart.KVNO, f.web)
	if err != nil {
		t.Fatal(err)
	}
	c.Ticket = *tkt
}

// The edges of every time check are inclusive of the skew.
func TestAcceptTimeEdges(t *testing.T) {
	tests := []struct {
		name string
		o    servicetest.TicketOptions
		ct   time.Time
	}{
		{"ctime 5 minutes ahead", servicetest.TicketOptions{}, now.Add(5 * time.Minute)},
		{"ctime 5 minutes behind", servicetest.TicketOptions{}, now.Add(-5 * time.Minute)},
		{"starts within the skew", servicetest.TicketOptions{StartTime: now.Add(4 * time.Minute)}, now},
		{"ended within the skew", servicetest.TicketOptions{AuthTime: now.Add(-10 * time.Hour), EndTime: now.Add(-4 * time.Minute)}, now},
		{"no PAC", servicetest.TicketOptions{NoPAC: true}, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			x, err := f.acc.Accept(f.apReq(t, f.ticket(t, tt.o), servicetest.APReqOptions{CTime: tt.ct}))
			if err != nil {
				t.Fatal(err)
			}
			if (x.PAC == nil) != tt.o.NoPAC {
				t.Errorf("PAC %v", x.PAC)
			}
		})
	}
}

// RC4 tickets, whose PAC server signature is HMAC-MD5 (-138), and the
// RFC 8009 types are accepted too.
func TestAcceptEncTypes(t *testing.T) {
	for _, e := range []krb5.EncType{krb5.RC4HMAC, krb5.AES128CTSHMACSHA256128, krb5.AES256CTSHMACSHA384192} {
		t.Run(e.String(), func(t *testing.T) {
			f := newFixture(t)
			svc := f.realm.Principal("host/b.example.test")
			if _, err := f.realm.AddKey(svc, e, 1); err != nil {
				t.Fatal(err)
			}
			c, err := f.realm.Ticket(f.alice, svc, servicetest.TicketOptions{SessionKeyType: e})
			if err != nil {
				t.Fatal(err)
			}
			x, err := f.acc.Accept(f.apReq(t, c, servicetest.APReqOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			if x.PAC == nil || x.SessionKey.EncType() != e {
				t.Errorf("PAC %v, session key %v", x.PAC, x.SessionKey)
			}
		})
	}
}

func TestErrorReply(t *testing.T) {
	f := newFixture(t)
	_, err := f.acc.Accept(f.apReq(t, f.ticket(t, servicetest.TicketOptions{}), servicetest.APReqOptions{CTime: now.Add(time.Hour)}))
	for _, tc := range []struct {
		err  error
		code krb5.ErrorCode
	}{
		{err, krb5.KRBAPErrSkew},
		{krb5.KRBAPErrModified, krb5.KRBAPErrModified},
		{errors.New("something else"), krb5.KRBErrGeneric},
	} {
		b := f.acc.ErrorReply(tc.err, f.web)
		e, perr := wire.ParseKRBError(b)
		if perr != nil {
			t.Fatal(perr)
		}
		if e.ErrorCode != tc.code || !e.SName.Equal(f.web.Name) || e.Realm != f.web.Realm || e.EText != "" {
			t.Errorf("KRB-ERROR %+v, want code %v", e, tc.code)
		}
		if !e.STime.Equal(now.Truncate(time.Second)) || e.Susec != 678900 {
			t.Errorf("stime %v susec %d", e.STime, e.Susec)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &service.Error{Code: krb5.KRBAPErrSkew, Text: "clock 6m off"}
	if e.Error() != "service: KRB_AP_ERR_SKEW: clock 6m off" || e.Unwrap() != krb5.KRBAPErrSkew {
		t.Errorf("%q", e.Error())
	}
	if service.Code(e) != krb5.KRBAPErrSkew || service.Code(errors.New("x")) != krb5.KRBErrGeneric {
		t.Error("Code")
	}
}

// A full replay cache refuses with KRB_ERR_GENERIC wrapping
// ErrReplayCacheFull, and keeps refusing replays.
func TestAcceptFullReplayCache(t *testing.T) {
	f := newFixture(t)
	f.acc.Replay = service.NewReplayCache(time.Minute)
	f.acc.Replay.SetLimit(1)
	c := f.ticket(t, servicetest.TicketOptions{})
	first := f.apReq(t, c, servicetest.APReqOptions{})
	if _, err := f.acc.Accept(first); err != nil {
		t.Fatal(err)
	}
	_, err := f.acc.Accept(f.apReq(t, c, servicetest.APReqOptions{CTime: now.Add(time.Second)}))
	wantCode(t, "full cache", err, krb5.KRBErrGeneric)
	if !errors.Is(err, service.ErrReplayCacheFull) {
		t.Errorf("err = %v, want ErrReplayCacheFull", err)
	}
	_, err = f.acc.Accept(first)
	wantCode(t, "replay into a full cache", err, krb5.KRBAPErrRepeat)
	if f.acc.Replay.Len() != 1 {
		t.Errorf("Len = %d", f.acc.Replay.Len())
	}
}
