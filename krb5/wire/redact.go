package wire

import (
	"fmt"

	"hop/internal/redact"
)

// String describes the request without the new password, e.g.
// "ChangePasswdData{for alice@EXAMPLE.TEST, 12-byte password redacted}".
func (c ChangePasswdData) String() string {
	target := "the ticket's client"
	if c.TargName != nil {
		target = c.TargName.String()
		if c.TargRealm != "" {
			target += "@" + string(c.TargRealm)
		}
	}
	return fmt.Sprintf("ChangePasswdData{for %s, %d-byte password redacted}", target, len(c.NewPasswd))
}

// GoString is String, so that %#v does not print the password either.
func (c ChangePasswdData) GoString() string { return c.String() }

// Format prints String for every verb, as EncryptionKey does, so that no
// verb (%x, %d, ...) reveals the password.
func (c ChangePasswdData) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}
