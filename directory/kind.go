package directory

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"hop/internal/redact"
	"hop/krb5"
)

// Kind is the kind of an account. The zero Kind is not valid: say which kind
// an account is.
type Kind int

// Account kinds.
const (
	KindUser     Kind = iota + 1 // a person (or the built-in Administrator and Guest)
	KindComputer                 // a host; the name ends in "$"
	KindService                  // a service account (and krbtgt)
)

func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindComputer:
		return "computer"
	case KindService:
		return "service"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k >= KindUser && k <= KindService }

// ParseKind parses "user", "computer" or "service" (any case).
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "user":
		return KindUser, nil
	case "computer":
		return KindComputer, nil
	case "service":
		return KindService, nil
	}
	return 0, invalid("unknown account kind %q; use user, computer or service", s)
}

// Key is an account's long-term key of one encryption type. The key material
// is unexported: it never prints, and Material returns a copy.
type Key struct {
	EncType krb5.EncType
	KVNO    uint32 // set by the directory
	Salt    string // the salt the key was derived with (sent in ETYPE-INFO2)
	// material is never modified after construction, so Keys may share it.
	material []byte
}

// NewKeyMaterial returns a key of type e derived with salt, holding a copy of
// material. The directory sets KVNO when it stores the key.
func NewKeyMaterial(e krb5.EncType, salt string, material []byte) Key {
	return Key{EncType: e, Salt: salt, material: append([]byte(nil), material...)}
}

// Material returns a copy of the key bytes.
func (k Key) Material() []byte { return append([]byte(nil), k.material...) }

// Len returns the length of the key material in bytes.
func (k Key) Len() int { return len(k.material) }

// Equal reports whether k and o are the same key (type, kvno, salt and
// material), comparing the material in constant time.
func (k Key) Equal(o Key) bool {
	same := k.EncType == o.EncType && k.KVNO == o.KVNO && k.Salt == o.Salt
	return subtle.ConstantTimeCompare(k.material, o.material) == 1 && same
}

// String describes the key without its material.
func (k Key) String() string {
	return fmt.Sprintf("%s kvno %d (%d-byte key, salt %q)", k.EncType, k.KVNO, len(k.material), k.Salt)
}

// GoString is String, so that %#v does not print the material either.
func (k Key) GoString() string { return "directory.Key{" + k.String() + "}" }

// Format prints String (GoString for %#v) whatever the verb, so that no
// verb (%d, %x of the struct) reaches the material.
func (k Key) Format(f fmt.State, verb rune) { redact.Format(f, verb, k.String(), k.GoString()) }

// keyLen is the key length of each encryption type the directory stores
// (RFC 3962 §4, RFC 8009 §5, RFC 4757 §2).
func keyLen(e krb5.EncType) (int, bool) {
	switch e {
	case krb5.AES128CTSHMACSHA196, krb5.AES128CTSHMACSHA256128, krb5.RC4HMAC:
		return 16, true
	case krb5.AES256CTSHMACSHA196, krb5.AES256CTSHMACSHA384192:
		return 32, true
	}
	return 0, false
}
