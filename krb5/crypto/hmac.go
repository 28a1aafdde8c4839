package crypto

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"hash"
	"sync"
)

// hashAlg is one hash function with a pool of ready hash states, so that
// a MAC on the hot path allocates nothing.
type hashAlg struct {
	new   func() hash.Hash
	size  int // output size in bytes
	block int // block size in bytes
	pool  sync.Pool
}

var (
	algMD5    = newHashAlg(md5.New)
	algSHA1   = newHashAlg(sha1.New)
	algSHA256 = newHashAlg(sha256.New)
	algSHA384 = newHashAlg(sha512.New384)
)

func newHashAlg(f func() hash.Hash) *hashAlg {
	h := f()
	a := &hashAlg{new: f, size: h.Size(), block: h.BlockSize()}
	a.pool.New = func() any {
		h := a.new()
		return &hashState{h: h, u: h.(encoding.BinaryUnmarshaler)}
	}
	return a
}

// hashState is a pooled hash with scratch room for one digest and for two
// cipher blocks, so that neither escapes to the heap per call.
type hashState struct {
	h   hash.Hash
	u   encoding.BinaryUnmarshaler
	buf [64]byte // digest scratch (SHA-384 needs 48)
	blk [2 * blockSize]byte
}

func (a *hashAlg) get() *hashState { return a.pool.Get().(*hashState) }

func (a *hashAlg) put(s *hashState) {
	clear(s.buf[:])
	clear(s.blk[:])
	a.pool.Put(s)
}

// digest returns the plain hash of the concatenation of parts, in s.buf.
func (a *hashAlg) digest(s *hashState, parts ...[]byte) []byte {
	s.h.Reset()
	for _, p := range parts {
		s.h.Write(p)
	}
	return s.h.Sum(s.buf[:0])
}

// hmacKey is an HMAC key (RFC 2104) kept as the hash states after the
// inner and outer pads, the way crypto/hmac keeps them after its first
// use; restoring a state is a copy, so a MAC costs the hashing alone.
type hmacKey struct {
	alg          *hashAlg
	inner, outer []byte // marshaled hash states
}

func newHMACKey(alg *hashAlg, key []byte) *hmacKey {
	pad := make([]byte, alg.block)
	if len(key) > alg.block {
		h := alg.new()
		h.Write(key)
		key = h.Sum(nil)
	}
	state := func(x byte) []byte {
		clear(pad)
		copy(pad, key)
		for i := range pad {
			pad[i] ^= x
		}
		h := alg.new()
		h.Write(pad)
		b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			panic("crypto: hash state cannot be saved: " + err.Error())
		}
		return b
	}
	k := &hmacKey{alg: alg, inner: state(0x36), outer: state(0x5c)}
	clear(pad)
	return k
}

// mac returns HMAC(key, parts...) in s.buf; it stays valid until s is
// used again or returned to its pool.
func (k *hmacKey) mac(s *hashState, parts ...[]byte) []byte {
	if err := s.u.UnmarshalBinary(k.inner); err != nil {
		panic("crypto: hash state cannot be restored: " + err.Error())
	}
	for _, p := range parts {
		s.h.Write(p)
	}
	in := s.h.Sum(s.buf[:0])
	if err := s.u.UnmarshalBinary(k.outer); err != nil {
		panic("crypto: hash state cannot be restored: " + err.Error())
	}
	s.h.Write(in)
	return s.h.Sum(s.buf[:0])
}

// sum is mac with a state of its own, for code off the hot path; the
// result is a fresh slice.
func (k *hmacKey) sum(parts ...[]byte) []byte {
	s := k.alg.get()
	out := append([]byte(nil), k.mac(s, parts...)...)
	k.alg.put(s)
	return out
}
