package adminserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"hop/admin"
	"hop/directory"
)

// MaxBodyBytes caps a request body; larger ones get 413.
const MaxBodyBytes = 1 << 20

// Handler serves the API over HTTP. It does not authenticate: put it
// behind an authenticator (spnego.HTTPAuth in hop kdc) and give it
// ServiceFor, which maps an authenticated request to the Service acting
// for its caller. Two endpoints are the exception: a join that carries a
// join token and a read of a host's SSH host keys, without an
// Authorization header, reach Anonymous.
type Handler struct {
	// ServiceFor returns the Service acting for r's authenticated caller.
	ServiceFor func(r *http.Request) (admin.Service, error)
	// Anonymous serves token joins and reads of SSH host keys (nil: they
	// need authentication).
	Anonymous admin.Service
	// Logger logs one line per request (nil: none).
	Logger *slog.Logger
	// Secure reports whether key material may be sent in reply to r;
	// nil means: over TLS, or to a loopback address.
	Secure func(r *http.Request) bool

	once sync.Once
	mux  *http.ServeMux
}

// routes returns the handler's routes, built on first use.
func (h *Handler) routes() *http.ServeMux {
	h.once.Do(h.build)
	return h.mux
}

func (h *Handler) build() {
	m := http.NewServeMux()
	handle := func(pattern string, f func(s admin.Service, r *http.Request) (any, error)) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, f) })
	}
	handle("GET /v1/whoami", func(s admin.Service, r *http.Request) (any, error) { return s.Whoami(r.Context()) })
	handle("GET /v1/domain", func(s admin.Service, r *http.Request) (any, error) { return s.Domain(r.Context()) })
	handle("PATCH /v1/domain/policy", func(s admin.Service, r *http.Request) (any, error) {
		var c admin.PolicyChange
		if err := decode(r, &c); err != nil {
			return nil, err
		}
		return s.SetPolicy(r.Context(), c)
	})

	handle("GET /v1/accounts", func(s admin.Service, r *http.Request) (any, error) {
		return s.Accounts(r.Context(), r.URL.Query().Get("kind"))
	})
	handle("POST /v1/accounts", func(s admin.Service, r *http.Request) (any, error) {
		var a admin.NewAccount
		if err := decode(r, &a); err != nil {
			return nil, err
		}
		return created(s.CreateAccount(r.Context(), a))
	})
	handle("GET /v1/accounts/{name}", func(s admin.Service, r *http.Request) (any, error) {
		return s.Account(r.Context(), r.PathValue("name"))
	})
	handle("PATCH /v1/accounts/{name}", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		var c admin.AccountChange
		if err := decode(r, &c); err != nil {
			return nil, err
		}
		return s.UpdateAccount(r.Context(), r.PathValue("name"), rev, c)
	})
	handle("DELETE /v1/accounts/{name}", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		return nil, s.DeleteAccount(r.Context(), r.PathValue("name"), rev)
	})
	handle("POST /v1/accounts/{name}/password", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		var c admin.PasswordChange
		if err := decode(r, &c); err != nil {
			return nil, err
		}
		return s.SetPassword(r.Context(), r.PathValue("name"), rev, c)
	})
	handle("POST /v1/accounts/{name}/keys", func(s admin.Service, r *http.Request) (any, error) {
		if !h.secure(r) {
			return nil, insecure()
		}
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		var k admin.KeysRequest
		if err := decode(r, &k); err != nil {
			return nil, err
		}
		return s.AccountKeys(r.Context(), r.PathValue("name"), rev, k)
	})
	handle("POST /v1/accounts/{name}/spns", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		var body struct {
			SPN string `json:"spn"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		return s.AddSPN(r.Context(), r.PathValue("name"), rev, body.SPN)
	})
	handle("DELETE /v1/accounts/{name}/spns", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		spn, err := required(r, "spn")
		if err != nil {
			return nil, err
		}
		return s.RemoveSPN(r.Context(), r.PathValue("name"), rev, spn)
	})

	handle("GET /v1/groups", func(s admin.Service, r *http.Request) (any, error) { return s.Groups(r.Context()) })
	handle("POST /v1/groups", func(s admin.Service, r *http.Request) (any, error) {
		var g admin.NewGroup
		if err := decode(r, &g); err != nil {
			return nil, err
		}
		return created(s.CreateGroup(r.Context(), g))
	})
	handle("GET /v1/groups/{name}", func(s admin.Service, r *http.Request) (any, error) {
		return s.Group(r.Context(), r.PathValue("name"))
	})
	handle("DELETE /v1/groups/{name}", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		return nil, s.DeleteGroup(r.Context(), r.PathValue("name"), rev)
	})
	handle("POST /v1/groups/{name}/members", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		var body struct {
			Member string `json:"member"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		return s.AddMember(r.Context(), r.PathValue("name"), rev, body.Member)
	})
	handle("DELETE /v1/groups/{name}/members", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		m, err := required(r, "member")
		if err != nil {
			return nil, err
		}
		return s.RemoveMember(r.Context(), r.PathValue("name"), rev, m)
	})
	handle("PUT /v1/groups/{name}/managers", func(s admin.Service, r *http.Request) (any, error) {
		rev, err := ifMatch(r)
		if err != nil {
			return nil, err
		}
		var body struct {
			Managers []string `json:"managers"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		return s.SetGroupManagers(r.Context(), r.PathValue("name"), rev, body.Managers)
	})

	handle("GET /v1/explain", func(s admin.Service, r *http.Request) (any, error) {
		q := r.URL.Query()
		self, err := boolParam(q.Get("s4u2self"))
		if err != nil {
			return nil, err
		}
		return s.Explain(r.Context(), q.Get("user"), q.Get("service"), q.Get("target"), self)
	})

	handle("POST /v1/join-tokens", func(s admin.Service, r *http.Request) (any, error) {
		if !h.secure(r) {
			return nil, insecure()
		}
		var t admin.JoinTokenRequest
		if err := decode(r, &t); err != nil {
			return nil, err
		}
		return created(s.CreateJoinToken(r.Context(), t))
	})
	handle("POST /v1/join", func(s admin.Service, r *http.Request) (any, error) {
		if !h.secure(r) {
			return nil, insecure()
		}
		var j admin.JoinRequest
		if err := decode(r, &j); err != nil {
			return nil, err
		}
		return s.Join(r.Context(), j)
	})
	handle("GET /v1/domain/delegation-policy", func(s admin.Service, r *http.Request) (any, error) {
		return s.DelegationPolicy(r.Context())
	})
	handle("GET /v1/hosts/{host}/ssh-keys", func(s admin.Service, r *http.Request) (any, error) {
		return s.HostKeys(r.Context(), r.PathValue("host"))
	})
	handle("GET /v1/audit", func(s admin.Service, r *http.Request) (any, error) {
		q, err := auditQuery(r)
		if err != nil {
			return nil, err
		}
		return s.Audit(r.Context(), q)
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.write(w, r, time.Now(), nil, apiError(http.StatusNotFound, admin.KindNotFound,
			fmt.Sprintf("no API endpoint %s %s (hop's admin API lives under /v1/)", r.Method, r.URL.Path)))
	})
	h.mux = m
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.routes().ServeHTTP(w, r)
}

// IsAnonymousJoin reports whether r is a token join without Kerberos
// authentication, which an authenticator in front of the Handler should
// let through.
func IsAnonymousJoin(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/v1/join" && r.Header.Get("Authorization") == ""
}

// IsAnonymousHostKeys reports whether r reads a host's SSH host keys
// without Kerberos authentication. They are public (what a known_hosts
// file holds); what makes them trustworthy is that the reply is
// authentic (https with the server's pin, or loopback), not who asked.
// A hop client in a session on another host reads them so, where its
// delegation mode gives it no ticket for the admin server (constrained
// delegation to C's host service only).
func IsAnonymousHostKeys(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
		return false
	}
	host, ok := strings.CutPrefix(r.URL.Path, "/v1/hosts/")
	host, ok2 := strings.CutSuffix(host, "/ssh-keys")
	return ok && ok2 && host != "" && !strings.Contains(host, "/")
}

// isAnonymous reports whether r is one of the requests served without
// authentication.
func isAnonymous(r *http.Request) bool {
	return IsAnonymousJoin(r) || IsAnonymousHostKeys(r) ||
		r.Method == http.MethodGet && r.URL.Path == "/v1/domain/delegation-policy" && r.Header.Get("Authorization") == ""
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, f func(admin.Service, *http.Request) (any, error)) {
	start := time.Now()
	var (
		s   admin.Service
		err error
	)
	if isAnonymous(r) && h.Anonymous != nil {
		s = h.Anonymous
	} else if h.ServiceFor == nil {
		err = apiError(http.StatusUnauthorized, admin.KindUnauthenticated, "this server has no authentication configured")
	} else {
		s, err = h.ServiceFor(r)
	}
	if err != nil {
		h.write(w, r, start, nil, err)
		return
	}
	v, err := f(s, r)
	h.write(w, r, start, v, err)
}

// createdValue marks a result of a POST that created an object (201).
type createdValue struct{ v any }

func created[T any](v *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return createdValue{v}, nil
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, start time.Time, v any, err error) {
	status := http.StatusOK
	var body any
	switch {
	case err != nil:
		e := toError(err)
		if h.Logger != nil {
			var de *directory.Error
			switch {
			case e.Kind == admin.KindInternal:
				h.Logger.Error("admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			case errors.As(err, &de) && de.Err != nil:
				// The client got the user message; the cause stays here.
				h.Logger.Warn("admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
		}
		status, body = e.Status, struct {
			Error *admin.Error `json:"error"`
		}{e}
		if status == http.StatusUnauthorized {
			w.Header().Add("WWW-Authenticate", "Negotiate")
		}
	case v == nil:
		status = http.StatusNoContent
	default:
		if c, ok := v.(createdValue); ok {
			status, v = http.StatusCreated, c.v
		}
		if rev, ok := revisionOf(v); ok {
			w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(rev, 10)))
		}
		body = v
	}
	w.Header().Set("Cache-Control", "no-store")
	if body != nil {
		b, merr := json.MarshalIndent(body, "", "  ")
		if merr != nil {
			status, b = http.StatusInternalServerError, []byte(`{"error":{"status":500,"kind":"internal","message":"internal error"}}`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(append(b, '\n'))
	} else {
		w.WriteHeader(status)
	}
	if h.Logger != nil {
		h.Logger.Info("admin API", "method", r.Method, "path", r.URL.Path, "status", status, "took", time.Since(start).Round(time.Microsecond))
	}
}

func revisionOf(v any) (uint64, bool) {
	switch o := v.(type) {
	case *admin.Account:
		return o.Revision, o != nil
	case *admin.Group:
		return o.Revision, o != nil
	}
	return 0, false
}

func (h *Handler) secure(r *http.Request) bool {
	if h.Secure != nil {
		return h.Secure(r)
	}
	return IsSecure(r)
}

// IsSecure reports whether r came over TLS or from a loopback address.
func IsSecure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func insecure() error {
	return apiError(http.StatusForbidden, admin.KindInsecure,
		"refusing to send or receive key material over plain HTTP from a non-loopback address: use the server's https URL (hop kdc --admin-tls)")
}

// decode reads r's JSON body into v: one object, no unknown fields, at
// most MaxBodyBytes.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return apiError(http.StatusUnsupportedMediaType, admin.KindMediaType,
				fmt.Sprintf("the body must be JSON (Content-Type: application/json), not %q", ct))
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return badRequest("reading the request body: " + err.Error())
	}
	if len(body) > MaxBodyBytes {
		return apiError(http.StatusRequestEntityTooLarge, admin.KindTooLarge,
			fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request needs a JSON object as its body")
	}
	return decodeJSON(body, v)
}

// decodeJSON is decode's strict JSON step, with errors that name the
// position or field.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return badRequest(fmt.Sprintf("the body is not valid JSON: %v (at byte %d)", syn, syn.Offset))
		case errors.As(err, &typ):
			return badRequest(fmt.Sprintf("field %q: expected %s, got a JSON %s", typ.Field, typ.Type, typ.Value))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("the body ends in the middle of a JSON value")
		// encoding/json's DisallowUnknownFields has no typed error; its
		// text is the only way to name the field.
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + " in the body (see the API's documented fields)")
		}
		return badRequest("the body does not decode: " + err.Error())
	}
	if dec.More() {
		return badRequest("the body holds more than one JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return badRequest("the body holds data after its JSON object")
	}
	return nil
}

// ifMatch reads an If-Match revision (0 when absent).
func ifMatch(r *http.Request) (uint64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, nil
	}
	v = strings.TrimPrefix(v, "W/")
	if u, err := strconv.Unquote(v); err == nil {
		v = u
	}
	rev, err := strconv.ParseUint(v, 10, 64)
	if err != nil || rev == 0 {
		return 0, badRequest(fmt.Sprintf("If-Match must be an object's revision (a positive number, as in its ETag), not %q", r.Header.Get("If-Match")))
	}
	return rev, nil
}

func required(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", badRequest(fmt.Sprintf("the query parameter %q is required", name))
	}
	return v, nil
}

func boolParam(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest(fmt.Sprintf("%q is not a boolean: use true or false", s))
	}
	return b, nil
}

func auditQuery(r *http.Request) (admin.AuditQuery, error) {
	q := r.URL.Query()
	a := admin.AuditQuery{Principal: q.Get("principal"), Type: q.Get("type")}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return a, badRequest(fmt.Sprintf("since=%q is not an RFC 3339 time", s))
		}
		a.Since = t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > admin.MaxAuditLimit {
			return a, badRequest(fmt.Sprintf("limit=%q: give a number from 0 to %d", s, admin.MaxAuditLimit))
		}
		a.Limit = n
	}
	return a, nil
}
