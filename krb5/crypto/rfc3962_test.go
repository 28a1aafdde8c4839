package crypto

import (
	"bytes"
	"crypto/aes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/crypto/md4"

	"hop/krb5"
)

// RFC 3962 Appendix B: PBKDF2-HMAC-SHA1 outputs and the AES keys
// string-to-key makes from them.
var rfc3962S2K = []struct {
	name           string
	iter           uint32
	pass, salt     string
	pbkdf128, k128 string
	pbkdf256, k256 string
}{
	{"iter1", 1, "password", "ATHENA.MIT.EDUraeburn",
		"cd ed b5 28 1b b2 f8 01 56 5a 11 22 b2 56 35 15",
		"42 26 3c 6e 89 f4 fc 28 b8 df 68 ee 09 79 9f 15",
		"cd ed b5 28 1b b2 f8 01 56 5a 11 22 b2 56 35 15 0a d1 f7 a0 4b b9 f3 a3 33 ec c0 e2 e1 f7 08 37",
		"fe 69 7b 52 bc 0d 3c e1 44 32 ba 03 6a 92 e6 5b bb 52 28 09 90 a2 fa 27 88 39 98 d7 2a f3 01 61"},
	{"iter2", 2, "password", "ATHENA.MIT.EDUraeburn",
		"01 db ee 7f 4a 9e 24 3e 98 8b 62 c7 3c da 93 5d",
		"c6 51 bf 29 e2 30 0a c2 7f a4 69 d6 93 bd da 13",
		"01 db ee 7f 4a 9e 24 3e 98 8b 62 c7 3c da 93 5d a0 53 78 b9 32 44 ec 8f 48 a9 9e 61 ad 79 9d 86",
		"a2 e1 6d 16 b3 60 69 c1 35 d5 e9 d2 e2 5f 89 61 02 68 56 18 b9 59 14 b4 67 c6 76 22 22 58 24 ff"},
	{"iter1200", 1200, "password", "ATHENA.MIT.EDUraeburn",
		"5c 08 eb 61 fd f7 1e 4e 4e c3 cf 6b a1 f5 51 2b",
		"4c 01 cd 46 d6 32 d0 1e 6d be 23 0a 01 ed 64 2a",
		"5c 08 eb 61 fd f7 1e 4e 4e c3 cf 6b a1 f5 51 2b a7 e5 2d db c5 e5 14 2f 70 8a 31 e2 e6 2b 1e 13",
		"55 a6 ac 74 0a d1 7b 48 46 94 10 51 e1 e8 b0 a7 54 8d 93 b0 ab 30 a8 bc 3f f1 62 80 38 2b 8c 2a"},
	{"iter5-binary-salt", 5, "password", "\x12\x34\x56\x78\x78\x56\x34\x12",
		"d1 da a7 86 15 f2 87 e6 a1 c8 b1 20 d7 06 2a 49",
		"e9 b2 3d 52 27 37 47 dd 5c 35 cb 55 be 61 9d 8e",
		"d1 da a7 86 15 f2 87 e6 a1 c8 b1 20 d7 06 2a 49 3f 98 d2 03 e6 be 49 a6 ad f4 fa 57 4b 6e 64 ee",
		"97 a4 e7 86 be 20 d8 1a 38 2d 5e bc 96 d5 90 9c ab cd ad c8 7c a4 8f 57 45 04 15 9f 16 c3 6e 31"},
	{"64-char-pass", 1200, strings.Repeat("X", 64), "pass phrase equals block size",
		"13 9c 30 c0 96 6b c3 2b a5 5f db f2 12 53 0a c9",
		"59 d1 bb 78 9a 82 8b 1a a5 4e f9 c2 88 3f 69 ed",
		"13 9c 30 c0 96 6b c3 2b a5 5f db f2 12 53 0a c9 c5 ec 59 f1 a4 52 f5 cc 9a d9 40 fe a0 59 8e d1",
		"89 ad ee 36 08 db 8b c7 1f 1b fb fe 45 94 86 b0 56 18 b7 0c ba e2 20 92 53 4e 56 c5 53 ba 4b 34"},
	{"65-char-pass", 1200, strings.Repeat("X", 65), "pass phrase exceeds block size",
		"9c ca d6 d4 68 77 0c d5 1b 10 e6 a6 87 21 be 61",
		"cb 80 05 dc 5f 90 17 9a 7f 02 10 4c 00 18 75 1d",
		"9c ca d6 d4 68 77 0c d5 1b 10 e6 a6 87 21 be 61 1a 8b 4d 28 26 01 db 3b 36 be 92 46 91 5e c8 2a",
		"d7 8c 5c 9c b8 72 a8 c9 da d4 69 7f 0b b5 b2 d2 14 96 c8 2b eb 2c ae da 21 12 fc ee a0 57 40 1b"},
	{"g-clef", 50, "\xf0\x9d\x84\x9e", "EXAMPLE.COMpianist",
		"6b 9c f2 6d 45 45 5a 43 a5 b8 bb 27 6a 40 3b 39",
		"f1 49 c1 f2 e1 54 a7 34 52 d4 3e 7f e6 2a 56 e5",
		"6b 9c f2 6d 45 45 5a 43 a5 b8 bb 27 6a 40 3b 39 e7 fe 37 a0 c4 1e 02 c2 81 ff 30 69 e1 e9 4f 52",
		"4b 6d 98 39 f8 44 06 df 1f 09 cc 16 6d b4 b8 3c 57 18 48 b7 84 a3 d6 bd c3 46 58 9a 3e 39 3f 9e"},
}

func iterParams(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func TestStringToKeyRFC3962(t *testing.T) {
	for _, tt := range rfc3962S2K {
		t.Run(tt.name, func(t *testing.T) {
			// The PBKDF2 half, as printed, pins the inputs the key half uses.
			for _, p := range []struct {
				size int
				want string
			}{{16, tt.pbkdf128}, {32, tt.pbkdf256}} {
				got, err := pbkdf2.Key(sha1.New, tt.pass, []byte(tt.salt), int(tt.iter), p.size)
				if err != nil || !bytes.Equal(got, hx(p.want)) {
					t.Errorf("PBKDF2 %d bytes = %x, %v; want %s", p.size, got, err, p.want)
				}
			}
			for _, c := range []struct {
				e    krb5.EncType
				want string
			}{{krb5.AES128CTSHMACSHA196, tt.k128}, {krb5.AES256CTSHMACSHA196, tt.k256}} {
				k, err := StringToKey(c.e, tt.pass, tt.salt, iterParams(tt.iter))
				if err != nil {
					t.Fatalf("StringToKey(%v): %v", c.e, err)
				}
				if got := k.Material(); !bytes.Equal(got, hx(c.want)) {
					t.Errorf("StringToKey(%v) = %x, want %s", c.e, got, c.want)
				}
			}
		})
	}
}

// RFC 3962 Appendix B: AES-128 CBC with ciphertext stealing, key
// "chicken teriyaki", zero IV.
func TestCTSRFC3962(t *testing.T) {
	key := []byte("chicken teriyaki")
	if !bytes.Equal(key, hx("63 68 69 63 6b 65 6e 20 74 65 72 69 79 61 6b 69")) {
		t.Fatal("key transcription")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, out string }{
		{"4920776f756c64206c696b652074686520", "c6353568f2bf8cb4d8a580362da7ff7f97"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320", "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"},
		{"4920776f756c64206c696b65207468652047656e6572616c2047617527732043", "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c", "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20", "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e", "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8"},
	}
	const phrase = "I would like the General Gau's Chicken, please, and wonton soup."
	for _, tt := range tests {
		in, want := hx(tt.in), hx(tt.out)
		if !strings.HasPrefix(phrase, string(in)) {
			t.Fatalf("input transcription %q", in)
		}
		var tmp [2 * blockSize]byte
		got := append([]byte(nil), in...)
		ctsEncrypt(b, got, &tmp)
		if !bytes.Equal(got, want) {
			t.Errorf("CTS(%d bytes) = %x, want %x", len(in), got, want)
		}
		back := make([]byte, len(want))
		ctsDecrypt(b, back, want, &tmp)
		if !bytes.Equal(back, in) {
			t.Errorf("CTS decrypt(%d bytes) = %x, want %x", len(in), back, in)
		}
	}
}

// Kc, Ke and Ki for usage 2 of the Appendix B keys ("password",
// "ATHENA.MIT.EDUraeburn", one iteration), from MIT krb5's
// src/lib/crypto/crypto_tests/t_derive.c; RFC 3962 prints none.
func TestDeriveRFC3962(t *testing.T) {
	tests := []struct {
		e    krb5.EncType
		base string
		c    byte
		want string
	}{
		{krb5.AES128CTSHMACSHA196, "42263C6E89F4FC28B8DF68EE09799F15", constKc, "34280A382BC92769B2DA2F9EF066854B"},
		{krb5.AES128CTSHMACSHA196, "42263C6E89F4FC28B8DF68EE09799F15", constKe, "5B14FC4E250E14DDF9DCCF1AF6674F53"},
		{krb5.AES128CTSHMACSHA196, "42263C6E89F4FC28B8DF68EE09799F15", constKi, "4ED31063621684F09AE8D89991AF3E8F"},
		{krb5.AES256CTSHMACSHA196, "FE697B52BC0D3CE14432BA036A92E65BBB52280990A2FA27883998D72AF30161", constKc, "BFAB388BDCB238E9F9C98D6A878304F04D30C82556375AC507A7A852790F4674"},
		{krb5.AES256CTSHMACSHA196, "FE697B52BC0D3CE14432BA036A92E65BBB52280990A2FA27883998D72AF30161", constKe, "C7CFD9CD75FE793A586A542D87E0D1396F1134A104BB1A9190B8C90ADA3DDF37"},
		{krb5.AES256CTSHMACSHA196, "FE697B52BC0D3CE14432BA036A92E65BBB52280990A2FA27883998D72AF30161", constKi, "97151B4C76945063E2EB0529DC067D97D7BBA90776D8126D91F34F3101AEA8BA"},
	}
	for _, tt := range tests {
		k := mustKey(t, tt.e, hx(tt.base))
		got := dk(k.s.eng.(*aesKey).base, usageConstant(2, tt.c), KeySize(tt.e))
		if want := hx(tt.want); !bytes.Equal(got, want) {
			t.Errorf("%v DK(usage 2 | %#x) = %X, want %X", tt.e, tt.c, got, want)
		}
	}
}

// mitDecrypt are MIT krb5's known-answer decryptions
// (src/lib/crypto/crypto_tests/t_decrypt.c): usage, key, ciphertext and the
// plaintext it must give. They pin the whole profile, confounder included.
var mitDecrypt = []struct {
	e       krb5.EncType
	plain   string
	usage   krb5.KeyUsage
	key, ct string
}{
	{krb5.AES128CTSHMACSHA196, "", 0, "5A5C0F0BA54F3828B2195E66CA24A289",
		"49FF8E11C173D9583A3254FBE7B1F1DF36C538E8416784A1672E6676"},
	{krb5.AES128CTSHMACSHA196, "1", 1, "98450E3F3BAA13F5C99BEB936981B06F",
		"F86742F537B35DC2174A4DBAA920FAF9042090B065E1EBB1CAD9A65394"},
	{krb5.AES128CTSHMACSHA196, "9 bytesss", 2, "9062430C8CDA3388922E6D6A509F5B7A",
		"68FB9679601F45C78857B2BF820FD6E53ECA8D42FD4B1D7024A09205ABB7CD2EC26C355D2F"},
	{krb5.AES128CTSHMACSHA196, "13 bytes byte", 3, "033EE6502C54FD23E27791E987983827",
		"EC366D0327A933BF49330E650E49BC6B974637FE80BF532FE51795B4809718E6194724DB948D1FD637"},
	{krb5.AES128CTSHMACSHA196, "30 bytes bytes bytes bytes byt", 4, "DCEEB70B3DE76562E689226C76429148",
		"C96081032D5D8EEB7E32B4089F789D0FAA481DEA74C0F97CBF3146DDFCF8E800156ECB532FC203E30FF600B63B350939FECE510F02D7FF1E7BAC"},
	{krb5.AES256CTSHMACSHA196, "", 0, "17F275F2954F2ED1F90C377BA7F4D6A369AA0136E0BF0C927AD6133C693759A9",
		"E5094C55EE7B38262E2B044280B069379A95BF95BD8376FB3281B435"},
	{krb5.AES256CTSHMACSHA196, "1", 1, "B9477E1FF0329C0050E20CE6C72D2DFF27E8FE541AB0954429A9CB5B4F7B1E2A",
		"406150B97AEB76D43B36B62CC1ECDFBE6F40E95755E0BEB5C27825F3A4"},
	{krb5.AES256CTSHMACSHA196, "9 bytesss", 2, "B1AE4CD8462AFF1677053CC9279AAC30B796FB81CE21474DD3DDBCFEA4EC76D7",
		"09957AA25FCAF88F7B39E4406E633012D5FEA21853F6478DA7065CAEF41FD454A40824EEC5"},
	{krb5.AES256CTSHMACSHA196, "13 bytes byte", 3, "E5A72BE9B7926C1225BAFEF9C1872E7BA4CDB2B17893D84ABD90ACDD8764D966",
		"D8F1AAFEEC84587CC3E700A774E56651A6D693E174EC4473B5E6D96F80297A653FB818AD893E719F96"},
	{krb5.AES256CTSHMACSHA196, "30 bytes bytes bytes bytes byt", 4, "F1C795E9248A09338D82C3F8D5B567040B0110736845041347235B1404231398",
		"D1137A4D634CFECE924DBC3BF6790648BD5CFF7DE0E7B99460211D0DAEF3D79A295C688858F3B34B9CBD6EEBAE81DAF6B734D4D498B6714F1C1D"},
	{krb5.RC4HMAC, "", 0, "F81FEC39255F5784E850C4377C88BD85",
		"02C1EB15586144122EC717763DD348BF00434DDC6585954C"},
	{krb5.RC4HMAC, "1", 1, "67D1300D281223867F9647FF48721273",
		"6156E0CC04E0A0874F9FDA008F498A7ADBBC80B70B14DDDBC0"},
	{krb5.RC4HMAC, "9 bytesss", 2, "3E40AB6093695281B3AC1A9304224D98",
		"0F9AD121D99D4A09448E4F1F718C4F5CBE6096262C66F29DF232A87C9F98755D55"},
	{krb5.RC4HMAC, "13 bytes byte", 3, "4BA2FBF0379FAED87A254D3B353D5A7E",
		"612C57568B17A70352BAE8CF26FB9459A6F3353CD35FD439DB3107CBEC765D326DFC04C1DD"},
	{krb5.RC4HMAC, "30 bytes bytes bytes bytes byt", 4, "68F263DB3FCE15D031C9EAB02D67107A",
		"95F9047C3AD75891C2E9B04B16566DC8B6EB9CE4231AFB2542EF87A7B5A0F260A99F0460508DE0CECC632D07C354124E46C5D2234EB8"},
	{krb5.AES128CTSHMACSHA256128, "", 2, "3705D96080C17728A0E800EAB6E0D23C",
		"EF85FB890BB8472F4DAB20394DCA781DAD877EDA39D50C870C0D5A0A8E48C718"},
	{krb5.AES128CTSHMACSHA256128, "\x00\x01\x02\x03\x04\x05", 2, "3705D96080C17728A0E800EAB6E0D23C",
		"84D7F30754ED987BAB0BF3506BEB09CFB55402CEF7E6877CE99E247E52D16ED4421DFDF8976C"},
	{krb5.AES256CTSHMACSHA384192, "", 2, "6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52",
		"41F53FA5BFE7026D91FAF9BE959195A058707273A96A40F0A01960621AC612748B9BBFBE7EB4CE3C"},
}

func TestDecryptMIT(t *testing.T) {
	for _, tt := range mitDecrypt {
		k := mustKey(t, tt.e, hx(tt.key))
		got, err := k.Decrypt(tt.usage, hx(tt.ct))
		if err != nil || string(got) != tt.plain {
			t.Errorf("%v usage %d: Decrypt = %q, %v; want %q", tt.e, tt.usage, got, err, tt.plain)
		}
	}
}

// MIT krb5's src/lib/crypto/crypto_tests/t_cksums.c.
func TestChecksumMIT(t *testing.T) {
	tests := []struct {
		data  string
		ct    krb5.ChecksumType
		e     krb5.EncType
		usage krb5.KeyUsage
		key   string
		sum   string
	}{
		{"eight nine ten eleven twelve thirteen", krb5.CksumHMACSHA196AES128, krb5.AES128CTSHMACSHA196, 3,
			"9062430C8CDA3388922E6D6A509F5B7A", "01A4B088D45628F6946614E3"},
		{"fourteen", krb5.CksumHMACSHA196AES256, krb5.AES256CTSHMACSHA196, 4,
			"B1AE4CD8462AFF1677053CC9279AAC30B796FB81CE21474DD3DDBCFEA4EC76D7", "E08739E3279E2903EC8E3836"},
		{"seventeen eighteen nineteen twenty", krb5.CksumHMACMD5, krb5.RC4HMAC, 6,
			"F7D3A155AF5E238A0B7A871A96BA2AB2", "EB38CC97E2230F59DA4117DC5859D7EC"},
	}
	for _, tt := range tests {
		k := mustKey(t, tt.e, hx(tt.key))
		got, err := k.MakeChecksum(tt.ct, tt.usage, []byte(tt.data))
		if err != nil || !bytes.Equal(got, hx(tt.sum)) {
			t.Errorf("%v over %q = %X, %v; want %s", tt.ct, tt.data, got, err, tt.sum)
		}
		if err := k.VerifyChecksum(tt.ct, tt.usage, []byte(tt.data), hx(tt.sum)); err != nil {
			t.Errorf("VerifyChecksum(%v): %v", tt.ct, err)
		}
	}
}

// MIT krb5's src/lib/crypto/crypto_tests/t_prf.c.
func TestPRFMIT(t *testing.T) {
	tests := []struct {
		e       krb5.EncType
		key, in string
		want    string
	}{
		{krb5.AES128CTSHMACSHA196, "AE272E7CDEC86AC5138CDB196D8E297D", "0161", "77B39A37A868920F2A51F9DD150C5717"},
		{krb5.AES128CTSHMACSHA196, "67AB1CFEF35E4C27FFDEAC60385A3E9C", "0162", "E06C0DD31FF02091994F2EF5178BFE3D"},
		{krb5.AES256CTSHMACSHA196, "C01F157211F7B77EAAF457C3E156690127EE127D810BA6392E97BAA243EB0616", "0161", "B2628C788E2E9C4A9BB4644678C29F2F"},
		{krb5.AES256CTSHMACSHA196, "C01F157211F7B77EAAF457C3E156690127EE127D810BA6392E97BAA243EB0616", "0261", "B406373350CEE8A6126F4A9B65A0CD21"},
		{krb5.AES256CTSHMACSHA196, "9D520D2D980AA7CB6B693682B62DA258B333867951642CE647AE62B1E5E0B5E9", "0162", "FF0E289EA756C0559A0E911856961A49"},
		{krb5.AES256CTSHMACSHA196, "9D520D2D980AA7CB6B693682B62DA258B333867951642CE647AE62B1E5E0B5E9", "0262", "0D674DD0F9A6806525A4D92E828BD15A"},
	}
	for _, tt := range tests {
		k := mustKey(t, tt.e, hx(tt.key))
		got, err := k.PRF(hx(tt.in))
		if err != nil || !bytes.Equal(got, hx(tt.want)) {
			t.Errorf("%v PRF(%s) = %X, %v; want %s", tt.e, tt.in, got, err, tt.want)
		}
	}
}

// MIT krb5's src/lib/crypto/crypto_tests/t_cf2.{in,expected}: keys from
// string-to-key of "key1" and "key2" (each its own salt, default
// parameters), peppers "a" and "b".
func TestCF2MIT(t *testing.T) {
	tests := []struct {
		e    krb5.EncType
		want string
	}{
		{krb5.AES128CTSHMACSHA196, "97df97e4b798b29eb31ed7280287a92a"},
		{krb5.AES256CTSHMACSHA196, "4d6ca4e629785c1f01baf55e2e548566b9617ae3a96868c337cb93b5e72b1c7b"},
		{krb5.RC4HMAC, "24d7f6b6bae4e5c00d2082c5ebab3672"},
		{krb5.AES128CTSHMACSHA256128, "edd02a39d2dbde31611c16e610be062c"},
		{krb5.AES256CTSHMACSHA384192, "67f6ea530aea85a37dcbb23349ea52dcc61ca8493ff557252327fd8304341584"},
	}
	for _, tt := range tests {
		k1, err := StringToKey(tt.e, "key1", "key1", nil)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := StringToKey(tt.e, "key2", "key2", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := CF2(k1, k2, "a", "b")
		if err != nil || got.EncType() != tt.e || !bytes.Equal(got.Material(), hx(tt.want)) {
			t.Errorf("%v CF2 = %v %x, %v; want %s", tt.e, got.EncType(), got.Material(), err, tt.want)
		}
	}
}

// TestStringToKeySecret: the buffer form leaves the buffer as it was and
// gives the string form's key for every type (the string form is checked
// against the RFCs' vectors); for rc4-hmac its UTF-16LE encoding, rune by
// rune, matches the standard library's for non-ASCII and astral-plane
// passwords; this package's PBKDF2 matches the standard library's.
func TestStringToKeySecret(t *testing.T) {
	for _, e := range []krb5.EncType{krb5.AES128CTSHMACSHA196, krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA256128, krb5.AES256CTSHMACSHA384192, krb5.RC4HMAC} {
		for _, pw := range []string{"password", "pässwörd", "\U0001D11E clef", "x", "bad \xff utf-8"} {
			want, err := StringToKey(e, pw, "EXAMPLE.TESTalice", nil)
			if err != nil {
				t.Fatal(err)
			}
			buf := []byte(pw)
			got, err := StringToKeySecret(e, buf, "EXAMPLE.TESTalice", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) || string(buf) != pw {
				t.Errorf("%v %q: the buffer form differs, or changed the buffer to %q", e, pw, buf)
			}
			if e != krb5.RC4HMAC {
				continue
			}
			var u16 []byte
			for _, c := range utf16.Encode([]rune(pw)) {
				u16 = binary.LittleEndian.AppendUint16(u16, c)
			}
			h := md4.New()
			h.Write(u16)
			if !bytes.Equal(got.Material(), h.Sum(nil)) {
				t.Errorf("rc4-hmac %q: %x, want MD4 of the UTF-16LE password %x", pw, got.Material(), h.Sum(nil))
			}
		}
	}
	for _, n := range []int{1, 2, 4096} {
		want, err := pbkdf2.Key(sha1.New, "pässwörd", []byte("salt"), n, 45)
		if err != nil {
			t.Fatal(err)
		}
		if got := pbkdf2Key(sha1.New, []byte("pässwörd"), []byte("salt"), n, 45); !bytes.Equal(got, want) {
			t.Errorf("pbkdf2Key with %d iterations: %x, want %x", n, got, want)
		}
	}
}
