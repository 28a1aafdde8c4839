package dc

import (
	"fmt"
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// The admin API's HTTP server logs every failed TLS handshake and every
// connection it times out: thousands of idle connections would write
// thousands of lines. At most errorLogBurst lines are written per
// errorLogWindow; the rest are counted and said in one line when the next
// window opens.
const (
	errorLogWindow = 10 * time.Second
	errorLogBurst  = 5
)

// limitedLog is the http.Server's ErrorLog writer.
type limitedLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	start      time.Time
	written    int
	suppressed int
	last       string
}

func newErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(&limitedLog{logger: logger, now: time.Now}, "", 0)
}

// Write logs one line of the HTTP server, within the bounds.
func (w *limitedLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	w.mu.Lock()
	now := w.now()
	if now.Sub(w.start) >= errorLogWindow {
		if w.suppressed > 0 {
			w.logger.Warn(fmt.Sprintf("admin API: %d more HTTP server errors in %v not logged one by one (idle or failed connections?)", w.suppressed, errorLogWindow), "last", w.last)
		}
		w.start, w.written, w.suppressed = now, 0, 0
	}
	if w.written < errorLogBurst {
		w.written++
		w.mu.Unlock()
		w.logger.Warn("admin API: " + line)
		return len(p), nil
	}
	w.suppressed++
	w.last = line
	w.mu.Unlock()
	return len(p), nil
}
