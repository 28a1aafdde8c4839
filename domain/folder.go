// Package domain owns the domain folder: the files of one hop domain and
// who writes them. A folder (by default /var/lib/hop, or $HOP_DIR) holds
//
//   - master.key (0600): the master key stash that seals every account's
//     keys; written once, by [Create] (or replaced by [Folder.Restore]).
//   - directory.db (0600): the directory, a bolt database; created by
//     Create, changed by hop's commands and the KDC through
//     package directory, replaced by Restore.
//   - audit.log and audit.log.head (0600): the hash-chained audit log that
//     every process changing the directory and the KDC append to (package
//     audit); Create starts it.
//   - admin-tls.crt and admin-tls.key: the admin API's self-signed TLS
//     certificate that clients pin; made by Create, or by the admin server
//     on first use.
//   - kdc.json: the addresses a running hop kdc serves (package dc writes
//     it when its servers are ready and removes it when it stops).
//   - admin-replay.cache (0600): the admin API's replay cache, kept across
//     restarts of hop kdc.
//   - directory.db.before-restore and master.key.before-restore: the files
//     a forced Restore replaced.
//
// [Create] makes a new domain with rollback, [Open] opens it, and
// [Folder.Backup] and [Folder.Restore] orchestrate the backup format of
// package directory/bolt.
package domain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The files of a domain folder.
const (
	MasterKeyFile = "master.key"
	DirectoryFile = "directory.db"
	AuditFile     = "audit.log"
	StateFile     = "kdc.json"
	AdminCertFile = "admin-tls.crt"
	AdminKeyFile  = "admin-tls.key"
	// AdminReplayFile is the admin API's replay cache.
	AdminReplayFile = "admin-replay.cache"
)

// DefaultDir is where hop keeps its domain unless told otherwise.
const DefaultDir = "/var/lib/hop"

// A Folder is the path of a domain folder.
type Folder string

// Path returns the path of the file name in f.
func (f Folder) Path(name string) string { return filepath.Join(string(f), name) }

// MasterKey returns the path of f's master key stash.
func (f Folder) MasterKey() string { return f.Path(MasterKeyFile) }

// Directory returns the path of f's directory database.
func (f Folder) Directory() string { return f.Path(DirectoryFile) }

// AuditLog returns the path of f's audit log.
func (f Folder) AuditLog() string { return f.Path(AuditFile) }

// State returns the path of the state file of the KDC serving f.
func (f Folder) State() string { return f.Path(StateFile) }

// AdminCert returns the paths of the admin API's TLS certificate and key.
func (f Folder) AdminCert() (cert, key string) {
	return f.Path(AdminCertFile), f.Path(AdminKeyFile)
}

// HasDomain reports whether f holds a domain (its master key exists).
func (f Folder) HasDomain() bool {
	_, err := os.Stat(f.MasterKey())
	return err == nil
}

// Check says what is missing when f holds no domain.
func (f Folder) Check() error {
	if _, err := os.Stat(f.MasterKey()); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no hop domain in %s (no %s); create one with: hop domain init --dir %s --realm REALM", f, MasterKeyFile, f)
	}
	if _, err := os.Stat(f.Directory()); err != nil {
		return fmt.Errorf("the domain in %s has a master key but no %s: %v", f, DirectoryFile, err)
	}
	return nil
}

// CheckNew says why a new domain cannot be created in f: it already holds
// one.
func (f Folder) CheckNew() error {
	if _, err := os.Stat(f.MasterKey()); err == nil {
		return fmt.Errorf("%s already holds a domain (%s exists); choose another --dir", f, MasterKeyFile)
	}
	if _, err := os.Stat(f.Directory()); err == nil {
		return fmt.Errorf("%s already holds a directory (%s exists); choose another --dir", f, DirectoryFile)
	}
	return nil
}
