package kcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// hop's extension of the protocol: a session's credential broker (package
// broker) answers OpHopBroker with what it is and what it would do for a
// target, so that hop's commands in the session can say why a ticket is
// not there ("the session was opened with --delegate none; use …") where
// the protocol itself only has KRB5_CC_NOTFOUND. The arguments and the
// results are one JSON object each.

// BrokerQuery is the argument of OpHopBroker.
type BrokerQuery struct {
	// Cache is the cache the question is about ("" for the caller's default).
	Cache string `json:"cache,omitempty"`
	// Target, when set, is a service principal (cifs/c.example.test@R) the
	// caller wants a ticket for.
	Target string `json:"target,omitempty"`
}

// BrokerStatus is the result of OpHopBroker.
type BrokerStatus struct {
	Host     string `json:"host"`     // the host the session runs on
	Session  string `json:"session"`  // the session's ID
	Endpoint string `json:"endpoint"` // the endpoint it runs in
	User     string `json:"user"`     // who opened it (the client of the first hop)
	Mode     string `json:"mode"`     // its delegation mode
	// Identity is the principal whose tickets the broker obtains for the
	// session ("" when it obtains none).
	Identity string `json:"identity,omitempty"`
	// How says how it obtains them, in a sentence.
	How string `json:"how"`
	// Credentials are the names of the credentials passed into the
	// session (--pass-credential), never their secrets.
	Credentials []string `json:"credentials,omitempty"`
	// Holds is the credential material of users and accounts the broker
	// holds for the session now (or, for a password, held), the kinds
	// below: what reached this host, never the secrets themselves.
	Holds []Holding `json:"holds"`
	// Target answers the query's Target.
	Target *BrokerTarget `json:"target,omitempty"`
}

// Holding is one piece of credential material a session's broker holds.
type Holding struct {
	Kind      string `json:"kind"`              // one of the Hold* kinds
	Principal string `json:"principal"`         // whose: the ticket's client, the key's account
	Target    string `json:"target,omitempty"`  // a ticket's service
	Expires   string `json:"expires,omitempty"` // a ticket's end time (RFC 3339)
	Note      string `json:"note,omitempty"`    // how it came and what it allows, in a phrase
}

// The kinds of Holding, from the one that gives most to whoever takes it
// to the one that gives least.
const (
	// HoldPassword: the account's password reached the host (fresh
	// credentials, a passed credential); the broker logged on with it and
	// erased it.
	HoldPassword = "password"
	// HoldTGT: a ticket-granting ticket and its session key: tickets to
	// any service until it expires.
	HoldTGT = "tgt"
	// HoldAccountKey: an account's long-term key, read from a keytab on
	// this host (the host's own, a RunAs or JEA account): not a user's.
	HoldAccountKey = "account-key"
	// HoldEvidence: the user's ticket to this host, sealed with the host's
	// key, without its session key: usable only by the host, with
	// S4U2Proxy, where the domain allows it.
	HoldEvidence = "evidence-ticket"
	// HoldServiceTicket: a ticket and session key for one service, until
	// it expires.
	HoldServiceTicket = "service-ticket"
)

// BrokerTarget is what the broker would do for one target.
type BrokerTarget struct {
	Name string `json:"name"`
	// Possible reports whether the mode lets the broker ask the KDC; the
	// KDC may still refuse.
	Possible bool `json:"possible"`
	// Refused is the newest refusal for this target in this session (the
	// KDC's words), "" if none; the broker does not cache it: the next
	// request asks the KDC again.
	Refused string `json:"refused,omitempty"`
	// Explain is the message for a user who has no ticket for the target:
	// the cause and the options.
	Explain string `json:"explain"`
}

// MaxBrokerMessage bounds the JSON of a query or a status.
const MaxBrokerMessage = 64 << 10

// DecodeBrokerQuery decodes the arguments of OpHopBroker.
func DecodeBrokerQuery(b []byte) (*BrokerQuery, error) {
	q := &BrokerQuery{}
	if err := decodeJSON(b, q); err != nil {
		return nil, err
	}
	if len(q.Cache) > MaxNameLen {
		return nil, fmt.Errorf("%w: %s: a cache name of %d bytes", ErrMalformed, OpHopBroker, len(q.Cache))
	}
	return q, nil
}

// DecodeBrokerStatus decodes the results of OpHopBroker.
func DecodeBrokerStatus(b []byte) (*BrokerStatus, error) {
	st := &BrokerStatus{}
	if err := decodeJSON(b, st); err != nil {
		return nil, err
	}
	return st, nil
}

func decodeJSON(b []byte, v any) error {
	if len(b) > MaxBrokerMessage {
		return fmt.Errorf("%w: %s: %d bytes, more than %d", ErrMalformed, OpHopBroker, len(b), MaxBrokerMessage)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, OpHopBroker, err)
	}
	return nil
}

// ErrNotBroker is returned by BrokerStatus when the server is not a hop
// session broker (MIT's or Heimdal's KCM, or hop's without one).
var ErrNotBroker = errors.New("kcm: the KCM server is not a hop session broker")

// BrokerStatus asks the server what the session's broker is and, when
// target is set, what it would do for that service principal.
func (c *Client) BrokerStatus(ctx context.Context, cache, target string) (*BrokerStatus, error) {
	q, err := json.Marshal(&BrokerQuery{Cache: cache, Target: target})
	if err != nil {
		return nil, err
	}
	rep, err := c.Do(ctx, &Request{Op: OpHopBroker, Raw: q})
	var st Status
	if errors.As(err, &st) && st.Unsupported() {
		return nil, ErrNotBroker
	}
	if err != nil {
		return nil, err
	}
	return DecodeBrokerStatus(rep.Raw)
}

// brokerReply answers OpHopBroker with s.Broker.
func (s *Server) brokerReply(ctx context.Context, uid uint32, req *Request) *Reply {
	if s.Broker == nil {
		return &Reply{Status: ErrNotSupp}
	}
	q, err := DecodeBrokerQuery(req.Raw)
	if err != nil {
		s.Logger.Info("kcm: malformed request", "uid", uid, "err", err)
		return &Reply{Status: ErrFormat}
	}
	st, err := s.Broker(ctx, uid, q)
	if err != nil {
		return s.fail(req.Op, err)
	}
	b, err := json.Marshal(st)
	if err != nil || len(b) > MaxBrokerMessage {
		s.Logger.Error("kcm: encode the broker's status", "err", err, "bytes", len(b))
		return &Reply{Status: ErrIO}
	}
	return &Reply{Raw: b}
}
