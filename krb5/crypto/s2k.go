package crypto

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"hash"

	"hop/krb5"
)

// MaxIterations bounds the PBKDF2 iteration count StringToKey accepts in
// string-to-key parameters, which a KDC sends and an attacker can forge
// (RFC 3962 §4 lets a client refuse large counts). At 1<<24 a derivation
// takes seconds, not hours.
const MaxIterations = 1 << 24

// StringToKey derives the key of type e from a password and salt.
//
// For the AES types s2kparams is the 4-octet big-endian iteration count
// (RFC 3962 §4, RFC 8009 §4); nil or empty means the default, 4096 for 17
// and 18, 32768 for 19 and 20. Counts of zero (which RFC 3962 reads as
// 2^32) or above MaxIterations are refused. For rc4-hmac the key is MD4 of
// the UTF-16LE password (RFC 4757 §3); salt and parameters are ignored.
func StringToKey(e krb5.EncType, password, salt string, s2kparams []byte) (*Key, error) {
	pw := []byte(password)
	defer clear(pw)
	return StringToKeySecret(e, pw, salt, s2kparams)
}

// StringToKeySecret is StringToKey with the password in a buffer the
// caller owns and zeroes: no copy of it is left in memory (the string
// form cannot be zeroed).
func StringToKeySecret(e krb5.EncType, password []byte, salt string, s2kparams []byte) (*Key, error) {
	p := lookup(e)
	if p == nil {
		return nil, unsupportedEType(e)
	}
	if p.kind == kindRC4 {
		m := rc4StringToKey(password)
		defer clear(m)
		return NewKey(e, m)
	}
	iter := p.defaultIter
	if len(s2kparams) != 0 {
		if len(s2kparams) != 4 {
			return nil, fmt.Errorf("crypto: %v string-to-key parameters must be a 4-octet iteration count, got %d octets", e, len(s2kparams))
		}
		iter = binary.BigEndian.Uint32(s2kparams)
		if iter == 0 || iter > MaxIterations {
			return nil, fmt.Errorf("crypto: %v string-to-key iteration count %d refused: hop accepts 1 to %d", e, iter, MaxIterations)
		}
	}
	saltp := []byte(salt)
	if p.kind == kindAESSHA2 {
		// RFC 8009 §4: saltp = enctype-name | 0x00 | salt.
		saltp = append(append([]byte(p.name), 0), salt...)
	}
	tkey := pbkdf2Key(func() hash.Hash { return p.pbkdf.new() }, password, saltp, int(iter), p.keySize)
	defer clear(tkey)
	var m []byte
	if p.kind == kindAESSHA2 {
		// RFC 8009 §4: key = KDF-HMAC-SHA2(tkey, "kerberos", keylength).
		m = kdf(newHMACKey(p.mac, tkey), []byte("kerberos"), nil, p.keySize*8)
	} else {
		// RFC 3962 §4: key = DK(tkey, "kerberos").
		b, err := newAESKey(p, tkey)
		if err != nil {
			return nil, err
		}
		m = dk(b.base, []byte("kerberos"), p.keySize)
	}
	defer clear(m)
	return NewKey(e, m)
}

// pbkdf2Key is PBKDF2 (RFC 8018 §5.2) with HMAC over h, keyed with the
// password buffer itself: crypto/pbkdf2 takes the password as a string,
// whose copies cannot be zeroed. HMAC keeps the key only XORed with its
// pads.
func pbkdf2Key(h func() hash.Hash, password, salt []byte, iter, keyLen int) []byte {
	prf := hmac.New(h, password)
	hashLen := prf.Size()
	blocks := (keyLen + hashLen - 1) / hashLen
	out := make([]byte, 0, blocks*hashLen)
	var buf [4]byte
	u := make([]byte, 0, hashLen)
	t := make([]byte, hashLen)
	for block := 1; block <= blocks; block++ {
		prf.Reset()
		prf.Write(salt)
		binary.BigEndian.PutUint32(buf[:], uint32(block))
		prf.Write(buf[:])
		u = prf.Sum(u[:0])
		copy(t, u)
		for n := 2; n <= iter; n++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t...)
	}
	clear(u)
	clear(t)
	return out[:keyLen]
}
