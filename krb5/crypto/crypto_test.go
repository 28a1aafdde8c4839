package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"hop/krb5"
)

func TestTypeTables(t *testing.T) {
	tests := []struct {
		e          krb5.EncType
		size, over int
		pref       int
		cksum      krb5.ChecksumType
	}{
		// Overheads: a 16-byte confounder plus the truncated HMAC
		// (RFC 3962 §6: 12; RFC 8009 §5: 16, 24); RC4: 16 + 8 (RFC 4757 §6).
		{krb5.AES128CTSHMACSHA196, 16, 28, 2, krb5.CksumHMACSHA196AES128},
		{krb5.AES256CTSHMACSHA196, 32, 28, 3, krb5.CksumHMACSHA196AES256},
		{krb5.AES128CTSHMACSHA256128, 16, 32, 4, krb5.CksumHMACSHA256128AES128},
		{krb5.AES256CTSHMACSHA384192, 32, 40, 5, krb5.CksumHMACSHA384192AES256},
		{krb5.RC4HMAC, 16, 24, 1, krb5.CksumHMACMD5},
		{krb5.DES3CBCSHA1, 0, 0, 0, 0},
		{1, 0, 0, 0, 0},
		{-1, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		if got := Supported(tt.e); got != (tt.size != 0) {
			t.Errorf("Supported(%v) = %v", tt.e, got)
		}
		if got := KeySize(tt.e); got != tt.size {
			t.Errorf("KeySize(%v) = %d, want %d", tt.e, got, tt.size)
		}
		if got := Overhead(tt.e); got != tt.over {
			t.Errorf("Overhead(%v) = %d, want %d", tt.e, got, tt.over)
		}
		if got := Preference(tt.e); got != tt.pref {
			t.Errorf("Preference(%v) = %d, want %d", tt.e, got, tt.pref)
		}
		if tt.size == 0 {
			continue
		}
		k := testKey(t, tt.e)
		if k.ChecksumType() != tt.cksum || k.EncType() != tt.e {
			t.Errorf("%v key: ChecksumType %v, EncType %v", tt.e, k.ChecksumType(), k.EncType())
		}
	}
	want := []krb5.EncType{20, 19, 18, 17, 23}
	if got := EncTypes(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("EncTypes() = %v, want %v", got, want)
	}
	for n, tt := range map[krb5.ChecksumType]int{15: 12, 16: 12, 19: 16, 20: 24, -138: 16, 7: 0, 1: 0, 0x8003: 0} {
		if got, ok := ChecksumSize(n); got != tt || ok != (tt != 0) {
			t.Errorf("ChecksumSize(%v) = %d, %v", n, got, ok)
		}
	}
}

func TestNewKeyErrors(t *testing.T) {
	if _, err := NewKey(krb5.AES256CTSHMACSHA196, make([]byte, 16)); err == nil {
		t.Error("NewKey accepted a 16-byte aes256 key")
	}
	if _, err := NewKey(krb5.RC4HMAC, nil); err == nil {
		t.Error("NewKey accepted an empty key")
	}
	_, err := NewKey(krb5.DES3CBCSHA1, make([]byte, 24))
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, krb5.KDCErrETypeNoSupp) {
		t.Errorf("NewKey(des3) = %v, want ErrUnsupported and KDC_ERR_ETYPE_NOSUPP", err)
	}
	if _, err := RandomKey(99, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RandomKey(99) = %v", err)
	}
	if _, err := StringToKey(99, "p", "s", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("StringToKey(99) = %v", err)
	}
	if _, err := RandomKey(krb5.AES128CTSHMACSHA196, bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("RandomKey succeeded on a short reader")
	}
}

func TestNewKeyCopies(t *testing.T) {
	m := bytes.Repeat([]byte{7}, 32)
	k := mustKey(t, krb5.AES256CTSHMACSHA384192, m)
	m[0] = 0
	if got := k.Material(); got[0] != 7 {
		t.Error("NewKey kept the caller's slice")
	}
	got := k.Material()
	got[1] = 0
	if k.Material()[1] != 7 {
		t.Error("Material returned the key's own slice")
	}
}

func TestRandomKey(t *testing.T) {
	for _, e := range allETypes {
		src := bytes.Repeat([]byte{0xA5}, 64)
		k, err := RandomKey(e, bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k.Material(), src[:KeySize(e)]) {
			t.Errorf("%v RandomKey = %x, want the reader's bytes (random-to-key is the identity)", e, k.Material())
		}
		a, _ := RandomKey(e, nil)
		b, _ := RandomKey(e, nil)
		if a.Equal(b) {
			t.Errorf("%v: two keys from crypto/rand are equal", e)
		}
	}
}

func TestStringToKeyParams(t *testing.T) {
	tests := []struct {
		params []byte
		ok     bool
	}{
		{nil, true},
		{[]byte{}, true},
		{iterParams(1), true},
		{iterParams(3), true},
		{iterParams(0), false}, // RFC 3962 reads 0 as 2^32
		{iterParams(MaxIterations + 1), false},
		{iterParams(1<<32 - 1), false},
		{[]byte{0, 0, 16}, false},
		{[]byte{0, 0, 16, 0, 0}, false},
	}
	for _, e := range []krb5.EncType{17, 18, 19, 20} {
		for _, tt := range tests {
			_, err := StringToKey(e, "password", "EXAMPLE.COMuser", tt.params)
			if (err == nil) != tt.ok {
				t.Errorf("%v params %x: err = %v, want ok %v", e, tt.params, err, tt.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "crypto: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		}
	}
}

func TestDefaultSalt(t *testing.T) {
	tests := []struct {
		p    krb5.Principal
		want string
	}{
		{krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "raeburn"), Realm: "ATHENA.MIT.EDU"}, "ATHENA.MIT.EDUraeburn"},
		{krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "host", "b.example.test"), Realm: "EXAMPLE.TEST"}, "EXAMPLE.TESThostb.example.test"},
		{krb5.Principal{Realm: "R"}, "R"},
	}
	for _, tt := range tests {
		if got := DefaultSalt(tt.p); got != tt.want {
			t.Errorf("DefaultSalt(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// The key bytes never appear when a Key is printed, whatever the verb,
// and whether the Key or a pointer to it is printed.
func TestKeyNeverPrints(t *testing.T) {
	m := bytes.Repeat([]byte{0xAB}, 32)
	k := mustKey(t, krb5.AES256CTSHMACSHA196, m)
	if got := k.String(); got != "crypto.Key(aes256-cts-hmac-sha1-96)" {
		t.Errorf("String() = %q", got)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%p"} {
		for _, v := range []any{k, *k, []*Key{k}, []Key{*k}, struct{ K *Key }{k}, struct{ K Key }{*k}, map[string]Key{"k": *k}} {
			out := fmt.Sprintf(f, v)
			if strings.Contains(strings.ToLower(out), "abab") || strings.Contains(out, "171 171") {
				t.Errorf("Sprintf(%q, %T) = %q shows the key", f, v, out)
			}
		}
	}
	var nk *Key
	if nk.String() != "crypto.Key(nil)" {
		t.Errorf("nil String = %q", nk.String())
	}
}

func TestKeyEqual(t *testing.T) {
	a := mustKey(t, krb5.AES128CTSHMACSHA196, bytes.Repeat([]byte{1}, 16))
	b := mustKey(t, krb5.AES128CTSHMACSHA196, bytes.Repeat([]byte{1}, 16))
	c := mustKey(t, krb5.AES128CTSHMACSHA196, bytes.Repeat([]byte{2}, 16))
	d := mustKey(t, krb5.RC4HMAC, bytes.Repeat([]byte{1}, 16))
	var n *Key
	tests := []struct {
		x, y *Key
		want bool
	}{
		{a, b, true}, {a, a, true}, {a, c, false}, {a, d, false}, {a, n, false}, {n, a, false}, {n, n, true},
	}
	for i, tt := range tests {
		if got := tt.x.Equal(tt.y); got != tt.want {
			t.Errorf("#%d Equal = %v, want %v", i, got, tt.want)
		}
	}
}

func TestNilKey(t *testing.T) {
	var k *Key
	if _, err := k.Encrypt(nil, 1, nil); err == nil {
		t.Error("nil key encrypted")
	}
	if _, err := k.Decrypt(1, make([]byte, 64)); err == nil {
		t.Error("nil key decrypted")
	}
	if _, err := k.MakeChecksum(krb5.CksumHMACMD5, 1, nil); err == nil {
		t.Error("nil key made a checksum")
	}
	if _, err := (&Key{}).PRF(nil); err == nil {
		t.Error("zero key gave a PRF")
	}
	if k.Material() != nil || k.EncType() != 0 || k.ChecksumType() != 0 {
		t.Error("nil key accessors")
	}
}

func TestEncryptRandFailure(t *testing.T) {
	for _, e := range allETypes {
		_, err := testKey(t, e).Encrypt(bytes.NewReader([]byte{1, 2, 3}), 1, []byte("x"))
		if err == nil || !strings.HasPrefix(err.Error(), "crypto: ") {
			t.Errorf("%v: Encrypt with a failing rand = %v", e, err)
		}
	}
}

// Every rejected ciphertext yields ErrIntegrity itself, not a wrapped or
// different error: empty, truncated to every length, any single bit
// flipped, extended, or from another key.
func TestDecryptRejects(t *testing.T) {
	for _, e := range allETypes {
		k := testKey(t, e)
		other := mustKey(t, e, bytes.Repeat([]byte{0xEE}, KeySize(e)))
		for _, n := range []int{0, 1, 16, 17, 40} {
			pt := bytes.Repeat([]byte("p"), n)
			ct, err := k.Encrypt(nil, 7, pt)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, c []byte) {
				t.Helper()
				got, err := k.Decrypt(7, c)
				if err != ErrIntegrity || got != nil {
					t.Errorf("%v len %d %s: Decrypt = %x, %v; want ErrIntegrity", e, n, what, got, err)
				}
			}
			check("nil", nil)
			check("empty", []byte{})
			for l := 0; l < len(ct); l++ {
				check(fmt.Sprintf("truncated to %d", l), ct[:l])
			}
			for i := 0; i < len(ct)*8; i++ {
				c := append([]byte(nil), ct...)
				c[i/8] ^= 1 << (i % 8)
				check(fmt.Sprintf("bit %d flipped", i), c)
			}
			check("extended", append(append([]byte(nil), ct...), 0))
			oct, _ := other.Encrypt(nil, 7, pt)
			check("other key", oct)
			if got, err := k.Decrypt(7, ct); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%v: the untouched ciphertext failed: %v", e, err)
			}
		}
	}
}

func TestChecksumErrors(t *testing.T) {
	data := []byte("KRB-SAFE body")
	for _, e := range allETypes {
		k := testKey(t, e)
		own := k.ChecksumType()
		sum, err := k.MakeChecksum(own, krb5.UsageKRBSafeCksum, data)
		if err != nil {
			t.Fatalf("%v: %v", e, err)
		}
		if n, _ := ChecksumSize(own); len(sum) != n {
			t.Errorf("%v: checksum of %d bytes, ChecksumSize says %d", e, len(sum), n)
		}
		if err := k.VerifyChecksum(own, krb5.UsageKRBSafeCksum, data, sum); err != nil {
			t.Errorf("%v: own checksum rejected: %v", e, err)
		}
		// Wrong data, wrong usage, truncated, flipped, empty: modified.
		bad := map[string]error{
			"data":  k.VerifyChecksum(own, krb5.UsageKRBSafeCksum, []byte("KRB-SAFE bodY"), sum),
			"usage": k.VerifyChecksum(own, krb5.UsageAPReqAuthCksum, data, sum),
			"short": k.VerifyChecksum(own, krb5.UsageKRBSafeCksum, data, sum[:len(sum)-1]),
			"long":  k.VerifyChecksum(own, krb5.UsageKRBSafeCksum, data, append(append([]byte(nil), sum...), 0)),
			"empty": k.VerifyChecksum(own, krb5.UsageKRBSafeCksum, data, nil),
			"flip":  k.VerifyChecksum(own, krb5.UsageKRBSafeCksum, data, append([]byte{sum[0] ^ 1}, sum[1:]...)),
		}
		for what, err := range bad {
			if !errors.Is(err, krb5.KRBAPErrModified) || !strings.HasPrefix(err.Error(), "crypto: ") {
				t.Errorf("%v %s: %v, want KRB_AP_ERR_MODIFIED", e, what, err)
			}
		}
		// The keyed types of other etypes: inappropriate for this key.
		for _, ct := range []krb5.ChecksumType{15, 16, 19, 20} {
			if ct == own {
				continue
			}
			_, err := k.MakeChecksum(ct, 1, data)
			if !errors.Is(err, krb5.KRBAPErrInappCksum) {
				t.Errorf("%v with %v: %v, want KRB_AP_ERR_INAPP_CKSUM", e, ct, err)
			}
			if err := k.VerifyChecksum(ct, 1, data, sum); !errors.Is(err, krb5.KRBAPErrInappCksum) {
				t.Errorf("verify %v with %v: %v, want KRB_AP_ERR_INAPP_CKSUM", e, ct, err)
			}
		}
		// Unkeyed types: anyone can make them, so they are refused.
		for _, ct := range []krb5.ChecksumType{1, 2, krb5.CksumRSAMD5, 10, 14} {
			if err := k.VerifyChecksum(ct, 1, data, sum); !errors.Is(err, krb5.KRBAPErrInappCksum) {
				t.Errorf("%v with unkeyed %v: %v, want KRB_AP_ERR_INAPP_CKSUM", e, ct, err)
			}
		}
		// Types nobody here implements.
		for _, ct := range []krb5.ChecksumType{krb5.CksumHMACSHA1DES3KD, 4, krb5.CksumGSSAPI, 0, -1} {
			_, err := k.MakeChecksum(ct, 1, data)
			if !errors.Is(err, ErrUnsupported) || !errors.Is(err, krb5.KDCErrSumTypeNoSupp) {
				t.Errorf("%v with %v: %v, want ErrUnsupported", e, ct, err)
			}
		}
	}
}

// Many goroutines share one key (and so its per-usage cache), each
// encrypting, decrypting and checksumming with a mix of usages, some first
// used concurrently. Run with -race.
func TestConcurrentUse(t *testing.T) {
	for _, e := range allETypes {
		k := testKey(t, e)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := 0; g < 32; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					u := krb5.KeyUsage((g + i) % 70) // crosses the array/map boundary
					pt := []byte(fmt.Sprintf("goroutine %d message %d", g, i))
					ct, err := k.Encrypt(nil, u, pt)
					if err != nil {
						errs <- err
						return
					}
					got, err := k.Decrypt(u, ct)
					if err != nil || !bytes.Equal(got, pt) {
						errs <- fmt.Errorf("%v usage %d: decrypt = %q, %v", e, u, got, err)
						return
					}
					sum, err := k.MakeChecksum(k.ChecksumType(), u, pt)
					if err == nil {
						err = k.VerifyChecksum(k.ChecksumType(), u, pt, sum)
					}
					if err == nil {
						_, err = k.MakeChecksum(krb5.CksumHMACMD5, u, pt)
					}
					if err == nil {
						_, err = k.PRF(pt)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// The hand-rolled HMAC (saved pad states) agrees with crypto/hmac.
func TestHMACMatchesStdlib(t *testing.T) {
	for _, alg := range []*hashAlg{algMD5, algSHA1, algSHA256, algSHA384} {
		for _, kl := range []int{0, 16, 32, alg.block, alg.block + 1, 200} {
			key := bytes.Repeat([]byte{0x5A}, kl)
			data := []byte("The quick brown fox jumps over the lazy dog")
			want := stdHMAC(alg, key, data)
			h := newHMACKey(alg, key)
			if got := h.sum(data[:10], data[10:]); !bytes.Equal(got, want) {
				t.Errorf("hash size %d key %d: %x, want %x", alg.size, kl, got, want)
			}
			// Twice from one pooled state: the restore is complete.
			s := alg.get()
			h.mac(s, []byte("other"))
			if got := h.mac(s, data); !bytes.Equal(got, want) {
				t.Errorf("reused state: %x, want %x", got, want)
			}
			alg.put(s)
		}
	}
}

// TestKeyZero: a zeroed key's material is overwritten in place and the key
// no longer encrypts.
func TestKeyZero(t *testing.T) {
	k, err := NewKey(krb5.AES256CTSHMACSHA196, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	m := k.s.eng.material()
	k.Zero()
	if !bytes.Equal(m, make([]byte, 32)) {
		t.Errorf("material after Zero: %x", m)
	}
	if _, err := k.Encrypt(nil, 1, []byte("x")); err == nil {
		t.Error("a zeroed key still encrypts")
	}
	k.Zero()
	(*Key)(nil).Zero()
}
