package domain

import (
	"context"
	"fmt"
	"log/slog"

	"hop/audit"
	"hop/directory"
	"hop/directory/bolt"
)

// OpenOptions configures [Open].
type OpenOptions struct {
	// Audit receives the directory's change events. Nil: the folder's
	// audit log, which Open opens and Close closes; Open fails if it
	// cannot, as hop changes the directory only when it can audit the
	// change.
	Audit audit.Sink
	// Logger receives the directory's debug messages (how long its
	// snapshots take to build and to follow changes); nil discards them.
	Logger *slog.Logger
}

// Domain is a domain folder opened by [Open].
type Domain struct {
	Folder    Folder
	Directory *directory.Directory

	store *bolt.Store
	log   *audit.File // nil when the caller gave the sink
}

// Open opens the domain in folder dir: its directory, sealed by its master
// key, with changes audited as o says. Close it when done.
func Open(ctx context.Context, dir string, o OpenOptions) (*Domain, error) {
	f := Folder(dir)
	if err := f.Check(); err != nil {
		return nil, err
	}
	dom := &Domain{Folder: f}
	sink := o.Audit
	if sink == nil {
		log, err := audit.Open(f.AuditLog(), audit.Options{})
		if err != nil {
			return nil, fmt.Errorf("%w; hop changes the directory only when it can audit the change", err)
		}
		dom.log, sink = log, log
	}
	mk, err := directory.LoadMasterKey(f.MasterKey())
	if err == nil {
		dom.store, err = bolt.Open(f.Directory(), bolt.Options{})
	}
	if err == nil {
		dom.Directory, err = directory.Open(ctx, dom.store, mk, directory.Options{Audit: sink, Logger: o.Logger})
	}
	if err != nil {
		dom.Close()
		return nil, err
	}
	return dom, nil
}

// Close closes the directory and the audit log Open opened. An error means
// that events could not be written to the log: the changes were made, but
// the log is incomplete.
func (d *Domain) Close() error {
	if d.store != nil {
		d.store.Close()
	}
	if d.log != nil {
		if err := d.log.Close(); err != nil {
			return fmt.Errorf("the audit log %s is incomplete: %v", d.Folder.AuditLog(), err)
		}
	}
	return nil
}

// ReadAuditState reads the audit state of the directory in folder dir (its
// numbered changes and the events waiting in its outbox) without opening it
// for changes: no master key is needed and nothing is delivered to the log,
// also while a hop kdc serves the folder.
func ReadAuditState(ctx context.Context, dir string) (*directory.AuditState, error) {
	f := Folder(dir)
	if err := f.Check(); err != nil {
		return nil, err
	}
	store, err := bolt.Open(f.Directory(), bolt.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return directory.ReadAuditState(ctx, store)
}
