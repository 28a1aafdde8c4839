package dc

import (
	"context"
	"encoding/json"
	"sync"

	"hop/admin"
	"hop/audit"
)

// AuditReader reads the audit log at path for the admin API
// (adminserver.Local.AuditLog, adminserver.HTTPServer.AuditLog): the newest q.Limit
// events (0: admin.DefaultAuditLimit) that q selects, oldest first, as
// written.
func AuditReader(path string) func(ctx context.Context, q admin.AuditQuery) ([]json.RawMessage, error) {
	return func(ctx context.Context, q admin.AuditQuery) ([]json.RawMessage, error) {
		aq := audit.Query{Since: q.Since, Limit: q.Limit}
		if q.Principal != "" {
			aq.Principals = []string{q.Principal}
		}
		if q.Type != "" {
			aq.Types = []string{q.Type}
		}
		if aq.Limit <= 0 {
			aq.Limit = admin.DefaultAuditLimit
		}
		return audit.Read(ctx, path, aq)
	}
}

// streamSink writes audit events as JSON lines to a stream.
type streamSink struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (a *streamSink) Emit(ev audit.Event) {
	a.mu.Lock()
	a.enc.Encode(ev)
	a.mu.Unlock()
}
