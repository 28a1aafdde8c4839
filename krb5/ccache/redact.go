package ccache

import (
	"fmt"

	"hop/internal/redact"
)

// GoString is String, so that %#v prints neither the session key nor the
// ticket.
func (c Credential) GoString() string { return "ccache.Credential{" + c.String() + "}" }

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %x…) can
// print the session key or the ticket.
func (c Credential) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}
