package domain

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"hop/audit"
	"hop/directory/bolt"
	"hop/internal/atomicfile"
)

// Backup writes a backup of the domain in f (its directory, read in one
// transaction, and its master key; the format of package directory/bolt)
// to w.
func (f Folder) Backup(ctx context.Context, w io.Writer, now time.Time) (*bolt.BackupInfo, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	st, err := bolt.Open(f.Directory(), bolt.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Backup(ctx, f.MasterKey(), w, now)
}

// BackupFile writes a backup of the domain in f to a temporary file beside
// out, reads it back to check it, and only then renames it over out (mode
// 0600).
func (f Folder) BackupFile(ctx context.Context, out string, now time.Time) (*bolt.BackupInfo, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	w, err := atomicfile.Create(out, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write the backup: %w", err)
	}
	defer w.Abort()
	info, err := f.Backup(ctx, w, now)
	if err != nil {
		return nil, err
	}
	if err := w.Sync(); err != nil {
		return nil, fmt.Errorf("write the backup: %w", err)
	}
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("write the backup: %w", err)
	}
	// The check unpacks the master key: do it in the domain's own folder.
	if _, err := bolt.CheckBackup(ctx, w, string(f)); err != nil {
		return nil, fmt.Errorf("the backup written does not check out (nothing was replaced): %w", err)
	}
	if err := w.Commit(); err != nil {
		return nil, fmt.Errorf("write the backup: %w", err)
	}
	return info, nil
}

// Restore reads a backup from r, checks it completely, and installs it
// as f's directory and master key (see [bolt.Restore]): it refuses,
// wrapping [bolt.ErrDomainInPlace], when f holds a domain and force is not
// set, and otherwise keeps the replaced files as *.before-restore.
func (f Folder) Restore(ctx context.Context, r io.Reader, force bool) (*bolt.RestoreResult, error) {
	return bolt.Restore(ctx, r, f.Directory(), f.MasterKey(), bolt.RestoreOptions{Force: force})
}

// Serving reports whether a KDC has recorded that it serves f (its state
// file exists).
func (f Folder) Serving() bool {
	_, err := os.Stat(f.State())
	return err == nil
}

// Record appends ev to f's audit log, for what is done to the domain
// outside the directory (backups, restores).
func (f Folder) Record(ev audit.Event) error {
	log, err := audit.Open(f.AuditLog(), audit.Options{})
	if err != nil {
		return err
	}
	log.Emit(ev)
	return log.Close()
}
