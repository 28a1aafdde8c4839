package crypto

import (
	"fmt"
)

// CF2 is KRB-FX-CF2 of RFC 6113 §5.1, which combines two keys into one of
// k1's type: random-to-key(PRF+(k1, pepper1) XOR PRF+(k2, pepper2)), each
// PRF+ output cut to k1's key-generation seed length. FAST (RFC 6113 §5.4)
// makes its armor key with it.
func CF2(k1, k2 *Key, pepper1, pepper2 string) (*Key, error) {
	if err := k1.ok(); err != nil {
		return nil, err
	}
	if err := k2.ok(); err != nil {
		return nil, err
	}
	n := k1.p.keySize
	a := prfPlus(k1, []byte(pepper1), n)
	b := prfPlus(k2, []byte(pepper2), n)
	xorInto(a, b)
	k, err := NewKey(k1.p.etype, a)
	clear(a)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("crypto: cf2: %w", err)
	}
	return k, nil
}

// prfPlus is PRF+ of RFC 6113 §5.1: pseudo-random(key, 1 | s) |
// pseudo-random(key, 2 | s) | ..., the counter one octet, cut to n bytes.
func prfPlus(k *Key, s []byte, n int) []byte {
	out := make([]byte, 0, n+k.p.prfSize)
	in := make([]byte, 1+len(s))
	copy(in[1:], s)
	for i := 1; len(out) < n; i++ {
		in[0] = byte(i)
		out = append(out, k.s.eng.prf(in)...)
	}
	return out[:n]
}
