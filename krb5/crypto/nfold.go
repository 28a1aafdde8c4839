package crypto

// nfold stretches or folds in to n bytes as RFC 3961 §5.1 defines it: the
// input is repeated, each repetition rotated right by 13 more bits than the
// one before, to the least common multiple of the two lengths, and the
// n-byte chunks are added with one's-complement (end-around carry)
// addition. It runs only when a key is derived, never per message.
func nfold(in []byte, n int) []byte {
	k := len(in)
	if k == 0 || n == 0 {
		return make([]byte, n)
	}
	l := lcm(k, n)
	buf := make([]byte, l)
	bits := k * 8
	for r := 0; r < l/k; r++ {
		rot := (13 * r) % bits
		dst := buf[r*k : (r+1)*k]
		// Output bit j of the rotated copy is input bit (j - rot) mod bits,
		// bits numbered from the most significant bit of the first byte.
		for j := 0; j < bits; j++ {
			src := (j - rot + bits) % bits
			if in[src/8]&(0x80>>(src%8)) != 0 {
				dst[j/8] |= 0x80 >> (j % 8)
			}
		}
	}
	out := make([]byte, n)
	for c := 0; c < l; c += n {
		var carry uint
		for i := n - 1; i >= 0; i-- {
			s := uint(out[i]) + uint(buf[c+i]) + carry
			out[i] = byte(s)
			carry = s >> 8
		}
		// End-around carry; adding it back can carry again only once.
		for carry != 0 {
			for i := n - 1; i >= 0 && carry != 0; i-- {
				s := uint(out[i]) + carry
				out[i] = byte(s)
				carry = s >> 8
			}
		}
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }
