package crypto

import (
	"crypto/hmac"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/md4"

	"hop/krb5"
)

// RFC 4757 §6: a 16-octet checksum and an 8-octet confounder head the
// ciphertext.
const (
	rc4ChecksumSize   = 16
	rc4ConfounderSize = 8
	rc4Overhead       = rc4ChecksumSize + rc4ConfounderSize
)

// msUsage maps a Kerberos key usage to the message type T of RFC 4757 §4,
// with the erratum that leaves usage 9 alone (MIT krb5's
// krb5int_arcfour_translate_usage and impacket agree).
func msUsage(u krb5.KeyUsage) uint32 {
	switch u {
	case krb5.UsageASRepEncPart: // 3: the AS-REP encrypted part uses T=8
		return 8
	case krb5.UsageAcceptorSign: // 23: GSS wrap signing uses T=13
		return 13
	}
	return uint32(u)
}

// rc4Key is the engine of rc4-hmac (RFC 4757).
type rc4Key struct {
	k      []byte
	kh     *hmacKey // HMAC-MD5 keyed with K
	usages usageCache[hmacKey]
	prfK   atomic.Pointer[hmacKey] // HMAC-SHA1 keyed with K
}

func newRC4Key(material []byte) *rc4Key {
	return &rc4Key{k: material, kh: newHMACKey(algMD5, material)}
}

func (r *rc4Key) material() []byte { return r.k }

// usage returns K1 = HMAC(K, T) of RFC 4757 §6, as an HMAC-MD5 key.
func (r *rc4Key) usage(u krb5.KeyUsage) *hmacKey { return r.usages.get(u, r.derive) }

func (r *rc4Key) derive(u krb5.KeyUsage) *hmacKey {
	var t [4]byte
	binary.LittleEndian.PutUint32(t[:], msUsage(u))
	k1 := r.kh.sum(t[:])
	h := newHMACKey(algMD5, k1)
	clear(k1)
	return h
}

func (r *rc4Key) encrypt(rand io.Reader, u krb5.KeyUsage, plaintext []byte) ([]byte, error) {
	out := make([]byte, rc4Overhead+len(plaintext))
	body := out[rc4ChecksumSize:] // confounder | data
	if _, err := io.ReadFull(rand, body[:rc4ConfounderSize]); err != nil {
		return nil, fmt.Errorf("crypto: read confounder: %w", err)
	}
	copy(body[rc4ConfounderSize:], plaintext)
	k1 := r.usage(u)
	s := algMD5.get()
	copy(out[:rc4ChecksumSize], k1.mac(s, body)) // checksum = HMAC(K2 = K1, edata)
	k3 := k1.mac(s, out[:rc4ChecksumSize])       // K3 = HMAC(K1, checksum)
	c, err := rc4.NewCipher(k3)
	algMD5.put(s)
	if err != nil {
		return nil, fmt.Errorf("crypto: rc4: %w", err)
	}
	c.XORKeyStream(body, body)
	return out, nil
}

func (r *rc4Key) decrypt(u krb5.KeyUsage, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < rc4Overhead {
		return nil, ErrIntegrity
	}
	sum, body := ciphertext[:rc4ChecksumSize], ciphertext[rc4ChecksumSize:]
	k1 := r.usage(u)
	s := algMD5.get()
	defer algMD5.put(s)
	c, err := rc4.NewCipher(k1.mac(s, sum))
	if err != nil {
		return nil, ErrIntegrity
	}
	out := make([]byte, len(body))
	c.XORKeyStream(out, body)
	if !hmac.Equal(k1.mac(s, out), sum) {
		clear(out)
		return nil, ErrIntegrity
	}
	return out[rc4ConfounderSize:], nil
}

func (r *rc4Key) prf(data []byte) []byte {
	h := r.prfK.Load()
	if h == nil {
		r.prfK.CompareAndSwap(nil, newHMACKey(algSHA1, r.k))
		h = r.prfK.Load()
	}
	return h.sum(data)
}

// rc4StringToKey is MD4 of the UTF-16LE password (RFC 4757 §3), the NT hash.
func rc4StringToKey(password []byte) []byte {
	// UTF-16LE, rune by rune, into one buffer that is zeroed: no other
	// copy of the password is made.
	b := make([]byte, 0, 4*len(password))
	for rest := password; len(rest) > 0; {
		r, n := utf8.DecodeRune(rest)
		rest = rest[n:]
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			b = binary.LittleEndian.AppendUint16(b, uint16(r1))
			b = binary.LittleEndian.AppendUint16(b, uint16(r2))
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	h := md4.New()
	h.Write(b)
	clear(b[:cap(b)])
	return h.Sum(nil)
}
