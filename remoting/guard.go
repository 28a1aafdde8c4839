package remoting

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// TicketChannel is the channel type an agent opens to the client, on the
// connection of a session in ModeRemoteGuard, when the session needs a
// service ticket (the counterpart of OpenSSH's auth-agent@openssh.com
// channel, and of Windows' Remote Credential Guard): the agent writes one
// TicketRequest, the client answers one TicketReply and the channel
// closes. The client builds every KDC request itself from the target's
// name and returns only the service ticket and its session key; unlike
// MS-RDPEAR it performs no key operation over bytes the host supplies, so
// a compromised host cannot use the client as a signing oracle. Each
// message is a 4-byte big-endian length and that many bytes of JSON, at
// most MaxTicketMessage.
const TicketChannel = "ticket@hop"

// ModeRemoteGuard: nothing reusable reaches the host, not even the
// evidence of constrained delegation; the host asks the client on the
// first host for each ticket, over TicketChannel, while the connection
// lasts, and the client serves only the targets it allows.
const ModeRemoteGuard Mode = "remote-guard"

// MaxTicketMessage bounds a TicketRequest or TicketReply.
const MaxTicketMessage = 64 << 10

// TicketRequest asks the client for a service ticket.
type TicketRequest struct {
	// Target is the service principal (cifs/c.example.test@REALM).
	Target string `json:"target"`
	// Host and Session name the session that asks (for the client's
	// prompt and log), Via the hosts the request came through after it
	// (a chain A → B → C: C's request reaches A via b).
	Host    string   `json:"host"`
	Session string   `json:"session"`
	Via     []string `json:"via,omitempty"`
}

// TicketReply is the client's answer: the credential in the ccache
// encoding (krb5/ccache.AppendCredential) or the reason of a refusal.
type TicketReply struct {
	Credential []byte `json:"credential,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Bounds of a TicketRequest's strings.
const (
	maxTicketTarget = 1024
	maxTicketHost   = 255
	maxTicketVia    = 8
)

// WriteTicketMessage writes v (a TicketRequest or TicketReply) as one
// frame.
func WriteTicketMessage(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("remoting: encode a %s message: %w", TicketChannel, err)
	}
	if len(b) > MaxTicketMessage {
		return fmt.Errorf("remoting: a %s message of %d bytes, more than %d", TicketChannel, len(b), MaxTicketMessage)
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), uint32(len(b)))
	_, err = w.Write(append(frame, b...))
	clear(frame)
	clear(b)
	return err
}

var errTicketMessage = errors.New("remoting: malformed " + TicketChannel + " message")

// readTicketFrame reads one frame's bytes.
func readTicketFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", errTicketMessage, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxTicketMessage {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", errTicketMessage, n, MaxTicketMessage)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: %v", errTicketMessage, err)
	}
	return b, nil
}

// ReadTicketRequest reads and checks a TicketRequest (the client reads
// what a host sent).
func ReadTicketRequest(r io.Reader) (*TicketRequest, error) {
	b, err := readTicketFrame(r)
	if err != nil {
		return nil, err
	}
	return DecodeTicketRequest(b)
}

// DecodeTicketRequest decodes one TicketRequest's JSON: a target of
// service/host form, printable names, bounded.
func DecodeTicketRequest(b []byte) (*TicketRequest, error) {
	var q TicketRequest
	if err := json.Unmarshal(b, &q); err != nil {
		return nil, fmt.Errorf("%w: %v", errTicketMessage, err)
	}
	if len(q.Target) > maxTicketTarget || !strings.Contains(q.Target, "/") || Printable(q.Target, maxTicketTarget) != q.Target {
		return nil, fmt.Errorf("%w: the target %q is not a service principal name", errTicketMessage, Printable(q.Target, 64))
	}
	if len(q.Via) > maxTicketVia {
		return nil, fmt.Errorf("%w: a chain of %d hosts, more than %d", errTicketMessage, len(q.Via), maxTicketVia)
	}
	q.Host, q.Session = Printable(q.Host, maxTicketHost), Printable(q.Session, 64)
	for i := range q.Via {
		q.Via[i] = Printable(q.Via[i], maxTicketHost)
	}
	return &q, nil
}

// ReadTicketReply reads a TicketReply (the agent reads what the client
// sent); its Error is made printable.
func ReadTicketReply(r io.Reader) (*TicketReply, error) {
	b, err := readTicketFrame(r)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return DecodeTicketReply(b)
}

// DecodeTicketReply decodes one TicketReply's JSON: a credential or an
// error, not both, nor neither.
func DecodeTicketReply(b []byte) (*TicketReply, error) {
	var p TicketReply
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", errTicketMessage, err)
	}
	// Printable first: an error of control characters only is no error.
	p.Error = Printable(p.Error, 1024)
	if (len(p.Credential) == 0) == (p.Error == "") {
		return nil, fmt.Errorf("%w: a reply holds a credential or an error", errTicketMessage)
	}
	return &p, nil
}
