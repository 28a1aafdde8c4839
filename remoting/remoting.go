// Package remoting defines the names, payload formats and bounds of hop's
// extensions to SSH, shared by the agent (hop/agent), the client
// (hop/remote) and the test agent (hop/remote/remotetest). hop's names are
// local names in the sense of RFC 4250 §4.6.1: they end in "@hop".
//
//   - EndpointRequest ("endpoint@hop") is a channel request on a "session"
//     channel (RFC 4254 §6.5) sent before "exec" or "shell": its payload is
//     the endpoint's name as an SSH string (RFC 4251 §5), with want-reply.
//     The agent answers false when the endpoint does not exist or the user
//     may not use it, and then writes the reason to the session's standard
//     error and ends it with exit status 255.
//   - EndpointsRequest ("endpoints@hop") is a global request (RFC 4254 §4)
//     with an empty payload: the reply's payload is the JSON of
//     []EndpointInfo, the endpoints of the host for the authenticated user.
//   - DelegateRequest ("delegate@hop", delegate.go) is a channel request
//     on a "session" channel that chooses the session's delegation Mode;
//     CredentialRequest ("credential@hop", credential.go) passes a
//     credential into the session.
//   - TicketChannel ("ticket@hop", guard.go) is a channel the agent opens
//     to the client in mode remote-guard, to ask it for a service ticket.
//   - An "exit-signal" (RFC 4254 §6.10) for a signal that the RFC does not
//     name carries the local name SignalName(n).
//
// Every decoder here reads bytes that the other side sent and bounds its
// work and its result (MaxEndpointName, MaxEndpointsReply, MaxEndpoints,
// MaxCommands, MaxModeName).
package remoting

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Request names of hop's extensions.
const (
	// EndpointRequest is the channel request that chooses the session's
	// endpoint (payload: EncodeEndpointRequest; want-reply).
	EndpointRequest = "endpoint@hop"
	// EndpointsRequest is the global request whose reply is the JSON of
	// []EndpointInfo for the authenticated user (EncodeEndpoints).
	EndpointsRequest = "endpoints@hop"
)

// SignalName is the "exit-signal" name (RFC 4254 §6.10) of signal number
// n when the RFC names none: a local name, "SIG<n>@hop".
func SignalName(n int) string { return fmt.Sprintf("SIG%d@hop", n) }

// DefaultEndpoint is the endpoint of a session that sends no
// endpoint@hop request.
const DefaultEndpoint = "default"

// Bounds of the extension.
const (
	// MaxEndpointName bounds the name in an endpoint@hop payload.
	MaxEndpointName = 64
	// MaxEndpointRequests bounds the endpoint@hop requests an agent
	// answers in one session; past it, it refuses them all.
	MaxEndpointRequests = 8
	// MaxEndpointsReply bounds the payload of an endpoints@hop reply, and
	// MaxEndpoints and MaxCommands the endpoints and (all endpoints'
	// together) commands it may list.
	MaxEndpointsReply = 1 << 20
	MaxEndpoints      = 1024
	MaxCommands       = 4096
)

// Bounds of the strings of a decoded EndpointInfo: longer ones are cut.
const (
	maxInfoName    = 256
	maxInfoType    = 64
	maxInfoRunAs   = 256
	maxInfoCommand = 4096
)

// EndpointInfo describes an endpoint of a host to the user who asks: the
// reply to endpoints@hop is the JSON of []EndpointInfo, sorted by name.
type EndpointInfo struct {
	Name string `json:"name"`
	// Type is "default", "runas" or "jea".
	Type string `json:"type"`
	// Allowed reports whether the user may use the endpoint.
	Allowed bool `json:"allowed"`
	// RunAs is the local account sessions run as (runas and jea); "" for
	// default: the user's own.
	RunAs string `json:"run_as,omitempty"`
	// Commands are the help lines of the commands a JEA endpoint lets the
	// user run.
	Commands []string `json:"commands,omitempty"`
	// Delegation lists the delegation modes the endpoint allows.
	Delegation []Mode `json:"delegation,omitempty"`
}

var errEndpointRequest = errors.New("remoting: malformed endpoint@hop payload")

// EncodeEndpointRequest returns the payload of an endpoint@hop request
// that names the endpoint name.
func EncodeEndpointRequest(name string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(name)))
	return append(b, name...)
}

// DecodeEndpointRequest returns the endpoint name of an endpoint@hop
// payload: one SSH string of at most MaxEndpointName bytes, without NUL,
// and nothing after it.
func DecodeEndpointRequest(b []byte) (string, error) {
	name, err := decodeString(b, MaxEndpointName)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errEndpointRequest, err)
	}
	return name, nil
}

// decodeString decodes a payload that is one SSH string (RFC 4251 §5) of
// at most max bytes, without NUL, and nothing after it.
func decodeString(b []byte, max uint32) (string, error) {
	if len(b) < 4 {
		return "", errors.New("shorter than a string's length")
	}
	n := binary.BigEndian.Uint32(b)
	if n > max || uint64(n) != uint64(len(b)-4) {
		return "", fmt.Errorf("a string of %d bytes in a payload of %d (at most %d)", n, len(b), max)
	}
	s := string(b[4:])
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("the string contains NUL")
	}
	return s, nil
}

// EncodeEndpoints returns the payload of an endpoints@hop reply.
func EncodeEndpoints(eps []EndpointInfo) ([]byte, error) {
	b, err := json.Marshal(eps)
	if err != nil {
		return nil, fmt.Errorf("remoting: encode the endpoints@hop reply: %w", err)
	}
	return b, nil
}

// DecodeEndpoints decodes an endpoints@hop reply. Its strings come from
// the host: control and invalid characters are removed, and overlong ones
// cut, so that printing them is safe.
func DecodeEndpoints(b []byte) ([]EndpointInfo, error) {
	if len(b) > MaxEndpointsReply {
		return nil, fmt.Errorf("remoting: the endpoints@hop reply is %d bytes, more than %d", len(b), MaxEndpointsReply)
	}
	var eps []EndpointInfo
	if err := json.Unmarshal(b, &eps); err != nil {
		return nil, fmt.Errorf("remoting: the endpoints@hop reply is not a JSON list of endpoints: %v", err)
	}
	if len(eps) > MaxEndpoints {
		return nil, fmt.Errorf("remoting: the endpoints@hop reply lists %d endpoints, more than %d", len(eps), MaxEndpoints)
	}
	n := 0
	for i := range eps {
		e := &eps[i]
		if n += len(e.Commands); n > MaxCommands {
			return nil, fmt.Errorf("remoting: the endpoints@hop reply lists more than %d commands", MaxCommands)
		}
		e.Name, e.Type, e.RunAs = Printable(e.Name, maxInfoName), Printable(e.Type, maxInfoType), Printable(e.RunAs, maxInfoRunAs)
		if e.Name == "" {
			// Also a name of control characters only.
			return nil, fmt.Errorf("remoting: the endpoints@hop reply has an endpoint without a name")
		}
		for j, l := range e.Commands {
			e.Commands[j] = Printable(l, maxInfoCommand)
		}
		if len(e.Delegation) > len(Modes) {
			return nil, fmt.Errorf("remoting: the endpoints@hop reply lists %d delegation modes for %s", len(e.Delegation), e.Name)
		}
		for _, m := range e.Delegation {
			if _, err := ParseMode(string(m)); err != nil {
				return nil, fmt.Errorf("remoting: the endpoints@hop reply names an unknown delegation mode for %s", e.Name)
			}
		}
	}
	return eps, nil
}

// Printable returns s, a string the other side sent, without control or
// invalid characters (a tab becomes a space), at most max bytes long (cut
// at a character boundary): what a client may print to a terminal. The
// decoders here apply it; a client applies it to the other text a peer
// sends (banners, exit-signal messages).
func Printable(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		i := max
		for i > 0 && !utf8RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
