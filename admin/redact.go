package admin

import (
	"fmt"
	"time"

	"hop/internal/redact"
)

// The request and reply types that carry a password or a one-time token
// print it as "redacted" under every fmt verb; their JSON carries it, on
// purpose, to the admin server (over TLS or loopback).

func (a NewAccount) String() string {
	return fmt.Sprintf("NewAccount{Kind:%s Name:%s UPN:%s Description:%q SPNs:%v AllowRC4:%t Password:%s RandomKey:%t}",
		a.Kind, a.Name, a.UPN, a.Description, a.SPNs, a.AllowRC4, redact.Secret(a.Password), a.RandomKey)
}
func (a NewAccount) GoString() string { return "admin." + a.String() }
func (a NewAccount) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, a.String(), a.GoString())
}

func (c PasswordChange) String() string {
	return fmt.Sprintf("PasswordChange{Old:%s New:%s}", redact.Secret(c.Old), redact.Secret(c.New))
}
func (c PasswordChange) GoString() string { return "admin." + c.String() }
func (c PasswordChange) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}

func (t JoinToken) String() string {
	return fmt.Sprintf("JoinToken{Host:%s Token:%s Expires:%s}", t.Host, redact.Secret(t.Token), t.Expires.UTC().Format(time.RFC3339))
}
func (t JoinToken) GoString() string { return "admin." + t.String() }
func (t JoinToken) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, t.String(), t.GoString())
}

func (r JoinRequest) String() string {
	return fmt.Sprintf("JoinRequest{Host:%s SSHHostKeys:%d Token:%s}", r.Host, len(r.SSHHostKeys), redact.Secret(r.Token))
}
func (r JoinRequest) GoString() string { return "admin." + r.String() }
func (r JoinRequest) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), r.GoString())
}
