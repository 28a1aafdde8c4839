package crypto

import (
	"bytes"
	"errors"
	"testing"

	"hop/krb5"
)

// fuzzKeys are the fixed keys the fuzz targets use, one per type.
func fuzzKeys(t testing.TB) []*Key {
	keys := make([]*Key, len(allETypes))
	for i, e := range allETypes {
		keys[i] = testKey(t, e)
	}
	return keys
}

// FuzzDecrypt feeds arbitrary bytes to Decrypt under every type's key.
// Decrypt must not panic, must answer exactly ErrIntegrity or a plaintext
// Overhead bytes shorter, and a plaintext it returns must come back from a
// fresh Encrypt/Decrypt round trip.
func FuzzDecrypt(f *testing.F) {
	keys := fuzzKeys(f)
	f.Add(uint32(0), []byte{})
	f.Add(uint32(2), []byte("short"))
	f.Add(uint32(3), bytes.Repeat([]byte{0xff}, 28))
	f.Add(uint32(1<<31), bytes.Repeat([]byte{0}, 64))
	for _, k := range keys {
		for _, n := range []int{0, 1, 16, 33} {
			ct, err := k.Encrypt(fixedRand(bytes.Repeat([]byte{0x42}, 16)), 2, bytes.Repeat([]byte{'a'}, n))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint32(2), ct)
		}
	}
	f.Fuzz(func(t *testing.T, usage uint32, ct []byte) {
		for _, k := range keys {
			pt, err := k.Decrypt(krb5.KeyUsage(usage), ct)
			if err != nil {
				if err != ErrIntegrity || pt != nil {
					t.Fatalf("%v: Decrypt = %x, %v; want nil, ErrIntegrity", k, pt, err)
				}
				continue
			}
			if len(pt) != len(ct)-Overhead(k.EncType()) {
				t.Fatalf("%v: %d-byte ciphertext gave %d-byte plaintext", k, len(ct), len(pt))
			}
			again, err := k.Encrypt(nil, krb5.KeyUsage(usage), pt)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := k.Decrypt(krb5.KeyUsage(usage), again); err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("%v: round trip of a decrypted plaintext failed: %v", k, err)
			}
		}
	})
}

// FuzzVerifyChecksum checks arbitrary checksums of arbitrary types under
// every type's key. It must not panic; it may accept only the checksum
// MakeChecksum makes, and every refusal must carry one of the documented
// causes.
func FuzzVerifyChecksum(f *testing.F) {
	keys := fuzzKeys(f)
	f.Add(int32(krb5.CksumHMACMD5), uint32(17), []byte("pac"), []byte{})
	f.Add(int32(krb5.CksumRSAMD5), uint32(6), []byte("body"), bytes.Repeat([]byte{1}, 16))
	f.Add(int32(krb5.CksumGSSAPI), uint32(10), []byte{}, []byte{0})
	for _, k := range keys {
		for _, ct := range []krb5.ChecksumType{k.ChecksumType(), krb5.CksumHMACMD5} {
			sum, err := k.MakeChecksum(ct, krb5.UsageKRBSafeCksum, []byte("KRB-SAFE"))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(int32(ct), uint32(krb5.UsageKRBSafeCksum), []byte("KRB-SAFE"), sum)
		}
	}
	f.Fuzz(func(t *testing.T, ctype int32, usage uint32, data, sum []byte) {
		ct, u := krb5.ChecksumType(ctype), krb5.KeyUsage(usage)
		for _, k := range keys {
			err := k.VerifyChecksum(ct, u, data, sum)
			want, merr := k.MakeChecksum(ct, u, data)
			switch {
			case err == nil:
				if merr != nil || !bytes.Equal(want, sum) {
					t.Fatalf("%v accepted %v checksum %x; MakeChecksum = %x, %v", k, ct, sum, want, merr)
				}
			case errors.Is(err, krb5.KRBAPErrModified):
				if merr != nil || bytes.Equal(want, sum) {
					t.Fatalf("%v: modified, yet MakeChecksum = %x, %v", k, want, merr)
				}
			case errors.Is(err, krb5.KRBAPErrInappCksum), errors.Is(err, ErrUnsupported):
				if merr == nil {
					t.Fatalf("%v: %v refused (%v) but MakeChecksum works", k, ct, err)
				}
			default:
				t.Fatalf("%v: undocumented error %v", k, err)
			}
		}
	})
}
