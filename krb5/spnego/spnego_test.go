package spnego

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"testing"

	"hop/krb5/gssapi"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Vectors assembled by hand from RFC 4178 §4.2 and MS-SPNG §2.2.1.
const (
	vecInit  = "602f06062b0601050502a0253023a018301606092a864886f71201020206092a864882f712010202a2070405544f4b454e"
	vecInit2 = "605a06062b0601050502a050304ea0193017060a2b06010401823702020a06092a864886f712010202a32a3028a0261b246e6f745f646566696e65645f696e5f5246433431373840706c656173655f69676e6f7265a40504034d4943"
	vecResp  = "a11d301ba0030a0100a10b06092a864886f712010202a20704054150524550"
	vecResp2 = "a1143012a0030a0103a10b06092a864882f712010202"
)

func TestNegTokenInitCodec(t *testing.T) {
	in := &NegTokenInit{MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKerberos, gssapi.OIDKerberosMS}, MechToken: []byte("TOKEN")}
	b, err := in.Marshal()
	if err != nil || hex.EncodeToString(b) != vecInit {
		t.Fatalf("Marshal = %x, %v\nwant %s", b, err, vecInit)
	}
	if hex.EncodeToString(in.RawMechTypes) != "301606092a864886f71201020206092a864882f712010202" {
		t.Errorf("RawMechTypes = %x", in.RawMechTypes)
	}
	p, err := ParseNegTokenInit(unhex(vecInit))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.MechTypes) != 2 || !p.MechTypes[1].Equal(gssapi.OIDKerberosMS) || string(p.MechToken) != "TOKEN" ||
		p.MechListMIC != nil || !bytes.Equal(p.RawMechTypes, in.RawMechTypes) {
		t.Errorf("parsed %+v", p)
	}
	p2, err := ParseNegTokenInit(unhex(vecInit2))
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.MechTypes) != 2 || !p2.MechTypes[0].Equal(OIDNTLM) || string(p2.MechListMIC) != "MIC" || p2.MechToken != nil {
		t.Errorf("NegTokenInit2 parsed %+v", p2)
	}
	for name, bad := range map[string]string{
		"not SPNEGO":        "600e06092a864886f71201020201" + "00ab",
		"resp, not init":    "600f06062b0601050502" + vecResp[:10],
		"trailing":          vecInit + "00",
		"no mechTypes":      "600c06062b0601050502a0023000",
		"bad OID in list":   "601206062b0601050502a0083006a004300206" + "00",
		"unknown field [5]": "601506062b0601050502a00b3009a0023000a503040100",
	} {
		if _, err := ParseNegTokenInit(unhex(bad)); !errors.Is(err, ErrDefectiveToken) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestNegTokenRespCodec(t *testing.T) {
	r := &NegTokenResp{NegState: AcceptCompleted, SupportedMech: gssapi.OIDKerberos, ResponseToken: []byte("APREP")}
	if b, err := r.Marshal(); err != nil || hex.EncodeToString(b) != vecResp {
		t.Fatalf("Marshal = %x, %v", b, err)
	}
	p, err := ParseNegTokenResp(unhex(vecResp2))
	if err != nil {
		t.Fatal(err)
	}
	if p.NegState != RequestMIC || !p.SupportedMech.Equal(gssapi.OIDKerberosMS) || p.ResponseToken != nil || p.MechListMIC != nil {
		t.Errorf("parsed %+v", p)
	}
	// An empty NegTokenResp has no state.
	if p, err := ParseNegTokenResp(unhex("a1023000")); err != nil || p.NegState != NoState {
		t.Errorf("empty: %+v %v", p, err)
	}
	// Old Sun SPNEGO framed it.
	framed, _ := gssapi.MarshalInitialToken(OIDSPNEGO, unhex(vecResp))
	if p, err := ParseNegTokenResp(framed); err != nil || string(p.ResponseToken) != "APREP" {
		t.Errorf("framed: %+v %v", p, err)
	}
	for name, bad := range map[string]string{
		"negState 4":        "a1073005a0030a0104",
		"init choice":       "a0023000",
		"trailing":          vecResp + "00",
		"negState not enum": "a1073005a003020100",
	} {
		if _, err := ParseNegTokenResp(unhex(bad)); !errors.Is(err, ErrDefectiveToken) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if NegState(3).String() != "request-mic" || NoState.String() != "absent" {
		t.Error("NegState.String")
	}
}

// hop's initiator and acceptor: Kerberos first, one round trip.
func TestNegotiateOneRound(t *testing.T) {
	for _, mech := range []asn1.ObjectIdentifier{gssapi.OIDKerberos, gssapi.OIDKerberosMS} {
		f := newFixture(t)
		ini, tok, err := Initiate(f.cred(t), f.opts(), mech)
		if err != nil {
			t.Fatal(err)
		}
		n := (&Acceptor{GSS: f.gss}).Start(nil)
		out, err := n.Step(tok)
		if err != nil || !n.Done() {
			t.Fatalf("%v: Step: %v, done %v", mech, err, n.Done())
		}
		r, err := ParseNegTokenResp(out)
		if err != nil {
			t.Fatal(err)
		}
		if r.NegState != AcceptCompleted || !r.SupportedMech.Equal(mech) || r.ResponseToken == nil || r.MechListMIC != nil {
			t.Errorf("%v: reply %+v", mech, r)
		}
		if more, err := ini.Step(out); err != nil || more != nil || !ini.Done() {
			t.Fatalf("%v: initiator Step: %v, %x, done %v", mech, err, more, ini.Done())
		}
		if n.Context().Client().String() != "alice@EXAMPLE.TEST" || !ini.Context().Established() {
			t.Errorf("client %s", n.Context().Client())
		}
		mic, _ := ini.Context().MakeMIC([]byte("x"))
		if err := n.Context().VerifyMIC([]byte("x"), mic); err != nil {
			t.Error(err)
		}
		if _, err := n.Step(tok); err == nil {
			t.Error("Step after Done succeeded")
		}
	}
}

// An initiator listing NTLM first gets request-mic, and the MICs are
// exchanged (RFC 4178 §5).
func TestNegotiateRequestMIC(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutual  bool
		mic     string // "good", "bad" or "none": the initiator's MIC
		wantErr error
	}{
		{"mutual", true, "good", nil},
		{"not mutual, MIC with the AP-REQ", false, "good", nil},
		{"mutual, bad MIC", true, "bad", ErrBadMIC},
		{"not mutual, no MIC", false, "none", ErrBadMIC},
		{"not mutual, bad MIC", false, "bad", ErrBadMIC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			init := &NegTokenInit{
				MechTypes: []asn1.ObjectIdentifier{OIDNTLM, gssapi.OIDKerberosMS, gssapi.OIDKerberos},
				MechToken: []byte("NTLMSSP\x00\x01\x00\x00\x00"),
			}
			first, err := init.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			n := (&Acceptor{GSS: f.gss}).Start(nil)
			out, err := n.Step(first)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseNegTokenResp(out)
			if err != nil || r.NegState != RequestMIC || !r.SupportedMech.Equal(gssapi.OIDKerberosMS) || r.ResponseToken != nil || n.Done() {
				t.Fatalf("first reply %+v, %v", r, err)
			}
			o := f.opts()
			if tc.mutual {
				o.Flags = gssapi.FlagMutual
			}
			ic, apReq, err := gssapi.InitSecContext(f.cred(t), o)
			if err != nil {
				t.Fatal(err)
			}
			resp := &NegTokenResp{NegState: NoState, ResponseToken: apReq}
			mic := func() []byte {
				switch tc.mic {
				case "good":
					m, err := ic.MakeMIC(init.RawMechTypes)
					if err != nil {
						t.Fatal(err)
					}
					return m
				case "bad":
					m, _ := ic.MakeMIC([]byte("a MechTypeList without NTLM"))
					return m
				}
				return nil
			}
			if !tc.mutual {
				resp.MechListMIC = mic()
			}
			second, _ := resp.Marshal()
			out, err = n.Step(second)
			if !tc.mutual && tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if r, _ := ParseNegTokenResp(out); r == nil || r.NegState != Reject {
					t.Errorf("no reject token: %x", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err = ParseNegTokenResp(out)
			if err != nil || r.MechListMIC == nil || r.SupportedMech != nil {
				t.Fatalf("second reply %+v, %v", r, err)
			}
			if tc.mutual {
				if r.NegState != AcceptIncomplete || r.ResponseToken == nil || n.Done() {
					t.Fatalf("second reply %+v", r)
				}
				if err := ic.Continue(r.ResponseToken); err != nil {
					t.Fatal(err)
				}
			} else if r.NegState != AcceptCompleted || !n.Done() {
				t.Fatalf("second reply %+v, done %v", r, n.Done())
			}
			// The acceptor's MIC covers the initiator's list as sent.
			if err := ic.VerifyMIC(init.RawMechTypes, r.MechListMIC); err != nil {
				t.Fatalf("acceptor's mechListMIC: %v", err)
			}
			if !tc.mutual {
				return
			}
			third, _ := (&NegTokenResp{NegState: NoState, MechListMIC: mic()}).Marshal()
			out, err = n.Step(third)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || out != nil || !n.Done() {
				t.Fatalf("third step: %x, %v, done %v", out, err, n.Done())
			}
		})
	}
}

func TestNegotiateRefusals(t *testing.T) {
	f := newFixture(t)
	acc := &Acceptor{GSS: f.gss}
	onlyNTLM, _ := (&NegTokenInit{MechTypes: []asn1.ObjectIdentifier{OIDNTLM, OIDNegoEx}, MechToken: []byte("x")}).Marshal()
	n := acc.Start(nil)
	out, err := n.Step(onlyNTLM)
	if !errors.Is(err, ErrNoCommonMech) {
		t.Errorf("no Kerberos: %v", err)
	}
	if r, _ := ParseNegTokenResp(out); r == nil || r.NegState != Reject {
		t.Errorf("no reject token: %x", out)
	}
	if _, err := n.Step(onlyNTLM); err == nil {
		t.Error("Step after a failure succeeded")
	}
	// A NegTokenResp first, garbage, a bare token of another mechanism.
	for _, tok := range [][]byte{unhex(vecResp), []byte("garbage"), unhex("600e06092a864886f71201020201" + "00ab")} {
		if _, err := acc.Start(nil).Step(tok); err == nil {
			t.Errorf("Step(%x) succeeded", tok)
		}
	}
}

// Kerberos first without an optimistic token, and a bare Kerberos token.
func TestNegotiateOtherForms(t *testing.T) {
	f := newFixture(t)
	acc := &Acceptor{GSS: f.gss}
	first, _ := (&NegTokenInit{MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKerberos, OIDNTLM}}).Marshal()
	n := acc.Start(nil)
	out, err := n.Step(first)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := ParseNegTokenResp(out); r == nil || r.NegState != AcceptIncomplete || !r.SupportedMech.Equal(gssapi.OIDKerberos) {
		t.Fatalf("reply %x", out)
	}
	o := f.opts()
	o.Flags = gssapi.FlagMutual
	ic, apReq, _ := gssapi.InitSecContext(f.cred(t), o)
	second, _ := (&NegTokenResp{NegState: NoState, ResponseToken: apReq}).Marshal()
	out, err = n.Step(second)
	if err != nil || !n.Done() {
		t.Fatalf("second step: %v", err)
	}
	r, _ := ParseNegTokenResp(out)
	if r == nil || r.NegState != AcceptCompleted || r.MechListMIC != nil {
		t.Fatalf("reply %+v", r)
	}
	if err := ic.Continue(r.ResponseToken); err != nil {
		t.Fatal(err)
	}

	f.tick()
	ic, apReq, _ = gssapi.InitSecContext(f.cred(t), o)
	n = acc.Start(nil)
	out, err = n.Step(apReq)
	if err != nil || !n.Done() {
		t.Fatalf("bare Kerberos token: %v", err)
	}
	if err := ic.Continue(out); err != nil {
		t.Fatalf("bare AP-REP: %v", err)
	}
	if _, err := n.Step(apReq); err == nil {
		t.Error("a bare context took a second token")
	}
}

// hop's initiator verifies and answers an acceptor's MIC.
func TestInitiatorAnswersMIC(t *testing.T) {
	f := newFixture(t)
	// start makes an initiator and accepts its AP-REQ with the bare
	// Kerberos acceptor, so that replies can be crafted.
	start := func() (*Initiation, *NegTokenInit, *gssapi.Context, []byte) {
		f.tick()
		ini, tok, err := Initiate(f.cred(t), f.opts(), nil)
		if err != nil {
			t.Fatal(err)
		}
		init, _ := ParseNegTokenInit(tok)
		ac, apRep, err := f.gss.Accept(init.MechToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ini, init, ac, apRep
	}
	ini, init, ac, apRep := start()
	firstAPRep := apRep
	mic, _ := ac.MakeMIC(init.RawMechTypes)
	reply, _ := (&NegTokenResp{NegState: AcceptIncomplete, SupportedMech: gssapi.OIDKerberos, ResponseToken: apRep, MechListMIC: mic}).Marshal()
	out, err := ini.Step(reply)
	if err != nil || !ini.Done() {
		t.Fatalf("Step: %v", err)
	}
	r, err := ParseNegTokenResp(out)
	if err != nil || r.MechListMIC == nil {
		t.Fatalf("answer %+v %v", r, err)
	}
	if err := ac.VerifyMIC(init.RawMechTypes, r.MechListMIC); err != nil {
		t.Errorf("initiator's MIC: %v", err)
	}

	for _, tc := range []struct {
		name string
		resp func(init *NegTokenInit, ac *gssapi.Context, apRep []byte) *NegTokenResp
		want error
	}{
		{"MIC over another list", func(init *NegTokenInit, ac *gssapi.Context, apRep []byte) *NegTokenResp {
			m, _ := ac.MakeMIC([]byte("another list"))
			return &NegTokenResp{NegState: AcceptCompleted, ResponseToken: apRep, MechListMIC: m}
		}, ErrBadMIC},
		{"reject", func(*NegTokenInit, *gssapi.Context, []byte) *NegTokenResp { return &NegTokenResp{NegState: Reject} }, ErrRejected},
		{"NTLM chosen", func(_ *NegTokenInit, _ *gssapi.Context, apRep []byte) *NegTokenResp {
			return &NegTokenResp{NegState: AcceptCompleted, SupportedMech: OIDNTLM, ResponseToken: apRep}
		}, nil},
		{"no AP-REP", func(*NegTokenInit, *gssapi.Context, []byte) *NegTokenResp {
			return &NegTokenResp{NegState: AcceptCompleted, SupportedMech: gssapi.OIDKerberos}
		}, ErrDefectiveToken},
		{"incomplete, nothing to do", func(_ *NegTokenInit, _ *gssapi.Context, apRep []byte) *NegTokenResp {
			return &NegTokenResp{NegState: AcceptIncomplete, ResponseToken: apRep}
		}, nil},
		{"request-mic, completed without a MIC", func(_ *NegTokenInit, _ *gssapi.Context, apRep []byte) *NegTokenResp {
			return &NegTokenResp{NegState: RequestMIC, ResponseToken: apRep}
		}, nil},
		{"AP-REP of another context", func(*NegTokenInit, *gssapi.Context, []byte) *NegTokenResp {
			return &NegTokenResp{NegState: AcceptCompleted, ResponseToken: firstAPRep}
		}, gssapi.ErrMutualFailed},
	} {
		ini, init, ac, apRep := start()
		b, _ := tc.resp(init, ac, apRep).Marshal()
		out, err := ini.Step(b)
		if tc.name == "request-mic, completed without a MIC" {
			// request-mic in the first reply makes MICs due: the initiator
			// sends its own and waits for the acceptor's.
			if err != nil || out == nil || ini.Done() {
				t.Errorf("%s: %x, %v, done %v", tc.name, out, err, ini.Done())
			}
			done, _ := (&NegTokenResp{NegState: AcceptCompleted}).Marshal()
			if _, err := ini.Step(done); !errors.Is(err, ErrBadMIC) {
				t.Errorf("%s: completion without the MIC: %v", tc.name, err)
			}
			continue
		}
		if err == nil || ini.Done() || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}
