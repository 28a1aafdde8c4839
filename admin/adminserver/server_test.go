package adminserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hop/admin"

	"hop/directory"
)

// recorder is a Service that records UpdateAccount calls; other methods
// are not used by these tests (calling one panics on the nil interface).
type recorder struct {
	admin.Service
	rev    uint64
	change admin.AccountChange
	err    error
}

func (r *recorder) UpdateAccount(ctx context.Context, name string, rev uint64, c admin.AccountChange) (*admin.Account, error) {
	r.rev, r.change = rev, c
	if r.err != nil {
		return nil, r.err
	}
	return &admin.Account{Name: name, Revision: rev + 1}, nil
}

func (r *recorder) AccountKeys(ctx context.Context, name string, rev uint64, k admin.KeysRequest) (*admin.Keys, error) {
	return &admin.Keys{Account: name}, nil
}

// newTestClient returns a client of the server at url.
func newTestClient(t *testing.T, url string) *admin.Client {
	t.Helper()
	c, err := admin.NewClient(url, admin.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newTestServer(t *testing.T, s admin.Service, secure bool) *httptest.Server {
	t.Helper()
	h := &Handler{
		ServiceFor: func(*http.Request) (admin.Service, error) { return s, nil },
		Secure:     func(*http.Request) bool { return secure },
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHandlerRefusesBadBodies(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec, true)
	for _, tc := range []struct {
		name, body, ctype, ifMatch string
		status                     int
		want                       string
	}{
		{"unknown field", `{"descripton":"x"}`, "application/json", "", 400, `unknown field \"descripton\"`},
		{"syntax", `{"description":`, "application/json", "", 400, "ends in the middle"},
		{"bad json", `{"description" "x"}`, "application/json", "", 400, "not valid JSON"},
		{"type", `{"disabled":"yes"}`, "application/json", "", 400, `field \"disabled\": expected bool`},
		{"two values", `{"description":"a"}{"description":"b"}`, "application/json", "", 400, "more than one JSON value"},
		{"trailing", `{"description":"a"} x`, "application/json", "", 400, "more than one JSON value"},
		{"empty", ``, "application/json", "", 400, "needs a JSON object"},
		{"media type", `description=x`, "application/x-www-form-urlencoded", "", 415, "must be JSON"},
		{"too large", `{"description":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "application/json", "", 413, "larger than"},
		{"bad duration", `{"max_ticket_life":"ten hours"}`, "application/json", "", 400, "not a duration"},
		{"bad if-match", `{"description":"a"}`, "application/json", `"seven"`, 400, "If-Match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/v1/accounts/alice", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			if tc.ifMatch != "" {
				req.Header.Set("If-Match", tc.ifMatch)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Fatalf("status %d body %s; want %d and %q", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
}

func TestClientRoundTripsChangesAndErrors(t *testing.T) {
	rec := &recorder{}
	c := newTestClient(t, newTestServer(t, rec, true).URL)
	desc := "web front"
	a, err := c.UpdateAccount(context.Background(), "b$", 7, admin.AccountChange{Description: &desc, AllowedToActAdd: []string{"c$"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.rev != 7 || rec.change.Description == nil || *rec.change.Description != desc || len(rec.change.AllowedToActAdd) != 1 {
		t.Fatalf("server saw rev %d change %+v", rec.rev, rec.change)
	}
	if a.Name != "b$" || a.Revision != 8 {
		t.Fatalf("client got %+v", a)
	}
	for _, k := range []struct{ dir, api error }{
		{directory.ErrAccessDenied, admin.ErrAccessDenied},
		{directory.ErrNotFound, admin.ErrNotFound},
		{directory.ErrConflict, admin.ErrConflict},
		{directory.ErrExists, admin.ErrExists},
		{directory.ErrPolicy, admin.ErrPolicy},
		{directory.ErrInvalid, admin.ErrInvalid},
	} {
		rec.err = &directory.Error{Kind: k.dir, Msg: "because"}
		_, err := c.UpdateAccount(context.Background(), "b$", 0, admin.AccountChange{Description: &desc})
		if !errors.Is(err, k.api) || err.Error() != "because" {
			t.Errorf("error %v: client got %v", k.dir, err)
		}
	}
	// A directory failure sends its user message, not its internal cause.
	rec.err = fmt.Errorf("updating: %w", &directory.Error{Kind: directory.ErrNotFound, Msg: "no account b$", Err: errors.New("open /var/lib/hop/secret.db: disk on fire")})
	if _, err := c.UpdateAccount(context.Background(), "b$", 0, admin.AccountChange{Description: &desc}); !errors.Is(err, admin.ErrNotFound) || err.Error() != "no account b$" {
		t.Errorf("a directory error with a cause: client got %v", err)
	}
	// A kind without a user message gets the kind's generic one.
	rec.err = fmt.Errorf("/var/lib/hop: %w", directory.ErrAccessDenied)
	if _, err := c.UpdateAccount(context.Background(), "b$", 0, admin.AccountChange{Description: &desc}); !errors.Is(err, admin.ErrAccessDenied) || strings.Contains(err.Error(), "/var") {
		t.Errorf("a bare directory kind: client got %v", err)
	}
	rec.err = errors.New("disk on fire")
	if _, err := c.UpdateAccount(context.Background(), "b$", 0, admin.AccountChange{Description: &desc}); err == nil || strings.Contains(err.Error(), "fire") {
		t.Errorf("an internal error must not leak its cause to the client: %v", err)
	}
	// A change made whose audit event is not yet in the log: 503, saying so.
	rec.err = fmt.Errorf("%w (write /var/lib/hop/audit.log: no space left on device)", directory.ErrUnaudited)
	_, err = c.UpdateAccount(context.Background(), "b$", 0, admin.AccountChange{Description: &desc})
	var ae *admin.Error
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Kind != admin.KindUnavailable || !strings.Contains(err.Error(), "not yet in the audit log") || strings.Contains(err.Error(), "/var") {
		t.Errorf("an unaudited change: client got %v", err)
	}
}

func TestKeysNeedASecureTransport(t *testing.T) {
	c := newTestClient(t, newTestServer(t, &recorder{}, false).URL)
	_, err := c.AccountKeys(context.Background(), "b$", 0, admin.KeysRequest{Rotate: true})
	var e *admin.Error
	if !errors.As(err, &e) || e.Status != http.StatusForbidden || e.Kind != admin.KindInsecure {
		t.Fatalf("got %v", err)
	}
	c = newTestClient(t, newTestServer(t, &recorder{}, true).URL)
	if _, err := c.AccountKeys(context.Background(), "b$", 0, admin.KeysRequest{Rotate: true}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	srv := newTestServer(t, &recorder{}, true)
	resp, err := http.Get(srv.URL + "/v2/accounts")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "no API endpoint GET /v2/accounts") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestIsSecure(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:5555": true, "127.0.0.3:1": true, "[::1]:80": true, "192.0.2.1:80": false, "garbage": false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		if got := IsSecure(r); got != want {
			t.Errorf("IsSecure(%s) = %v", addr, got)
		}
	}
}
