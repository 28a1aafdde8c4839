package domain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"hop/admin/adminserver"
	"hop/audit"
	"hop/directory"
	"hop/directory/bolt"
	"hop/krb5"
)

// CreateEvent is the type of the audit event [Create] writes, the first of
// a domain's log.
const CreateEvent = "directory.domain.create"

// CreateOptions configures [Create].
type CreateOptions struct {
	// Realm is the new domain's realm (required; stored in upper case).
	Realm krb5.Realm
	// AdminPassword is the password of the Administrator account
	// (required).
	AdminPassword string
	// AdminNames are the admin API's host names, for its TLS certificate
	// (besides localhost and 127.0.0.1). None: this host's name.
	AdminNames []string
	// Now is the clock (nil: time.Now); Rand the source of the keys and
	// the domain SID (nil: crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// Create makes a new domain in folder dir (created, 0700, if needed): its
// master key, its directory with the built-in accounts and groups, its
// audit log, and the admin API's TLS certificate. It refuses a folder that
// already holds a domain. When any step fails, Create removes what it made
// — the files and the folders it created — and leaves files that were
// there before as they were, so a failed Create can simply be run again.
func Create(ctx context.Context, dir string, o CreateOptions) (_ *directory.Domain, err error) {
	f := Folder(dir)
	if o.Realm == "" {
		return nil, errors.New("domain: no realm given")
	}
	if err := f.CheckNew(); err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.AdminPassword == "" {
		return nil, errors.New("domain: the Administrator's password is empty: give one")
	}
	// The new domain's policy is the default one; it applies to
	// Administrator as to every other password.
	if err := directory.CheckPassword(directory.Policy{}, o.AdminPassword); err != nil {
		return nil, fmt.Errorf("domain: Administrator's password: %w", err)
	}
	r := o.Realm.Canonical()
	adminKeys, err := directory.PasswordKeys(r, directory.NameAdministrator, o.AdminPassword, directory.DefaultETypes(false))
	if err != nil {
		return nil, err
	}
	tgtKeys, err := directory.RandomKeys(directory.DefaultETypes(false), o.Rand)
	if err != nil {
		return nil, err
	}

	rb, err := newRollback(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			rb.undo()
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	mk, err := directory.NewMasterKey(o.Rand)
	if err != nil {
		return nil, err
	}
	if err := rb.step(func() error { return mk.Save(f.MasterKey()) }, f.MasterKey()); err != nil {
		return nil, err
	}
	// The admin API's TLS certificate, which clients pin (hop
	// client-config prints the pin).
	names := o.AdminNames
	if len(names) == 0 {
		if h, err := os.Hostname(); err == nil && h != "" {
			names = []string{h}
		}
	}
	names = append(names[:len(names):len(names)], "localhost", "127.0.0.1")
	cert, key := f.AdminCert()
	err = rb.step(func() error {
		_, _, err := adminserver.LoadOrCreateCert(cert, key, names, now())
		return err
	}, cert, key)
	if err != nil {
		return nil, err
	}
	var dom *directory.Domain
	err = rb.step(func() error {
		st, err := bolt.Open(f.Directory(), bolt.Options{})
		if err != nil {
			return err
		}
		defer st.Close()
		log, err := audit.Open(f.AuditLog(), audit.Options{})
		if err != nil {
			return err
		}
		d, err := directory.Init(ctx, st, mk, r, adminKeys, tgtKeys, directory.Options{Audit: log, Now: o.Now, Rand: o.Rand})
		if err == nil {
			dom, err = d.Domain(ctx)
		}
		if err == nil {
			// The log's first event: from then on its head file records
			// where it ends, so hop audit verify finds deleted last lines
			// even of a domain that did nothing else yet.
			log.Emit(audit.Event{Time: now(), Type: CreateEvent, Actor: directory.LocalAdmin.String(), Target: string(dom.Realm),
				Changes: []audit.Change{{Field: "realm", New: string(dom.Realm)}, {Field: "sid", New: dom.SID.String()}}})
		}
		if cerr := log.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("the audit log %s is incomplete: %w", f.AuditLog(), cerr)
		}
		return err
	}, f.Directory(), f.AuditLog(), audit.HeadPath(f.AuditLog()))
	if err != nil {
		return nil, err
	}
	return dom, nil
}

// rollback removes what Create made: the files its steps created, and the
// folders it created.
type rollback struct {
	files []string // the files made, in order
	dirs  []string // the folders that did not exist, innermost first
}

func newRollback(dir string) (*rollback, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("domain: %w", err)
	}
	rb := &rollback{}
	for !exists(dir) {
		rb.dirs = append(rb.dirs, dir)
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return rb, nil
}

// step runs do, which may create the files paths, and counts as made by
// Create those of them that did not exist before and do after. When do
// fails because a file exists, that file is another's: nothing is counted.
func (rb *rollback) step(do func() error, paths ...string) error {
	var missing []string
	for _, p := range paths {
		if !exists(p) {
			missing = append(missing, p)
		}
	}
	err := do()
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	for _, p := range missing {
		if exists(p) {
			rb.files = append(rb.files, p)
		}
	}
	return err
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func (rb *rollback) undo() {
	for _, p := range slices.Backward(rb.files) {
		os.Remove(p)
	}
	for _, d := range rb.dirs {
		os.Remove(d) // only if empty: never what another process put there
	}
}
