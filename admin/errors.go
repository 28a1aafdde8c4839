package admin

import (
	"errors"
)

// Error is a failure as the API reports it: an HTTP status, a kind naming
// the class of failure, and a message that says what was wrong and what to
// do. It carries only what the server chose to tell: never the text of an
// internal cause.
type Error struct {
	Status  int    `json:"status"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap maps the kind to its sentinel error, so that
// errors.Is(err, admin.ErrAccessDenied) holds for a "forbidden" answer.
func (e *Error) Unwrap() error {
	for _, k := range kinds {
		if k.name == e.Kind {
			return k.err
		}
	}
	return nil
}

// Errors that an *Error of the matching kind wraps, for callers to tell
// failures apart with errors.Is. They mirror the directory's error kinds
// (the server maps those to them), so a client needs no directory.
var (
	ErrAccessDenied = errors.New("admin: access denied")
	ErrNotFound     = errors.New("admin: not found")
	ErrExists       = errors.New("admin: already exists")
	ErrConflict     = errors.New("admin: conflicting change")
	ErrPolicy       = errors.New("admin: refused by the password policy")
	ErrInvalid      = errors.New("admin: invalid")
)

// Error kinds (Error.Kind).
const (
	KindForbidden       = "forbidden"
	KindNotFound        = "not-found"
	KindExists          = "exists"
	KindConflict        = "conflict"
	KindPolicy          = "policy"
	KindInvalid         = "invalid"
	KindBadRequest      = "bad-request"
	KindUnauthenticated = "unauthenticated"
	KindTooLarge        = "too-large"
	KindInternal        = "internal"
	KindMethod          = "method-not-allowed"
	KindMediaType       = "unsupported-media-type"
	KindInsecure        = "insecure-transport"
	KindUnavailable     = "unavailable"
)

// kinds are the kinds that have a sentinel error.
var kinds = []struct {
	name string
	err  error
}{
	{KindForbidden, ErrAccessDenied},
	{KindNotFound, ErrNotFound},
	{KindExists, ErrExists},
	{KindConflict, ErrConflict},
	{KindPolicy, ErrPolicy},
	{KindInvalid, ErrInvalid},
}

func newError(status int, kind, msg string) *Error {
	return &Error{Status: status, Kind: kind, Message: msg}
}
