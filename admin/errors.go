package admin

import (
	"errors"
	"net/http"
	"strings"

	"hop/directory"
)

// Error is a failure as the API reports it: an HTTP status, a kind naming
// the class of failure, and a message that says what was wrong and what to
// do.
type Error struct {
	Status  int    `json:"status"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap maps the kind back to the directory's error kinds, so that
// errors.Is(err, directory.ErrAccessDenied) holds for a 403 from a server.
func (e *Error) Unwrap() error {
	for _, k := range kinds {
		if k.name == e.Kind {
			return k.err
		}
	}
	return nil
}

// Error kinds, with the directory error and HTTP status of each.
var kinds = []struct {
	name   string
	err    error
	status int
}{
	{"forbidden", directory.ErrAccessDenied, http.StatusForbidden},
	{"not-found", directory.ErrNotFound, http.StatusNotFound},
	{"exists", directory.ErrExists, http.StatusConflict},
	{"conflict", directory.ErrConflict, http.StatusConflict},
	{"policy", directory.ErrPolicy, http.StatusUnprocessableEntity},
	{"invalid", directory.ErrInvalid, http.StatusBadRequest},
}

// Kinds that have no directory counterpart.
const (
	kindBadRequest      = "bad-request"
	kindUnauthenticated = "unauthenticated"
	kindTooLarge        = "too-large"
	kindInternal        = "internal"
	kindMethod          = "method-not-allowed"
	kindMediaType       = "unsupported-media-type"
	kindInsecure        = "insecure-transport"
)

func newError(status int, kind, msg string) *Error {
	return &Error{Status: status, Kind: kind, Message: msg}
}

// badRequest is a 400 with message msg.
func badRequest(msg string) *Error { return newError(http.StatusBadRequest, kindBadRequest, msg) }

// toError classifies err. Directory failures keep their message without
// the package prefix; anything unclassified is a 500 whose message the
// server logs but does not send.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return newError(k.status, k.name, strings.TrimPrefix(err.Error(), "directory: "))
		}
	}
	return newError(http.StatusInternalServerError, kindInternal, "internal error")
}
