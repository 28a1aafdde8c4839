package kdc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/wire"
)

// capture runs do against a UDP relay in front of the KDC and returns the
// requests the client sent.
func (f *fixture) capture(do func(c *client.Conn)) [][]byte {
	f.t.Helper()
	msgs, err := capture(f.kdc, do)
	if err != nil {
		f.t.Fatal(err)
	}
	return msgs
}

func capture(k *KDC, do func(c *client.Conn)) ([][]byte, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	var got [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			msg := append([]byte(nil), buf[:n]...)
			got = append(got, msg)
			pc.WriteTo(k.Handle(context.Background(), msg, "relay", 0), from)
		}
	}()
	c := client.Dial(pc.LocalAddr().String(), client.UDPOnly, 5*time.Second)
	do(c)
	c.Close()
	pc.Close()
	<-done
	return got, nil
}

func parseError(t *testing.T, b []byte) *wire.KRBError {
	t.Helper()
	e, err := wire.ParseKRBError(b)
	if err != nil {
		t.Fatalf("reply is not a KRB-ERROR: %v", err)
	}
	return e
}

func TestTGSBodyChecksumCoversRawBytes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tgt, err := f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.capture(func(c *client.Conn) {
		if _, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")}); err != nil {
			t.Fatal(err)
		}
	})
	if len(msgs) != 1 {
		t.Fatalf("%d requests captured", len(msgs))
	}
	req, err := wire.ParseKDCReq(msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	// The body as sent verifies; a body changed after signing does not.
	if rep := f.kdc.Handle(ctx, msgs[0], "test", 0); rep == nil {
		t.Fatal("no reply")
	} else if mt, _ := wire.MsgTypeOf(rep); mt != krb5.MsgTGSRep {
		t.Fatalf("replay of the original request: %+v", parseError(t, rep))
	}
	req.Body.SName = &krb5.PrincipalName{Type: krb5.NTSrvInst, Components: []string{"krbtgt", string(realm)}}
	req.RawBody, err = req.Body.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tampered, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if e := parseError(t, f.kdc.Handle(ctx, tampered, "test", 0)); e.ErrorCode != krb5.KRBAPErrModified {
		t.Fatalf("tampered body: %s (%s), want KRB_AP_ERR_MODIFIED", e.ErrorCode, e.EText)
	}
}

func TestRenewal(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tgt, err := f.login(&client.Request{Client: alice(), Options: krb5.OptRenewable, Lifetime: time.Hour, RenewLifetime: 24 * time.Hour}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	c := f.conn(client.UDPOnly)
	renewed, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: tgt.Server.Name, Options: krb5.OptRenew})
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.RenewTill.Equal(tgt.RenewTill) || renewed.EndTime.Sub(renewed.StartTime) != time.Hour || renewed.AuthTime != tgt.AuthTime {
		t.Errorf("renewed: start %v end %v renew-till %v (original renew-till %v)", renewed.StartTime, renewed.EndTime, renewed.RenewTill, tgt.RenewTill)
	}
	// The renewed TGT works.
	if _, err := c.ServiceTicket(ctx, renewed, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")}); err != nil {
		t.Fatal(err)
	}
	// A ticket that is not renewable cannot be renewed.
	plain, err := f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServiceTicket(ctx, plain, &client.Request{Service: plain.Server.Name, Options: krb5.OptRenew})
	wantCode(t, err, krb5.KDCErrBadOption)
}

func TestKrbtgtRotationKeepsOldTickets(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	old, err := f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	set, err := f.dir.As(directory.LocalAdmin).SetKeys(ctx, "krbtgt", rndKeys(t, allAES), 0)
	if err != nil {
		t.Fatal(err)
	}
	if set.KVNO != 2 || old.Ticket.EncPart.KVNO != 1 {
		t.Fatalf("kvno %d, old ticket kvno %d", set.KVNO, old.Ticket.EncPart.KVNO)
	}
	c := f.conn(client.UDPOnly)
	if _, err := c.ServiceTicket(ctx, old, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")}); err != nil {
		t.Fatalf("TGT from before the rotation: %v", err)
	}
	fresh, err := f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Ticket.EncPart.KVNO != 2 {
		t.Errorf("new TGT kvno %d, want 2", fresh.Ticket.EncPart.KVNO)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	dom, err := f.dir.Domain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Off by default: many failures lock nothing.
	for range 4 {
		_, err := f.login(&client.Request{Client: alice()}, "wrong")
		wantCode(t, err, krb5.KDCErrPreauthFailed)
	}
	if _, err := f.login(&client.Request{Client: alice()}, alicePW); err != nil {
		t.Fatalf("with lockout off: %v", err)
	}
	p := dom.Policy
	p.LockoutThreshold = 3
	if _, err := f.dir.As(directory.LocalAdmin).SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := f.login(&client.Request{Client: alice()}, "wrong")
		wantCode(t, err, krb5.KDCErrPreauthFailed)
	}
	_, err = f.login(&client.Request{Client: alice()}, alicePW)
	wantCode(t, err, krb5.KDCErrClientRevoked)
	var locked bool
	for _, e := range f.audit.Events() {
		locked = locked || e.Type == "account.locked"
	}
	if !locked {
		t.Error("no account.locked audit event")
	}
}

func TestUDPTooBigFallsBackToTCP(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxUDPReply = 512 })
	_, _, err := f.conn(client.UDPOnly).Login(context.Background(), &client.Request{Client: alice()}, alicePW)
	wantCode(t, err, krb5.KRBErrResponseTooBig)
	if _, _, err := f.conn(client.UDPThenTCP).Login(context.Background(), &client.Request{Client: alice()}, alicePW); err != nil {
		t.Fatalf("with TCP fallback: %v", err)
	}
}

func TestTCPRefusesOversizeLength(t *testing.T) {
	f := newFixture(t, nil)
	for _, n := range []uint32{DefaultMaxRequestSize + 1, 0x80000010} {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], n)
		c.Write(hdr[:])
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		rep := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(c, rep); err != nil {
			t.Fatal(err)
		}
		if e := parseError(t, rep); e.ErrorCode != krb5.KRBErrFieldToolong {
			t.Errorf("length %#x: %s", n, e.ErrorCode)
		}
		if _, err := c.Read(hdr[:]); err != io.EOF {
			t.Errorf("connection left open after an oversize length: %v", err)
		}
		c.Close()
	}
}

func TestGarbageNeverAnswersWithAPanic(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, msg := range [][]byte{nil, {0x6a}, {0x6a, 0x80}, {0x6a, 0x03, 0x30, 0x01, 0x00}, {0x7e, 0x00}, {0x6c, 0x02, 0x30, 0x00}, []byte("GET / HTTP/1.0\r\n\r\n")} {
		rep := f.kdc.Handle(ctx, msg, "test", 0)
		if rep == nil {
			if len(msg) >= 2 && (msg[0] == 0x6a || msg[0] == 0x6c) {
				t.Errorf("%x: a malformed AS-REQ/TGS-REQ got no KRB-ERROR", msg)
			}
			continue
		}
		if e := parseError(t, rep); e.ErrorCode == krb5.KDCErrNone {
			t.Errorf("%x: error reply without a code", msg)
		}
	}
}

// TestErrorsAreNoAmplifier: a request for an unknown principal with a 16 KB
// name gets an error that echoes neither the name (in cname or e-text) nor
// more than the UDP limit allows over UDP, and over TCP one whose e-text is
// bounded; an ordinary unknown name is still echoed (clients show it).
func TestErrorsAreNoAmplifier(t *testing.T) {
	f := newFixture(t, nil)
	comps := make([]string, 16)
	for i := range comps {
		comps[i] = strings.Repeat(string(rune('a'+i)), 1000)
	}
	huge := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, comps...), Realm: alice().Realm}
	req := func(cname krb5.Principal) []byte {
		m := wire.KDCReq{MsgType: krb5.MsgASReq, Body: wire.KDCReqBody{
			CName: &cname.Name, Realm: cname.Realm, SName: ptr(krb5.NewName(krb5.NTSrvInst, "krbtgt", string(cname.Realm))),
			Till: time.Now().Add(time.Hour), Nonce: 7, ETypes: []krb5.EncType{krb5.AES256CTSHMACSHA196},
		}}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	msg := req(huge)
	for _, tr := range []client.Transport{client.UDPOnly, client.TCPOnly} {
		rep, err := f.conn(tr).RoundTrip(context.Background(), msg)
		if err != nil {
			t.Fatalf("transport %v: %v", tr, err)
		}
		e, err := wire.ParseKRBError(rep)
		if err != nil {
			t.Fatalf("transport %v: not a KRB-ERROR: %v", tr, err)
		}
		if len(rep) > DefaultMaxUDPReply || len(rep) > len(msg) || e.CName != nil || len(e.EText) > maxEText || strings.Contains(e.EText, comps[0][:300]) {
			t.Errorf("transport %v: a %d-byte error (code %v, cname %v, e-text of %d bytes) to a %d-byte request", tr, len(rep), e.ErrorCode, e.CName != nil, len(e.EText), len(msg))
		}
	}
	unknown := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "nobody-here"), Realm: alice().Realm}
	rep, err := f.conn(client.UDPOnly).RoundTrip(context.Background(), req(unknown))
	if err != nil {
		t.Fatal(err)
	}
	e, err := wire.ParseKRBError(rep)
	if err != nil || e.ErrorCode != krb5.KDCErrCPrincipalUnknown || e.CName == nil || e.CName.String() != "nobody-here" {
		t.Errorf("an ordinary unknown name: %+v, %v", e, err)
	}
	if got := cutText("aé"+strings.Repeat("x", 10), 4); got != "a…" {
		t.Errorf("cutText on a character boundary: %q", got)
	}
}

// failingSink is an audit.Checker whose log cannot be written while err
// is set.
type failingSink struct {
	audit.Memory
	err atomic.Pointer[error]
}

func (s *failingSink) Failing() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// TestRefuseUnaudited: with RefuseUnaudited, no ticket is issued while
// the audit log cannot be written (KDC_ERR_SVC_UNAVAILABLE, saying why);
// once it can, tickets are issued again. Without it, they are issued.
func TestRefuseUnaudited(t *testing.T) {
	for _, refuse := range []bool{true, false} {
		sink := &failingSink{}
		f := newFixture(t, func(c *Config) { c.Audit, c.RefuseUnaudited = sink, refuse })
		full := error(syscall.ENOSPC)
		sink.err.Store(&full)
		_, _, err := f.conn(client.UDPOnly).Login(context.Background(), &client.Request{Client: alice()}, alicePW)
		if refuse {
			wantCode(t, err, krb5.KDCErrSvcUnavailable)
			var kerr *client.Error
			if !errors.As(err, &kerr) || kerr.Msg == nil || !strings.Contains(kerr.Msg.EText, "audit log cannot be written") {
				t.Errorf("the refusal: %v", err)
			}
		} else if err != nil {
			t.Errorf("without RefuseUnaudited, a failing log refused a logon: %v", err)
		}
		sink.err.Store(nil)
		if _, _, err := f.conn(client.UDPOnly).Login(context.Background(), &client.Request{Client: alice()}, alicePW); err != nil {
			t.Errorf("refuse %v: once the log can be written: %v", refuse, err)
		}
	}
}
