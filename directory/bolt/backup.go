package bolt

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hop/directory"
	"hop/internal/atomicfile"
	"hop/krb5"
)

// A backup is one file holding a whole domain: the bbolt database and the
// master key stash that seals its keys (without the key, the database is
// useless; with it, the file is as secret as the key). Version 1:
//
//	hop-domain-backup v1
//	realm: EXAMPLE.TEST
//	created: 2026-01-02T03:04:05Z
//	master-key: 64
//	directory: 65536
//	(an empty line)
//	<master-key bytes of the stash file><directory bytes of the database>
//	sha256: <hex SHA-256 of everything before this line>
//
// The checksum detects damage, not forgery: anyone who can write the file
// can recompute it (and anyone who can read it has the master key).

const (
	backupMagic = "hop-domain-backup v1"
	// maxBackupHeader bounds the header's size.
	maxBackupHeader = 1024
	// maxStashSize bounds the master key stash (directory.LoadMasterKey
	// reads at most 1024 bytes).
	maxStashSize = 1024
	// maxBackupDB bounds the directory size a header may announce.
	maxBackupDB = 1 << 44
	// trailerPrefix begins the checksum line.
	trailerPrefix = "sha256: "
	// beforeRestore is appended to the names of the files a restore
	// replaces.
	beforeRestore = ".before-restore"
)

// BackupInfo describes a backup.
type BackupInfo struct {
	Realm   krb5.Realm
	Created time.Time
	KeySize int64 // bytes of the master key stash
	DBSize  int64 // bytes of the directory database
	// Checksum is the hex SHA-256 the file ends with; set once the whole
	// file was read or written.
	Checksum string
	// Accounts and Groups count the directory's objects; set when the
	// backup was checked by opening it.
	Accounts, Groups int
}

// The names of the copies of the database and the master key stash in the
// private temporary folders of Backup and Restore. They are not the domain
// folder's file names (package domain owns those, and gives them to
// Restore as paths).
const (
	copyDBName  = "db.copy"
	copyKeyName = "key.copy"
)

// ErrDomainInPlace is returned (wrapped) by Restore when the destination
// already holds a domain and RestoreOptions.Force is not set.
var ErrDomainInPlace = errors.New("bolt: a domain is already in place")

func appendBackupHeader(b []byte, info *BackupInfo) []byte {
	b = append(b, backupMagic+"\nrealm: "...)
	b = append(b, info.Realm...)
	b = append(b, "\ncreated: "...)
	b = info.Created.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, "\nmaster-key: "...)
	b = strconv.AppendInt(b, info.KeySize, 10)
	b = append(b, "\ndirectory: "...)
	b = strconv.AppendInt(b, info.DBSize, 10)
	return append(b, "\n\n"...)
}

// ParseBackupHeader decodes the header at the start of b (untrusted
// input) and returns it with the header's length. It reads at most
// maxBackupHeader bytes of b.
func ParseBackupHeader(b []byte) (*BackupInfo, int, error) {
	notBackup := errors.New("bolt: not a hop domain backup (it must begin with \"" + backupMagic + "\")")
	b = b[:min(len(b), maxBackupHeader)]
	end := bytes.Index(b, []byte("\n\n"))
	if end < 0 {
		if bytes.HasPrefix(b, []byte(backupMagic+"\n")) {
			return nil, 0, errors.New("bolt: the backup's header is damaged or cut short")
		}
		return nil, 0, notBackup
	}
	lines := bytes.Split(b[:end], []byte("\n"))
	if string(lines[0]) != backupMagic {
		if bytes.HasPrefix(lines[0], []byte("hop-domain-backup ")) {
			return nil, 0, fmt.Errorf("bolt: backup format %q is not one this hop reads (%q)", lines[0], backupMagic)
		}
		return nil, 0, notBackup
	}
	if len(lines) != 5 {
		return nil, 0, fmt.Errorf("bolt: the backup's header has %d lines, want 5: it is damaged", len(lines))
	}
	field := func(i int, name string) (string, error) {
		v, ok := bytes.CutPrefix(lines[i], []byte(name+": "))
		if !ok {
			return "", fmt.Errorf("bolt: the backup's header line %d is not %q: it is damaged", i+1, name+": …")
		}
		return string(v), nil
	}
	size := func(i int, name string, limit int64) (int64, error) {
		v, err := field(i, name)
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > limit || strconv.FormatInt(n, 10) != v {
			return 0, fmt.Errorf("bolt: the backup's %s size %q is not a number from 1 to %d: it is damaged", name, v, limit)
		}
		return n, nil
	}
	info := &BackupInfo{}
	realm, err := field(1, "realm")
	if err != nil {
		return nil, 0, err
	}
	if !validRealm(realm) {
		return nil, 0, fmt.Errorf("bolt: the backup's realm %q is not a realm name: it is damaged", realm)
	}
	info.Realm = krb5.Realm(realm)
	created, err := field(2, "created")
	if err != nil {
		return nil, 0, err
	}
	if info.Created, err = time.Parse(time.RFC3339, created); err != nil || info.Created.Format(time.RFC3339) != created {
		return nil, 0, fmt.Errorf("bolt: the backup's creation time %q is not an RFC 3339 UTC time: it is damaged", created)
	}
	if info.KeySize, err = size(3, "master-key", maxStashSize); err != nil {
		return nil, 0, err
	}
	if info.DBSize, err = size(4, "directory", maxBackupDB); err != nil {
		return nil, 0, err
	}
	return info, end + 2, nil
}

// validRealm accepts what a header may name: 1 to 255 bytes of letters,
// digits, '.', '-' and '_' (the directory checks the realm itself).
func validRealm(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Backup writes a backup of the domain to w: the database of s as one read
// transaction sees it (a consistent snapshot; writers wait only while the
// file is copied) and the master key stash at keyPath. Before anything is
// written to w, the copy is checked as [Restore] checks a backup: the key
// opens it and decrypts every account's keys. Temporary copies are kept in
// a private folder beside the database and removed.
func (s *Store) Backup(ctx context.Context, keyPath string, w io.Writer, now time.Time) (*BackupInfo, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(s.path), ".hop-backup-")
	if err != nil {
		return nil, fmt.Errorf("bolt: backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	dbCopy, keyCopy := filepath.Join(tmp, copyDBName), filepath.Join(tmp, copyKeyName)

	stash, err := readStash(keyPath)
	if err != nil {
		return nil, err
	}
	defer clear(stash)
	if err := writeNew(keyCopy, stash); err != nil {
		return nil, err
	}
	if err := s.copyTo(ctx, dbCopy); err != nil {
		return nil, err
	}
	info, err := checkDomain(ctx, dbCopy, keyCopy)
	if err != nil {
		return nil, fmt.Errorf("bolt: backup: the copy does not check out: %w", err)
	}
	f, err := os.Open(dbCopy)
	if err != nil {
		return nil, fmt.Errorf("bolt: backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("bolt: backup: %w", err)
	}
	info.Created = now.UTC().Truncate(time.Second)
	info.KeySize, info.DBSize = int64(len(stash)), fi.Size()

	h := sha256.New()
	hw := io.MultiWriter(w, h)
	if _, err := hw.Write(appendBackupHeader(nil, info)); err != nil {
		return nil, fmt.Errorf("bolt: write backup: %w", err)
	}
	if _, err := hw.Write(stash); err != nil {
		return nil, fmt.Errorf("bolt: write backup: %w", err)
	}
	if n, err := io.Copy(hw, f); err != nil || n != info.DBSize {
		return nil, fmt.Errorf("bolt: write backup: copied %d of %d directory bytes: %v", n, info.DBSize, err)
	}
	info.Checksum = hex.EncodeToString(h.Sum(nil))
	if _, err := io.WriteString(w, trailerPrefix+info.Checksum+"\n"); err != nil {
		return nil, fmt.Errorf("bolt: write backup: %w", err)
	}
	return info, nil
}

// copyTo writes the database, as one read transaction sees it, to a new
// file at path.
func (s *Store) copyTo(ctx context.Context, path string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("bolt: backup: %w", err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	s.mu.RLock()
	defer s.mu.RUnlock()
	db, err := s.open(ctx, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB(db)) }()
	defer recoverDamage(s.path, &err)
	return db.View(func(tx *bbolt.Tx) error {
		if _, err := tx.WriteTo(f); err != nil {
			return fmt.Errorf("bolt: backup: copy the directory: %w", err)
		}
		return nil
	})
}

func readStash(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bolt: backup: read the master key stash: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStashSize+1))
	if err != nil {
		return nil, fmt.Errorf("bolt: backup: read the master key stash: %w", err)
	}
	if len(b) == 0 || len(b) > maxStashSize {
		clear(b)
		return nil, fmt.Errorf("bolt: backup: %s is not a master key stash (%d bytes)", path, len(b))
	}
	return b, nil
}

// writeNew creates path (mode 0600, not overwriting) with b, synced.
func writeNew(path string, b []byte) error {
	if err := atomicfile.WriteNew(path, b, 0o600); err != nil {
		return fmt.Errorf("bolt: write %s: %w", path, err)
	}
	return nil
}

// checkDomain checks a database file and a master key stash as a restore
// must: the file's pages are consistent, the key opens the directory, and
// every account's record (and keys) and every group decodes. It returns the
// realm and the counts.
func checkDomain(ctx context.Context, dbPath, keyPath string) (info *BackupInfo, err error) {
	defer recoverDamage(dbPath, &err)
	db, err := bbolt.Open(dbPath, 0o600, &bbolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return nil, fmt.Errorf("the directory database does not open: %w", err)
	}
	var first error
	err = db.View(func(tx *bbolt.Tx) error {
		for e := range tx.Check() {
			if first == nil {
				first = e
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = first
	}
	if err != nil {
		return nil, fmt.Errorf("the directory database is damaged: %w", err)
	}
	mk, err := directory.LoadMasterKey(keyPath)
	if err != nil {
		return nil, err
	}
	// A private Store: it takes no part in this process's per-file locks.
	st := &Store{path: dbPath, timeout: DefaultTimeout, stat: statFile, now: time.Now, mu: new(sync.RWMutex)}
	d, err := directory.Open(ctx, st, mk, directory.Options{})
	if err != nil {
		return nil, err
	}
	snap, err := d.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &BackupInfo{Realm: snap.Domain().Realm, Accounts: len(snap.Accounts()), Groups: len(snap.Groups())}, nil
}

// extracted is a backup unpacked into a private folder.
type extracted struct {
	dir, db, key string
	info         *BackupInfo
}

// extract reads a whole backup from r into a new private folder in dir
// and checks it completely: checksum, database, master key, realm.
func extract(ctx context.Context, r io.Reader, dir string) (_ *extracted, err error) {
	tmp, err := os.MkdirTemp(dir, ".hop-restore-")
	if err != nil {
		return nil, fmt.Errorf("bolt: restore: %w", err)
	}
	x := &extracted{dir: tmp, db: filepath.Join(tmp, copyDBName), key: filepath.Join(tmp, copyKeyName)}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	h := sha256.New()
	br := bufio.NewReaderSize(r, 64<<10)
	header, err := br.Peek(maxBackupHeader)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("bolt: read backup: %w", err)
	}
	info, n, err := ParseBackupHeader(header)
	if err != nil {
		return nil, err
	}
	x.info = info
	hr := io.TeeReader(br, h)
	if _, err := io.CopyN(io.Discard, hr, int64(n)); err != nil {
		return nil, cutShort(err)
	}
	stash := make([]byte, info.KeySize)
	defer clear(stash)
	if _, err := io.ReadFull(hr, stash); err != nil {
		return nil, cutShort(err)
	}
	if err := writeNew(x.key, stash); err != nil {
		return nil, err
	}
	if err := copyNew(x.db, hr, info.DBSize); err != nil {
		return nil, err
	}
	if err := readTrailer(br, h, info); err != nil {
		return nil, err
	}
	got, err := checkDomain(ctx, x.db, x.key)
	if err != nil {
		return nil, fmt.Errorf("bolt: the backup's checksum matches but its contents do not check out: %w", err)
	}
	if got.Realm != info.Realm {
		return nil, fmt.Errorf("bolt: the backup's header names realm %s but its directory holds realm %s: it is damaged or forged", info.Realm, got.Realm)
	}
	info.Accounts, info.Groups = got.Accounts, got.Groups
	return x, nil
}

func cutShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("bolt: the backup is cut short (truncated)")
	}
	return fmt.Errorf("bolt: read backup: %w", err)
}

// copyNew copies exactly n bytes from r to a new file at path, synced.
func copyNew(path string, r io.Reader, n int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, r, n); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("bolt: restore: %w", err)
		}
		return cutShort(err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("bolt: restore: %w", err)
	}
	return f.Close()
}

// readTrailer reads the checksum line and makes sure nothing follows it.
func readTrailer(br *bufio.Reader, h hash.Hash, info *BackupInfo) error {
	line := make([]byte, len(trailerPrefix)+2*sha256.Size+1)
	if _, err := io.ReadFull(br, line); err != nil {
		return cutShort(err)
	}
	rest, ok := bytes.CutPrefix(line, []byte(trailerPrefix))
	if !ok || rest[len(rest)-1] != '\n' {
		return errors.New("bolt: the backup's checksum line is damaged (or the sizes in its header are)")
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], rest[:len(rest)-1]); err != nil {
		return errors.New("bolt: the backup's checksum line is damaged")
	}
	if subtle.ConstantTimeCompare(want[:], h.Sum(nil)) != 1 {
		return errors.New("bolt: the backup is damaged: its SHA-256 checksum does not match its contents")
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("bolt: read backup: %w", err)
		}
		return errors.New("bolt: the backup has data after its checksum line: it is damaged")
	}
	info.Checksum = hex.EncodeToString(want[:])
	return nil
}

// CheckBackup reads a whole backup from r and checks it as Restore does
// (checksum, database, master key, every account's keys, realm), without
// installing it. The contents are unpacked for the check into a private
// folder made in dir (the domain's folder: the copy holds the master key),
// and removed.
func CheckBackup(ctx context.Context, r io.Reader, dir string) (*BackupInfo, error) {
	x, err := extract(ctx, r, dir)
	if err != nil {
		return nil, err
	}
	os.RemoveAll(x.dir)
	return x.info, nil
}

// RestoreOptions configures [Restore].
type RestoreOptions struct {
	// Force replaces a domain already at the destination.
	Force bool
}

// RestoreResult says what [Restore] did.
type RestoreResult struct {
	Info *BackupInfo
	// Replaced: a domain was in place; its files are kept with the suffix
	// ".before-restore".
	Replaced bool
	// KeyChanged: the restored master key differs from the one it
	// replaced, so processes that hold the old key (a running KDC) must be
	// restarted.
	KeyChanged bool
}

// Restore reads a backup from r, checks it completely (as CheckBackup
// does), and installs it as the database dbPath and the master key stash
// keyPath, which must be in one folder. If either file exists, it refuses
// (wrapping ErrDomainInPlace) unless o.Force is set; then it renames the
// restored files over them, keeping the old ones as *.before-restore, while
// holding the database's lock, so that Stores (here and in other
// processes) see either the old or the restored domain, and from their
// next transaction on the restored one. The master key file is replaced
// only if it differs. A failure leaves the destination as it was.
//
// Limits: the two files cannot be renamed in one step. When the master key
// changes and the machine stops between the two renames, the folder holds
// the new key and the old database; the *.before-restore files hold the
// old pair. A process that opened the old database before the swap and was
// waiting for its lock writes into the old file (kept as
// directory.db.before-restore).
func Restore(ctx context.Context, r io.Reader, dbPath, keyPath string, o RestoreOptions) (*RestoreResult, error) {
	dir := filepath.Dir(dbPath)
	if filepath.Dir(keyPath) != dir {
		return nil, errors.New("bolt: restore: the database and the master key stash must be in one folder")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bolt: restore: %w", err)
	}
	x, err := extract(ctx, r, dir)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(x.dir)
	res := &RestoreResult{Info: x.info}
	dbExists, keyExists := exists(dbPath), exists(keyPath)
	if dbExists || keyExists {
		if !o.Force {
			return res, fmt.Errorf("%w in %s", ErrDomainInPlace, dir)
		}
		res.Replaced = true
	}
	sameKey := false
	if keyExists {
		if old, err := readStash(keyPath); err == nil {
			nw, _ := os.ReadFile(x.key)
			sameKey = subtle.ConstantTimeCompare(old, nw) == 1
			clear(old)
			clear(nw)
		}
		res.KeyChanged = !sameKey
	}

	// Hold the database's lock across the swap: this process's Stores by
	// its mutex, other processes by bbolt's flock on the current file.
	pl := processLock(dbPath)
	pl.Lock()
	defer pl.Unlock()
	if fi, err := os.Stat(dbPath); err == nil && fi.Size() > 0 {
		// (bbolt would initialise an empty file.)
		timeout := DefaultTimeout
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(time.Until(dl), time.Millisecond)
		}
		db, err := bbolt.Open(dbPath, 0o600, &bbolt.Options{Timeout: timeout})
		switch {
		case errors.Is(err, bbolt.ErrTimeout):
			return res, fmt.Errorf("bolt: restore: %s stayed locked by another process for %s: %w", dbPath, timeout, err)
		case err == nil:
			defer db.Close()
			// A damaged database does not open, and no one can be using it.
		}
	}

	type placed struct {
		path   string
		hadOld bool
	}
	var done []placed // files put in place so far, to undo on failure
	undo := func() {
		for _, p := range done {
			if p.hadOld {
				os.Rename(p.path+beforeRestore, p.path)
			} else {
				os.Remove(p.path)
			}
		}
	}
	for _, f := range []struct {
		from, to     string
		exists, skip bool
	}{
		{x.key, keyPath, keyExists, sameKey},
		{x.db, dbPath, dbExists, false},
	} {
		if f.skip {
			continue
		}
		if f.exists {
			if err := keepOld(f.to); err != nil {
				undo()
				return res, err
			}
		}
		if err := os.Rename(f.from, f.to); err != nil {
			undo()
			return res, fmt.Errorf("bolt: restore: %w", err)
		}
		done = append(done, placed{f.to, f.exists})
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return res, fmt.Errorf("bolt: restore: the files are in place but the folder was not synced: %w", err)
	}
	return res, nil
}

// keepOld makes path+".before-restore" another name of path (replacing an
// older one), so that the rename of the restored file over path keeps it.
func keepOld(path string) error {
	old := path + beforeRestore
	if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bolt: restore: remove %s: %w", old, err)
	}
	if err := os.Link(path, old); err != nil {
		return fmt.Errorf("bolt: restore: keep the current file as %s: %w", old, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
