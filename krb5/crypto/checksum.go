package crypto

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"

	"hop/krb5"
)

// ChecksumSize returns the length of a keyed checksum type this package
// computes (15 and 16: 12; 19: 16; 20: 24; -138: 16).
func ChecksumSize(t krb5.ChecksumType) (int, bool) {
	switch t {
	case krb5.CksumHMACSHA196AES128, krb5.CksumHMACSHA196AES256:
		return 12, true
	case krb5.CksumHMACSHA256128AES128:
		return 16, true
	case krb5.CksumHMACSHA384192AES256:
		return 24, true
	case krb5.CksumHMACMD5:
		return 16, true
	}
	return 0, false
}

// ChecksumType returns the mandatory keyed checksum of the key's type
// (RFC 3962 §7, RFC 8009 §8, RFC 4757 §5): 15, 16, 19, 20, or -138 for RC4.
func (k *Key) ChecksumType() krb5.ChecksumType {
	if k == nil || k.p == nil {
		return 0
	}
	return k.p.cksum
}

// MakeChecksum computes a keyed checksum of data for usage. Types 15, 16,
// 19 and 20 need a key of their own encryption type (17, 18, 19, 20;
// RFC 3962 §7, RFC 8009 §8); HMAC-MD5 (-138, RFC 4757 §5) takes any key,
// as MS-PAC signatures do. An unkeyed type (CRC32, MD4, MD5, SHA-1) is
// refused with an error wrapping krb5.KRBAPErrInappCksum.
func (k *Key) MakeChecksum(t krb5.ChecksumType, usage krb5.KeyUsage, data []byte) ([]byte, error) {
	if err := k.ok(); err != nil {
		return nil, err
	}
	switch {
	case t == krb5.CksumHMACMD5:
		return k.s.hmacMD5(usage, data), nil
	case t == k.p.cksum:
		return k.s.eng.(*aesKey).mic(usage, data), nil
	}
	return nil, k.checksumTypeError(t)
}

// VerifyChecksum checks a keyed checksum made by MakeChecksum, comparing
// in constant time. A wrong checksum yields an error wrapping
// krb5.KRBAPErrModified; a type that does not fit the key, one wrapping
// krb5.KRBAPErrInappCksum.
func (k *Key) VerifyChecksum(t krb5.ChecksumType, usage krb5.KeyUsage, data, sum []byte) error {
	want, err := k.MakeChecksum(t, usage, data)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, sum) {
		return fmt.Errorf("crypto: %v checksum does not match: %w", t, krb5.KRBAPErrModified)
	}
	return nil
}

// keyedFor is the encryption type whose keys the RFC 3962 and RFC 8009
// checksum types take.
var keyedFor = map[krb5.ChecksumType]krb5.EncType{
	krb5.CksumHMACSHA196AES128:    krb5.AES128CTSHMACSHA196,
	krb5.CksumHMACSHA196AES256:    krb5.AES256CTSHMACSHA196,
	krb5.CksumHMACSHA256128AES128: krb5.AES128CTSHMACSHA256128,
	krb5.CksumHMACSHA384192AES256: krb5.AES256CTSHMACSHA384192,
}

// isUnkeyed reports the unkeyed checksum types of RFC 3961 §8: CRC32 (1),
// rsa-md4 (2), rsa-md5 (7) and sha1 (10, 14). Anyone can compute them, so
// they never protect anything here.
func isUnkeyed(t krb5.ChecksumType) bool {
	switch t {
	case 1, 2, krb5.CksumRSAMD5, 10, 14:
		return true
	}
	return false
}

func (k *Key) checksumTypeError(t krb5.ChecksumType) error {
	if e, ok := keyedFor[t]; ok {
		return fmt.Errorf("crypto: checksum type %v needs a %v key, not %v: %w", t, e, k.p.etype, krb5.KRBAPErrInappCksum)
	}
	if isUnkeyed(t) {
		return fmt.Errorf("crypto: checksum type %v is unkeyed and proves nothing: %w", t, krb5.KRBAPErrInappCksum)
	}
	return fmt.Errorf("%w: checksum type %v: %w", ErrUnsupported, t, krb5.KDCErrSumTypeNoSupp)
}

// hmacMD5 is the KERB_CHECKSUM_HMAC_MD5 checksum of RFC 4757 §5:
//
//	Ksign = HMAC(K, "signaturekey\0")
//	CHKSUM = HMAC(Ksign, MD5(T | data))
//
// with T the (mapped) usage as four little-endian octets.
func (s *keyState) hmacMD5(u krb5.KeyUsage, data []byte) []byte {
	ks := s.ksign.Load()
	if ks == nil {
		kb := newHMACKey(algMD5, s.eng.material()).sum([]byte("signaturekey\x00"))
		s.ksign.CompareAndSwap(nil, newHMACKey(algMD5, kb))
		clear(kb)
		ks = s.ksign.Load()
	}
	st := algMD5.get()
	t := st.blk[:4]
	binary.LittleEndian.PutUint32(t, msUsage(u))
	tmp := algMD5.digest(st, t, data)
	out := append([]byte(nil), ks.mac(st, tmp)...)
	algMD5.put(st)
	return out
}
