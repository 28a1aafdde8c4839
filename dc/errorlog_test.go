package dc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
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
