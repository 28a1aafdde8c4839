package gssapi

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/krb5test"
	"hop/krb5/service"
	"hop/krb5/service/servicetest"
	"hop/krb5/wire"
)

func TestInitialTokenFraming(t *testing.T) {
	// RFC 2743 §3.1 framing of "01 00 ab" under 1.2.840.113554.1.2.2,
	// written out by hand: 60 len 06 09 <OID> 01 00 ab.
	want, _ := hex.DecodeString("600e06092a864886f71201020201" + "00ab")
	got, err := MarshalInitialToken(OIDKerberos, []byte{1, 0, 0xab})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("MarshalInitialToken = %x, %v; want %x", got, err, want)
	}
	oid, inner, err := ParseInitialToken(want)
	if err != nil || !oid.Equal(OIDKerberos) || !bytes.Equal(inner, []byte{1, 0, 0xab}) {
		t.Fatalf("ParseInitialToken = %v %x %v", oid, inner, err)
	}
	ms, _ := hex.DecodeString("06092a864882f712010202")
	if got, _ := MarshalInitialToken(OIDKerberosMS, nil); !bytes.Equal(got[2:], ms) {
		t.Errorf("MS OID encodes as %x, want %x", got[2:], ms)
	}
	for _, bad := range []string{"", "60", "600e06092a864886f71201020201", "610306012a", "6003060180", "600e06092a864886f7120102020100abff"} {
		b, _ := hex.DecodeString(bad)
		if _, _, err := ParseInitialToken(b); !errors.Is(err, ErrDefectiveToken) {
			t.Errorf("ParseInitialToken(%s) err = %v", bad, err)
		}
	}
}

func TestChannelBindingsHash(t *testing.T) {
	// MD5 over the RFC 4121 §4.1.1.2 serialization, computed with Python's
	// hashlib from the same fields.
	cb := &ChannelBindings{
		InitiatorAddrType: 2, InitiatorAddress: []byte{127, 0, 0, 1},
		AcceptorAddrType: 2, AcceptorAddress: []byte{10, 0, 0, 2},
		ApplicationData: []byte("tls-server-end-point:abc"),
	}
	if h := cb.Hash(); hex.EncodeToString(h[:]) != "9dd997ff839c7df4e0973e78915efc45" {
		t.Errorf("Hash = %x", h)
	}
	if h := (&ChannelBindings{}).Hash(); hex.EncodeToString(h[:]) != "441018525208457705bf09a8ee3c1093" {
		t.Errorf("empty bindings Hash = %x", h)
	}
	if h := (*ChannelBindings)(nil).Hash(); h != [16]byte{} {
		t.Errorf("nil bindings Hash = %x, want zeros", h)
	}
}

func TestAuthenticatorChecksum(t *testing.T) {
	// Lgth 16, Bnd 00..0f, Flags 0x3f (deleg|mutual|replay|sequence|conf|integ),
	// DlgOpt 1, Dlgth 3, "KRB", then extension 2 of 2 bytes.
	raw, _ := hex.DecodeString("10000000" + "000102030405060708090a0b0c0d0e0f" + "3f000000" + "0100" + "0300" + "4b5242" + "00000002" + "00000002" + "abcd")
	c, err := ParseAuthenticatorChecksum(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Flags != FlagDeleg|FlagMutual|FlagReplay|FlagSequence|FlagConf|FlagInteg || c.Bindings[15] != 0x0f ||
		string(c.Delegation) != "KRB" || len(c.Extensions) != 1 || c.Extensions[0].Type != 2 || !bytes.Equal(c.Extensions[0].Data, []byte{0xab, 0xcd}) {
		t.Fatalf("parsed %+v", c)
	}
	back, err := c.Marshal()
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("Marshal = %x, %v", back, err)
	}
	if c.Flags.String() != "deleg,mutual,replay,sequence,conf,integ" {
		t.Errorf("Flags.String = %q", c.Flags)
	}
	// Without the deleg flag the bytes after the flags are extensions.
	noDeleg, _ := hex.DecodeString("10000000" + "00000000000000000000000000000000" + "02000000")
	if c, err := ParseAuthenticatorChecksum(noDeleg); err != nil || c.Flags != FlagMutual || c.Delegation != nil {
		t.Errorf("minimal checksum: %+v %v", c, err)
	}
	for name, bad := range map[string]string{
		"short":              "10000000" + "000000",
		"Lgth 15":            "0f000000" + "00000000000000000000000000000000" + "00000000",
		"DlgOpt 2":           "10000000" + "00000000000000000000000000000000" + "01000000" + "0200" + "0000",
		"Dlgth too long":     "10000000" + "00000000000000000000000000000000" + "01000000" + "0100" + "0500" + "00",
		"extension too long": "10000000" + "00000000000000000000000000000000" + "00000000" + "00000001" + "00000009" + "00",
		"extension header":   "10000000" + "00000000000000000000000000000000" + "00000000" + "000000",
	} {
		b, _ := hex.DecodeString(bad)
		if _, err := ParseAuthenticatorChecksum(b); !errors.Is(err, ErrDefectiveToken) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// exchange sends MICs and Wrap tokens both ways between two contexts.
func exchange(t *testing.T, ini, acc *Context) {
	t.Helper()
	for i, dir := range []struct {
		from, to *Context
		name     string
	}{{ini, acc, "initiator to acceptor"}, {acc, ini, "acceptor to initiator"}} {
		msg := []byte(fmt.Sprintf("SSH session identifier %d", i))
		mic, err := dir.from.MakeMIC(msg)
		if err != nil {
			t.Fatalf("%s: MakeMIC: %v", dir.name, err)
		}
		if err := dir.to.VerifyMIC(msg, mic); err != nil {
			t.Fatalf("%s: VerifyMIC: %v", dir.name, err)
		}
		if err := dir.to.VerifyMIC(append(msg, '!'), mic); !errors.Is(err, ErrBadSig) {
			t.Errorf("%s: MIC over another message: %v", dir.name, err)
		}
		for _, conf := range []bool{true, false} {
			for _, m := range [][]byte{msg, {}, bytes.Repeat([]byte{0x5a}, 1000)} {
				tok, err := dir.from.Wrap(m, conf)
				if err != nil {
					t.Fatalf("%s: Wrap: %v", dir.name, err)
				}
				if conf && bytes.Contains(tok, msg) {
					t.Errorf("%s: sealed token shows the message", dir.name)
				}
				got, gotConf, err := dir.to.Unwrap(tok)
				if err != nil || !bytes.Equal(got, m) || gotConf != conf {
					t.Fatalf("%s: Unwrap(conf %v) = %q, %v, %v", dir.name, conf, got, gotConf, err)
				}
			}
		}
		// A token sent back to its sender is a reflection.
		tok, _ := dir.from.Wrap(msg, true)
		if _, _, err := dir.from.Unwrap(tok); !errors.Is(err, ErrBadSig) {
			t.Errorf("%s: reflected token: %v", dir.name, err)
		}
	}
}

func TestContextRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Flags
		etype krb5.EncType
	}{
		{"mutual aes256-sha1", FlagMutual | FlagReplay | FlagSequence, krb5.AES256CTSHMACSHA196},
		{"mutual aes128-sha1", FlagMutual | FlagReplay, krb5.AES128CTSHMACSHA196},
		{"mutual aes128-sha2", FlagMutual, krb5.AES128CTSHMACSHA256128},
		{"mutual aes256-sha2", FlagMutual | FlagSequence, krb5.AES256CTSHMACSHA384192},
		{"no mutual", FlagReplay | FlagSequence, krb5.AES256CTSHMACSHA196},
		{"rc4 session key, aes subkey", FlagMutual | FlagReplay, krb5.RC4HMAC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.cred(t, servicetest.TicketOptions{SessionKeyType: tc.etype})
			ic, tok := f.init(t, c, &InitOptions{Flags: tc.flags})
			if ic.Established() != (tc.flags&FlagMutual == 0) {
				t.Fatalf("established %v before the AP-REP", ic.Established())
			}
			if tc.flags&FlagMutual != 0 {
				if _, err := ic.MakeMIC([]byte("x")); !errors.Is(err, ErrNotEstablished) {
					t.Errorf("MakeMIC before the AP-REP: %v", err)
				}
			}
			ac, out, err := f.acc.Accept(tok, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.flags&FlagMutual != 0 {
				if err := ic.Continue(out); err != nil {
					t.Fatal(err)
				}
				if ac.acceptorKey == nil || !ac.acceptorKey.Equal(ic.acceptorKey) || ac.acceptorKey.Equal(ic.key) {
					t.Fatal("the acceptor subkey was not asserted and shared")
				}
			} else if out != nil || ac.acceptorKey != nil {
				t.Fatal("AP-REP or acceptor subkey without mutual authentication")
			}
			want := tc.flags | FlagConf | FlagInteg | FlagTrans | FlagProtReady
			if ac.Flags() != want || ic.Flags() != want {
				t.Errorf("flags: acceptor %v, initiator %v, want %v", ac.Flags(), ic.Flags(), want)
			}
			if ac.Client().String() != "alice@EXAMPLE.TEST" || ac.Server().String() != "HTTP/web.example.test@EXAMPLE.TEST" ||
				ac.Accepted() == nil || ac.Accepted().PAC == nil || !ac.Mech().Equal(OIDKerberos) || ac.Initiator() || !ic.Initiator() {
				t.Errorf("acceptor context: %s %s", ac.Client(), ac.Server())
			}
			if !ac.Expiry().Equal(c.EndTime) {
				t.Errorf("expiry %v, want %v", ac.Expiry(), c.EndTime)
			}
			exchange(t, ic, ac)
		})
	}
}

func TestSequenceDetection(t *testing.T) {
	f := newFixture(t)
	ic, ac := f.pair(t, &InitOptions{Flags: FlagMutual | FlagReplay | FlagSequence}, nil)
	var toks [][]byte
	for i := 0; i < 4; i++ {
		tok, err := ic.Wrap([]byte{byte(i)}, true)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	if _, _, err := ac.Unwrap(toks[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ac.Unwrap(toks[0]); !errors.Is(err, ErrDuplicateToken) {
		t.Errorf("replayed token: %v", err)
	}
	// Skipping token 1 is a gap; the message still comes out.
	if m, _, err := ac.Unwrap(toks[2]); !errors.Is(err, ErrGapToken) || !bytes.Equal(m, []byte{2}) {
		t.Errorf("gap: %q %v", m, err)
	}
	if m, _, err := ac.Unwrap(toks[1]); !errors.Is(err, ErrUnseqToken) || !bytes.Equal(m, []byte{1}) {
		t.Errorf("late token: %q %v", m, err)
	}
	if _, _, err := ac.Unwrap(toks[1]); !errors.Is(err, ErrDuplicateToken) {
		t.Errorf("late token again: %v", err)
	}
	// MICs share the sequence: 70 tokens later token 3 is too old.
	for i := 0; i < 70; i++ {
		mic, _ := ic.MakeMIC(nil)
		// The first one comes after token 3, which was skipped.
		if err := ac.VerifyMIC(nil, mic); err != nil && !(i == 0 && errors.Is(err, ErrGapToken)) {
			t.Fatal(err)
		}
	}
	if _, _, err := ac.Unwrap(toks[3]); !errors.Is(err, ErrOldToken) {
		t.Errorf("token older than the window: %v", err)
	}

	// Without replay or sequence flags nothing is tracked.
	ic2, ac2 := f.pair(t, &InitOptions{Flags: FlagMutual}, nil)
	mic, _ := ic2.MakeMIC([]byte("m"))
	for i := 0; i < 2; i++ {
		if err := ac2.VerifyMIC([]byte("m"), mic); err != nil {
			t.Errorf("untracked context, try %d: %v", i, err)
		}
	}
}

func TestSeqStateWindow(t *testing.T) {
	s := newSeqState(1<<64-2, FlagReplay) // wraps around
	for _, tc := range []struct {
		seq  uint64
		want error
	}{
		{1<<64 - 2, nil}, {1<<64 - 1, nil}, {0, nil}, {0, ErrDuplicateToken}, {5, nil}, {2, nil}, {2, ErrDuplicateToken},
		{1<<64 - 1, ErrDuplicateToken}, {200, nil}, {100, ErrOldToken}, {150, nil},
	} {
		if err := s.check(tc.seq); err != tc.want {
			t.Errorf("check(%d) = %v, want %v", tc.seq, err, tc.want)
		}
	}
}

// Unwrap takes tokens with filler (EC) and rotation (RRC), as Windows and
// MIT's CFX_EXERCISE build send them.
func TestUnwrapECAndRRC(t *testing.T) {
	f := newFixture(t)
	ic, ac := f.pair(t, &InitOptions{Flags: FlagMutual}, nil)
	msg := []byte("rotated and padded")
	for _, tc := range []struct {
		conf    bool
		ec, rrc int
	}{{true, 0, 0}, {true, 7, 0}, {true, 0, 28}, {true, 5, 1000}, {false, 0, 3}, {false, 0, 12}} {
		tok := craftWrap(t, ac, msg, tc.conf, tc.ec, tc.rrc)
		got, conf, err := ic.Unwrap(tok)
		if err != nil || !bytes.Equal(got, msg) || conf != tc.conf {
			t.Errorf("conf %v EC %d RRC %d: %q %v %v", tc.conf, tc.ec, tc.rrc, got, conf, err)
		}
	}
	// EC and the encrypted header must agree.
	tok := craftWrap(t, ac, msg, true, 4, 0)
	binary.BigEndian.PutUint16(tok[4:], 3)
	if _, _, err := ic.Unwrap(tok); !errors.Is(err, ErrDefectiveToken) {
		t.Errorf("EC changed outside the encryption: %v", err)
	}
	tok = craftWrap(t, ac, msg, true, 0, 0)
	binary.BigEndian.PutUint64(tok[8:], 99)
	if _, _, err := ic.Unwrap(tok); !errors.Is(err, ErrDefectiveToken) {
		t.Errorf("sequence number changed outside the encryption: %v", err)
	}
	tok = craftWrap(t, ac, msg, false, 0, 0)
	tok[len(tok)-20] ^= 1
	if _, _, err := ic.Unwrap(tok); !errors.Is(err, ErrBadSig) {
		t.Errorf("integrity-only token tampered: %v", err)
	}
}

// craftWrap builds a Wrap token from c as RFC 4121 §4.2.4 allows, with EC
// filler bytes and the payload rotated right by rrc.
func craftWrap(t *testing.T, c *Context, msg []byte, conf bool, ec, rrc int) []byte {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	h, key, err := c.sendHeader(tokWrap, 0)
	if err != nil {
		t.Fatal(err)
	}
	h[3] = 0xff
	_, seal := c.usages(true)
	var payload []byte
	if conf {
		h[2] |= flagSealed
		binary.BigEndian.PutUint16(h[4:], uint16(ec))
		plain := append(append(append([]byte(nil), msg...), bytes.Repeat([]byte{'x'}, ec)...), h...)
		if payload, err = key.Encrypt(c.rand, seal, plain); err != nil {
			t.Fatal(err)
		}
	} else {
		sum, err := key.MakeChecksum(key.ChecksumType(), seal, append(append([]byte(nil), msg...), h...))
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint16(h[4:], uint16(len(sum)))
		payload = append(append([]byte(nil), msg...), sum...)
	}
	c.sendSeq++
	// Rotate right by rrc: the last rrc bytes come first.
	r := rrc % len(payload)
	rot := append(append([]byte(nil), payload[len(payload)-r:]...), payload[:len(payload)-r]...)
	binary.BigEndian.PutUint16(h[6:], uint16(rrc))
	return append(h, rot...)
}

func TestChannelBindings(t *testing.T) {
	cb := &ChannelBindings{ApplicationData: []byte("tls-unique:0123456789ab")}
	other := &ChannelBindings{ApplicationData: []byte("tls-unique:ba9876543210")}
	for _, tc := range []struct {
		name    string
		sent    *ChannelBindings // by the initiator
		checked *ChannelBindings // by the acceptor
		lenient bool
		ok      bool
	}{
		{"match", cb, cb, false, true},
		{"mismatch", other, cb, false, false},
		{"mismatch, lenient", other, cb, true, false},
		{"none sent", nil, cb, false, false},
		{"none sent, lenient", nil, cb, true, true},
		{"none checked", cb, nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.acc.InsecureAcceptUnbound = tc.lenient
			_, tok := f.init(t, f.cred(t, servicetest.TicketOptions{}), &InitOptions{Flags: FlagMutual, Bindings: tc.sent})
			_, _, err := f.acc.Accept(tok, tc.checked)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrBindings) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestDelegation(t *testing.T) {
	f := newFixture(t)
	krbtgt := f.realm.Principal("krbtgt/EXAMPLE.TEST")
	if _, err := f.realm.AddKey(krbtgt, krb5.AES256CTSHMACSHA196, 1); err != nil {
		t.Fatal(err)
	}
	tgt, err := f.realm.Ticket(f.alice, krbtgt, servicetest.TicketOptions{Flags: krb5.TktForwardable | krb5.TktForwarded | krb5.TktPreAuthent})
	if err != nil {
		t.Fatal(err)
	}
	ic, tok := f.init(t, f.cred(t, servicetest.TicketOptions{}), &InitOptions{Flags: FlagMutual | FlagDeleg, Delegate: tgt})
	ac, out, err := f.acc.Accept(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Continue(out); err != nil {
		t.Fatal(err)
	}
	if ac.Flags()&FlagDeleg == 0 || ac.Delegated() == nil {
		t.Fatalf("no delegated credential, flags %v", ac.Flags())
	}
	creds, err := ac.Delegated().Credentials()
	if err != nil || len(creds) != 1 {
		t.Fatalf("Credentials: %v, %v", creds, err)
	}
	got := creds[0]
	if got.Client.String() != "alice@EXAMPLE.TEST" || got.Server.String() != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" ||
		!got.SessionKey.Equal(tgt.SessionKey) || got.Flags != tgt.Flags || !got.EndTime.Equal(tgt.EndTime) {
		t.Errorf("delegated %s -> %s flags %x", got.Client, got.Server, got.Flags)
	}
	// The delegated ticket is the TGT itself: the KDC key opens it.
	if _, _, err := f.realm.Open(&got.Ticket); err != nil {
		t.Errorf("delegated ticket: %v", err)
	}

	// Bob's TGT in Alice's authenticator is refused.
	bob := f.realm.Principal("bob")
	bobTGT, err := f.realm.Ticket(bob, krbtgt, servicetest.TicketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, tok = f.init(t, f.cred(t, servicetest.TicketOptions{}), &InitOptions{Flags: FlagDeleg, Delegate: bobTGT})
	if _, _, err := f.acc.Accept(tok, nil); err == nil {
		t.Error("a delegated credential of another client was accepted")
	}
}

func TestAcceptForms(t *testing.T) {
	f := newFixture(t)
	// A bare AP-REQ gets a bare AP-REP.
	ic, tok := f.init(t, f.cred(t, servicetest.TicketOptions{}), &InitOptions{Flags: FlagMutual})
	_, inner, _ := ParseInitialToken(tok)
	ac, out, err := f.acc.Accept(inner[2:], nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 || out[0] != 0x6f {
		t.Fatalf("reply to a bare AP-REQ starts %x", out[:1])
	}
	if err := ic.Continue(out); err != nil {
		t.Fatal(err)
	}
	exchange(t, ic, ac)

	// The Microsoft OID is answered under the same OID.
	ic, tok = f.init(t, f.cred(t, servicetest.TicketOptions{}), &InitOptions{Flags: FlagMutual, Mech: OIDKerberosMS})
	ac, out, err = f.acc.Accept(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if oid, _, err := ParseInitialToken(out); err != nil || !oid.Equal(OIDKerberosMS) || !ac.Mech().Equal(OIDKerberosMS) {
		t.Errorf("reply OID %v, %v", oid, err)
	}
	if err := ic.Continue(out); err != nil {
		t.Fatal(err)
	}

	// An AP-REQ without a checksum (MS-KILE) or with a plain one (Samba).
	c := f.cred(t, servicetest.TicketOptions{})
	for _, tc := range []struct {
		name  string
		ck    func() *wire.Checksum
		flags Flags
	}{
		{"no checksum", func() *wire.Checksum { return nil }, 0},
		{"samba checksum", func() *wire.Checksum {
			sum, err := c.SessionKey.MakeChecksum(c.SessionKey.ChecksumType(), krb5.UsageAPReqAuthCksum, nil)
			if err != nil {
				t.Fatal(err)
			}
			return &wire.Checksum{Type: c.SessionKey.ChecksumType(), Sum: sum}
		}, FlagReplay | FlagSequence | FlagMutual},
	} {
		f.clock = f.clock.Add(time.Millisecond)
		req, err := f.realm.APReq(c, servicetest.APReqOptions{Options: krb5.APMutualRequired, Cksum: tc.ck()})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := krbToken(OIDKerberos, tokAPReq, req)
		ac, out, err := f.acc.Accept(tok, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ac.Flags()&^(FlagTrans|FlagProtReady) != tc.flags|FlagMutual || out == nil {
			t.Errorf("%s: flags %v", tc.name, ac.Flags())
		}
	}
}

func TestAcceptRefusals(t *testing.T) {
	f := newFixture(t)
	c := f.cred(t, servicetest.TicketOptions{})
	apReq := func(o servicetest.APReqOptions) []byte {
		f.clock = f.clock.Add(time.Millisecond)
		req, err := f.realm.APReq(c, o)
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := krbToken(OIDKerberos, tokAPReq, req)
		return tok
	}
	ck := func(flags Flags) *wire.Checksum {
		v, _ := (&AuthenticatorChecksum{Flags: flags}).Marshal()
		return &wire.Checksum{Type: krb5.CksumGSSAPI, Sum: v}
	}
	rc4, _ := crypto.RandomKey(krb5.RC4HMAC, f.rnd)
	spnegoOID, _ := MarshalInitialToken([]int{1, 3, 6, 1, 5, 5, 2}, []byte{1, 0})
	wrongTokID, _ := krbToken(OIDKerberos, tokAPRep, []byte{0x6e, 0})
	for _, tc := range []struct {
		name string
		tok  []byte
		want error
	}{
		{"garbage", []byte("NTLMSSP\x00"), ErrDefectiveToken},
		{"SPNEGO token", spnegoOID, ErrBadMech},
		{"wrong TOK_ID", wrongTokID, ErrDefectiveToken},
		{"DCE style", apReq(servicetest.APReqOptions{Cksum: ck(FlagDCEStyle | FlagMutual)}), nil},
		{"rc4 subkey", apReq(servicetest.APReqOptions{Cksum: ck(FlagMutual), Subkey: rc4}), ErrUnsupportedEncType},
		{"unkeyed checksum", apReq(servicetest.APReqOptions{Cksum: &wire.Checksum{Type: krb5.CksumRSAMD5, Sum: make([]byte, 16)}}), ErrBadSig},
		{"bad 0x8003", apReq(servicetest.APReqOptions{Cksum: &wire.Checksum{Type: krb5.CksumGSSAPI, Sum: []byte{1, 2, 3}}}), ErrDefectiveToken},
		{"skew", func() []byte {
			req, _ := f.realm.APReq(c, servicetest.APReqOptions{CTime: now.Add(time.Hour)})
			tok, _ := krbToken(OIDKerberos, tokAPReq, req)
			return tok
		}(), krb5.KRBAPErrSkew},
	} {
		_, _, err := f.acc.Accept(tc.tok, nil)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestContinueRefusals(t *testing.T) {
	f := newFixture(t)
	c := f.cred(t, servicetest.TicketOptions{})
	// An AP-REP answering another authenticator.
	ic1, tok1 := f.init(t, c, &InitOptions{Flags: FlagMutual})
	f.clock = f.clock.Add(time.Second)
	ic2, _ := f.init(t, c, &InitOptions{Flags: FlagMutual})
	_, out1, err := f.acc.Accept(tok1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ic2.Continue(out1); !errors.Is(err, ErrMutualFailed) || !errors.Is(err, krb5.KRBAPErrMutFail) {
		t.Errorf("AP-REP of another authenticator: %v", err)
	}
	// Tampered AP-REP.
	bad := append([]byte(nil), out1...)
	bad[len(bad)-3] ^= 1
	if err := ic1.Continue(bad); !errors.Is(err, ErrMutualFailed) {
		t.Errorf("tampered AP-REP: %v", err)
	}
	if err := ic1.Continue(out1); err != nil {
		t.Fatal(err)
	}
	if err := ic1.Continue(out1); err == nil {
		t.Error("second Continue accepted")
	}
	// A KRB-ERROR token.
	ic3, _ := f.init(t, c, &InitOptions{Flags: FlagMutual})
	etok, err := f.acc.ErrorToken(&service.Error{Code: krb5.KRBAPErrSkew}, f.web)
	if err != nil {
		t.Fatal(err)
	}
	err = ic3.Continue(etok)
	var ke *KRBError
	if !errors.As(err, &ke) || !errors.Is(err, krb5.KRBAPErrSkew) || !ke.Msg.SName.Equal(f.web.Name) {
		t.Errorf("KRB-ERROR token: %v", err)
	}
}

// Known answers: RFC 4121 tokens under the aes128-cts-hmac-sha1-96 key
// 14f9bde6b50ec508201a97f74c4e5bd3, as published in the tests of
// github.com/jcmturner/gokrb5 (v8/gssapi): an acceptor's integrity-only
// Wrap token of 01 01 00 00 and MIC over de ad be ef with sequence number
// 0x575e85d6, and the initiator's answers with sequence number 0. Both
// kinds are deterministic, so hop's must match byte for byte.
func TestKnownAnswerTokens(t *testing.T) {
	key, err := crypto.NewKey(krb5.AES128CTSHMACSHA196, krb5test.Unhex(t, "14f9bde6b50ec508201a97f74c4e5bd3"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		acceptorWrap  = "050401ff000c000000000000575e85d601010000853b728d5268525a1386c19f"
		initiatorWrap = "050400ff000c000000000000000000000101000079a033510b6f127212242b97"
		acceptorMIC   = "040401ffffffffff00000000575e85d6c34d12ba3e5b1b1310cd9cb3"
		initiatorMIC  = "040400ffffffffff00000000000000009649ca09d2f1bc51ff6e5ca3"
	)
	newCtx := func() *Context {
		return &Context{initiator: true, established: true, key: key, recv: newSeqState(0x575e85d6, 0)}
	}
	c := newCtx()
	msg, conf, err := c.Unwrap(krb5test.Unhex(t, acceptorWrap))
	if err != nil || conf || !bytes.Equal(msg, []byte{1, 1, 0, 0}) {
		t.Errorf("Unwrap = %x %v %v", msg, conf, err)
	}
	if err := c.VerifyMIC(krb5test.Unhex(t, "deadbeef"), krb5test.Unhex(t, acceptorMIC)); err != nil {
		t.Errorf("VerifyMIC: %v", err)
	}
	if tok, err := newCtx().Wrap([]byte{1, 1, 0, 0}, false); err != nil || hex.EncodeToString(tok) != initiatorWrap {
		t.Errorf("Wrap = %x, %v\nwant %s", tok, err, initiatorWrap)
	}
	if tok, err := newCtx().MakeMIC(krb5test.Unhex(t, "deadbeef")); err != nil || hex.EncodeToString(tok) != initiatorMIC {
		t.Errorf("MakeMIC = %x, %v\nwant %s", tok, err, initiatorMIC)
	}
	// The acceptor's tokens do not verify as the initiator's (direction).
	a := &Context{initiator: false, established: true, key: key, recv: newSeqState(0, 0)}
	if err := a.VerifyMIC(krb5test.Unhex(t, "deadbeef"), krb5test.Unhex(t, acceptorMIC)); !errors.Is(err, ErrBadSig) {
		t.Errorf("reflected MIC: %v", err)
	}
	if err := a.VerifyMIC(krb5test.Unhex(t, "deadbeef"), krb5test.Unhex(t, initiatorMIC)); err != nil {
		t.Errorf("acceptor VerifyMIC of the initiator's: %v", err)
	}
}
