package keytab

import (
	"fmt"

	"hop/internal/redact"
)

// GoString is String, so that %#v prints no key either.
func (e Entry) GoString() string { return "keytab.Entry{" + e.String() + "}" }

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %x, %d…)
// can print the key.
func (e Entry) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, e.String(), e.GoString())
}
