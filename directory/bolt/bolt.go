package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hop/directory"
)

// Options configures a Store.
type Options struct {
	// Timeout is how long a transaction waits for another process's lock
	// on the file; 0 means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is the lock wait when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// recentWindow: a file whose times are younger than this may still change
// without its times changing, so Token reads the generation counter too.
const recentWindow = 2 * time.Second

// fillPercent is how full bbolt fills a page it splits. Its default, half,
// suits random inserts; records written in key order (a directory filled
// by hop domain populate, or restored) then leave pages a third full, and
// a file three times the size of its records, which a KDC reads whole when
// it starts. Nine tenths keeps such a file dense, and random inserts split
// full pages anyway.
const fillPercent = 0.9

// internalBucket holds the store's own generation counter. Its name starts
// with NUL, which directory.Tx callers may not use.
const (
	internalBucket = "\x00hop-bolt-store"
	genKey         = "generation"
)

// Store is a directory.Store in one bbolt file. It is safe for concurrent
// use, also by several processes.
type Store struct {
	path    string
	timeout time.Duration
	closed  atomic.Bool
	// mu orders this process's transactions on the file, so that they wait
	// for each other on a mutex rather than in bbolt's 50ms flock polling.
	// The flock still guards against other processes.
	mu *sync.RWMutex
	// Overridden by tests.
	stat func(path string) (fileStat, error)
	now  func() time.Time
}

var (
	_ directory.Store     = (*Store)(nil)
	_ directory.Changes   = (*Store)(nil)
	_ directory.Sequenced = (*tx)(nil)
)

// ErrClosed is returned by a closed Store.
var ErrClosed = errors.New("bolt: store is closed")

// Open returns the store in the file at path, creating the file (mode 0600)
// and its folder (mode 0700) if they are missing. It does not keep the file
// open.
func Open(path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("bolt: no file name given")
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("bolt: negative lock timeout %s", o.Timeout)
	}
	s := &Store{path: path, timeout: o.Timeout, stat: statFile, now: time.Now, mu: processLock(path)}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("bolt: create the directory folder: %w", err)
		}
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("bolt: %s is not a regular file", path)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("bolt: %s has mode %04o: group or others may access the directory; run chmod 600 %s", path, perm, path)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("bolt: %w", err)
	}
	// Create or check the file once, for writing.
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.open(context.Background(), false)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("bolt: close %s: %w", path, err)
	}
	return s, nil
}

// processLocks holds one lock per file (by absolute path) for the Stores of
// this process.
var processLocks sync.Map

func processLock(path string) *sync.RWMutex {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	l, _ := processLocks.LoadOrStore(path, new(sync.RWMutex))
	return l.(*sync.RWMutex)
}

// Path returns the file name.
func (s *Store) Path() string { return s.path }

func (s *Store) open(ctx context.Context, readOnly bool) (*bbolt.DB, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	db, err := bbolt.Open(s.path, 0o600, &bbolt.Options{Timeout: timeout, ReadOnly: readOnly})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("bolt: %s stayed locked by another process for %s (is a hop command stuck?): %w", s.path, timeout, err)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", s.path, err)
	}
	return db, nil
}

// View runs fn in a read-only transaction, with the file open read-only
// for its duration.
func (s *Store) View(ctx context.Context, fn func(directory.Tx) error) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	db, err := s.open(ctx, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB(db)) }()
	defer recoverDamage(s.path, &err)
	return db.View(func(btx *bbolt.Tx) error {
		t := &tx{b: btx}
		defer t.end()
		return fn(t)
	})
}

// Update runs fn in a read-write transaction, with the file open for
// writing for its duration. fn's writes and the store's generation counter
// commit together, synced to disk, if fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(directory.Tx) error) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.open(ctx, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB(db)) }()
	defer recoverDamage(s.path, &err)
	return db.Update(func(btx *bbolt.Tx) error {
		t := &tx{b: btx, writable: true}
		defer t.end()
		if err := fn(t); err != nil {
			return err
		}
		b, err := btx.CreateBucketIfNotExists([]byte(internalBucket))
		if err != nil {
			return err
		}
		g, err := readGen(b)
		if err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], g+1)
		return b.Put([]byte(genKey), v[:])
	})
}

func closeDB(db *bbolt.DB) error {
	if err := db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// recoverDamage turns a panic inside bbolt (it panics on some kinds of
// damaged pages) into an error.
func recoverDamage(path string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("bolt: reading %s failed (%v); the file may be damaged: restore it from a backup", path, r)
	}
}

func readGen(b *bbolt.Bucket) (uint64, error) {
	if b == nil {
		return 0, nil
	}
	v := b.Get([]byte(genKey))
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, errors.New("bolt: the generation counter is damaged")
	}
	return binary.BigEndian.Uint64(v), nil
}

// Close makes later calls fail. (The file is not held open between calls.)
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// fileStat is what Token compares.
type fileStat struct {
	dev, ino     uint64
	size         int64
	mtime, ctime time.Time
}

// Token returns a value that changes after every committed Update, from any
// process. See the package documentation.
func (s *Store) Token(ctx context.Context) (string, error) {
	if s.closed.Load() {
		return "", ErrClosed
	}
	st, err := s.stat(s.path)
	if err != nil {
		return "", fmt.Errorf("bolt: %w", err)
	}
	b := make([]byte, 0, 96)
	b = strconv.AppendUint(b, st.dev, 16)
	b = append(b, '.')
	b = strconv.AppendUint(b, st.ino, 16)
	b = append(b, '.')
	b = strconv.AppendInt(b, st.size, 16)
	b = append(b, '.')
	b = strconv.AppendInt(b, st.mtime.UnixNano(), 16)
	b = append(b, '.')
	b = strconv.AppendInt(b, st.ctime.UnixNano(), 16)
	latest := st.mtime
	if st.ctime.After(latest) {
		latest = st.ctime
	}
	if s.now().Sub(latest) < recentWindow {
		g, err := s.generation(ctx)
		if err != nil {
			return "", err
		}
		b = append(b, ".g"...)
		b = strconv.AppendUint(b, g, 10)
	}
	return string(b), nil
}

// generation reads the counter every Update increments.
func (s *Store) generation(ctx context.Context) (g uint64, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	db, err := s.open(ctx, true)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, closeDB(db)) }()
	defer recoverDamage(s.path, &err)
	err = db.View(func(btx *bbolt.Tx) error {
		var err error
		g, err = readGen(btx.Bucket([]byte(internalBucket)))
		return err
	})
	return g, err
}

// tx adapts a bbolt transaction to directory.Tx.
type tx struct {
	b        *bbolt.Tx
	writable bool
	done     bool
}

var errDone = errors.New("bolt: transaction used after it ended")

func (t *tx) end() { t.done = true }

func check(bucket, key string) error {
	if bucket == "" || bucket[0] == 0 {
		return fmt.Errorf("bolt: invalid bucket name %q", bucket)
	}
	if key == "" || len(key) > bbolt.MaxKeySize {
		return fmt.Errorf("bolt: invalid key (empty or longer than %d bytes) in bucket %q", bbolt.MaxKeySize, bucket)
	}
	return nil
}

func (t *tx) Get(bucket, key string) ([]byte, error) {
	if t.done {
		return nil, errDone
	}
	if err := check(bucket, key); err != nil {
		return nil, err
	}
	b := t.b.Bucket([]byte(bucket))
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	return append(make([]byte, 0, len(v)), v...), nil
}

func (t *tx) Put(bucket, key string, value []byte) error {
	if t.done {
		return errDone
	}
	if !t.writable {
		return errors.New("bolt: Put in a read-only transaction")
	}
	if err := check(bucket, key); err != nil {
		return err
	}
	if len(value) > bbolt.MaxValueSize {
		return fmt.Errorf("bolt: value of %d bytes is too large", len(value))
	}
	b, err := t.b.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return fmt.Errorf("bolt: bucket %q: %w", bucket, err)
	}
	b.FillPercent = fillPercent
	// bbolt keeps the slice until commit; give it its own copy.
	return b.Put([]byte(key), append(make([]byte, 0, len(value)), value...))
}

func (t *tx) Delete(bucket, key string) error {
	if t.done {
		return errDone
	}
	if !t.writable {
		return errors.New("bolt: Delete in a read-only transaction")
	}
	if err := check(bucket, key); err != nil {
		return err
	}
	b := t.b.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

// Seq returns the number of committed Updates this transaction sees (the
// store's generation counter); in an Update, the number it will have
// ([directory.Sequenced]).
func (t *tx) Seq() (uint64, error) {
	if t.done {
		return 0, errDone
	}
	g, err := readGen(t.b.Bucket([]byte(internalBucket)))
	if t.writable {
		g++
	}
	return g, err
}

func (t *tx) ForEach(bucket string, fn func(key string, value []byte) error) error {
	if t.done {
		return errDone
	}
	if err := check(bucket, "-"); err != nil {
		return err
	}
	b := t.b.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket; the directory never makes them
		}
		return fn(string(k), v)
	})
}
