package kcm

import (
	"fmt"
	"strings"

	"hop/internal/redact"
)

// String describes the tag without its key or tickets, e.g.
// "alice@EXAMPLE.TEST -> host/b.example.test@EXAMPLE.TEST".
func (m Match) String() string {
	var b strings.Builder
	if m.Client != nil {
		b.WriteString(m.Client.String())
	} else {
		b.WriteString("any client")
	}
	b.WriteString(" -> ")
	if m.Server != nil {
		b.WriteString(m.Server.String())
	} else {
		b.WriteString("any server")
	}
	if m.KeyType != 0 {
		fmt.Fprintf(&b, " %s", m.KeyType)
	}
	return b.String()
}

// GoString is String, so that %#v prints no key or ticket.
func (m Match) GoString() string { return "kcm.Match{" + m.String() + "}" }

// Format implements fmt.Formatter so that no verb prints the key or tickets.
func (m Match) Format(f fmt.State, verb rune) { redact.Format(f, verb, m.String(), m.GoString()) }

// String describes the request by its opcode and cache name.
func (req Request) String() string {
	s := req.Op.String()
	if req.Name != "" {
		s += " " + req.Name
	}
	if req.Match != nil {
		s += " " + req.Match.String()
	}
	if req.Credential != nil {
		s += " " + req.Credential.String()
	}
	return s
}

// GoString is String, so that %#v prints no key or ticket.
func (req Request) GoString() string { return "kcm.Request{" + req.String() + "}" }

// Format implements fmt.Formatter so that no verb prints a key or ticket.
func (req Request) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, req.String(), req.GoString())
}

// String describes the reply by its status and what it holds.
func (rep Reply) String() string {
	if rep.Status != StatusOK {
		return rep.Status.Error()
	}
	s := "ok"
	if rep.Name != "" {
		s += " " + rep.Name
	}
	if !rep.Principal.Name.IsZero() {
		s += " " + rep.Principal.String()
	}
	if rep.Credential != nil {
		s += " " + rep.Credential.String()
	}
	if n := len(rep.Credentials); n > 0 {
		s += fmt.Sprintf(" %d credentials", n)
	}
	return s
}

// GoString is String, so that %#v prints no key or ticket.
func (rep Reply) GoString() string { return "kcm.Reply{" + rep.String() + "}" }

// Format implements fmt.Formatter so that no verb prints a key or ticket.
func (rep Reply) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, rep.String(), rep.GoString())
}

// String describes the cache by its name, principal and size.
func (c Cache) String() string {
	p := "uninitialized"
	if c.Initialized() {
		p = c.Principal.String()
	}
	return fmt.Sprintf("%s (%s, %d credentials)", c.Name, p, len(c.Entries))
}

// GoString is String, so that %#v prints no key or ticket.
func (c Cache) GoString() string { return "kcm.Cache{" + c.String() + "}" }

// Format implements fmt.Formatter so that no verb prints a key or ticket.
func (c Cache) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.GoString()) }
