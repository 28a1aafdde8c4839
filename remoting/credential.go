package remoting

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// CredentialRequest is the channel request on a "session" channel, sent
// before "exec" or "shell", that passes a credential into the session (the
// counterpart of PowerShell's $using:cred, hop exec --pass-credential):
// the account's name and its password, as two SSH strings, with
// want-reply. The password travels only inside the encrypted SSH channel;
// the agent logs the account on at once with the KDC, keeps only the
// resulting ticket-granting ticket in the session broker's memory (the KCM
// cache CredentialCache(name)), never on disk, and forgets it with the
// session. The audit records that a credential for the name was passed,
// never the secret. The agent answers false to a payload that does not
// decode, or past MaxCredentials.
const CredentialRequest = "credential@hop"

// Bounds of credential@hop.
const (
	MaxCredentials        = 8
	MaxCredentialName     = 256
	MaxCredentialSecret   = 1024
	credentialCachePrefix = "credential:"
)

// CredentialCache is the name of the KCM cache that holds the credential
// passed for name in a session (KRB5CCNAME=KCM:credential:NAME).
func CredentialCache(name string) string { return credentialCachePrefix + name }

// ValidCredentialName reports whether name can name a passed credential:
// an account name or principal (letters, digits and . _ - $ @ /).
func ValidCredentialName(name string) bool {
	if name == "" || len(name) > MaxCredentialName {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-$@/", c)) {
			return false
		}
	}
	return true
}

var errCredentialRequest = errors.New("remoting: malformed credential@hop payload")

// EncodeCredentialRequest returns the payload of a credential@hop request.
func EncodeCredentialRequest(name string, secret []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(secret)))
	return append(b, secret...)
}

// DecodeCredentialRequest returns the name and the secret of a
// credential@hop payload: a valid name, a non-empty secret without NUL of
// at most MaxCredentialSecret bytes, and nothing after them. The secret
// is a fresh slice the caller zeroes when done.
func DecodeCredentialRequest(b []byte) (name string, secret []byte, err error) {
	if len(b) < 4 {
		return "", nil, errCredentialRequest
	}
	n := binary.BigEndian.Uint32(b)
	if n > MaxCredentialName || uint64(len(b)-4) < uint64(n)+4 {
		return "", nil, errCredentialRequest
	}
	name = string(b[4 : 4+n])
	rest := b[4+n:]
	m := binary.BigEndian.Uint32(rest)
	if m == 0 || m > MaxCredentialSecret || uint64(m) != uint64(len(rest)-4) {
		return "", nil, errCredentialRequest
	}
	if !ValidCredentialName(name) {
		return "", nil, fmt.Errorf("%w: %q is not an account name", errCredentialRequest, Printable(name, 64))
	}
	for _, c := range rest[4:] {
		if c == 0 {
			return "", nil, fmt.Errorf("%w: the secret contains NUL", errCredentialRequest)
		}
	}
	return name, append([]byte(nil), rest[4:]...), nil
}
