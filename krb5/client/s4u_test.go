package client

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/krb5test"
	"hop/krb5/wire"
)

// Tests of the S4U request building and reply checks, against bytes other
// implementations produced (krb5/wire/testdata, see its README) and against
// impacket run in a subprocess (skipped without it, a failure under
// HOP_INTEROP=1).

// captureSessionKey is the aes256 session key of svc's TGT in the capture
// realm HOP.TEST of krb5/wire/testdata/README.md; impacket's getST.py
// -impersonate alice signed the PA-FOR-USER of impacket-pa-for-user.der
// with it.
const captureSessionKey = "d6b5ba836e1bce0257a247a258e2eba1926c06096519206489add56ab199fae2"

// captureTGT is a credential for svc@HOP.TEST with the capture's session
// key; its ticket is a placeholder the KDC would never see here.
func captureTGT(t *testing.T) *Credential {
	k, err := crypto.NewKey(krb5.AES256CTSHMACSHA196, krb5test.Unhex(t, captureSessionKey))
	if err != nil {
		t.Fatal(err)
	}
	return &Credential{
		Client:     krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "svc"), Realm: "HOP.TEST"},
		Server:     krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "HOP.TEST"), Realm: "HOP.TEST"},
		Ticket:     wire.Ticket{Realm: "HOP.TEST", SName: krb5.NewName(krb5.NTSrvInst, "krbtgt", "HOP.TEST"), EncPart: wire.EncryptedData{EType: krb5.AES256CTSHMACSHA196, Cipher: make([]byte, 64)}},
		SessionKey: k,
	}
}

func padata(t *testing.T, msg []byte) (*wire.KDCReq, map[krb5.PAType][]byte) {
	t.Helper()
	req, err := wire.ParseKDCReq(msg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[krb5.PAType][]byte{}
	for _, p := range req.PAData {
		if _, dup := m[p.Type]; dup {
			t.Errorf("padata %d twice", p.Type)
		}
		m[p.Type] = p.Value
	}
	return req, m
}

// The PA-FOR-USER hop builds for alice@HOP.TEST with the capture's TGT
// session key is byte for byte the one impacket sent: HMAC-MD5 is
// deterministic, so this checks the S4UByteArray, the key usage and the
// encoding at once.
func TestPAForUserMatchesImpacket(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "wire", "testdata", "impacket-pa-for-user.der"))
	if err != nil {
		t.Fatal(err)
	}
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "HOP.TEST"}
	for _, which := range []S4UPAData{S4UForUser, S4UBoth} {
		r := &Request{Impersonate: &alice, S4UPAData: which}
		req, err := r.tgsReq(captureTGT(t))
		if err != nil {
			t.Fatal(err)
		}
		_, pa := padata(t, req.msg)
		if got := pa[krb5.PAForUser]; !bytes.Equal(got, want) {
			t.Errorf("S4UPAData %d: PA-FOR-USER\n got % x\nwant % x", which, got, want)
		}
	}
}

func TestS4U2SelfRequest(t *testing.T) {
	tgt := captureTGT(t)
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTEnterprise, "alice@hop.test"), Realm: "HOP.TEST"}
	for _, tc := range []struct {
		which          S4UPAData
		forUser, x509  bool
		subkey         bool
		service        krb5.PrincipalName
		wantService    string
		wantPACOptions bool
	}{
		{which: S4UBoth, forUser: true, x509: true, wantService: "svc"},
		{which: S4UForUser, forUser: true, service: krb5.NewName(krb5.NTSrvHst, "host", "svc.hop.test"), wantService: "host/svc.hop.test"},
		{which: S4UX509User, x509: true, subkey: true, wantService: "svc", wantPACOptions: true},
	} {
		r := &Request{Impersonate: &alice, S4UPAData: tc.which, Subkey: tc.subkey, Service: tc.service, ResourceBased: tc.wantPACOptions}
		req, err := r.tgsReq(tgt)
		if err != nil {
			t.Fatal(err)
		}
		kr, pa := padata(t, req.msg)
		if _, ok := pa[krb5.PATGSReq]; !ok || kr.PAData[0].Type != krb5.PATGSReq {
			t.Errorf("%d: PA-TGS-REQ missing or not first", tc.which)
		}
		if _, ok := pa[krb5.PAForUser]; ok != tc.forUser {
			t.Errorf("%d: PA-FOR-USER present %v", tc.which, ok)
		}
		if _, ok := pa[krb5.PAPACOptions]; ok != tc.wantPACOptions {
			t.Errorf("%d: PA-PAC-OPTIONS present %v", tc.which, ok)
		}
		if got := kr.Body.SName.String(); got != tc.wantService {
			t.Errorf("%d: sname %s, want %s (a ticket to the service itself)", tc.which, got, tc.wantService)
		}
		if !req.client.Name.Equal(alice.Name) || req.s4u == nil {
			t.Errorf("%d: the reply is expected to name %s", tc.which, req.client)
		}
		v, ok := pa[krb5.PAS4UX509User]
		if ok != tc.x509 {
			t.Fatalf("%d: PA-S4U-X509-USER present %v", tc.which, ok)
		}
		if !ok {
			continue
		}
		x, err := wire.ParsePAS4UX509User(v)
		if err != nil {
			t.Fatal(err)
		}
		u := x.UserID
		if u.Nonce != kr.Body.Nonce || u.CName == nil || !u.CName.Equal(alice.Name) || u.CName.Type != krb5.NTEnterprise || u.CRealm != "HOP.TEST" || u.Options != 0x20000000 {
			t.Errorf("%d: user-id %+v (body nonce %d)", tc.which, u, kr.Body.Nonce)
		}
		// MS-SFU §2.2.2: the TGT session key's required checksum (16 for
		// aes256-cts-hmac-sha1-96), key usage 26, whatever the subkey.
		if x.Cksum.Type != krb5.CksumHMACSHA196AES256 {
			t.Errorf("%d: checksum type %d", tc.which, x.Cksum.Type)
		}
		if err := tgt.SessionKey.VerifyChecksum(x.Cksum.Type, 26, x.RawUserID, x.Cksum.Sum); err != nil {
			t.Errorf("%d: checksum: %v", tc.which, err)
		}
	}
}

// impacketX509 decodes a PA-S4U-X509-USER with a pyasn1 schema written
// from MS-SFU §2.2.2 and computes the checksum with impacket's RFC 3962
// code, so that neither side is hop's.
const impacketX509 = `
import json, sys
from pyasn1.type import univ, char, namedtype, tag
from pyasn1.codec.der import decoder, encoder
from impacket.krb5.asn1 import PrincipalName, Realm, Checksum
from impacket.krb5.crypto import Key, _SHA1AES256
def ctx(n): return tag.Tag(tag.tagClassContext, tag.tagFormatSimple, n)
def ctxc(n): return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, n)
class S4UUserID(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('nonce', univ.Integer().subtype(explicitTag=ctxc(0))),
        namedtype.OptionalNamedType('cname', PrincipalName().subtype(explicitTag=ctxc(1))),
        namedtype.NamedType('crealm', Realm().subtype(explicitTag=ctxc(2))),
        namedtype.OptionalNamedType('subject-certificate', univ.OctetString().subtype(explicitTag=ctxc(3))),
        namedtype.OptionalNamedType('options', univ.BitString().subtype(explicitTag=ctxc(4))))
class PA_S4U_X509_USER(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('user-id', S4UUserID().subtype(explicitTag=ctxc(0))),
        namedtype.NamedType('checksum', Checksum().subtype(explicitTag=ctxc(1))))
der = bytes.fromhex(sys.argv[1])
p, rest = decoder.decode(der, asn1Spec=PA_S4U_X509_USER())
assert not rest
uid = p['user-id']
raw = encoder.encode(uid.clone(tagSet=S4UUserID.tagSet, cloneValueFlag=True))
key = Key(18, bytes.fromhex(sys.argv[2]))
print(json.dumps({
    "nonce": int(uid['nonce']), "cname": [str(c) for c in uid['cname']['name-string']],
    "crealm": str(uid['crealm']), "options": uid['options'].asInteger(),
    "ctype": int(p['checksum']['cksumtype']), "sent": bytes(p['checksum']['checksum']).hex(),
    "cksum": _SHA1AES256.checksum(key, 26, raw).hex()}))
`

func TestPAS4UX509UserImpacket(t *testing.T) {
	python, _ := thirdparty.RequireImpacketScript(t, "getST.py")
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "HOP.TEST"}
	req, err := (&Request{Impersonate: &alice, S4UPAData: S4UX509User}).tgsReq(captureTGT(t))
	if err != nil {
		t.Fatal(err)
	}
	kr, pa := padata(t, req.msg)
	out, stderr, err := thirdparty.Run(t, nil, "", python, "-c", impacketX509, hex.EncodeToString(pa[krb5.PAS4UX509User]), captureSessionKey)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got struct {
		Nonce   uint32
		CName   []string
		CRealm  string
		Options uint64
		CType   int
		Sent    string
		Cksum   string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	// BIT STRING options of 32 bits: USE_REPLY_KEY_USAGE is bit 2.
	if got.Nonce != kr.Body.Nonce || len(got.CName) != 1 || got.CName[0] != "alice" || got.CRealm != "HOP.TEST" || got.Options != 0x20000000 || got.CType != 16 {
		t.Errorf("impacket decoded %+v (nonce %d)", got, kr.Body.Nonce)
	}
	if got.Sent != got.Cksum {
		t.Errorf("checksum %s, impacket computes %s", got.Sent, got.Cksum)
	}
}

func TestS4U2ProxyRequest(t *testing.T) {
	tgt := captureTGT(t)
	ev := &Credential{
		Client: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "HOP.TEST"},
		Ticket: wire.Ticket{Realm: "HOP.TEST", SName: krb5.NewName(krb5.NTPrincipal, "svc"), EncPart: wire.EncryptedData{EType: 18, KVNO: 3, HasKVNO: true, Cipher: []byte("evidence")}},
	}
	if _, err := (&Request{Evidence: ev}).tgsReq(tgt); err == nil {
		t.Error("S4U2Proxy without a target built")
	}
	alice := ev.Client
	if _, err := (&Request{Evidence: ev, Impersonate: &alice, Service: krb5.NewName(krb5.NTSrvInst, "cifs", "c")}).tgsReq(tgt); err == nil {
		t.Error("a request both S4U2Self and S4U2Proxy built")
	}
	for _, rbcd := range []bool{false, true} {
		req, err := (&Request{Evidence: ev, Service: krb5.NewName(krb5.NTSrvInst, "cifs", "c.hop.test"), ResourceBased: rbcd}).tgsReq(tgt)
		if err != nil {
			t.Fatal(err)
		}
		kr, pa := padata(t, req.msg)
		b := kr.Body
		// cname-in-addl-tkt is KDC option bit 14 (MS-SFU §2.2.3).
		if b.Options&(1<<(31-14)) == 0 || len(b.AdditionalTickets) != 1 {
			t.Fatalf("options %08x, %d additional tickets", uint32(b.Options), len(b.AdditionalTickets))
		}
		at := b.AdditionalTickets[0]
		if !bytes.Equal(at.EncPart.Cipher, []byte("evidence")) || at.EncPart.KVNO != 3 || at.SName.String() != "svc" {
			t.Errorf("additional ticket %+v", at)
		}
		if !req.client.Name.Equal(alice.Name) {
			t.Errorf("reply expected for %s", req.client)
		}
		// PA-PAC-OPTIONS with resource-based constrained delegation, bit 3
		// (MS-SFU §2.2.5): SEQUENCE { [0] BIT STRING 00 10 00 00 00 }, as
		// kerberos_asn1's test vector and impacket ('0001') encode it.
		v, ok := pa[krb5.PAPACOptions]
		if ok != rbcd {
			t.Fatalf("rbcd %v: PA-PAC-OPTIONS present %v", rbcd, ok)
		}
		if want := []byte{0x30, 0x09, 0xa0, 0x07, 0x03, 0x05, 0x00, 0x10, 0x00, 0x00, 0x00}; ok && !bytes.Equal(v, want) {
			t.Errorf("PA-PAC-OPTIONS % x, want % x", v, want)
		}
	}
}

// s4uReply builds the outer padata and encrypted padata of an S4U2Self
// reply to st, as a KDC would, and lets mod spoil them.
func s4uReply(t testing.TB, st *s4uState, key *crypto.Key, usage krb5.KeyUsage, opts krb5.Flags, mod func(*wire.S4UUserID)) ([]wire.PAData, []byte) {
	t.Helper()
	uid := st.x509.UserID
	uid.Options = opts
	uid.HasOptions = true
	if mod != nil {
		mod(&uid)
	}
	raw, err := uid.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := key.MakeChecksum(key.ChecksumType(), usage, raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := (&wire.PAS4UX509User{UserID: uid, RawUserID: raw, Cksum: wire.Checksum{Type: key.ChecksumType(), Sum: sum}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return []wire.PAData{{Type: krb5.PAS4UX509User, Value: v}}, sum
}

func TestS4U2SelfReplyChecks(t *testing.T) {
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "HOP.TEST"}
	aes := captureTGT(t).SessionKey
	rc4, err := crypto.NewKey(krb5.RC4HMAC, bytes.Repeat([]byte{7}, 16))
	if err != nil {
		t.Fatal(err)
	}
	other, err := crypto.NewKey(krb5.AES256CTSHMACSHA196, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const reply = krb5.KeyUsage(27)
	opt := wire.S4UOptUseReplyKeyUsage
	for _, tc := range []struct {
		name   string
		key    *crypto.Key
		sign   *crypto.Key
		usage  krb5.KeyUsage
		opts   krb5.Flags
		mod    func(*wire.S4UUserID)
		noEcho bool
		enc    func(req, rep []byte) []byte // the encrypted-pa-data value; nil: none
		ok     bool
	}{
		{name: "usage 27", key: aes, sign: aes, usage: reply, opts: opt, ok: true},
		{name: "usage 26 without the option", key: aes, sign: aes, usage: 26, ok: true},
		{name: "usage 26 claiming the option", key: aes, sign: aes, usage: 26, opts: opt},
		{name: "another key", key: aes, sign: other, usage: reply, opts: opt},
		{name: "another nonce", key: aes, sign: aes, usage: reply, opts: opt, mod: func(u *wire.S4UUserID) { u.Nonce++ }},
		{name: "no echo", key: aes, noEcho: true},
		{name: "rc4 with the encrypted echo", key: rc4, sign: rc4, usage: reply, opts: opt, enc: func(req, rep []byte) []byte { return append(append([]byte{}, req...), rep...) }, ok: true},
		{name: "rc4 without the encrypted echo", key: rc4, sign: rc4, usage: reply, opts: opt},
		{name: "rc4 with a wrong encrypted echo", key: rc4, sign: rc4, usage: reply, opts: opt, enc: func(req, rep []byte) []byte { return append(append([]byte{}, rep...), req...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _, err := (&Request{S4UPAData: S4UX509User}).s4uSelf(tc.key, alice, 0x1234)
			if err != nil {
				t.Fatal(err)
			}
			var pa, enc []wire.PAData
			if !tc.noEcho {
				var sum []byte
				pa, sum = s4uReply(t, st, tc.sign, tc.usage, tc.opts, tc.mod)
				if tc.enc != nil {
					enc = []wire.PAData{{Type: krb5.PAS4UX509User, Value: tc.enc(st.x509.Cksum.Sum, sum)}}
				}
			}
			err = st.checkReply(pa, enc)
			if tc.ok && err != nil {
				t.Errorf("rejected: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrBadReply) {
				t.Errorf("accepted (err %v)", err)
			}
		})
	}
}

// kerbErrorData is KERB-ERROR-DATA { data-type [1] 3, data-value [2]
// KERB_EXT_ERROR } written out from MS-KILE §2.2.1 and §2.2.2.
func kerbErrorData(status uint32) []byte {
	v := make([]byte, 12)
	binary.LittleEndian.PutUint32(v, status)
	binary.LittleEndian.PutUint32(v[8:], 3)
	return append([]byte{0x30, 0x15, 0xa1, 0x03, 0x02, 0x01, 0x03, 0xa2, 0x0e, 0x04, 0x0c}, v...)
}

func TestErrorCarriesNTStatus(t *testing.T) {
	methodData, err := wire.MarshalMethodData([]wire.PAData{{Type: krb5.PAETypeInfo2, Value: []byte{0x30, 0x00}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		edata  []byte
		status uint32
		has    bool
		text   string
	}{
		{"KERB-ERROR-DATA", kerbErrorData(0xC0000225), 0xC0000225, true, "client: KDC refused: KDC_ERR_BADOPTION (STATUS_NOT_FOUND): refused"},
		{"METHOD-DATA", methodData, 0, false, "client: KDC refused: KDC_ERR_BADOPTION: refused"},
		{"none", nil, 0, false, "client: KDC refused: KDC_ERR_BADOPTION: refused"},
		{"garbage", []byte{0x04, 0x01, 0x00}, 0, false, "client: KDC refused: KDC_ERR_BADOPTION: refused"},
	} {
		msg, err := (&wire.KRBError{STime: time.Unix(1700000000, 0).UTC(), ErrorCode: 13, Realm: "HOP.TEST",
			SName: krb5.NewName(krb5.NTSrvInst, "krbtgt", "HOP.TEST"), EText: "refused", EData: tc.edata}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		e, err := asError(msg)
		if err != nil || e == nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if e.HasStatus != tc.has || uint32(e.Status) != tc.status || e.Error() != tc.text || !errors.Is(e, krb5.KDCErrBadOption) {
			t.Errorf("%s: status %v/%v, %q", tc.name, e.Status, e.HasStatus, e.Error())
		}
	}
}

// FuzzS4USelfReply feeds arbitrary PA-S4U-X509-USER values, in the reply's
// padata and encrypted padata, to the S4U2Self reply check, which must
// reject them without panicking unless they verify. Seeds: a genuine echo
// (here and in testdata/fuzz/FuzzS4USelfReply).
func FuzzS4USelfReply(f *testing.F) {
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "HOP.TEST"}
	key, err := crypto.NewKey(krb5.RC4HMAC, bytes.Repeat([]byte{7}, 16))
	if err != nil {
		f.Fatal(err)
	}
	st, _, err := (&Request{S4UPAData: S4UX509User}).s4uSelf(key, alice, 0x1234)
	if err != nil {
		f.Fatal(err)
	}
	pa, sum := s4uReply(f, st, key, 27, wire.S4UOptUseReplyKeyUsage, nil)
	f.Add(pa[0].Value, append(append([]byte{}, st.x509.Cksum.Sum...), sum...))
	f.Add(pa[0].Value, []byte{})
	f.Add([]byte{0x30, 0x00}, []byte{0x30})
	f.Fuzz(func(t *testing.T, echo, enc []byte) {
		var encPA []wire.PAData
		if len(enc) > 0 {
			encPA = []wire.PAData{{Type: krb5.PAS4UX509User, Value: enc}}
		}
		err := st.checkReply([]wire.PAData{{Type: krb5.PAS4UX509User, Value: echo}}, encPA)
		if err != nil && !errors.Is(err, ErrBadReply) {
			t.Fatalf("error not wrapping ErrBadReply: %v", err)
		}
		if err == nil && !bytes.Equal(echo, pa[0].Value) {
			// Another encoding of the same echo may verify only if it
			// carries a valid checksum, which a fuzzer cannot forge.
			p, perr := wire.ParsePAS4UX509User(echo)
			if perr != nil || key.VerifyChecksum(p.Cksum.Type, 27, p.RawUserID, p.Cksum.Sum) != nil && key.VerifyChecksum(p.Cksum.Type, 26, p.RawUserID, p.Cksum.Sum) != nil {
				t.Fatalf("accepted an echo that does not verify: %x", echo)
			}
		}
	})
}
