package wire

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hop/krb5"
)

type roundTripCase struct {
	name    string
	value   any
	marshal func() ([]byte, error)
	parse   func([]byte) (any, error)
}

func rt[T any](name string, v *T, marshal func(*T) ([]byte, error), parse func([]byte) (*T, error)) roundTripCase {
	return roundTripCase{
		name:    name,
		value:   v,
		marshal: func() ([]byte, error) { return marshal(v) },
		parse: func(b []byte) (any, error) {
			p, err := parse(b)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
	}
}

func roundTripCases() []roundTripCase {
	ticket := sampleTicket()
	key := EncryptionKey{Type: krb5.AES256CTSHMACSHA196, Value: bytes.Repeat([]byte{0x42}, 32)}
	ad := AuthorizationData{
		{Type: krb5.ADIfRelevant, Data: []byte{0x30, 0x00}},
		{Type: krb5.ADWin2KPAC, Data: []byte("pac")},
	}
	body := KDCReqBody{
		Options: krb5.OptForwardable | krb5.OptRenewable | krb5.OptCanonicalize,
		CName:   pn(alice), Realm: "HOP.TEST", SName: pn(tgs),
		From: t0, Till: t1, RTime: t2,
		Nonce:       0xfedcba98, // above 2^31: encoded as a non-negative INTEGER
		ETypes:      []krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196, -135},
		Addresses:   []HostAddress{{Type: krb5.AddrIPv4, Address: []byte{127, 0, 0, 1}}},
		EncAuthData: &EncryptedData{EType: krb5.AES256CTSHMACSHA196, Cipher: []byte("ad")},
		AdditionalTickets: []Ticket{ticket, {Realm: "OTHER.TEST", SName: host,
			EncPart: EncryptedData{EType: krb5.RC4HMAC, Cipher: []byte{1}}}},
	}
	minimalBody := KDCReqBody{Realm: "HOP.TEST", Nonce: 1, ETypes: []krb5.EncType{18}}
	encPart := EncryptedData{EType: krb5.AES256CTSHMACSHA196, Cipher: []byte("reply-cipher")}
	preauth := []PAData{
		{Type: krb5.PAEncTimestamp, Value: []byte("ts")},
		{Type: krb5.PAPACRequest, Value: []byte{0x30, 0x05, 0xa0, 0x03, 0x01, 0x01, 0xff}},
	}
	return []roundTripCase{
		rt("EncryptedData", &encPart, (*EncryptedData).Marshal, ParseEncryptedData),
		rt("EncryptedData/kvno", &EncryptedData{EType: 17, KVNO: 0xffffffff, HasKVNO: true, Cipher: []byte{9}}, (*EncryptedData).Marshal, ParseEncryptedData),
		rt("EncryptionKey", &key, (*EncryptionKey).Marshal, ParseEncryptionKey),
		rt("Checksum", &Checksum{Type: krb5.CksumHMACMD5, Sum: []byte("sum")}, (*Checksum).Marshal, ParseChecksum),
		rt("Ticket", &ticket, (*Ticket).Marshal, ParseTicket),
		rt("KDCReqBody", &body, (*KDCReqBody).Marshal, ParseKDCReqBody),
		rt("AS-REQ", &KDCReq{MsgType: krb5.MsgASReq, PAData: preauth, Body: body}, (*KDCReq).Marshal, ParseKDCReq),
		rt("AS-REQ/minimal", &KDCReq{MsgType: krb5.MsgASReq, Body: minimalBody}, (*KDCReq).Marshal, ParseKDCReq),
		rt("TGS-REQ", &KDCReq{MsgType: krb5.MsgTGSReq, PAData: []PAData{{Type: krb5.PATGSReq, Value: []byte("ap-req")}}, Body: body}, (*KDCReq).Marshal, ParseKDCReq),
		rt("AS-REP", &KDCRep{MsgType: krb5.MsgASRep, PAData: []PAData{{Type: krb5.PAETypeInfo2, Value: []byte{0x30, 0}}},
			CRealm: "HOP.TEST", CName: alice, Ticket: ticket, EncPart: encPart}, (*KDCRep).Marshal, ParseKDCRep),
		rt("TGS-REP", &KDCRep{MsgType: krb5.MsgTGSRep, CRealm: "HOP.TEST", CName: alice, Ticket: ticket, EncPart: encPart}, (*KDCRep).Marshal, ParseKDCRep),
		rt("EncTicketPart", &EncTicketPart{
			Flags: krb5.TktForwardable | krb5.TktInitial | krb5.TktPreAuthent, Key: key, CRealm: "HOP.TEST", CName: alice,
			Transited: TransitedEncoding{Type: krb5.TransitedDomainX500Compress, Contents: []byte("")},
			AuthTime:  t0, StartTime: t0, EndTime: t1, RenewTill: t2,
			CAddr: []HostAddress{{Type: krb5.AddrIPv6, Address: make([]byte, 16)}}, AuthorizationData: ad,
		}, (*EncTicketPart).Marshal, ParseEncTicketPart),
		rt("EncTicketPart/minimal", &EncTicketPart{Key: key, CRealm: "R", CName: alice,
			Transited: TransitedEncoding{Contents: []byte{}}, AuthTime: t0, EndTime: t1}, (*EncTicketPart).Marshal, ParseEncTicketPart),
		rt("AP-REQ", &APReq{Options: krb5.APMutualRequired, Ticket: ticket, Authenticator: encPart}, (*APReq).Marshal, ParseAPReq),
		rt("Authenticator", &Authenticator{
			CRealm: "HOP.TEST", CName: alice, Cksum: &Checksum{Type: krb5.CksumGSSAPI, Sum: make([]byte, 24)},
			Cusec: 999999, CTime: t0, SubKey: &key, SeqNumber: u32(0x80000000), AuthorizationData: ad,
		}, (*Authenticator).Marshal, ParseAuthenticator),
		rt("Authenticator/minimal", &Authenticator{CRealm: "HOP.TEST", CName: alice, CTime: t0}, (*Authenticator).Marshal, ParseAuthenticator),
		rt("AP-REP", &APRep{EncPart: encPart}, (*APRep).Marshal, ParseAPRep),
		rt("EncAPRepPart", &EncAPRepPart{CTime: t0, Cusec: 7, SubKey: &key, SeqNumber: u32(0)}, (*EncAPRepPart).Marshal, ParseEncAPRepPart),
		rt("EncAPRepPart/minimal", &EncAPRepPart{CTime: t0}, (*EncAPRepPart).Marshal, ParseEncAPRepPart),
		rt("KRB-ERROR", &KRBError{
			CTime: t0, Cusec: 12, STime: t1, Susec: 34, ErrorCode: krb5.KDCErrPreauthRequired,
			CRealm: "HOP.TEST", CName: pn(alice), Realm: "HOP.TEST", SName: tgs,
			EText: "NEEDED_PREAUTH", EData: []byte{0x30, 0x00},
		}, (*KRBError).Marshal, ParseKRBError),
		rt("KRB-ERROR/minimal", &KRBError{STime: t1, ErrorCode: krb5.KRBAPErrSkew, Realm: "HOP.TEST", SName: tgs}, (*KRBError).Marshal, ParseKRBError),
		rt("KRB-CRED", &KRBCred{Tickets: []Ticket{ticket, ticket}, EncPart: encPart}, (*KRBCred).Marshal, ParseKRBCred),
		rt("EncKrbCredPart", &EncKRBCredPart{
			TicketInfo: []KRBCredInfo{
				{Key: key, PRealm: "HOP.TEST", PName: pn(alice), Flags: krb5.TktForwarded, AuthTime: t0, StartTime: t0,
					EndTime: t1, RenewTill: t2, SRealm: "HOP.TEST", SName: pn(tgs),
					CAddr: []HostAddress{{Type: krb5.AddrIPv4, Address: []byte{10, 0, 0, 1}}}},
				{Key: key},
			},
			Nonce: u32(5), Timestamp: t0, Usec: i32(6),
			SAddress: &HostAddress{Type: krb5.AddrIPv4, Address: []byte{1, 2, 3, 4}},
			RAddress: &HostAddress{Type: krb5.AddrIPv4, Address: []byte{5, 6, 7, 8}},
		}, (*EncKRBCredPart).Marshal, ParseEncKRBCredPart),
		rt("PA-ENC-TS-ENC", &PAEncTSEnc{PATimestamp: t0, PAUsec: i32(123456)}, (*PAEncTSEnc).Marshal, ParsePAEncTSEnc),
		rt("PA-ENC-TS-ENC/minimal", &PAEncTSEnc{PATimestamp: t0}, (*PAEncTSEnc).Marshal, ParsePAEncTSEnc),
		rt("KERB-PA-PAC-REQUEST/true", &PAPACRequest{IncludePAC: true}, (*PAPACRequest).Marshal, ParsePAPACRequest),
		rt("KERB-PA-PAC-REQUEST/false", &PAPACRequest{}, (*PAPACRequest).Marshal, ParsePAPACRequest),
		rt("PA-FOR-USER", &PAForUser{UserName: krb5.NewName(krb5.NTEnterprise, "alice@hop.test"), UserRealm: "HOP.TEST",
			Cksum: Checksum{Type: krb5.CksumHMACMD5, Sum: make([]byte, 16)}, AuthPackage: "Kerberos"}, (*PAForUser).Marshal, ParsePAForUser),
		rt("PA-PAC-OPTIONS", &PAPACOptions{Flags: PACOptClaims | PACOptResourceBasedDelegation}, (*PAPACOptions).Marshal, ParsePAPACOptions),
		rt("EncASRepPart", &encKDCRepPartCase{tag: TagEncASRepPart, p: EncKDCRepPart{
			Key: key, LastReq: []LastReq{{Type: 0, Value: time.Unix(0, 0).UTC()}, {Type: -1, Value: t0}},
			Nonce: 0x7fffffff, KeyExpiration: t2, Flags: krb5.TktInitial | krb5.TktRenewable,
			AuthTime: t0, StartTime: t0, EndTime: t1, RenewTill: t2, SRealm: "HOP.TEST", SName: tgs,
			CAddr:     []HostAddress{{Type: krb5.AddrNetBIOS, Address: []byte("CLIENT          ")}},
			EncPAData: []PAData{{Type: krb5.PASupportedEnctypes, Value: []byte{0x1f, 0, 0, 0}}},
		}}, (*encKDCRepPartCase).marshal, parseEncKDCRepPartCase),
		rt("EncTGSRepPart/minimal", &encKDCRepPartCase{tag: TagEncTGSRepPart, p: EncKDCRepPart{
			Key: key, Nonce: 1, AuthTime: t0, EndTime: t1, SRealm: "HOP.TEST", SName: host,
		}}, (*encKDCRepPartCase).marshal, parseEncKDCRepPartCase),
		rt("ETYPE-INFO2", &etypeInfo2Case{
			{EType: krb5.AES256CTSHMACSHA196, Salt: str("HOP.TESTalice"), S2KParams: []byte{0, 0, 0x10, 0}},
			{EType: krb5.AES128CTSHMACSHA196, Salt: str("")},
			{EType: krb5.RC4HMAC},
		}, (*etypeInfo2Case).marshal, parseETypeInfo2Case),
		rt("METHOD-DATA", &methodDataCase{{Type: krb5.PAFXCookie, Value: []byte("MIT")}, {Type: krb5.PAEncTimestamp, Value: []byte{}}},
			(*methodDataCase).marshal, parseMethodDataCase),
		rt("AuthorizationData", &ad, (*AuthorizationData).marshalPtr, parseADPtr),
	}
}

// Adapters giving the slice-valued and tagged codecs the shape of rt.

type encKDCRepPartCase struct {
	tag int
	p   EncKDCRepPart
}

func (c *encKDCRepPartCase) marshal() ([]byte, error) { return c.p.Marshal(c.tag) }

func parseEncKDCRepPartCase(b []byte) (*encKDCRepPartCase, error) {
	p, tag, err := ParseEncKDCRepPart(b)
	if err != nil {
		return nil, err
	}
	return &encKDCRepPartCase{tag, *p}, nil
}

type etypeInfo2Case []ETypeInfo2Entry

func (c *etypeInfo2Case) marshal() ([]byte, error) { return MarshalETypeInfo2(*c) }

func parseETypeInfo2Case(b []byte) (*etypeInfo2Case, error) {
	e, err := ParseETypeInfo2(b)
	c := etypeInfo2Case(e)
	return &c, err
}

type methodDataCase []PAData

func (c *methodDataCase) marshal() ([]byte, error) { return MarshalMethodData(*c) }

func parseMethodDataCase(b []byte) (*methodDataCase, error) {
	p, err := ParseMethodData(b)
	c := methodDataCase(p)
	return &c, err
}

func (ad AuthorizationData) marshalPtr() ([]byte, error) { return ad.Marshal() }

func parseADPtr(b []byte) (*AuthorizationData, error) {
	ad, err := ParseAuthorizationData(b)
	return &ad, err
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.marshal()
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			got, err := tc.parse(b)
			if err != nil {
				t.Fatalf("parse: %v\n% x", err, b)
			}
			clearRaw(got)
			if !reflect.DeepEqual(got, tc.value) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, tc.value)
			}
		})
	}
}

// TestEncoding checks the encoder's output against DER written by hand
// from RFC 4120's ASN.1 module.
func TestEncoding(t *testing.T) {
	tests := []struct {
		name string
		got  func() ([]byte, error)
		want []byte
	}{
		{"EncryptedData without kvno", (&EncryptedData{EType: 18, Cipher: []byte{0xca, 0xfe}}).Marshal,
			seq(ctxInt(0, 18), ctxOcts(2, []byte{0xca, 0xfe}))},
		{"EncryptedData kvno 2^32-1 is non-negative", (&EncryptedData{EType: 18, KVNO: 0xffffffff, HasKVNO: true, Cipher: []byte{}}).Marshal,
			seq(ctxInt(0, 18), ctxInt(1, 0x00, 0xff, 0xff, 0xff, 0xff), ctxOcts(2, nil))},
		{"negative etype", (&EncryptionKey{Type: -128, Value: []byte{1}}).Marshal,
			seq(ctxInt(0, 0x80), ctxOcts(1, []byte{1}))},
		{"PA-PAC-REQUEST TRUE is 0xff", (&PAPACRequest{IncludePAC: true}).Marshal, seq(ctx(0, boolean1(0xff)))},
		{"flags are 32 bits", (&PAPACOptions{Flags: PACOptResourceBasedDelegation}).Marshal, seq(ctx(0, bits(0, 0x10, 0, 0, 0)))},
		{"time without fraction", (&PAEncTSEnc{PATimestamp: time.Date(2026, 11, 23, 19, 44, 36, 999999999, time.FixedZone("x", 3600))}).Marshal,
			seq(ctxTime(0, "20261123184436Z"))},
		{"year 1 zero time in a required field", (&PAEncTSEnc{}).Marshal, seq(ctxTime(0, "00010101000000Z"))},
		{"KRB-ERROR omits optional zero fields", (&KRBError{STime: t0, ErrorCode: 6, Realm: "R", SName: tgs}).Marshal,
			app(30, seq(ctxInt(0, 5), ctxInt(1, 30), ctxTime(4, "20261123194436Z"), ctxInt(5, 0), ctxInt(6, 6),
				ctxStr(9, "R"), ctx(10, name(2, "krbtgt", "HOP.TEST"))))},
		{"TGS-REQ with RawBody writes it verbatim",
			(&KDCReq{MsgType: krb5.MsgTGSReq, RawBody: seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "X"), ctxInt(7, 1), ctx(8, seq())),
				Body: KDCReqBody{Realm: "ignored"}}).Marshal,
			app(12, seq(ctxInt(1, 5), ctxInt(2, 12), ctx(4, seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "X"), ctxInt(7, 1), ctx(8, seq())))))},
		{"EncTGSRepPart tag", (&encKDCRepPartCase{tag: 26, p: EncKDCRepPart{Key: EncryptionKey{Type: 18, Value: []byte{1}},
			AuthTime: t0, EndTime: t0, SRealm: "R", SName: tgs}}).marshal,
			app(26, seq(ctx(0, seq(ctxInt(0, 18), ctxOcts(1, []byte{1}))), ctx(1, seq()), ctxInt(2, 0), ctx(4, bits(0, 0, 0, 0, 0)),
				ctxTime(5, "20261123194436Z"), ctxTime(7, "20261123194436Z"), ctxStr(9, "R"), ctx(10, name(2, "krbtgt", "HOP.TEST"))))},
	}
	for _, tt := range tests {
		got, err := tt.got()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, got, tt.want)
		}
	}
}

// TestLiberalDecoding feeds encodings that deployed implementations
// produce although they are not what this package writes.
func TestLiberalDecoding(t *testing.T) {
	t.Run("BOOLEAN", func(t *testing.T) {
		for _, tc := range []struct {
			b    byte
			want bool
		}{{0x00, false}, {0x01, true}, {0xff, true}, {0x80, true}} {
			p, err := ParsePAPACRequest(seq(ctx(0, boolean1(tc.b))))
			if err != nil || p.IncludePAC != tc.want {
				t.Errorf("BOOLEAN %#x: got %+v, %v; want %v", tc.b, p, err, tc.want)
			}
		}
	})
	t.Run("KerberosFlags", func(t *testing.T) {
		for _, tc := range []struct {
			enc  []byte
			want krb5.Flags
		}{
			{bits(0), 0},
			{bits(0, 0x90), 0x90000000},
			{bits(4, 0x9f), 0x90000000},                               // unused bits are ignored
			{bits(0, 0x40, 0x81), 0x40810000},                         // short
			{bits(0, 0x40, 0x81, 0x00, 0x10), 0x40810010},             // exact
			{bits(0, 0x40, 0x81, 0x00, 0x10, 0xff, 0xee), 0x40810010}, // long: truncated
			{bits(7, 0x01, 0x02, 0x03, 0x04, 0x80), 0x01020304},       // unused bits past bit 31
		} {
			p, err := ParsePAPACOptions(seq(ctx(0, tc.enc)))
			if err != nil || p.Flags != tc.want {
				t.Errorf("BIT STRING % x: got %+v, %v; want %#x", tc.enc, p, err, tc.want)
			}
		}
	})
	t.Run("UInt32", func(t *testing.T) {
		for _, tc := range []struct {
			enc  []byte
			want uint32
		}{
			{intRaw(0x01), 1},
			{intRaw(0xff, 0xff, 0xff, 0xff), 0xffffffff}, // Int32 -1
			{intRaw(0x80, 0x00, 0x00, 0x00), 0x80000000}, // Int32 minimum
			{intRaw(0x00, 0xff, 0xff, 0xff, 0xff), 0xffffffff},
			{intRaw(0x00, 0x00, 0x01), 1}, // redundant leading zero
			{intRaw(0xff, 0xff), 0xffffffff},
		} {
			d, err := ParseEncryptedData(seq(ctxInt(0, 18), ctx(1, tc.enc), ctxOcts(2, []byte{1})))
			if err != nil || d.KVNO != tc.want || !d.HasKVNO {
				t.Errorf("kvno % x: got %+v, %v; want %#x", tc.enc, d, err, tc.want)
			}
		}
		for _, enc := range [][]byte{intRaw(0x01, 0x00, 0x00, 0x00, 0x00), intRaw(0xff, 0x7f, 0xff, 0xff, 0xff)} {
			if d, err := ParseEncryptedData(seq(ctxInt(0, 18), ctx(1, enc), ctxOcts(2, nil))); err == nil {
				t.Errorf("kvno % x out of range accepted: %+v", enc, d)
			}
		}
	})
	t.Run("KerberosTime", func(t *testing.T) {
		for _, tc := range []struct {
			s    string
			want time.Time
		}{
			{"20261123194436Z", t0},
			{"20261123194436.5Z", t0},
			{"20261123194436.123456789Z", t0},
			{"20261123194436,1Z", t0},
			{"19700101000000Z", time.Unix(0, 0).UTC()},
			{"20240229000000Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		} {
			p, err := ParsePAEncTSEnc(seq(ctxTime(0, tc.s)))
			if err != nil || !p.PATimestamp.Equal(tc.want) || p.PATimestamp.Location() != time.UTC {
				t.Errorf("time %q: got %+v, %v; want %v", tc.s, p, err, tc.want)
			}
		}
		for _, s := range []string{"20261123194436", "20261323194436Z", "20230229000000Z", "20261123244436Z",
			"20261123196036Z", "20261123194460Z", "2026112319443Z", "20261123194436.Z", "20261123194436.1aZ",
			"20261123194436+0000", "2026-1123194436Z", "20261100194436Z"} {
			if p, err := ParsePAEncTSEnc(seq(ctxTime(0, s))); err == nil {
				t.Errorf("time %q accepted: %+v", s, p)
			}
		}
	})
	t.Run("strings", func(t *testing.T) {
		for _, id := range []byte{0x1b, 0x0c, 0x16, 0x1a, 0x13} {
			b := seq(ctx(0, name(1, "a")), ctx(1, der([]byte{id}, []byte("HOP.TEST"))),
				ctx(2, seq(ctxInt(0, 7), ctxOcts(1, []byte{1}))), ctxStr(3, "Kerberos"))
			p, err := ParsePAForUser(b)
			if err != nil || p.UserRealm != "HOP.TEST" {
				t.Errorf("string tag %#x: %+v, %v", id, p, err)
			}
		}
		b := seq(ctx(0, name(1, "a")), ctx(1, octs([]byte("HOP.TEST"))), ctx(2, seq(ctxInt(0, 7), ctxOcts(1, []byte{1}))), ctxStr(3, "K"))
		if _, err := ParsePAForUser(b); err == nil {
			t.Error("OCTET STRING accepted as a KerberosString")
		}
	})
	t.Run("extensions", func(t *testing.T) {
		want := &EncryptedData{EType: 18, Cipher: []byte{0xab}}
		for _, b := range [][]byte{
			seq(ctxInt(0, 18), ctxOcts(2, []byte{0xab}), ctxInt(3, 1)),                               // higher tag
			seq(ctxInt(0, 18), ctxOcts(2, []byte{0xab}), ctxInt(3, 1), ctx(30, seq())),               // two
			seq(ctxInt(0, 18), ctxOcts(2, []byte{0xab}), der([]byte{0xbf, 0x81, 0x48}, intRaw(1))),   // [200], high-tag form
			seq(ctxInt(0, 18), ctxOcts(2, []byte{0xab}), der([]byte{0x9f, 0x1f}, []byte{1})),         // [31] primitive
			seq(ctxInt(0, 18), ctxOcts(2, []byte{0xab}), der([]byte{0xbf, 0x87, 0xff, 0x7f}, seq())), // large tag
		} {
			got, err := ParseEncryptedData(b)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("% x: got %+v, %v", b, got, err)
			}
		}
		// A known field after an unknown one in between is still read.
		got, err := ParseKRBError(app(30, seq(ctxInt(0, 5), ctxInt(1, 30), ctxTime(4, "20261123194436Z"), ctxInt(5, 0),
			ctxInt(6, 6), ctxStr(9, "R"), ctx(10, name(1, "x")), ctxInt(13, 9), der([]byte{0xbf, 0x63}, intRaw(9)))))
		if err != nil || got.ErrorCode != 6 {
			t.Errorf("KRB-ERROR with extensions: %+v, %v", got, err)
		}
	})
	t.Run("non-minimal lengths", func(t *testing.T) {
		b := []byte{0x30, 0x81, 0x0c}
		b = append(b, ctxInt(0, 18)...)
		b = append(b, 0xa2, 0x82, 0x00, 0x03, 0x04, 0x01, 0xab)
		got, err := ParseEncryptedData(b)
		if err != nil || got.EType != 18 || !bytes.Equal(got.Cipher, []byte{0xab}) {
			t.Errorf("non-minimal lengths: %+v, %v", got, err)
		}
	})
	t.Run("till absent", func(t *testing.T) {
		r, err := ParseKDCReqBody(seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))
		if err != nil || !r.Till.IsZero() || r.Nonce != 1 {
			t.Errorf("body without till: %+v, %v", r, err)
		}
	})
}

func TestEncKDCRepPartTags(t *testing.T) {
	p := EncKDCRepPart{Key: EncryptionKey{Type: 18, Value: []byte{1}}, AuthTime: t0, EndTime: t0, SRealm: "R", SName: tgs}
	for _, tag := range []int{TagEncASRepPart, TagEncTGSRepPart} {
		b, err := p.Marshal(tag)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0x60|byte(tag) {
			t.Errorf("Marshal(%d) starts with %#x", tag, b[0])
		}
		_, got, err := ParseEncKDCRepPart(b)
		if err != nil || got != tag {
			t.Errorf("ParseEncKDCRepPart: tag %d, %v; want %d", got, err, tag)
		}
	}
	for _, tag := range []int{0, 24, 27, 2} {
		if _, err := p.Marshal(tag); err == nil {
			t.Errorf("Marshal(%d) succeeded", tag)
		}
	}
}

func TestMsgTypeOf(t *testing.T) {
	tests := []struct {
		b    []byte
		want krb5.MsgType
		ok   bool
	}{
		{[]byte{0x6a, 0x00}, krb5.MsgASReq, true},
		{[]byte{0x6c, 0x81}, krb5.MsgTGSReq, true},
		{[]byte{0x7e, 0x00}, krb5.MsgKRBError, true},
		{[]byte{0x6e, 0x00}, krb5.MsgAPReq, true},
		{[]byte{0x76, 0x00}, krb5.MsgKRBCred, true},
		{[]byte{0x6a}, 0, false},
		{nil, 0, false},
		{[]byte{0x4a, 0x00}, 0, false}, // primitive
		{[]byte{0xaa, 0x00}, 0, false}, // context class
		{[]byte{0x63, 0x00}, 0, false}, // EncTicketPart is not a message
		{[]byte{0x7f, 0x00}, 0, false}, // high tag form
		{[]byte{0x30, 0x00}, 0, false},
	}
	for _, tt := range tests {
		got, ok := MsgTypeOf(tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MsgTypeOf(% x) = %v, %v; want %v, %v", tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

func TestVersionAndMsgTypeErrors(t *testing.T) {
	body := seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctxInt(7, 1), ctx(8, seq(intRaw(18))))
	tkt := func(vno byte) []byte {
		return app(1, seq(ctxInt(0, vno), ctxStr(1, "R"), ctx(2, name(2, "krbtgt", "R")),
			ctx(3, seq(ctxInt(0, 18), ctxOcts(2, []byte{1})))))
	}
	tests := []struct {
		name  string
		parse func() error
		want  error
	}{
		{"AS-REQ pvno 4", func() error {
			_, err := ParseKDCReq(app(10, seq(ctxInt(1, 4), ctxInt(2, 10), ctx(4, body))))
			return err
		}, ErrBadPVNO},
		{"AS-REQ msg-type 12", func() error {
			_, err := ParseKDCReq(app(10, seq(ctxInt(1, 5), ctxInt(2, 12), ctx(4, body))))
			return err
		}, ErrMsgType},
		{"TGS-REQ msg-type 10", func() error {
			_, err := ParseKDCReq(app(12, seq(ctxInt(1, 5), ctxInt(2, 10), ctx(4, body))))
			return err
		}, ErrMsgType},
		{"ticket tkt-vno 4", func() error { _, err := ParseTicket(tkt(4)); return err }, ErrBadPVNO},
		{"AP-REQ with tkt-vno 6", func() error {
			_, err := ParseAPReq(app(14, seq(ctxInt(0, 5), ctxInt(1, 14), ctx(2, bits(0, 0, 0, 0, 0)), ctx(3, tkt(6)),
				ctx(4, seq(ctxInt(0, 18), ctxOcts(2, []byte{1}))))))
			return err
		}, ErrBadPVNO},
		{"AP-REQ msg-type 15", func() error {
			_, err := ParseAPReq(app(14, seq(ctxInt(0, 5), ctxInt(1, 15), ctx(2, bits(0, 0, 0, 0, 0)), ctx(3, tkt(5)),
				ctx(4, seq(ctxInt(0, 18), ctxOcts(2, []byte{1}))))))
			return err
		}, ErrMsgType},
		{"authenticator-vno 1", func() error {
			_, err := ParseAuthenticator(app(2, seq(ctxInt(0, 1), ctxStr(1, "R"), ctx(2, name(1, "a")), ctxInt(4, 0), ctxTime(5, "20261123194436Z"))))
			return err
		}, ErrBadPVNO},
		{"KRB-ERROR pvno 0", func() error {
			_, err := ParseKRBError(app(30, seq(ctxInt(0, 0), ctxInt(1, 30))))
			return err
		}, ErrBadPVNO},
		{"KRB-CRED msg-type 30", func() error {
			_, err := ParseKRBCred(app(22, seq(ctxInt(0, 5), ctxInt(1, 30))))
			return err
		}, ErrMsgType},
		{"AP-REP pvno 5 msg-type 14", func() error {
			_, err := ParseAPRep(app(15, seq(ctxInt(0, 5), ctxInt(1, 14), ctx(2, seq(ctxInt(0, 18), ctxOcts(2, nil))))))
			return err
		}, ErrMsgType},
		{"KDC-REP msg-type 11 in TGS-REP", func() error {
			_, err := ParseKDCRep(app(13, seq(ctxInt(0, 5), ctxInt(1, 11))))
			return err
		}, ErrMsgType},
	}
	for _, tt := range tests {
		err := tt.parse()
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "wire: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	body := func(extra ...[]byte) []byte {
		return seq(append([][]byte{ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctxInt(7, 1)}, extra...)...)
	}
	asreq := func(b []byte) error {
		_, err := ParseKDCReq(app(10, seq(ctxInt(1, 5), ctxInt(2, 10), ctx(4, b))))
		return err
	}
	pa := seq(ctxInt(1, 2), ctxOcts(2, []byte{1}))
	ad := seq(ctxInt(0, 1), ctxOcts(1, []byte{1}))
	addr := seq(ctxInt(0, 2), ctxOcts(1, []byte{1, 2, 3, 4}))
	tkt := app(1, seq(ctxInt(0, 5), ctxStr(1, "R"), ctx(2, name(2, "krbtgt", "R")), ctx(3, seq(ctxInt(0, 18), ctxOcts(2, []byte{1})))))
	good := body(ctx(8, seq(intRaw(18))))
	if err := asreq(good); err != nil {
		t.Fatalf("the base request does not parse: %v", err)
	}
	longComp := strings.Repeat("x", krb5.MaxComponentLen+1)
	tests := []struct {
		name string
		err  error
	}{
		{"65 PA-DATA", func() error {
			_, err := ParseKDCReq(app(10, seq(ctxInt(1, 5), ctxInt(2, 10), ctx(3, seq(rep(pa, MaxPAData+1)...)), ctx(4, good))))
			return err
		}()},
		{"33 etypes", asreq(body(ctx(8, seq(rep(intRaw(18), MaxETypes+1)...))))},
		{"17 additional tickets", asreq(body(ctx(8, seq(intRaw(18))), ctx(11, seq(rep(tkt, MaxTickets+1)...))))},
		{"33 addresses", asreq(body(ctx(8, seq(intRaw(18))), ctx(9, seq(rep(addr, MaxAddresses+1)...))))},
		{"17 name components", func() error {
			_, err := ParseTicket(app(1, seq(ctxInt(0, 5), ctxStr(1, "R"),
				ctx(2, seq(ctxInt(0, 1), ctx(1, seq(rep(gstr("c"), krb5.MaxNameComponents+1)...)))),
				ctx(3, seq(ctxInt(0, 18), ctxOcts(2, nil))))))
			return err
		}()},
		{"65 AD entries", func() error { _, err := ParseAuthorizationData(seq(rep(ad, MaxADEntries+1)...)); return err }()},
		{"33 ETYPE-INFO2 entries", func() error {
			_, err := ParseETypeInfo2(seq(rep(seq(ctxInt(0, 18)), MaxETypeInfo2+1)...))
			return err
		}()},
		{"65 METHOD-DATA entries", func() error { _, err := ParseMethodData(seq(rep(pa, MaxPAData+1)...)); return err }()},
		{"17 KRB-CRED tickets", func() error {
			_, err := ParseKRBCred(app(22, seq(ctxInt(0, 5), ctxInt(1, 22), ctx(2, seq(rep(tkt, MaxTickets+1)...)),
				ctx(3, seq(ctxInt(0, 0), ctxOcts(2, nil))))))
			return err
		}()},
		{"component too long", func() error {
			_, err := ParseTicket(app(1, seq(ctxInt(0, 5), ctxStr(1, "R"), ctx(2, name(1, longComp)), ctx(3, seq(ctxInt(0, 18), ctxOcts(2, nil))))))
			return err
		}()},
		{"realm too long", func() error {
			_, err := ParseTicket(app(1, seq(ctxInt(0, 5), ctxStr(1, longComp), ctx(2, name(1, "a")), ctx(3, seq(ctxInt(0, 18), ctxOcts(2, nil))))))
			return err
		}()},
		{"missing etype", asreq(body())},
		{"missing realm", asreq(seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))},
		{"fields out of order", asreq(seq(ctxStr(2, "R"), ctx(0, bits(0, 0, 0, 0, 0)), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))},
		{"field repeated", asreq(body(ctxInt(7, 2), ctx(8, seq(intRaw(18)))))},
		{"universal tag among fields", asreq(body(intRaw(1), ctx(8, seq(intRaw(18)))))},
		{"primitive known field", asreq(seq(der([]byte{0x80}, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))},
		{"two values in a field", asreq(body(ctx(8, seq(intRaw(18)), seq())))},
		{"etype not an INTEGER", asreq(body(ctx(8, seq(gstr("x")))))},
		{"etype over Int32", asreq(body(ctx(8, seq(intRaw(0x00, 0x80, 0, 0, 0)))))},
		{"nonce over UInt32", asreq(seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctxInt(7, 1, 0, 0, 0, 0), ctx(8, seq(intRaw(18)))))},
		{"empty INTEGER", asreq(seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctx(7, der([]byte{2})), ctx(8, seq(intRaw(18)))))},
		{"huge INTEGER", asreq(seq(ctx(0, bits(0, 0, 0, 0, 0)), ctxStr(2, "R"), ctxInt(7, 1, 2, 3, 4, 5, 6, 7, 8, 9), ctx(8, seq(intRaw(18)))))},
		{"bad BIT STRING unused", asreq(seq(ctx(0, bits(8, 0)), ctxStr(2, "R"), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))},
		{"BIT STRING unused without bits", asreq(seq(ctx(0, bits(1)), ctxStr(2, "R"), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))},
		{"empty BIT STRING", asreq(seq(ctx(0, der([]byte{3})), ctxStr(2, "R"), ctxInt(7, 1), ctx(8, seq(intRaw(18)))))},
		{"trailing garbage", func() error {
			b := append(app(10, seq(ctxInt(1, 5), ctxInt(2, 10), ctx(4, good))), 0)
			_, err := ParseKDCReq(b)
			return err
		}()},
		{"garbage inside application", func() error {
			_, err := ParseKDCReq(app(10, seq(ctxInt(1, 5), ctxInt(2, 10), ctx(4, good)), []byte{0x05, 0x00}))
			return err
		}()},
		{"wrong application tag", func() error {
			_, err := ParseKDCReq(app(11, seq(ctxInt(1, 5), ctxInt(2, 11), ctx(4, good))))
			return err
		}()},
		{"SET instead of SEQUENCE", func() error {
			_, err := ParseKDCReq(app(10, der([]byte{0x31}, ctxInt(1, 5), ctxInt(2, 10), ctx(4, good))))
			return err
		}()},
		{"indefinite length", func() error {
			_, err := ParseEncryptedData([]byte{0x30, 0x80, 0xa0, 0x03, 0x02, 0x01, 0x12, 0x00, 0x00})
			return err
		}()},
		{"length past the end", func() error { _, err := ParseEncryptedData([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}); return err }()},
		{"five length octets", func() error {
			_, err := ParseEncryptedData([]byte{0x30, 0x85, 0, 0, 0, 0, 1, 0})
			return err
		}()},
		{"high tag number too long", func() error {
			_, err := ParseEncryptedData(seq(ctxInt(0, 18), ctxOcts(2, nil), der([]byte{0xbf, 0x81, 0x81, 0x81, 0x81, 0x01})))
			return err
		}()},
		{"empty input", func() error { _, err := ParseKDCReq(nil); return err }()},
		{"BOOLEAN of two octets", func() error { _, err := ParsePAPACRequest(seq(ctx(0, der([]byte{1}, []byte{1, 1})))); return err }()},
		{"PA-PAC-REQUEST without include-pac", func() error { _, err := ParsePAPACRequest(seq()); return err }()},
		{"PA-PAC-OPTIONS without flags", func() error { _, err := ParsePAPACOptions(seq(ctxInt(1, 1))); return err }()},
		{"ETYPE-INFO2 entry without etype", func() error { _, err := ParseETypeInfo2(seq(seq(ctxStr(1, "salt")))); return err }()},
		{"ETYPE-INFO2 of INTEGERs", func() error { _, err := ParseETypeInfo2(seq(intRaw(1))); return err }()},
		{"ticket in place of a SEQUENCE", func() error { _, err := ParseEncryptedData(tkt); return err }()},
		{"SEQUENCE in place of a ticket", func() error { _, err := ParseTicket(seq()); return err }()},
		{"KRB-ERROR without sname", func() error {
			_, err := ParseKRBError(app(30, seq(ctxInt(0, 5), ctxInt(1, 30), ctxTime(4, "20261123194436Z"), ctxInt(5, 0), ctxInt(6, 6), ctxStr(9, "R"))))
			return err
		}()},
		{"EncKDCRepPart tag 24", func() error { _, _, err := ParseEncKDCRepPart(app(24, seq())); return err }()},
		{"AS-REP tag for AS-REQ parser", func() error { _, err := ParseKDCRep(app(10, seq())); return err }()},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		t.Logf("%s: %v", tt.name, tt.err)
		if !strings.HasPrefix(tt.err.Error(), "wire: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, tt.err)
		}
	}
	// At the limits, the same structures are accepted.
	if err := asreq(body(ctx(8, seq(rep(intRaw(18), MaxETypes)...)), ctx(11, seq(rep(tkt, MaxTickets)...)))); err != nil {
		t.Errorf("request at the limits: %v", err)
	}
	if _, err := ParseAuthorizationData(seq(rep(ad, MaxADEntries)...)); err != nil {
		t.Errorf("AuthorizationData at the limit: %v", err)
	}
	if _, err := ParseTicket(app(1, seq(ctxInt(0, 5), ctxStr(1, "R"),
		ctx(2, seq(ctxInt(0, 1), ctx(1, seq(rep(gstr(longComp[1:]), krb5.MaxNameComponents)...)))),
		ctx(3, seq(ctxInt(0, 18), ctxOcts(2, nil)))))); err != nil {
		t.Errorf("name at the limits: %v", err)
	}
}

// TestTruncated parses every proper prefix of every valid encoding: each
// must fail, none may panic.
func TestTruncated(t *testing.T) {
	for _, tc := range roundTripCases() {
		b, err := tc.marshal()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for n := 0; n < len(b); n++ {
			if _, err := tc.parse(b[:n:n]); err == nil {
				t.Errorf("%s: prefix of %d/%d bytes accepted", tc.name, n, len(b))
			}
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	many := make([]string, krb5.MaxNameComponents+1)
	for i := range many {
		many[i] = "c"
	}
	body := KDCReqBody{Realm: "R", ETypes: []krb5.EncType{18}}
	tests := []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"KDC-REQ msg-type", (&KDCReq{MsgType: krb5.MsgASRep, Body: body}).Marshal},
		{"KDC-REP msg-type", (&KDCRep{MsgType: krb5.MsgTGSReq}).Marshal},
		{"too many components", (&Ticket{Realm: "R", SName: krb5.NewName(1, many...)}).Marshal},
		{"component too long", (&Ticket{Realm: "R", SName: krb5.NewName(1, strings.Repeat("x", krb5.MaxComponentLen+1))}).Marshal},
		{"realm too long", (&Ticket{Realm: krb5.Realm(strings.Repeat("x", krb5.MaxComponentLen+1)), SName: tgs}).Marshal},
		{"year 10000", (&PAEncTSEnc{PATimestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).Marshal},
		{"negative year", (&PAEncTSEnc{PATimestamp: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}).Marshal},
		{"too many etypes", (&KDCReqBody{Realm: "R", ETypes: make([]krb5.EncType, MaxETypes+1)}).Marshal},
		{"too many PA-DATA", func() ([]byte, error) { return MarshalMethodData(make([]PAData, MaxPAData+1)) }},
		{"too many AD entries", make(AuthorizationData, MaxADEntries+1).Marshal},
		{"bad RawBody", (&KDCReq{MsgType: krb5.MsgASReq, RawBody: []byte{0x30, 0x05}}).Marshal},
		{"RawBody with trailing bytes", (&KDCReq{MsgType: krb5.MsgASReq, RawBody: []byte{0x30, 0x00, 0x00}}).Marshal},
		{"bad Ticket.Raw", (&Ticket{Raw: []byte{0x30, 0x00}}).Marshal},
		{"bad nested Ticket.Raw", (&APReq{Ticket: Ticket{Raw: []byte{0x61, 0x01}}}).Marshal},
		{"too many tickets", (&KRBCred{Tickets: make([]Ticket, MaxTickets+1)}).Marshal},
		{"too many ticket-info", (&EncKRBCredPart{TicketInfo: make([]KRBCredInfo, MaxTickets+1)}).Marshal},
		{"too many ETYPE-INFO2", func() ([]byte, error) { return MarshalETypeInfo2(make([]ETypeInfo2Entry, MaxETypeInfo2+1)) }},
		{"too many last-req", func() ([]byte, error) { return (&EncKDCRepPart{LastReq: make([]LastReq, MaxLastReq+1)}).Marshal(25) }},
		{"too many addresses", (&EncTicketPart{CAddr: make([]HostAddress, MaxAddresses+1)}).Marshal},
	}
	for _, tt := range tests {
		b, err := tt.f()
		if err == nil {
			t.Errorf("%s: marshalled % x", tt.name, b)
			continue
		}
		if !strings.HasPrefix(err.Error(), "wire: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
	}
}

func TestEncryptionKeyRedacted(t *testing.T) {
	secret := []byte{0xde, 0xad, 0xbe, 0xef, 0x51, 0x52, 0x53, 0x54}
	k := EncryptionKey{Type: krb5.AES256CTSHMACSHA196, Value: secret}
	part := EncKDCRepPart{Key: k}
	auth := Authenticator{SubKey: &k}
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x %X %d %q", k, k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v %x", &k, &k, &k, &k),
		fmt.Sprintf("%v %+v %#v", part, part, part),
		fmt.Sprintf("%+v", auth.SubKey), k.String(), k.GoString(),
	} {
		for _, leak := range []string{"deadbeef", "DEADBEEF", "de ad", "222 173", "0xde", "\xde\xad", "QRST"} {
			if strings.Contains(s, leak) {
				t.Errorf("formatted key %q reveals the key (%q)", s, leak)
			}
		}
		if !strings.Contains(s, "redacted") {
			t.Errorf("formatted key %q does not say it is redacted", s)
		}
	}
	if !k.Equal(EncryptionKey{Type: k.Type, Value: append([]byte(nil), secret...)}) {
		t.Error("Equal: same key differs")
	}
	if k.Equal(EncryptionKey{Type: krb5.AES128CTSHMACSHA196, Value: secret}) || k.Equal(EncryptionKey{Type: k.Type, Value: secret[:7]}) {
		t.Error("Equal: different keys are equal")
	}
}

// TestParsedSlicesAreClipped checks that appending to a parsed byte slice
// cannot overwrite the bytes that follow it in the input.
func TestParsedSlicesAreClipped(t *testing.T) {
	b := seq(ctxInt(0, 18), ctxOcts(2, []byte{1, 2}), ctxInt(3, 7))
	orig := append([]byte(nil), b...)
	d, err := ParseEncryptedData(b)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(d.Cipher, 0xff, 0xff, 0xff)
	if !bytes.Equal(b, orig) {
		t.Fatalf("append to Cipher changed the input: % x", b)
	}
}

// emptyOptionalVectors are messages whose OPTIONAL fields are present but
// empty (or zero): they decode to the zero value, which the encoder omits,
// so parse → marshal → parse is stable. They also seed the fuzzers.
func emptyOptionalVectors() map[string][]byte {
	sname := ctx(10, name(2, "krbtgt", "R"))
	key := ctx(0, seq(ctxInt(0, 18), ctxOcts(1, []byte{1})))
	return map[string][]byte{
		"KRB-ERROR": app(30, seq(ctxInt(0, 5), ctxInt(1, 30), ctxTime(2, "00010101000000Z"), ctxInt(3, 0),
			ctxTime(4, "20261123194436Z"), ctxInt(5, 0), ctxInt(6, 25), ctxStr(7, ""), ctx(8, name(1)),
			ctxStr(9, "R"), sname, ctxStr(11, ""), ctxOcts(12, nil))),
		"AS-REQ": app(10, seq(ctxInt(1, 5), ctxInt(2, 10), ctx(3, seq()), ctx(4, seq(ctx(0, bits(0)), ctxStr(2, ""),
			ctxTime(4, "00010101000000Z"), ctxInt(7, 0), ctx(8, seq()), ctx(9, seq()), ctx(11, seq()))))),
		"EncTicketPart": app(3, seq(ctx(0, bits(0)), ctx(1, seq(ctxInt(0, 18), ctxOcts(1, nil))),
			ctxStr(2, ""), ctx(3, name(0)), ctx(4, seq(ctxInt(0, 0), ctxOcts(1, nil))), ctxTime(5, "00010101000000Z"),
			ctxTime(6, "00010101000000Z"), ctxTime(7, "00010101000000Z"), ctx(9, seq()), ctx(10, seq()))),
		"EncKrbCredPart": app(29, seq(ctx(0, seq(seq(key, ctxStr(1, ""), ctx(3, bits(0)), ctxStr(8, ""), ctx(10, seq())))))),
		"EncTGSRepPart": app(26, seq(key, ctx(1, seq()), ctxInt(2, 0), ctxTime(3, "00010101000000Z"), ctx(4, bits(0)),
			ctxTime(5, "00010101000000Z"), ctxTime(7, "00010101000000Z"), ctxStr(9, ""), ctx(10, name(0)),
			ctx(11, seq()), ctx(12, seq()))),
		"Authenticator": app(2, seq(ctxInt(0, 5), ctxStr(1, ""), ctx(2, name(0)), ctxInt(4, 0),
			ctxTime(5, "00010101000000Z"), ctx(8, seq()))),
		"ETYPE-INFO2": seq(seq(ctxInt(0, 18), ctxStr(1, ""), ctxOcts(2, nil))),
	}
}

func TestEmptyOptionalFields(t *testing.T) {
	v := emptyOptionalVectors()
	checks := []struct {
		name  string
		run   func(b []byte) (any, func() ([]byte, error), error)
		empty func(v any) bool
	}{
		{"KRB-ERROR", func(b []byte) (any, func() ([]byte, error), error) {
			e, err := ParseKRBError(b)
			return e, func() ([]byte, error) { return e.Marshal() }, err
		}, func(v any) bool {
			e := v.(*KRBError)
			return e.CTime.IsZero() && e.Cusec == 0 && e.CRealm == "" && e.EText == "" && e.EData == nil && e.CName != nil
		}},
		{"AS-REQ", func(b []byte) (any, func() ([]byte, error), error) {
			r, err := ParseKDCReq(b)
			return r, func() ([]byte, error) { return r.Marshal() }, err
		}, func(v any) bool {
			r := v.(*KDCReq)
			return r.PAData == nil && r.Body.ETypes == nil && r.Body.Addresses == nil && r.Body.AdditionalTickets == nil &&
				r.Body.From.IsZero() && r.Body.Options == 0
		}},
		{"EncTicketPart", func(b []byte) (any, func() ([]byte, error), error) {
			e, err := ParseEncTicketPart(b)
			return e, func() ([]byte, error) { return e.Marshal() }, err
		}, func(v any) bool {
			e := v.(*EncTicketPart)
			return e.CAddr == nil && e.AuthorizationData == nil && e.CName.Components == nil && e.AuthTime.IsZero()
		}},
		{"EncKrbCredPart", func(b []byte) (any, func() ([]byte, error), error) {
			e, err := ParseEncKRBCredPart(b)
			return e, func() ([]byte, error) { return e.Marshal() }, err
		}, func(v any) bool {
			c := v.(*EncKRBCredPart).TicketInfo[0]
			return c.PRealm == "" && c.Flags == 0 && c.SRealm == "" && c.CAddr == nil
		}},
		{"EncTGSRepPart", func(b []byte) (any, func() ([]byte, error), error) {
			p, tag, err := ParseEncKDCRepPart(b)
			return p, func() ([]byte, error) { return p.Marshal(tag) }, err
		}, func(v any) bool {
			p := v.(*EncKDCRepPart)
			return p.LastReq == nil && p.CAddr == nil && p.EncPAData == nil && p.KeyExpiration.IsZero()
		}},
		{"Authenticator", func(b []byte) (any, func() ([]byte, error), error) {
			a, err := ParseAuthenticator(b)
			return a, func() ([]byte, error) { return a.Marshal() }, err
		}, func(v any) bool { return v.(*Authenticator).AuthorizationData == nil }},
		{"ETYPE-INFO2", func(b []byte) (any, func() ([]byte, error), error) {
			e, err := ParseETypeInfo2(b)
			return &e, func() ([]byte, error) { return MarshalETypeInfo2(e) }, err
		}, func(v any) bool {
			e := *v.(*[]ETypeInfo2Entry)
			return e[0].Salt != nil && *e[0].Salt == "" && e[0].S2KParams == nil
		}},
	}
	for _, c := range checks {
		in, ok := v[c.name]
		if !ok {
			t.Fatalf("no vector %s", c.name)
		}
		got, marshal, err := c.run(in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !c.empty(got) {
			t.Errorf("%s: empty optional fields decode to %+v", c.name, got)
		}
		out, err := marshal()
		if err != nil {
			t.Errorf("%s: marshal: %v", c.name, err)
			continue
		}
		if len(out) >= len(in) {
			t.Errorf("%s: empty optional fields were written back (%d bytes, input %d)", c.name, len(out), len(in))
		}
		again, _, err := c.run(out)
		clearRaw(got)
		clearRaw(again)
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Errorf("%s: round trip differs: %+v, %v\nwant %+v", c.name, again, err, got)
		}
	}
}

// TestLengthForms encodes contents around every length-octet boundary and
// compares with the independent writer of helpers_test.go.
func TestLengthForms(t *testing.T) {
	for _, n := range []int{0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffff, 0x1000000} {
		cipher := bytes.Repeat([]byte{0x5a}, n)
		d := &EncryptedData{EType: 18, KVNO: 3, HasKVNO: true, Cipher: cipher}
		want := seq(ctxInt(0, 18), ctxInt(1, 3), ctxOcts(2, cipher))
		got, err := d.Marshal()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncryptedData with %d bytes: %v, encoding differs", n, err)
			continue
		}
		back, err := ParseEncryptedData(got)
		if err != nil || !bytes.Equal(back.Cipher, cipher) {
			t.Errorf("EncryptedData with %d bytes does not parse back: %v", n, err)
		}
		// Inside a message, through addEncryptedData and a leaf string.
		rep := &APRep{EncPart: *d}
		want = app(15, seq(ctxInt(0, 5), ctxInt(1, 15), ctx(2, want)))
		if got, err := rep.Marshal(); err != nil || !bytes.Equal(got, want) {
			t.Errorf("AP-REP with %d bytes: %v, encoding differs", n, err)
		}
		e := &KRBError{STime: t0, Realm: "R", SName: tgs, EText: string(cipher)}
		want = app(30, seq(ctxInt(0, 5), ctxInt(1, 30), ctxTime(4, "20261123194436Z"), ctxInt(5, 0), ctxInt(6, 0),
			ctxStr(9, "R"), ctx(10, name(2, "krbtgt", "HOP.TEST")), ctxStr(11, string(cipher))))
		if n == 0 {
			want = app(30, seq(ctxInt(0, 5), ctxInt(1, 30), ctxTime(4, "20261123194436Z"), ctxInt(5, 0), ctxInt(6, 0),
				ctxStr(9, "R"), ctx(10, name(2, "krbtgt", "HOP.TEST"))))
		}
		if got, err := e.Marshal(); err != nil || !bytes.Equal(got, want) {
			t.Errorf("KRB-ERROR with %d-byte e-text: %v, encoding differs", n, err)
		}
	}
}
