package crypto

import (
	"fmt"
	"testing"

	"hop/krb5"
)

var benchSizes = []int{200, 1024}

// BenchmarkEncrypt measures Encrypt with a warm key (derived keys cached),
// the confounder from crypto/rand as on the KDC's path.
func BenchmarkEncrypt(b *testing.B) {
	for _, e := range allETypes {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%v/%d", e, n), func(b *testing.B) {
				k := testKey(b, e)
				pt := make([]byte, n)
				if _, err := k.Encrypt(nil, krb5.UsageTicket, pt); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := k.Encrypt(nil, krb5.UsageTicket, pt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, e := range allETypes {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%v/%d", e, n), func(b *testing.B) {
				k := testKey(b, e)
				ct, err := k.Encrypt(nil, krb5.UsageTicket, make([]byte, n))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := k.Decrypt(krb5.UsageTicket, ct); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecryptParallel is Decrypt from every P at once on one shared
// key, the shape of a KDC opening krbtgt tickets.
func BenchmarkDecryptParallel(b *testing.B) {
	for _, e := range allETypes {
		b.Run(e.String(), func(b *testing.B) {
			k := testKey(b, e)
			ct, err := k.Encrypt(nil, krb5.UsageTicket, make([]byte, 1024))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(1024)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := k.Decrypt(krb5.UsageTicket, ct); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkChecksum is the keyed checksum of each type over 1 KiB (a PAC).
func BenchmarkChecksum(b *testing.B) {
	for _, e := range allETypes {
		b.Run(e.String(), func(b *testing.B) {
			k := testKey(b, e)
			data := make([]byte, 1024)
			b.SetBytes(1024)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.MakeChecksum(k.ChecksumType(), krb5.UsageKerbNonKerbCksumSalt, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSessionKey is the cost a fresh session key pays: NewKey and
// its first Encrypt (derivation of the usage keys included).
func BenchmarkSessionKey(b *testing.B) {
	for _, e := range allETypes {
		b.Run(e.String(), func(b *testing.B) {
			m := testKey(b, e).Material()
			pt := make([]byte, 200)
			b.ReportAllocs()
			for b.Loop() {
				k, err := NewKey(e, m)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := k.Encrypt(nil, krb5.UsageTGSRepEncPartSession, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
