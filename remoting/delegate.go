package remoting

import (
	"errors"
	"fmt"
	"strings"
)

// DelegateRequest is the channel request on a "session" channel, sent
// before "exec" or "shell", that chooses the session's delegation mode: what
// the session's credential broker on the host may use to reach other
// hosts. Its payload is the mode's name as an SSH string (the encoding of
// EndpointRequest), with want-reply. The agent answers false when the
// payload names no mode; a mode the endpoint does not allow (or forward
// without a forwarded TGT) ends the session when it starts, with the
// reason on its standard error and exit status 255, as for a refused
// endpoint. A session that sends none runs in ModeForward when the
// client delegated a credential in its GSS-API authentication (OpenSSH's
// GSSAPIDelegateCredentials, ssh -K), else in ModeNone.
const DelegateRequest = "delegate@hop"

// Mode is a delegation mode: how a session on the second host may reach a
// third.
type Mode string

// The delegation modes.
const (
	// ModeNone: nothing for the next hop.
	ModeNone Mode = "none"
	// ModeForward: unconstrained delegation. The client forwards a TGT in
	// the GSS-API delegation field (RFC 4121 §4.1.1, a KRB-CRED), which
	// the session uses for any target.
	ModeForward Mode = "forward"
	// ModeConstrained: constrained and resource-based constrained
	// delegation. Nothing reusable reaches the host: its broker asks the
	// KDC for each ticket with S4U2Proxy (MS-SFU §3.2.5.2), the user's
	// ticket to the host as evidence, and the KDC applies the directory's
	// rules.
	ModeConstrained Mode = "constrained"
)

// ModeRestrictedAdmin: Restricted Admin. The session runs as the host's
// local administrator account and reaches other hosts as the host itself
// (its own keytab): nothing of the user's reaches the host beyond the
// authentication. Off unless the agent enables it, for members of its
// admin groups only.
const ModeRestrictedAdmin Mode = "restricted-admin"

// ModeCredSSP: fresh credentials, as CredSSP delegates them: the client
// sends the user's password (credential@hop, the user's own name), the
// agent logs the user on with it and the session uses that TGT for any
// target. Whoever controls the host during the session can take the
// password. Off on both sides unless enabled: the client only to hosts
// its allow-list names, the agent only with credssp = true.
const ModeCredSSP Mode = "credssp"

// Modes lists the modes, from the one that exposes least of the user's to
// the host to the one that exposes most.
var Modes = []Mode{ModeNone, ModeRestrictedAdmin, ModeRemoteGuard, ModeConstrained, ModeForward, ModeCredSSP}

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("remoting: %q is not a delegation mode: use %s", s, ModeNames())
}

// ModeNames lists the modes for a message: "none, remote-guard, … or
// forward".
func ModeNames() string {
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// MaxModeName bounds the name in a delegate@hop payload.
const MaxModeName = 32

var errDelegateRequest = errors.New("remoting: malformed delegate@hop payload")

// EncodeDelegateRequest returns the payload of a delegate@hop request.
func EncodeDelegateRequest(m Mode) []byte { return EncodeEndpointRequest(string(m)) }

// DecodeDelegateRequest returns the mode of a delegate@hop payload: one
// SSH string naming a known mode, and nothing after it.
func DecodeDelegateRequest(b []byte) (Mode, error) {
	s, err := decodeString(b, MaxModeName)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errDelegateRequest, err)
	}
	m, err := ParseMode(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a delegation mode", errDelegateRequest, Printable(s, MaxModeName))
	}
	return m, nil
}
