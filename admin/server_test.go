package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hop/directory"
)

// recorder is a Service that records UpdateAccount calls; other methods
// are not used by these tests (calling one panics on the nil interface).
type recorder struct {
	Service
	rev    uint64
	change AccountChange
	err    error
}

func (r *recorder) UpdateAccount(ctx context.Context, name string, rev uint64, c AccountChange) (*Account, error) {
	r.rev, r.change = rev, c
	if r.err != nil {
		return nil, r.err
	}
	return &Account{Name: name, Revision: rev + 1}, nil
}

func (r *recorder) AccountKeys(ctx context.Context, name string, rev uint64, k KeysRequest) (*Keys, error) {
	return &Keys{Account: name}, nil
}

func newTestServer(t *testing.T, s Service, secure bool) *httptest.Server {
	t.Helper()
	h := &Handler{
		ServiceFor: func(*http.Request) (Service, error) { return s, nil },
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
	c := &Client{URL: newTestServer(t, rec, true).URL}
	desc := "web front"
	a, err := c.UpdateAccount(context.Background(), "b$", 7, AccountChange{Description: &desc, AllowedToActAdd: []string{"c$"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.rev != 7 || rec.change.Description == nil || *rec.change.Description != desc || len(rec.change.AllowedToActAdd) != 1 {
		t.Fatalf("server saw rev %d change %+v", rec.rev, rec.change)
	}
	if a.Name != "b$" || a.Revision != 8 {
		t.Fatalf("client got %+v", a)
	}
	for _, kind := range []error{directory.ErrAccessDenied, directory.ErrNotFound, directory.ErrConflict, directory.ErrExists, directory.ErrPolicy} {
		rec.err = &directory.Error{Kind: kind, Msg: "because"}
		_, err := c.UpdateAccount(context.Background(), "b$", 0, AccountChange{Description: &desc})
		if !errors.Is(err, kind) || err.Error() != "because" {
			t.Errorf("error %v: client got %v", kind, err)
		}
	}
	rec.err = errors.New("disk on fire")
	if _, err := c.UpdateAccount(context.Background(), "b$", 0, AccountChange{Description: &desc}); err == nil || strings.Contains(err.Error(), "fire") {
		t.Errorf("an internal error must not leak its cause to the client: %v", err)
	}
}

func TestKeysNeedASecureTransport(t *testing.T) {
	c := &Client{URL: newTestServer(t, &recorder{}, false).URL}
	_, err := c.AccountKeys(context.Background(), "b$", 0, KeysRequest{Rotate: true})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusForbidden || e.Kind != kindInsecure {
		t.Fatalf("got %v", err)
	}
	c = &Client{URL: newTestServer(t, &recorder{}, true).URL}
	if _, err := c.AccountKeys(context.Background(), "b$", 0, KeysRequest{Rotate: true}); err != nil {
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
