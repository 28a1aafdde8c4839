package directory

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"hop/krb5"
)

// TestPasswordPrepNeverPrints: the work of a password change holds the
// password and its keys; no verb prints them (internal/secrets checks the
// exported types the same way).
func TestPasswordPrepNeverPrints(t *testing.T) {
	key := bytes.Repeat([]byte{0xA5}, 32)
	p := &passwordPrep{
		name: "alice", realm: "EXAMPLE.TEST", password: "Sekrit-Passw0rd",
		keys:    []Key{NewKeyMaterial(krb5.AES256CTSHMACSHA196, "s", key)},
		history: map[string][]byte{"s": key},
		old:     NewKeyMaterial(krb5.AES256CTSHMACSHA196, "s", key),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, v := range []any{p, *p} {
			out := fmt.Sprintf(verb, v)
			for _, bad := range []string{"Sekrit", "a5a5", "A5A5", "165 165", "0xa5", `\xa5`, string(key[:2])} {
				if strings.Contains(out, bad) {
					t.Errorf("%s of %T prints %q: %s", verb, v, bad, out)
				}
			}
		}
	}
}
