package client

import (
	"fmt"
	"time"

	"hop/internal/redact"
)

// String describes the credential without its session key or ticket, e.g.
// "alice@EXAMPLE.TEST -> krbtgt/EXAMPLE.TEST@EXAMPLE.TEST
// crypto.Key(aes256-cts-hmac-sha1-96) until 2024-01-02T03:04:05Z".
func (c Credential) String() string {
	s := fmt.Sprintf("%s -> %s %v", c.Client, c.Server, c.SessionKey)
	if !c.EndTime.IsZero() {
		s += " until " + c.EndTime.UTC().Format(time.RFC3339)
	}
	return s
}

// GoString is String, so that %#v does not print the key either.
func (c Credential) GoString() string { return "client.Credential{" + c.String() + "}" }

// Format prints String for every verb, as crypto.Key does, so that no verb
// reaches the session key or the ticket.
func (c Credential) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}
