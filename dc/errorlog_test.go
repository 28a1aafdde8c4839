package dc

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/admin"
)

// TestErrorLogBounded: a flood of HTTP server errors (3,000 idle
// connections timing out) writes a handful of lines per window, then one
// that counts the rest.
func TestErrorLogBounded(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(1000, 0)
	w := &limitedLog{logger: slog.New(slog.NewTextHandler(&out, nil)), now: func() time.Time { return now }}
	for i := range 3000 {
		w.Write([]byte("http: TLS handshake error from 192.0.2.1:" + string(rune('0'+i%10)) + ": EOF\n"))
	}
	now = now.Add(errorLogWindow)
	w.Write([]byte("http: one more\n"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != errorLogBurst+2 || !strings.Contains(lines[errorLogBurst], "2995 more HTTP server errors") || !strings.Contains(lines[errorLogBurst+1], "one more") {
		t.Errorf("%d lines:\n%s", len(lines), out.String())
	}
}

// TestRefuseUnaudited: while the audit log cannot be written, the admin
// API answers 503 with the error kind unavailable and the reason; once it
// can, it serves.
func TestRefuseUnaudited(t *testing.T) {
	var failing error = syscall.ENOSPC
	h := refuseUnaudited(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("served")) }), func() error { return failing })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/whoami", nil))
	var body struct {
		Error struct {
			Status  int
			Kind    string
			Message string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 503 || body.Error.Kind != admin.KindUnavailable || !strings.Contains(body.Error.Message, "audit log cannot be written") {
		t.Errorf("while the log fails: %d %s (%v)", rec.Code, rec.Body, err)
	}
	failing = nil
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/whoami", nil))
	if rec.Code != 200 || rec.Body.String() != "served" {
		t.Errorf("once the log works: %d %s", rec.Code, rec.Body)
	}
}
