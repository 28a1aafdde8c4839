package crypto

import (
	"crypto/cipher"
	"crypto/subtle"
)

const blockSize = 16 // the AES block size, RFC 3962 §6

// ctsEncrypt encrypts buf in place with AES in CBC mode with ciphertext
// stealing and an all-zero initial vector (RFC 3962 §5): the last two
// blocks are always swapped, a partial last block steals from the one
// before, and a single block is plain ECB. len(buf) must be at least one
// block, which the confounder guarantees. tmp is scratch.
func ctsEncrypt(b cipher.Block, buf []byte, tmp *[2 * blockSize]byte) {
	n := len(buf)
	if n == blockSize {
		b.Encrypt(buf, buf)
		return
	}
	// m blocks, the last of r bytes (1..16).
	m := (n + blockSize - 1) / blockSize
	r := n - (m-1)*blockSize
	// Plain CBC over the first m-1 (full) blocks.
	for i := 0; i < m-1; i++ {
		blk := buf[i*blockSize : (i+1)*blockSize]
		if i > 0 {
			xorInto(blk, buf[(i-1)*blockSize:i*blockSize])
		}
		b.Encrypt(blk, blk)
	}
	prev := buf[(m-2)*blockSize : (m-1)*blockSize] // C(m-1)
	last := buf[(m-1)*blockSize:]                  // Pm, r bytes
	x := tmp[:blockSize]
	copy(x, prev)
	xorInto(x[:r], last) // (Pm | 0...) XOR C(m-1)
	copy(last, prev[:r]) // C(m-1), stolen, goes last
	b.Encrypt(prev, x)   // Cm takes the next-to-last place
	clear(x)
}

// ctsDecrypt decrypts src into dst (len(dst) == len(src) >= one block);
// the inverse of ctsEncrypt. tmp is scratch.
func ctsDecrypt(b cipher.Block, dst, src []byte, tmp *[2 * blockSize]byte) {
	n := len(src)
	if n == blockSize {
		b.Decrypt(dst, src)
		return
	}
	m := (n + blockSize - 1) / blockSize
	r := n - (m-1)*blockSize
	// Plain CBC over the first m-2 blocks.
	for i := 0; i < m-2; i++ {
		d := dst[i*blockSize : (i+1)*blockSize]
		b.Decrypt(d, src[i*blockSize:(i+1)*blockSize])
		if i > 0 {
			xorInto(d, src[(i-1)*blockSize:i*blockSize])
		}
	}
	cm := src[(m-2)*blockSize : (m-1)*blockSize] // Cm
	tail := src[(m-1)*blockSize:]                // C(m-1)[:r]
	x, c := tmp[:blockSize], tmp[blockSize:]
	b.Decrypt(x, cm) // (Pm | 0...) XOR C(m-1)
	copy(c, tail)    // rebuild C(m-1): its head was sent last,
	copy(c[r:], x[r:])
	out := dst[(m-1)*blockSize:]
	subtle.XORBytes(out, x[:r], tail) // its tail is what Pm's padding left in x
	d := dst[(m-2)*blockSize : (m-1)*blockSize]
	b.Decrypt(d, c)
	if m > 2 {
		xorInto(d, src[(m-3)*blockSize:(m-2)*blockSize])
	}
	clear(tmp[:])
}

// xorInto sets dst[i] ^= src[i] for every i in dst.
func xorInto(dst, src []byte) { subtle.XORBytes(dst, dst, src[:len(dst)]) }
