package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hop/audit"
	"hop/remote"
	"hop/remoting"
)

// clientLogPath is the user's client log: what hop exec and hop shell
// served to hosts in mode remote-guard, and refused (hop audit --client).
func clientLogPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no folder for the client log: %v", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "hop", "client-audit.log"), nil
}

// logGuard makes g record what it serves and refuses in the user's client
// log, a hash-chained audit log as the agents' and the KDC's; it returns
// the function that closes the log. A log that cannot be opened is said
// once and serving goes on.
func (e *env) logGuard(g *remote.Guard, user string) func() {
	path, err := clientLogPath()
	var f *audit.File
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			f, err = audit.OpenFile(path)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "hop: warning: the client log cannot be written (%v): the tickets served are not recorded on this host\n", err)
		return func() {}
	}
	g.Served = func(q *remoting.TicketRequest, err error) {
		ev := audit.Event{Time: time.Now(), Type: "guard.served", Client: user, Service: q.Target, Target: q.Host, Flags: "session=" + q.Session}
		if err != nil {
			ev.Type, ev.Reason = "guard.refused", err.Error()
		}
		f.Emit(ev)
	}
	return func() { f.Close() }
}
