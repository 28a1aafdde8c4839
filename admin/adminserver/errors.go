package adminserver

import (
	"errors"
	"net/http"

	"hop/admin"
	"hop/directory"
)

// directoryKinds maps the directory's error kinds to the API's, with the
// HTTP status of each.
var directoryKinds = []struct {
	err    error
	kind   string
	status int
	msg    string // sent when the failure carries no user message
}{
	{directory.ErrAccessDenied, admin.KindForbidden, http.StatusForbidden, "access denied"},
	{directory.ErrNotFound, admin.KindNotFound, http.StatusNotFound, "not found"},
	{directory.ErrExists, admin.KindExists, http.StatusConflict, "already exists"},
	{directory.ErrConflict, admin.KindConflict, http.StatusConflict, "the object changed meanwhile: read it again and retry"},
	{directory.ErrPolicy, admin.KindPolicy, http.StatusUnprocessableEntity, "refused by the password policy"},
	{directory.ErrInvalid, admin.KindInvalid, http.StatusBadRequest, "invalid request"},
	{directory.ErrUnaudited, admin.KindUnavailable, http.StatusServiceUnavailable,
		"the change is made, but its audit event is not yet in the audit log: it is written when the log can be; the domain's administrator must make room"},
}

func apiError(status int, kind, msg string) *admin.Error {
	return &admin.Error{Status: status, Kind: kind, Message: msg}
}

// badRequest is a 400 with message msg.
func badRequest(msg string) *admin.Error {
	return apiError(http.StatusBadRequest, admin.KindBadRequest, msg)
}

// internalMessage is all a client learns of a failure the server did not
// classify; the server logs the cause.
const internalMessage = "internal error"

// toError classifies err for a client. A directory failure sends its user
// message (directory.Error.Msg), never the text of the cause it wraps (a
// file name, a store's error); a failure of a directory kind without one
// sends the kind's generic message. Anything unclassified is a 500 with a
// generic message: the server logs the cause but does not send it.
func toError(err error) *admin.Error {
	var e *admin.Error
	if errors.As(err, &e) {
		return e
	}
	var de *directory.Error
	hasMsg := errors.As(err, &de) && de.Msg != ""
	for _, k := range directoryKinds {
		switch {
		case hasMsg && errors.Is(de.Kind, k.err):
			return apiError(k.status, k.kind, de.Msg)
		case !hasMsg && errors.Is(err, k.err):
			return apiError(k.status, k.kind, k.msg)
		}
	}
	return apiError(http.StatusInternalServerError, admin.KindInternal, internalMessage)
}
