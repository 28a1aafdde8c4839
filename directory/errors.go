package directory

import (
	"errors"
	"fmt"
)

// Errors the directory's failures wrap, for callers to tell them apart with
// errors.Is. The error text itself says what was wrong and what to do.
var (
	ErrNotFound = errors.New("directory: not found")
	ErrExists   = errors.New("directory: already exists")
	ErrInvalid  = errors.New("directory: invalid")
	// ErrMasterKey means the master key does not open this directory.
	ErrMasterKey = errors.New("directory: wrong master key")
	// ErrCorrupt means a stored record does not decode.
	ErrCorrupt = errors.New("directory: corrupt record")
	// ErrAccessDenied means the actor may not make the change it asked
	// for; the error text says who may, and how to get the right.
	ErrAccessDenied = errors.New("directory: access denied")
	// ErrConflict means the object changed since the caller read it: the
	// revision the change was conditional on is no longer the current one.
	// Read the object again and retry.
	ErrConflict = errors.New("directory: conflicting change")
	// ErrPolicy means the domain's password policy refuses a new password
	// (too short, used before); the error text says which rule and how to
	// comply. kpasswd answers it with KRB5_KPASSWD_SOFTERROR (RFC 3244 §2).
	ErrPolicy = errors.New("directory: refused by the password policy")
)

// Error is a directory failure: Kind is one of the Err* values above, Msg the
// explanation a user sees.
type Error struct {
	Kind error
	Msg  string
	Err  error // underlying cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "directory: " + e.Msg + ": " + e.Err.Error()
	}
	return "directory: " + e.Msg
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error { return errorf(ErrNotFound, format, args...) }
func exists(format string, args ...any) error   { return errorf(ErrExists, format, args...) }
func invalid(format string, args ...any) error  { return errorf(ErrInvalid, format, args...) }
func denied(format string, args ...any) error   { return errorf(ErrAccessDenied, format, args...) }
func policy(format string, args ...any) error   { return errorf(ErrPolicy, format, args...) }

// corrupt reports a record that does not decode, naming it.
func corrupt(bucket, key string, cause error) error {
	return &Error{Kind: ErrCorrupt, Msg: fmt.Sprintf("record %s/%q does not decode (the store is damaged; restore it from a backup)", bucket, key), Err: cause}
}
