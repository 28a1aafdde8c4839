package crypto

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"strings"
	"testing"

	"hop/krb5"
)

// hx decodes hex written as the RFCs print it: any case, spaces and
// newlines allowed.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic("bad hex in test: " + err.Error())
	}
	return b
}

// mustKey makes a key or fails the test.
func mustKey(t testing.TB, e krb5.EncType, material []byte) *Key {
	t.Helper()
	k, err := NewKey(e, material)
	if err != nil {
		t.Fatalf("NewKey(%v): %v", e, err)
	}
	return k
}

// fixedRand is a reader that yields the given bytes then fails, to feed a
// known confounder through Encrypt's rand.
func fixedRand(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// allETypes is every supported type, for table-driven tests.
var allETypes = []krb5.EncType{
	krb5.AES128CTSHMACSHA196,
	krb5.AES256CTSHMACSHA196,
	krb5.AES128CTSHMACSHA256128,
	krb5.AES256CTSHMACSHA384192,
	krb5.RC4HMAC,
}

// testKey is a fixed key of type e (bytes 0, 1, 2, ...).
func testKey(t testing.TB, e krb5.EncType) *Key {
	t.Helper()
	m := make([]byte, KeySize(e))
	for i := range m {
		m[i] = byte(i)
	}
	return mustKey(t, e, m)
}

func stdHMAC(alg *hashAlg, key, data []byte) []byte {
	m := hmac.New(alg.new, key)
	m.Write(data)
	return m.Sum(nil)
}
