package crypto

import (
	"crypto/pbkdf2"
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
	tkey, err := pbkdf2.Key(func() hash.Hash { return p.pbkdf.new() }, password, saltp, int(iter), p.keySize)
	if err != nil {
		return nil, fmt.Errorf("crypto: %v string-to-key: %w", e, err)
	}
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
