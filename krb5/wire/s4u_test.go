package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/crypto"
)

// Tests of s4u.go: PA-S4U-X509-USER, the PA-FOR-USER checksum input and
// KERB-ERROR-DATA. Expected bytes are built with the independent DER writer
// of helpers_test.go; the checksum input and KERB-ERROR-DATA are also
// checked against impacket in a Python subprocess (skipped when impacket is
// missing, a failure under HOP_INTEROP=1).

// svcTGTSessionKey is the aes256 session key of svc's TGT in the capture
// realm of testdata/README.md (read from its ccache); impacket's S4U2Self
// request in impacket-tgs-req-s4u2self.der signed PA-FOR-USER with it. The
// realm no longer exists.
var svcTGTSessionKey = h("d6b5ba836e1bce0257a247a258e2eba1926c06096519206489add56ab199fae2")

// s4uUserIDVector is an S4UUserID as MIT's client sends it (s4u_creds.c):
// an enterprise cname and the options USE_REPLY_KEY_USAGE as 32 bits.
func s4uUserIDVector() []byte {
	return seq(ctxInt(0, 0x12, 0x34, 0x56, 0x78), ctx(1, name(10, "alice@hop.test")), ctxStr(2, "HOP.TEST"),
		ctx(4, bits(0, 0x20, 0, 0, 0)))
}

func s4uUserIDValue() S4UUserID {
	return S4UUserID{Nonce: 0x12345678, CName: pn(krb5.NewName(krb5.NTEnterprise, "alice@hop.test")),
		CRealm: "HOP.TEST", Options: S4UOptUseReplyKeyUsage, HasOptions: true}
}

func s4uVector() []byte {
	return seq(ctx(0, s4uUserIDVector()), ctx(1, seq(ctxInt(0, 16), ctxOcts(1, bytes.Repeat([]byte{0xab}, 12)))))
}

func s4uValue() *PAS4UX509User {
	return &PAS4UX509User{UserID: s4uUserIDValue(),
		Cksum: Checksum{Type: krb5.CksumHMACSHA196AES256, Sum: bytes.Repeat([]byte{0xab}, 12)}}
}

func TestPAS4UX509UserEncoding(t *testing.T) {
	// The nonce is received in MIT's Int32 form and written as UInt32.
	certCksum := ctx(1, seq(ctxInt(0, 0xff, 0x76), ctxOcts(1, make([]byte, 16))))
	certVector := seq(ctx(0, s4uUserIDVectorCert(0xfe)), certCksum)
	certDER := seq(ctx(0, s4uUserIDVectorCert(0x00, 0xff, 0xff, 0xff, 0xfe)), certCksum)
	certValue := &PAS4UX509User{
		UserID: S4UUserID{Nonce: 0xfffffffe, CRealm: "HOP.TEST", SubjectCertificate: []byte("DER certificate")},
		Cksum:  Checksum{Type: krb5.CksumHMACMD5, Sum: make([]byte, 16)},
	}
	for _, tc := range []struct {
		name     string
		der, enc []byte // enc: what Marshal writes, if not der
		want     *PAS4UX509User
	}{
		{"name", s4uVector(), nil, s4uValue()},
		{"certificate", certVector, certDER, certValue},
		{"certificate DER", certDER, nil, certValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.want.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			enc := tc.enc
			if enc == nil {
				enc = tc.der
			}
			if !bytes.Equal(got, enc) {
				t.Fatalf("Marshal:\n got % x\nwant % x", got, enc)
			}
			p, err := ParsePAS4UX509User(tc.der)
			if err != nil {
				t.Fatal(err)
			}
			if uid := marshalled(t)(tc.want.UserID.Marshal()); !bytes.Equal(p.RawUserID, uid) != (tc.enc != nil) {
				t.Errorf("RawUserID = % x; the re-encoded S4UUserID is % x", p.RawUserID, uid)
			}
			if !bytes.Equal(marshalled(t)(p.Marshal()), tc.der) {
				t.Errorf("Marshal with RawUserID does not give back the input")
			}
			p.RawUserID = nil
			if !reflect.DeepEqual(p, tc.want) {
				t.Errorf("parsed %+v, want %+v", p, tc.want)
			}
			u, err := ParseS4UUserID(marshalled(t)(tc.want.UserID.Marshal()))
			if err != nil || !reflect.DeepEqual(*u, tc.want.UserID) {
				t.Errorf("ParseS4UUserID = %+v, %v", u, err)
			}
		})
	}
}

// s4uUserIDVectorCert has a certificate instead of a name.
func s4uUserIDVectorCert(nonce ...byte) []byte {
	return seq(ctxInt(0, nonce...), ctxStr(2, "HOP.TEST"), ctxOcts(3, []byte("DER certificate")))
}

// TestPAS4UX509UserRawUserID checks that the bytes the checksum covers are
// the ones received, even where they are not DER, and that Marshal writes
// them back.
func TestPAS4UX509UserRawUserID(t *testing.T) {
	// Not DER: a long-form length, the nonce with a redundant leading
	// octet, a 5-bit BIT STRING for the options and an IA5String realm.
	uid := append([]byte{0x30, 0x81}, 0)
	body := bytes.Join([][]byte{
		ctxInt(0, 0x00, 0x00, 0x2a),
		der([]byte{0xa2}, der([]byte{0x16}, []byte("HOP.TEST"))),
		ctx(4, bits(3, 0x20)),
		ctx(5, octs([]byte("an extension"))),
	}, nil)
	uid[2] = byte(len(body))
	uid = append(uid, body...)
	in := seq(ctx(0, uid), ctx(1, seq(ctxInt(0, 16), ctxOcts(1, make([]byte, 12)))))
	p, err := ParsePAS4UX509User(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.RawUserID, uid) {
		t.Fatalf("RawUserID = % x, want % x", p.RawUserID, uid)
	}
	want := S4UUserID{Nonce: 42, CRealm: "HOP.TEST", Options: S4UOptUseReplyKeyUsage, HasOptions: true}
	if !reflect.DeepEqual(p.UserID, want) {
		t.Fatalf("UserID = %+v, want %+v", p.UserID, want)
	}
	if out := marshalled(t)(p.Marshal()); !bytes.Equal(out, in) {
		t.Errorf("Marshal with RawUserID:\n got % x\nwant % x", out, in)
	}
	p.RawUserID = nil
	out := marshalled(t)(p.Marshal())
	p2, err := ParsePAS4UX509User(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(p2.RawUserID, uid) || !reflect.DeepEqual(p2.UserID, want) {
		t.Errorf("re-encoded from the fields: % x", out)
	}
	// A KDC signs its reply's user-id from the fields.
	if !bytes.Equal(p2.RawUserID, marshalled(t)(want.Marshal())) {
		t.Errorf("S4UUserID.Marshal differs from the user-id PAS4UX509User.Marshal writes")
	}
}

func TestPAS4UX509UserOptions(t *testing.T) {
	if S4UOptCheckLogonHours != krb5.Bit(1) || S4UOptUseReplyKeyUsage != krb5.Bit(2) {
		t.Fatalf("option bits: %#x %#x", S4UOptCheckLogonHours, S4UOptUseReplyKeyUsage)
	}
	// Options set without HasOptions are still written.
	u := S4UUserID{Nonce: 1, CRealm: "R", Options: S4UOptCheckLogonHours}
	want := seq(ctxInt(0, 1), ctxStr(2, "R"), ctx(4, bits(0, 0x40, 0, 0, 0)))
	if got := marshalled(t)(u.Marshal()); !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
	// HasOptions with no bit writes an empty 32-bit options field.
	u = S4UUserID{Nonce: 1, CRealm: "R", HasOptions: true}
	want = seq(ctxInt(0, 1), ctxStr(2, "R"), ctx(4, bits(0, 0, 0, 0, 0)))
	if got := marshalled(t)(u.Marshal()); !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
}

func TestPAS4UX509UserMalformed(t *testing.T) {
	cksum := ctx(1, seq(ctxInt(0, 16), ctxOcts(1, make([]byte, 12))))
	user := func(fields ...[]byte) []byte { return seq(ctx(0, seq(fields...)), cksum) }
	tooMany := make([]string, krb5.MaxNameComponents+1)
	for i := range tooMany {
		tooMany[i] = "x"
	}
	for _, tc := range []struct {
		name, want string
		der        []byte
	}{
		{"empty", "malformed", nil},
		{"not a SEQUENCE", "want SEQUENCE", octs(nil)},
		{"trailing", "trailing", append(s4uVector(), 0)},
		{"no user-id", "missing user-id", seq(cksum)},
		{"no checksum", "missing checksum", seq(ctx(0, s4uUserIDVector()))},
		{"user-id not a SEQUENCE", "user-id: want SEQUENCE", seq(ctx(0, octs(nil)), cksum)},
		{"user-id trailing", "user-id: trailing", seq(ctx(0, s4uUserIDVector(), []byte{5, 0}), cksum)},
		{"no nonce", "missing nonce", user(ctxStr(2, "R"))},
		{"no crealm", "missing crealm", user(ctxInt(0, 1))},
		{"nonce too large", "nonce: INTEGER out of UInt32 range", user(ctxInt(0, 1, 0, 0, 0, 0), ctxStr(2, "R"))},
		{"nonce not INTEGER", "nonce: want INTEGER", user(ctxOcts(0, nil), ctxStr(2, "R"))},
		{"too many components", "cname: name-string: more than", user(ctxInt(0, 1), ctx(1, name(1, tooMany...)), ctxStr(2, "R"))},
		{"realm too long", "crealm: string longer", user(ctxInt(0, 1), ctxStr(2, strings.Repeat("R", maxRealmLen+1)))},
		{"options not BIT STRING", "options: want BIT STRING", user(ctxInt(0, 1), ctxStr(2, "R"), ctxOcts(4, nil))},
		{"options bad unused", "options: malformed BIT STRING", user(ctxInt(0, 1), ctxStr(2, "R"), ctx(4, bits(8, 0)))},
		{"out of order", "out of order", user(ctxStr(2, "R"), ctxInt(0, 1))},
		{"repeated", "out of order", user(ctxInt(0, 1), ctxInt(0, 1), ctxStr(2, "R"))},
		{"implicit tag", "not explicitly tagged", user(der([]byte{0x80}, []byte{1}), ctxStr(2, "R"))},
		{"checksum not a Checksum", "checksum: missing cksumtype", seq(ctx(0, s4uUserIDVector()), ctx(1, seq()))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePAS4UX509User(tc.der)
			if err == nil {
				t.Fatalf("parsed %+v", p)
			}
			if !strings.HasPrefix(err.Error(), "wire: PA-S4U-X509-USER: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one containing %q", err, tc.want)
			}
		})
	}
	for i := 1; i < len(s4uVector()); i++ {
		if _, err := ParsePAS4UX509User(s4uVector()[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
}

func TestPAS4UX509UserMarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *PAS4UX509User
		want string
	}{
		{"RawUserID not a SEQUENCE", &PAS4UX509User{RawUserID: octs(nil)}, "RawUserID is not a single SEQUENCE"},
		{"RawUserID trailing", &PAS4UX509User{RawUserID: append(s4uUserIDVector(), 0)}, "RawUserID is not a single SEQUENCE"},
		{"long realm", &PAS4UX509User{UserID: S4UUserID{CRealm: krb5.Realm(strings.Repeat("R", maxRealmLen+1))}}, "realm longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.Marshal()
			if err == nil || !strings.HasPrefix(err.Error(), "wire: marshal PA-S4U-X509-USER: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPAForUserChecksumInput(t *testing.T) {
	le := func(v int32) string {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		return string(b[:])
	}
	for _, tc := range []struct {
		name string
		p    PAForUser
		want string
	}{
		{"principal", PAForUser{UserName: alice, UserRealm: "HOP.TEST", AuthPackage: "Kerberos"},
			"\x01\x00\x00\x00aliceHOP.TESTKerberos"},
		{"enterprise", PAForUser{UserName: krb5.NewName(krb5.NTEnterprise, "Alice@hop.test"), UserRealm: "hop.test", AuthPackage: "Kerberos"},
			le(10) + "Alice@hop.testhop.testKerberos"},
		{"components", PAForUser{UserName: host, UserRealm: "HOP.TEST", AuthPackage: "Kerberos"},
			le(3) + "hostserver.hop.testHOP.TESTKerberos"},
		{"negative type", PAForUser{UserName: krb5.NewName(-130, "x"), UserRealm: "R", AuthPackage: ""},
			"\x7e\xff\xff\xffxR"},
		{"empty", PAForUser{}, "\x00\x00\x00\x00"},
	} {
		if got := tc.p.ChecksumInput(); string(got) != tc.want {
			t.Errorf("%s: % x, want % x", tc.name, got, tc.want)
		}
	}
}

// TestPAForUserCapturedChecksum verifies impacket's PA-FOR-USER checksum in
// the captured S4U2Self request over ChecksumInput, with hop's HMAC-MD5.
func TestPAForUserCapturedChecksum(t *testing.T) {
	r, err := ParseKDCReq(readTestdata(t, "impacket-tgs-req-s4u2self.der"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePAForUser(findPA(r.PAData, krb5.PAForUser))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.ChecksumInput(), []byte("\x01\x00\x00\x00aliceHOP.TESTKerberos"); !bytes.Equal(got, want) {
		t.Fatalf("ChecksumInput = %q, want %q", got, want)
	}
	k, err := crypto.NewKey(krb5.AES256CTSHMACSHA196, svcTGTSessionKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.VerifyChecksum(p.Cksum.Type, krb5.UsagePAForUserCksum, p.ChecksumInput(), p.Cksum.Sum); err != nil {
		t.Fatalf("impacket's checksum: %v", err)
	}
	// Anything else in the input breaks it.
	p.UserRealm = "hop.test"
	if err := k.VerifyChecksum(p.Cksum.Type, krb5.UsagePAForUserCksum, p.ChecksumInput(), p.Cksum.Sum); err == nil {
		t.Fatal("checksum verified over a lower-case realm")
	}
}

// impacketS4U builds S4UByteArray from a PA-FOR-USER that impacket decodes,
// the way impacket's getST.py does for S4U2Self (struct.pack('<I',
// name-type) + name + realm + auth-package), and computes its HMAC-MD5
// checksum with key usage 17, as getST.py does.
const impacketS4U = `
import json, struct, sys
from pyasn1.codec.der import decoder
from impacket.krb5.asn1 import PA_FOR_USER_ENC
from impacket.krb5.crypto import Key, _HMACMD5
der = bytes.fromhex(sys.argv[1])
p, rest = decoder.decode(der, asn1Spec=PA_FOR_USER_ENC())
assert not rest
S4UByteArray = struct.pack('<I', int(p['userName']['name-type']) & 0xffffffff)
for c in p['userName']['name-string']:
    S4UByteArray += c.asOctets()
S4UByteArray += p['userRealm'].asOctets() + p['auth-package'].asOctets()
key = Key(int(sys.argv[2]), bytes.fromhex(sys.argv[3]))
print(json.dumps({"input": S4UByteArray.hex(), "cksum": _HMACMD5.checksum(key, 17, S4UByteArray).hex(),
                  "sent": bytes(p['cksum']['checksum']).hex()}))
`

func runImpacket(t *testing.T, script string, args ...string) map[string]any {
	t.Helper()
	python, _ := thirdparty.RequireImpacketScript(t, "getST.py")
	out, stderr, err := thirdparty.Run(t, nil, "", python, append([]string{"-c", script}, args...)...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("impacket printed %q: %v", out, err)
	}
	return m
}

func TestPAForUserChecksumImpacket(t *testing.T) {
	rc4Key := h("00112233445566778899aabbccddeeff")
	aes128Key := h("0f0e0d0c0b0a09080706050403020100")
	for _, tc := range []struct {
		name  string
		der   []byte // PA-FOR-USER; nil: marshal p
		p     PAForUser
		etype krb5.EncType
		key   []byte
	}{
		{name: "captured", der: readTestdata(t, "impacket-pa-for-user.der"), etype: krb5.AES256CTSHMACSHA196, key: svcTGTSessionKey},
		{name: "enterprise rc4", p: PAForUser{UserName: krb5.NewName(krb5.NTEnterprise, "Alice@hop.test"), UserRealm: "hop.test",
			AuthPackage: "Kerberos"}, etype: krb5.RC4HMAC, key: rc4Key},
		{name: "components aes128", p: PAForUser{UserName: host, UserRealm: "HOP.TEST", AuthPackage: "Kerberos"},
			etype: krb5.AES128CTSHMACSHA196, key: aes128Key},
		{name: "utf-8 aes256", p: PAForUser{UserName: krb5.NewName(krb5.NTPrincipal, "zoë"), UserRealm: "HOP.TEST",
			AuthPackage: "Kerberos"}, etype: krb5.AES256CTSHMACSHA196, key: svcTGTSessionKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := crypto.NewKey(tc.etype, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			b := tc.der
			if b == nil {
				tc.p.Cksum = Checksum{Type: krb5.CksumHMACMD5}
				if tc.p.Cksum.Sum, err = k.MakeChecksum(krb5.CksumHMACMD5, krb5.UsagePAForUserCksum, tc.p.ChecksumInput()); err != nil {
					t.Fatal(err)
				}
				b = marshalled(t)(tc.p.Marshal())
			}
			p, err := ParsePAForUser(b)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := k.MakeChecksum(krb5.CksumHMACMD5, krb5.UsagePAForUserCksum, p.ChecksumInput())
			if err != nil {
				t.Fatal(err)
			}
			m := runImpacket(t, impacketS4U, hex.EncodeToString(b), fmt.Sprint(int(tc.etype)), hex.EncodeToString(tc.key))
			if got := hex.EncodeToString(p.ChecksumInput()); m["input"] != got {
				t.Errorf("ChecksumInput = %s, impacket's S4UByteArray = %v", got, m["input"])
			}
			if got := hex.EncodeToString(sum); m["cksum"] != got || m["sent"] != hex.EncodeToString(p.Cksum.Sum) {
				t.Errorf("checksum: hop %s, impacket %v, in the message %v", got, m["cksum"], m["sent"])
			}
		})
	}
}

func TestNTStatusEData(t *testing.T) {
	ext := func(status, flags uint32) []byte {
		v := make([]byte, 12)
		binary.LittleEndian.PutUint32(v, status)
		binary.LittleEndian.PutUint32(v[8:], flags)
		return v
	}
	// e-data of KDC_ERR_POLICY answering a TGS-REQ with STATUS_NOT_SUPPORTED.
	want := h("30 15 a1 03 02 01 03 a2 0e 04 0c bb 00 00 c0 00 00 00 00 03 00 00 00")
	if got := marshalled(t)(MarshalNTStatusEData(StatusNotSupported, true)); !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
	for _, status := range []NTStatus{StatusNotSupported, StatusNoMatch, StatusNotFound, StatusAccountRestriction,
		StatusAccountDisabled, StatusAccountExpired, StatusAccountLockedOut, 0, 0xffffffff} {
		for _, tgs := range []bool{false, true} {
			flags := uint32(1)
			if tgs {
				flags = 3
			}
			b := marshalled(t)(MarshalNTStatusEData(status, tgs))
			if want := seq(ctxInt(1, 3), ctxOcts(2, ext(uint32(status), flags))); !bytes.Equal(b, want) {
				t.Errorf("%v tgs=%v: got % x, want % x", status, tgs, b, want)
			}
			got, isExt, err := ParseNTStatusEData(b)
			if err != nil || !isExt || got != status {
				t.Errorf("%v tgs=%v: parsed %v, %v, %v", status, tgs, got, isExt, err)
			}
		}
	}
	// Another data-type, with or without a value, is not an NTSTATUS.
	for _, b := range [][]byte{seq(ctxInt(1, 2), ctxOcts(2, []byte("x"))), seq(ctxInt(1, 1))} {
		if s, isExt, err := ParseNTStatusEData(b); err != nil || isExt || s != 0 {
			t.Errorf("% x: %v, %v, %v", b, s, isExt, err)
		}
	}
	kd, err := ParseKerbErrorData(seq(ctxInt(1, 2), ctxOcts(2, []byte("x")), ctxOcts(3, nil)))
	if err != nil || !reflect.DeepEqual(kd, &KerbErrorData{DataType: 2, DataValue: []byte("x")}) {
		t.Errorf("ParseKerbErrorData = %+v, %v", kd, err)
	}
}

func TestNTStatusEDataMalformed(t *testing.T) {
	preauth, err := ParseKRBError(readTestdata(t, "mit-krb-error-preauth-required.der"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		der        []byte
	}{
		{"empty", "malformed", nil},
		{"METHOD-DATA", "unexpected SEQUENCE", preauth.EData},
		{"no data-type", "missing data-type", seq(ctxOcts(2, make([]byte, 12)))},
		{"[0] tags", "data-type: want INTEGER", seq(ctxInt(0, 3), ctxOcts(1, make([]byte, 12)))},
		{"ext no value", "KERB_EXT_ERROR is 0 bytes", seq(ctxInt(1, 3))},
		{"ext short", "KERB_EXT_ERROR is 11 bytes", seq(ctxInt(1, 3), ctxOcts(2, make([]byte, 11)))},
		{"ext long", "KERB_EXT_ERROR is 13 bytes", seq(ctxInt(1, 3), ctxOcts(2, make([]byte, 13)))},
		{"data-type too large", "INTEGER out of Int32 range", seq(ctxInt(1, 1, 0, 0, 0, 0))},
		{"trailing", "trailing", append(marshalled(t)(MarshalNTStatusEData(StatusNoMatch, false)), 0)},
		{"value not OCTET STRING", "data-value: want OCTET STRING", seq(ctxInt(1, 3), ctx(2, gstr("x")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, isExt, err := ParseNTStatusEData(tc.der)
			if err == nil {
				t.Fatalf("parsed %v, %v", s, isExt)
			}
			if !strings.HasPrefix(err.Error(), "wire: KERB-ERROR-DATA: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNTStatusString(t *testing.T) {
	for s, want := range map[NTStatus]string{
		StatusNotSupported: "STATUS_NOT_SUPPORTED", StatusNoMatch: "STATUS_NO_MATCH", StatusNotFound: "STATUS_NOT_FOUND",
		StatusAccountRestriction: "STATUS_ACCOUNT_RESTRICTION", StatusAccountDisabled: "STATUS_ACCOUNT_DISABLED",
		StatusAccountExpired: "STATUS_ACCOUNT_EXPIRED", StatusAccountLockedOut: "STATUS_ACCOUNT_LOCKED_OUT",
		0xC0000001: "NTSTATUS(0xC0000001)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint32(s), got, want)
		}
	}
}

// impacketKerbErrorData decodes KERB-ERROR-DATA with impacket's ASN.1
// definition and encodes the same value with it.
const impacketKerbErrorData = `
import json, struct, sys
from pyasn1.codec.der import decoder, encoder
from impacket.krb5.asn1 import KERB_ERROR_DATA
der = bytes.fromhex(sys.argv[1])
d, rest = decoder.decode(der, asn1Spec=KERB_ERROR_DATA())
assert not rest
value = bytes(d['data-value'])
status, reserved, flags = struct.unpack('<III', value)
e = KERB_ERROR_DATA()
e['data-type'] = int(d['data-type'])
e['data-value'] = value
print(json.dumps({"type": int(d['data-type']), "status": status, "reserved": reserved, "flags": flags,
                  "encoded": encoder.encode(e).hex()}))
`

func TestNTStatusEDataImpacket(t *testing.T) {
	for _, tc := range []struct {
		status NTStatus
		tgs    bool
	}{{StatusNotSupported, true}, {StatusNoMatch, true}, {StatusAccountLockedOut, false}, {StatusAccountDisabled, false}} {
		b := marshalled(t)(MarshalNTStatusEData(tc.status, tc.tgs))
		m := runImpacket(t, impacketKerbErrorData, hex.EncodeToString(b))
		flags := 1.0
		if tc.tgs {
			flags = 3
		}
		if m["type"] != 3.0 || m["status"] != float64(tc.status) || m["reserved"] != 0.0 || m["flags"] != flags {
			t.Errorf("%v tgs=%v: impacket decoded %v", tc.status, tc.tgs, m)
		}
		if m["encoded"] != hex.EncodeToString(b) {
			t.Errorf("%v: impacket encodes %v, hop % x", tc.status, m["encoded"], b)
		}
	}
}

// Fuzz targets of s4u.go. Their seed corpora are testdata/fuzz/<target>,
// which `go test -run TestS4UFuzzCorpus -update-corpus` rewrites.

func s4uSeeds(t testing.TB, target string) [][]byte {
	switch target {
	case "FuzzParsePAS4UX509User":
		cert := &PAS4UX509User{UserID: S4UUserID{Nonce: 1 << 31, CName: pn(alice), CRealm: "HOP.TEST",
			SubjectCertificate: []byte{0x30, 0x00}, Options: S4UOptCheckLogonHours | S4UOptUseReplyKeyUsage},
			Cksum: Checksum{Type: krb5.CksumHMACMD5, Sum: make([]byte, 16)}}
		return [][]byte{s4uVector(), marshalled(t)(cert.Marshal()), s4uUserIDVector(),
			readTestdata(t, "impacket-pa-for-user.der")}
	case "FuzzParseNTStatusEData":
		e, err := ParseKRBError(readTestdata(t, "mit-krb-error-preauth-required.der"))
		if err != nil {
			t.Fatal(err)
		}
		return [][]byte{marshalled(t)(MarshalNTStatusEData(StatusNotSupported, true)),
			marshalled(t)(MarshalNTStatusEData(StatusAccountLockedOut, false)),
			seq(ctxInt(1, 2), ctxOcts(2, []byte("x"))), e.EData}
	}
	return nil
}

// marshalled returns the bytes of a Marshal call, failing t on its error.
func marshalled(t testing.TB) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestS4UFuzzCorpus(t *testing.T) {
	for _, target := range []string{"FuzzParsePAS4UX509User", "FuzzParseNTStatusEData"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i, s := range s4uSeeds(t, target) {
				var b strings.Builder
				b.WriteString("go test fuzz v1\n[]byte(\"")
				for _, c := range s {
					fmt.Fprintf(&b, "\\x%02x", c)
				}
				b.WriteString("\")\n")
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) < len(s4uSeeds(t, target)) {
			t.Errorf("%s: %d corpus files, want %d (run go test -run TestS4UFuzzCorpus -update-corpus)", dir, len(files), len(s4uSeeds(t, target)))
		}
	}
}

func addS4USeeds(f *testing.F, target string) {
	for _, s := range s4uSeeds(f, target) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
}

func FuzzParsePAS4UX509User(f *testing.F) {
	addS4USeeds(f, "FuzzParsePAS4UX509User")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParsePAS4UX509User, (*PAS4UX509User).Marshal)
		checkCodec(t, b, ParseS4UUserID, (*S4UUserID).Marshal)
		p, err := ParsePAS4UX509User(b)
		if err != nil {
			return
		}
		if !bytes.Contains(b, p.RawUserID) {
			t.Fatalf("RawUserID % x is not in the input", p.RawUserID)
		}
		u, err := ParseS4UUserID(p.RawUserID)
		if err != nil || !reflect.DeepEqual(*u, p.UserID) {
			t.Fatalf("RawUserID parses to %+v, %v; UserID is %+v", u, err, p.UserID)
		}
		// Re-encoded from the fields, user-id is what S4UUserID.Marshal
		// writes, and the value is unchanged.
		p.RawUserID = nil
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("cannot marshal %+v from its fields: %v", p, err)
		}
		p2, err := ParsePAS4UX509User(out)
		if err != nil {
			t.Fatalf("cannot parse own output % x: %v", out, err)
		}
		uid, err := p.UserID.Marshal()
		if err != nil || !bytes.Equal(p2.RawUserID, uid) {
			t.Fatalf("user-id % x, S4UUserID.Marshal % x, %v", p2.RawUserID, uid, err)
		}
		p2.RawUserID = nil
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip from fields differs:\n got %+v\nwant %+v", p2, p)
		}
		if pf, err := ParsePAForUser(b); err == nil {
			pf.ChecksumInput()
		}
	})
}

func FuzzParseNTStatusEData(f *testing.F) {
	addS4USeeds(f, "FuzzParseNTStatusEData")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseKerbErrorData, (*KerbErrorData).Marshal)
		status, isExt, err := ParseNTStatusEData(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wire: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if !isExt {
			if status != 0 {
				t.Fatalf("status %v without KERB_EXT_ERROR", status)
			}
			return
		}
		for _, tgs := range []bool{false, true} {
			out, err := MarshalNTStatusEData(status, tgs)
			if err != nil {
				t.Fatal(err)
			}
			s2, ext2, err := ParseNTStatusEData(out)
			if err != nil || !ext2 || s2 != status {
				t.Fatalf("round trip of %v: %v, %v, %v", status, s2, ext2, err)
			}
		}
	})
}
