package crypto

import (
	"bytes"
	"crypto/rc4"
	"fmt"
	"testing"

	"hop/krb5"
)

// RFC 4757 §3: the key is MD4 of the UTF-16LE password, the NT hash.
func TestStringToKeyRC4(t *testing.T) {
	tests := []struct{ pass, want string }{
		// RFC 4757 §3's example.
		{"foo", "ac 8e 65 7f 83 df 82 be ea 5d 43 bd af 78 00 cc"},
		// The well-known NT hash of "password".
		{"password", "8846f7eaee8fb117ad06bdd830b7586c"},
	}
	for _, tt := range tests {
		for _, params := range [][]byte{nil, iterParams(1), {1, 2}} {
			k, err := StringToKey(krb5.RC4HMAC, tt.pass, "IGNORED.SALTuser", params)
			if err != nil {
				t.Fatalf("StringToKey(%q): %v", tt.pass, err)
			}
			if got := k.Material(); !bytes.Equal(got, hx(tt.want)) {
				t.Errorf("StringToKey(rc4, %q) = %x, want %s", tt.pass, got, tt.want)
			}
		}
	}
}

// RFC 4757 §4 (with its erratum) maps usage 3 to message type 8 and 23 to
// 13; every other usage is its own type. So a usage-3 ciphertext opens as
// usage 8 and the reverse, and so for 23 and 13, while 9 stays 9.
func TestRC4UsageMap(t *testing.T) {
	k := testKey(t, krb5.RC4HMAC)
	pairs := []struct {
		a, b krb5.KeyUsage
		same bool
	}{
		{3, 8, true}, {23, 13, true}, {9, 8, false}, {3, 9, false}, {1, 2, false}, {22, 13, false},
	}
	for _, p := range pairs {
		ct, err := k.Encrypt(nil, p.a, []byte("as-rep"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = k.Decrypt(p.b, ct)
		if (err == nil) != p.same {
			t.Errorf("usage %d ciphertext under usage %d: err = %v, want same type %v", p.a, p.b, err, p.same)
		}
		s1, _ := k.MakeChecksum(krb5.CksumHMACMD5, p.a, []byte("x"))
		s2, _ := k.MakeChecksum(krb5.CksumHMACMD5, p.b, []byte("x"))
		if bytes.Equal(s1, s2) != p.same {
			t.Errorf("HMAC-MD5 usage %d vs %d equal = %v, want %v", p.a, p.b, !p.same, p.same)
		}
	}
}

// An encrypt/decrypt round trip with every usage Kerberos assigns, and a
// few beyond, for every type.
func TestRoundTripEveryUsage(t *testing.T) {
	usages := []krb5.KeyUsage{}
	for u := krb5.KeyUsage(0); u <= 64; u++ {
		usages = append(usages, u)
	}
	usages = append(usages, 1024, 1<<31, 1<<32-1)
	for _, e := range allETypes {
		k := testKey(t, e)
		for _, u := range usages {
			for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 200} {
				pt := bytes.Repeat([]byte{byte(u)}, n)
				ct, err := k.Encrypt(nil, u, pt)
				if err != nil {
					t.Fatalf("%v usage %d: Encrypt: %v", e, u, err)
				}
				if len(ct) != n+Overhead(e) {
					t.Fatalf("%v: ciphertext of %d bytes is %d, want %d", e, n, len(ct), n+Overhead(e))
				}
				got, err := k.Decrypt(u, ct)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%v usage %d len %d: Decrypt = %x, %v", e, u, n, got, err)
				}
				if _, err := k.Decrypt(u+1, ct); err != ErrIntegrity {
					t.Fatalf("%v: usage %d ciphertext opened as usage %d: %v", e, u, u+1, err)
				}
			}
		}
	}
}

// confounderOf recovers the confounder of a ciphertext, to show that
// Encrypt with that confounder reproduces it byte for byte.
func confounderOf(t *testing.T, k *Key, u krb5.KeyUsage, ct []byte) []byte {
	switch eng := k.s.eng.(type) {
	case *aesKey:
		n := len(ct) - eng.p.macSize
		out := make([]byte, n)
		var tmp [2 * blockSize]byte
		ctsDecrypt(eng.usage(u).ke, out, ct[:n], &tmp)
		return out[:blockSize]
	case *rc4Key:
		c, err := rc4.NewCipher(eng.usage(u).sum(ct[:rc4ChecksumSize]))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, rc4ConfounderSize)
		c.XORKeyStream(out, ct[rc4ChecksumSize:rc4Overhead])
		return out
	}
	t.Fatalf("engine %T", k.s.eng)
	return nil
}

func TestEncryptReproducesMIT(t *testing.T) {
	for i, tt := range mitDecrypt {
		k := mustKey(t, tt.e, hx(tt.key))
		want := hx(tt.ct)
		got, err := k.Encrypt(fixedRand(confounderOf(t, k, tt.usage, want)), tt.usage, []byte(tt.plain))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("#%d %v: Encrypt = %X, %v; want %X", i, tt.e, got, err, want)
		}
	}
}

// HMAC-MD5 (-138) takes any key (MS-PAC signs with it under AES keys too
// in old domains); only the key's material matters.
func TestHMACMD5AnyKey(t *testing.T) {
	rc4k := mustKey(t, krb5.RC4HMAC, hx("F7D3A155AF5E238A0B7A871A96BA2AB2"))
	want, err := rc4k.MakeChecksum(krb5.CksumHMACMD5, 6, []byte("seventeen eighteen nineteen twenty"))
	if err != nil {
		t.Fatal(err)
	}
	// An AES-128 key with the same 16 bytes gives the same checksum.
	aesk := mustKey(t, krb5.AES128CTSHMACSHA256128, hx("F7D3A155AF5E238A0B7A871A96BA2AB2"))
	got, err := aesk.MakeChecksum(krb5.CksumHMACMD5, 6, []byte("seventeen eighteen nineteen twenty"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("HMAC-MD5 with an AES key = %x, %v; want %x", got, err, want)
	}
	for _, e := range allETypes {
		k := testKey(t, e)
		sum, err := k.MakeChecksum(krb5.CksumHMACMD5, krb5.UsageKerbNonKerbCksumSalt, []byte("pac"))
		if err != nil || len(sum) != 16 {
			t.Fatalf("%v: HMAC-MD5 = %x, %v", e, sum, err)
		}
		if err := k.VerifyChecksum(krb5.CksumHMACMD5, krb5.UsageKerbNonKerbCksumSalt, []byte("pac"), sum); err != nil {
			t.Errorf("%v: verify HMAC-MD5: %v", e, err)
		}
	}
}

func ExampleStringToKey() {
	k, err := StringToKey(krb5.RC4HMAC, "password", "", nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v %x\n", k, k.Material())
	// Output: crypto.Key(arcfour-hmac) 8846f7eaee8fb117ad06bdd830b7586c
}
