// Package mem is an in-memory [directory.Store], for tests and tools: a map
// of buckets guarded by a lock, with copy-on-commit transactions. It
// implements [directory.Changes] with a counter of committed updates.
package mem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"hop/directory"
)

// Store is an in-memory directory.Store. The zero value is not usable; call
// New.
type Store struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte
	gen     uint64
	closed  bool
}

var (
	_ directory.Store     = (*Store)(nil)
	_ directory.Changes   = (*Store)(nil)
	_ directory.Sequenced = (*tx)(nil)
)

// ErrClosed is returned by a closed Store.
var ErrClosed = errors.New("mem: store is closed")

// New returns an empty store.
func New() *Store { return &Store{buckets: map[string]map[string][]byte{}} }

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(directory.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	t := &tx{s: s}
	defer t.end()
	return fn(t)
}

// Update runs fn in a read-write transaction; its writes apply only if fn
// returns nil.
func (s *Store) Update(ctx context.Context, fn func(directory.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	t := &tx{s: s, writable: true, pending: map[string]map[string][]byte{}}
	defer t.end()
	if err := fn(t); err != nil {
		return err
	}
	for b, kv := range t.pending {
		for k, v := range kv {
			if v == nil {
				delete(s.buckets[b], k)
				continue
			}
			if s.buckets[b] == nil {
				s.buckets[b] = map[string][]byte{}
			}
			s.buckets[b][k] = v
		}
	}
	s.gen++
	return nil
}

// Token returns the number of committed updates.
func (s *Store) Token(ctx context.Context) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return "", ErrClosed
	}
	return strconv.FormatUint(s.gen, 10), nil
}

// Close makes every later call fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// tx is a transaction; pending holds an Update's writes (nil = deleted).
type tx struct {
	s        *Store
	writable bool
	done     bool
	pending  map[string]map[string][]byte
}

var errDone = errors.New("mem: transaction used after it ended")

func (t *tx) end() { t.done = true }

func check(bucket, key string) error {
	if bucket == "" || bucket[0] == 0 {
		return fmt.Errorf("mem: invalid bucket name %q", bucket)
	}
	if key == "" {
		return fmt.Errorf("mem: empty key in bucket %q", bucket)
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
	if kv, ok := t.pending[bucket]; ok {
		if v, ok := kv[key]; ok {
			return bytes.Clone(v), nil // nil when deleted
		}
	}
	return bytes.Clone(t.s.buckets[bucket][key]), nil
}

func (t *tx) Put(bucket, key string, value []byte) error {
	if t.done {
		return errDone
	}
	if !t.writable {
		return errors.New("mem: Put in a read-only transaction")
	}
	if err := check(bucket, key); err != nil {
		return err
	}
	if t.pending[bucket] == nil {
		t.pending[bucket] = map[string][]byte{}
	}
	v := make([]byte, len(value)) // non-nil even when empty: nil marks a deletion
	copy(v, value)
	t.pending[bucket][key] = v
	return nil
}

func (t *tx) Delete(bucket, key string) error {
	if t.done {
		return errDone
	}
	if !t.writable {
		return errors.New("mem: Delete in a read-only transaction")
	}
	if err := check(bucket, key); err != nil {
		return err
	}
	if t.pending[bucket] == nil {
		t.pending[bucket] = map[string][]byte{}
	}
	t.pending[bucket][key] = nil
	return nil
}

// Seq returns the number of committed Updates this transaction sees; in
// an Update, the number it will have ([directory.Sequenced]).
func (t *tx) Seq() (uint64, error) {
	if t.done {
		return 0, errDone
	}
	if t.writable {
		return t.s.gen + 1, nil
	}
	return t.s.gen, nil
}

func (t *tx) ForEach(bucket string, fn func(key string, value []byte) error) error {
	if t.done {
		return errDone
	}
	if err := check(bucket, "-"); err != nil {
		return err
	}
	base, pend := t.s.buckets[bucket], t.pending[bucket]
	keys := make([]string, 0, len(base)+len(pend))
	for k := range base {
		keys = append(keys, k)
	}
	for k := range pend {
		if _, ok := base[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := pend[k]
		if !ok {
			v = base[k]
		}
		if v == nil {
			continue
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}
