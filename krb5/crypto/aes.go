package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"

	"hop/krb5"
)

// zeroIV is the initial cipher state of the AES types (RFC 3961 §5.3,
// RFC 8009 §5): all zero. Read-only.
var zeroIV [blockSize]byte

// The well-known constants' last octet (RFC 3961 §5.3, RFC 8009 §5).
const (
	constKc = 0x99
	constKe = 0xAA
	constKi = 0x55
)

// aesKey is the engine of the four AES types; p.kind tells RFC 3962's
// MAC-then-encrypt over the plaintext from RFC 8009's encrypt-then-MAC over
// the IV and ciphertext.
type aesKey struct {
	p      *profile
	key    []byte       // the protocol (base) key
	base   cipher.Block // RFC 3962: DR encrypts with the base key
	baseH  *hmacKey     // RFC 8009: the KDF is an HMAC with the base key
	usages usageCache[aesUsage]
	prfK   atomic.Pointer[cipher.Block] // RFC 3962: DK(key, "prf")
}

// aesUsage holds the three keys of one usage (RFC 3961 §5.3).
type aesUsage struct {
	ke     cipher.Block
	ki, kc *hmacKey
}

func newAESKey(p *profile, material []byte) (*aesKey, error) {
	k := &aesKey{p: p, key: material}
	if p.kind == kindAESSHA2 {
		k.baseH = newHMACKey(p.mac, material)
		return k, nil
	}
	b, err := aes.NewCipher(material)
	if err != nil {
		return nil, fmt.Errorf("crypto: %v key: %w", p.etype, err)
	}
	k.base = b
	return k, nil
}

// dk is DK(Key, Constant) of RFC 3961 §5.1 for AES, whose random-to-key is
// the identity: the constant, n-folded to a block, is encrypted, and the
// output fed back, until n bytes are made.
func dk(b cipher.Block, constant []byte, n int) []byte {
	blk := constant
	if len(blk) != blockSize {
		blk = nfold(constant, blockSize)
	}
	out := make([]byte, 0, n+blockSize)
	for len(out) < n {
		next := make([]byte, blockSize)
		b.Encrypt(next, blk)
		out = append(out, next...)
		blk = next
	}
	return out[:n]
}

// kdf is KDF-HMAC-SHA2(key, label, [context,] k) of RFC 8009 §3: the first
// k bits of HMAC(key, 00000001 | label | 00 | context | k). k never
// exceeds the hash size here, so one block is enough.
func kdf(h *hmacKey, label, context []byte, bits int) []byte {
	var i, l [4]byte
	binary.BigEndian.PutUint32(i[:], 1)
	binary.BigEndian.PutUint32(l[:], uint32(bits))
	return h.sum(i[:], label, []byte{0}, context, l[:])[:bits/8]
}

func usageConstant(u krb5.KeyUsage, c byte) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 5), uint32(u))
	return append(b, c)
}

func (k *aesKey) material() []byte { return k.key }

func (k *aesKey) usage(u krb5.KeyUsage) *aesUsage { return k.usages.get(u, k.derive) }

func (k *aesKey) derive(u krb5.KeyUsage) *aesUsage {
	var ke, ki, kc []byte
	if k.p.kind == kindAESSHA2 {
		kc = kdf(k.baseH, usageConstant(u, constKc), nil, k.p.kcBits)
		ke = kdf(k.baseH, usageConstant(u, constKe), nil, k.p.keBits)
		ki = kdf(k.baseH, usageConstant(u, constKi), nil, k.p.kiBits)
	} else {
		kc = dk(k.base, usageConstant(u, constKc), k.p.keySize)
		ke = dk(k.base, usageConstant(u, constKe), k.p.keySize)
		ki = dk(k.base, usageConstant(u, constKi), k.p.keySize)
	}
	b, err := aes.NewCipher(ke)
	if err != nil {
		// ke is 16 or 32 bytes by construction.
		panic("crypto: derived AES key: " + err.Error())
	}
	uk := &aesUsage{ke: b, ki: newHMACKey(k.p.mac, ki), kc: newHMACKey(k.p.mac, kc)}
	clear(ke)
	clear(ki)
	clear(kc)
	return uk
}

func (k *aesKey) encrypt(rand io.Reader, u krb5.KeyUsage, plaintext []byte) ([]byte, error) {
	h := k.p.macSize
	n := blockSize + len(plaintext)
	out := make([]byte, n+h)
	if _, err := io.ReadFull(rand, out[:blockSize]); err != nil {
		return nil, fmt.Errorf("crypto: read confounder: %w", err)
	}
	copy(out[blockSize:], plaintext)
	uk := k.usage(u)
	s := k.p.mac.get()
	if k.p.kind == kindAESSHA2 {
		// RFC 8009 §5: C = E(Ke, conf | plaintext); H = HMAC(Ki, IV | C).
		ctsEncrypt(uk.ke, out[:n], &s.blk)
		copy(out[n:], uk.ki.mac(s, zeroIV[:], out[:n])[:h])
	} else {
		// RFC 3961 §5.3: H = HMAC(Ki, conf | plaintext); C = E(Ke, ...).
		copy(out[n:], uk.ki.mac(s, out[:n])[:h])
		ctsEncrypt(uk.ke, out[:n], &s.blk)
	}
	k.p.mac.put(s)
	return out, nil
}

func (k *aesKey) decrypt(u krb5.KeyUsage, ciphertext []byte) ([]byte, error) {
	h := k.p.macSize
	if len(ciphertext) < blockSize+h {
		return nil, ErrIntegrity
	}
	n := len(ciphertext) - h
	c, mac := ciphertext[:n], ciphertext[n:]
	uk := k.usage(u)
	s := k.p.mac.get()
	defer k.p.mac.put(s)
	if k.p.kind == kindAESSHA2 {
		if !hmac.Equal(uk.ki.mac(s, zeroIV[:], c)[:h], mac) {
			return nil, ErrIntegrity
		}
		out := make([]byte, n)
		ctsDecrypt(uk.ke, out, c, &s.blk)
		return out[blockSize:], nil
	}
	out := make([]byte, n)
	ctsDecrypt(uk.ke, out, c, &s.blk)
	if !hmac.Equal(uk.ki.mac(s, out)[:h], mac) {
		clear(out)
		return nil, ErrIntegrity
	}
	return out[blockSize:], nil
}

// mic is HMAC(Kc, data) truncated to h (RFC 3961 §5.4, RFC 8009 §5).
func (k *aesKey) mic(u krb5.KeyUsage, data []byte) []byte {
	uk := k.usage(u)
	s := k.p.mac.get()
	out := append([]byte(nil), uk.kc.mac(s, data)[:k.p.macSize]...)
	k.p.mac.put(s)
	return out
}

func (k *aesKey) prf(data []byte) []byte {
	if k.p.kind == kindAESSHA2 {
		// RFC 8009 §5: KDF-HMAC-SHA2(base-key, "prf", octet-string, 256|384).
		return kdf(k.baseH, []byte("prf"), data, k.p.prfSize*8)
	}
	// RFC 3961 §5.3: E(DK(key, "prf"), truncate(H(octet-string), m)); the
	// SHA-1 digest truncated to one block is a single ECB block.
	bp := k.prfK.Load()
	if bp == nil {
		kb := dk(k.base, []byte("prf"), k.p.keySize)
		b, err := aes.NewCipher(kb)
		clear(kb)
		if err != nil {
			panic("crypto: derived AES key: " + err.Error())
		}
		k.prfK.CompareAndSwap(nil, &b)
		bp = k.prfK.Load()
	}
	s := algSHA1.get()
	out := make([]byte, blockSize)
	(*bp).Encrypt(out, algSHA1.digest(s, data)[:blockSize])
	algSHA1.put(s)
	return out
}
