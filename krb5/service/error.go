package service

import (
	"errors"
	"fmt"
	"time"

	"hop/krb5"
	"hop/krb5/wire"
)

// Error is a refusal with the KRB-ERROR code a service must answer
// (RFC 4120 §3.2.3, §7.5.9). Text says what failed, for logs; it is never
// sent to the client.
type Error struct {
	Code krb5.ErrorCode
	Text string

	cause error // e.g. ErrReplayCacheFull, matched by Is
}

func (e *Error) Error() string {
	if e.Text == "" {
		return "service: " + e.Code.String()
	}
	return "service: " + e.Code.String() + ": " + e.Text
}

// Unwrap returns the code, so that errors.Is(err, krb5.KRBAPErrSkew) works.
func (e *Error) Unwrap() error { return e.Code }

// Is matches the cause of the refusal, such as ErrReplayCacheFull.
func (e *Error) Is(target error) bool { return e.cause != nil && errors.Is(e.cause, target) }

func refuse(code krb5.ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Text: fmt.Sprintf(format, args...)}
}

// Code returns the KRB-ERROR code err carries: the code of an *Error or of
// a krb5.ErrorCode in its chain, else KRB_ERR_GENERIC.
func Code(err error) krb5.ErrorCode {
	var se *Error
	if errors.As(err, &se) {
		return se.Code
	}
	var c krb5.ErrorCode
	if errors.As(err, &c) {
		return c
	}
	return krb5.KRBErrGeneric
}

// ErrorReply encodes the KRB-ERROR (RFC 4120 §5.9.1) that answers a
// refused request for server: the code of err (see Code), the server's
// name and the current time, which a client uses to correct its clock after
// KRB_AP_ERR_SKEW. It carries no e-text, so that a client learns no more
// than the code. It returns nil only if the message cannot be encoded (a
// server name with more components than wire allows).
func (a *Acceptor) ErrorReply(err error, server krb5.Principal) []byte {
	now := a.now()
	e := wire.KRBError{
		STime:     now.UTC().Truncate(time.Second),
		Susec:     int32(now.Nanosecond() / 1000),
		ErrorCode: Code(err),
		Realm:     server.Realm,
		SName:     server.Name,
	}
	b, merr := e.Marshal()
	if merr != nil {
		return nil
	}
	return b
}
