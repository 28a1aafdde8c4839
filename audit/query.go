package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"
)

// Query selects events of a log, as hop audit and the admin API's
// GET /v1/audit read it. The zero Query selects every event.
type Query struct {
	// Since selects events at or after it (zero: from the start).
	Since time.Time
	// Principals selects events that name any of them as client,
	// service, actor or target, in any case and with or without @REALM:
	// "alice" matches "alice@EXAMPLE.TEST", "alice@example.test" matches
	// "alice", but "alice@A.TEST" does not match "alice@B.TEST". None:
	// every event.
	Principals []string
	// Types selects events of any of these types or of their subtypes:
	// "tgs" matches "tgs" and "tgs.issued", not "tgsx". None: every type.
	Types []string
	// Limit keeps, for [Read], only the newest Limit matching events
	// (0 or less: all of them).
	Limit int
}

// Matcher returns the predicate of q's Since, Principals and Types (Limit
// is [Read]'s).
func (q Query) Matcher() func(*Event) bool {
	matchers := make([]func(string) bool, len(q.Principals))
	for i, p := range q.Principals {
		matchers[i] = principalMatcher(p)
	}
	types := q.Types
	since := q.Since
	return func(ev *Event) bool {
		if !since.IsZero() && ev.Time.Before(since) {
			return false
		}
		if len(types) > 0 {
			ok := false
			for _, t := range types {
				if ev.Type == t || strings.HasPrefix(ev.Type, t+".") {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		if len(matchers) == 0 {
			return true
		}
		for _, m := range matchers {
			for _, v := range []string{ev.Client, ev.Service, ev.Actor, ev.Target} {
				if m(v) {
					return true
				}
			}
		}
		return false
	}
}

// principalMatcher matches a name in any case, and with or without a
// realm unless both have one.
func principalMatcher(p string) func(string) bool {
	p = strings.ToLower(p)
	pname, prealm := cutRealm(p)
	return func(v string) bool {
		if v == "" {
			return false
		}
		v = strings.ToLower(v)
		if v == p {
			return true
		}
		vname, vrealm := cutRealm(v)
		if prealm != "" && vrealm != "" {
			return false
		}
		return vname == pname
	}
}

func cutRealm(s string) (name, realm string) {
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// Read returns the lines of the log at path that q selects: the newest
// q.Limit matching events, oldest first, each line as written. Lines that
// do not decode are skipped; a log that does not exist holds no events.
func Read(ctx context.Context, path string, q Query) ([]json.RawMessage, error) {
	keep := q.Matcher()
	out := []json.RawMessage{}
	err := Tail(ctx, path, TailOptions{}, func(line []byte) error {
		ev, err := ParseLine(line)
		if err != nil || !keep(&ev) {
			return nil
		}
		if q.Limit > 0 && len(out) == q.Limit {
			out = out[1:]
		}
		out = append(out, json.RawMessage(bytes.Clone(line)))
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	return out, err
}
