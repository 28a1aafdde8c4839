package crypto

import (
	cryptorand "crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"hop/internal/redact"
	"hop/krb5"
)

// ErrIntegrity is the one error Decrypt returns for a ciphertext it
// rejects, whatever the reason: too short, or a MAC that does not match.
// Callers map it to KRB_AP_ERR_BAD_INTEGRITY (RFC 4120 §7.5.9).
var ErrIntegrity = errors.New("crypto: integrity check failed")

// ErrUnsupported is wrapped by the errors for an encryption or checksum
// type this package does not implement. Those errors also wrap
// krb5.KDCErrETypeNoSupp or krb5.KDCErrSumTypeNoSupp.
var ErrUnsupported = errors.New("crypto: unsupported type")

var errNilKey = errors.New("crypto: nil key")

// kind is the family of an encryption type.
type kind uint8

const (
	kindAESSHA1 kind = iota + 1 // RFC 3962
	kindAESSHA2                 // RFC 8009
	kindRC4                     // RFC 4757
)

// profile holds the parameters of one encryption type (RFC 3962 §6,
// RFC 8009 §5 and §8, RFC 4757 §4-6).
type profile struct {
	etype                  krb5.EncType
	kind                   kind
	name                   string // the RFC's name; RFC 8009 §4 salts with it
	keySize                int    // protocol key and key-generation seed length
	macSize                int    // truncated HMAC length h
	cksum                  krb5.ChecksumType
	defaultIter            uint32   // string-to-key iterations when no params
	mac                    *hashAlg // HMAC hash of Ki and Kc
	pbkdf                  *hashAlg // PBKDF2 PRF hash (AES)
	kcBits, keBits, kiBits int      // RFC 8009 §5 sizes of Kc, Ke, Ki in bits
	prfSize                int      // pseudo-random output length
	preference             int      // higher is stronger
	overhead               int      // ciphertext minus plaintext length
}

var profiles = [...]*profile{
	{
		etype: krb5.AES256CTSHMACSHA384192, kind: kindAESSHA2,
		name: "aes256-cts-hmac-sha384-192", keySize: 32, macSize: 24,
		cksum: krb5.CksumHMACSHA384192AES256, defaultIter: 32768,
		mac: algSHA384, pbkdf: algSHA384, kcBits: 192, keBits: 256, kiBits: 192,
		prfSize: 48, preference: 5, overhead: blockSize + 24,
	},
	{
		etype: krb5.AES128CTSHMACSHA256128, kind: kindAESSHA2,
		name: "aes128-cts-hmac-sha256-128", keySize: 16, macSize: 16,
		cksum: krb5.CksumHMACSHA256128AES128, defaultIter: 32768,
		mac: algSHA256, pbkdf: algSHA256, kcBits: 128, keBits: 128, kiBits: 128,
		prfSize: 32, preference: 4, overhead: blockSize + 16,
	},
	{
		etype: krb5.AES256CTSHMACSHA196, kind: kindAESSHA1,
		name: "aes256-cts-hmac-sha1-96", keySize: 32, macSize: 12,
		cksum: krb5.CksumHMACSHA196AES256, defaultIter: 4096,
		mac: algSHA1, pbkdf: algSHA1, prfSize: 16, preference: 3, overhead: blockSize + 12,
	},
	{
		etype: krb5.AES128CTSHMACSHA196, kind: kindAESSHA1,
		name: "aes128-cts-hmac-sha1-96", keySize: 16, macSize: 12,
		cksum: krb5.CksumHMACSHA196AES128, defaultIter: 4096,
		mac: algSHA1, pbkdf: algSHA1, prfSize: 16, preference: 2, overhead: blockSize + 12,
	},
	{
		etype: krb5.RC4HMAC, kind: kindRC4,
		name: "rc4-hmac", keySize: 16, macSize: 16,
		cksum: krb5.CksumHMACMD5, mac: algMD5, prfSize: 20, preference: 1,
		overhead: rc4Overhead,
	},
}

func lookup(e krb5.EncType) *profile {
	for _, p := range profiles {
		if p.etype == e {
			return p
		}
	}
	return nil
}

func unsupportedEType(e krb5.EncType) error {
	return fmt.Errorf("%w: encryption type %v (supported: %s): %w", ErrUnsupported, e, supportedList(), krb5.KDCErrETypeNoSupp)
}

func supportedList() string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.etype.String()
	}
	return strings.Join(names, ", ")
}

// Supported reports whether e is one of the encryption types this package
// implements: 17, 18, 19, 20 and 23.
func Supported(e krb5.EncType) bool { return lookup(e) != nil }

// EncTypes returns the supported encryption types, strongest first.
func EncTypes() []krb5.EncType {
	out := make([]krb5.EncType, len(profiles))
	for i, p := range profiles {
		out[i] = p.etype
	}
	return out
}

// KeySize returns the key length of e in bytes (16 or 32), or 0 if e is
// not supported.
func KeySize(e krb5.EncType) int {
	if p := lookup(e); p != nil {
		return p.keySize
	}
	return 0
}

// Overhead returns how many bytes longer a ciphertext of e is than its
// plaintext (the confounder and the MAC), or 0 if e is not supported.
func Overhead(e krb5.EncType) int {
	if p := lookup(e); p != nil {
		return p.overhead
	}
	return 0
}

// Preference ranks the supported types for a KDC choosing among those a
// client offers: higher is stronger (20 > 19 > 18 > 17 > 23); 0 for an
// unsupported type.
func Preference(e krb5.EncType) int {
	if p := lookup(e); p != nil {
		return p.preference
	}
	return 0
}

// DefaultSalt returns the default salt of a principal (RFC 4120 §4): the
// realm followed by the name components, with no separators.
func DefaultSalt(p krb5.Principal) string {
	var b strings.Builder
	b.WriteString(string(p.Realm))
	for _, c := range p.Name.Components {
		b.WriteString(c)
	}
	return b.String()
}

// engine is the per-family half of a Key.
type engine interface {
	encrypt(rand io.Reader, u krb5.KeyUsage, plaintext []byte) ([]byte, error)
	decrypt(u krb5.KeyUsage, ciphertext []byte) ([]byte, error)
	prf(data []byte) []byte
	material() []byte // the protocol key; callers copy it
}

// Key is a key of one encryption type. It never prints its material, and
// is compared with Equal, in constant time. A Key is safe for concurrent
// use; it caches the keys it derives per usage.
type Key struct {
	p *profile
	s *keyState // behind a pointer so that printing a Key value shows no bytes
}

// keyState's fields are all pointers or interfaces, so that even fmt's
// bad-verb path, which prints a pointer's target, shows no key bytes.
type keyState struct {
	eng   engine                  // holds the material
	ksign atomic.Pointer[hmacKey] // RFC 4757 §5 Ksign, for HMAC-MD5
}

// NewKey makes a key of type e from its raw material, which it copies.
func NewKey(e krb5.EncType, material []byte) (*Key, error) {
	p := lookup(e)
	if p == nil {
		return nil, unsupportedEType(e)
	}
	if len(material) != p.keySize {
		return nil, fmt.Errorf("crypto: a %v key is %d bytes, not %d", e, p.keySize, len(material))
	}
	m := append([]byte(nil), material...)
	k := &Key{p: p, s: &keyState{}}
	switch p.kind {
	case kindAESSHA1, kindAESSHA2:
		eng, err := newAESKey(p, m)
		if err != nil {
			return nil, err
		}
		k.s.eng = eng
	case kindRC4:
		k.s.eng = newRC4Key(m)
	}
	return k, nil
}

// RandomKey makes a fresh key of type e from rand (crypto/rand.Reader if
// nil). The random-to-key function of every supported type is the
// identity (RFC 3962 §6, RFC 8009 §5, RFC 4757).
func RandomKey(e krb5.EncType, rand io.Reader) (*Key, error) {
	p := lookup(e)
	if p == nil {
		return nil, unsupportedEType(e)
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	m := make([]byte, p.keySize)
	if _, err := io.ReadFull(rand, m); err != nil {
		return nil, fmt.Errorf("crypto: read random key: %w", err)
	}
	k, err := NewKey(e, m)
	clear(m)
	return k, err
}

// EncType returns the key's encryption type (0 for a nil key).
func (k *Key) EncType() krb5.EncType {
	if k == nil || k.p == nil {
		return 0
	}
	return k.p.etype
}

// Material returns a copy of the raw key bytes, for keytabs, the
// directory and the EncryptionKey of a wire message.
func (k *Key) Material() []byte {
	if k.ok() != nil {
		return nil
	}
	return append([]byte(nil), k.s.eng.material()...)
}

// Equal reports whether k and o are the same key, comparing the material
// in constant time. Two nil keys are equal.
func (k *Key) Equal(o *Key) bool {
	if k.ok() != nil || o.ok() != nil {
		return k.ok() != nil && o.ok() != nil
	}
	same := subtle.ConstantTimeCompare(k.s.eng.material(), o.s.eng.material()) == 1
	return same && k.p.etype == o.p.etype
}

// String returns "crypto.Key(<etype>)"; never the key bytes.
func (k *Key) String() string {
	if k == nil || k.p == nil {
		return "crypto.Key(nil)"
	}
	return "crypto.Key(" + k.p.etype.String() + ")"
}

// GoString is String, so that %#v does not show the material either.
func (k *Key) GoString() string { return k.String() }

// Format prints String for every verb, so that no verb shows the material.
func (k *Key) Format(f fmt.State, verb rune) { redact.Format(f, verb, k.String(), k.GoString()) }

// Zero overwrites the key's material and makes the key unusable (its
// methods then fail as a nil key's do), for a holder that is done with a
// secret: a forwarded TGT's session key when the session ends. It must
// not run while another goroutine uses the key. Zero of a nil key does
// nothing.
func (k *Key) Zero() {
	if k.ok() != nil {
		return
	}
	clear(k.s.eng.material())
	k.s.eng = nil
	k.s.ksign.Store(nil)
}

func (k *Key) ok() error {
	if k == nil || k.p == nil || k.s == nil || k.s.eng == nil {
		return errNilKey
	}
	return nil
}

// Encrypt encrypts plaintext for usage (RFC 3961 §5.3, RFC 8009 §5,
// RFC 4757 §6), drawing the confounder from rand (crypto/rand.Reader if
// nil). The result is Overhead(k.EncType()) bytes longer than plaintext.
func (k *Key) Encrypt(rand io.Reader, usage krb5.KeyUsage, plaintext []byte) ([]byte, error) {
	if err := k.ok(); err != nil {
		return nil, err
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	return k.s.eng.encrypt(rand, usage, plaintext)
}

// Decrypt decrypts and checks a ciphertext made by Encrypt with the same
// key and usage. Any ciphertext it rejects yields ErrIntegrity, and only
// that; it never panics, whatever the input.
func (k *Key) Decrypt(usage krb5.KeyUsage, ciphertext []byte) ([]byte, error) {
	if err := k.ok(); err != nil {
		return nil, err
	}
	return k.s.eng.decrypt(usage, ciphertext)
}

// PRF is the pseudo-random function of the key's type (RFC 3961 §5.3 for
// AES-SHA1, 16 bytes; RFC 8009 §5, 32 or 48 bytes; HMAC-SHA1 for RC4, 20
// bytes, as MIT krb5 defines it). FAST uses it through CF2.
func (k *Key) PRF(data []byte) ([]byte, error) {
	if err := k.ok(); err != nil {
		return nil, err
	}
	return k.s.eng.prf(data), nil
}

// usageCache keeps one derived value per key usage; the usages Kerberos
// itself assigns (RFC 4120 §7.5.1, RFC 4121, RFC 6113, MS-KILE) index an
// array, anything else a map. Concurrent first uses may both derive; one
// result wins and both callers use it.
type usageCache[T any] struct {
	small [64]atomic.Pointer[T]
	large sync.Map // krb5.KeyUsage -> *T
}

func (c *usageCache[T]) get(u krb5.KeyUsage, derive func(krb5.KeyUsage) *T) *T {
	if u < krb5.KeyUsage(len(c.small)) {
		slot := &c.small[u]
		if v := slot.Load(); v != nil {
			return v
		}
		v := derive(u)
		if slot.CompareAndSwap(nil, v) {
			return v
		}
		return slot.Load()
	}
	if v, ok := c.large.Load(u); ok {
		return v.(*T)
	}
	v, _ := c.large.LoadOrStore(u, derive(u))
	return v.(*T)
}
