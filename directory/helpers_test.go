package directory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/directory/bolt"
	"hop/directory/mem"
	"hop/krb5"
)

var ctx = context.Background()

const realm = krb5.Realm("EXAMPLE.TEST")

// clock is a fixed clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// detRand is a deterministic random source.
func detRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// material returns n bytes that spell their origin: tag, then a counter.
func material(n int, tag byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag ^ byte(i*7+1)
	}
	return b
}

// aesKeys returns an aes256 and an aes128 key derived (by the test) from tag.
func aesKeys(tag byte, salt string) []directory.Key {
	return []directory.Key{
		directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, salt, material(32, tag)),
		directory.NewKeyMaterial(krb5.AES128CTSHMACSHA196, salt, material(16, tag+1)),
	}
}

type storeKind struct {
	name string
	open func(t testing.TB) directory.Store
}

func boltAt(t testing.TB, path string) directory.Store {
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var storeKinds = []storeKind{
	{"mem", func(testing.TB) directory.Store { return mem.New() }},
	{"bolt", func(t testing.TB) directory.Store { return boltAt(t, filepath.Join(t.TempDir(), "directory.db")) }},
}

// env is an initialised directory.
type env struct {
	t     testing.TB
	store directory.Store
	dir   *directory.Directory
	clock *clock
	mk    *directory.MasterKey
	audit *audit.Memory // every event the directory emitted
}

func newEnv(t testing.TB, open func(testing.TB) directory.Store) *env {
	t.Helper()
	c := newClock()
	mk, err := directory.NewMasterKey(detRand(1))
	if err != nil {
		t.Fatal(err)
	}
	s := open(t)
	sink := &audit.Memory{}
	d, err := directory.Init(ctx, s, mk, "example.test", aesKeys(0xA0, "EXAMPLE.TESTAdministrator"), aesKeys(0xB0, "EXAMPLE.TESTkrbtgt"),
		directory.Options{Now: c.Now, Rand: detRand(2), Audit: sink})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return &env{t: t, store: s, dir: d, clock: c, mk: mk, audit: sink}
}

// forEachStore runs fn against an initialised directory on each store kind.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { fn(t, newEnv(t, k.open)) })
	}
}

// admin is the directory's operations as the local domain administrator.
func (e *env) admin() *directory.Acting { return e.dir.As(directory.LocalAdmin) }

// errOf returns the error of a call that also returns a value, for checks
// that look at the error only.
func errOf[T any](_ T, err error) error { return err }

func (e *env) create(a *directory.Account, keys []directory.Key) *directory.Account {
	e.t.Helper()
	got, err := e.admin().CreateAccount(ctx, a, keys)
	if err != nil {
		e.t.Fatalf("CreateAccount(%s): %v", a.Name, err)
	}
	return got
}

func (e *env) snap() *directory.Snapshot {
	e.t.Helper()
	s, err := e.dir.Snapshot(ctx)
	if err != nil {
		e.t.Fatalf("Snapshot: %v", err)
	}
	return s
}

func (e *env) token() string {
	e.t.Helper()
	c, ok := e.store.(directory.Changes)
	if !ok {
		e.t.Fatal("store has no Changes")
	}
	tok, err := c.Token(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// dump returns the whole store as text, for before/after comparisons.
func dump(t testing.TB, s directory.Store) string {
	t.Helper()
	var b bytes.Buffer
	err := s.View(ctx, func(tx directory.Tx) error {
		for _, bucket := range []string{"domain", "accounts", "groups", "spns", "upns", "meta", "join-tokens"} {
			if err := tx.ForEach(bucket, func(k string, v []byte) error {
				fmt.Fprintf(&b, "%s/%s=%s\n", bucket, k, v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func wantErr(t testing.TB, err, kind error, what string) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Errorf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want %v", what, err, kind)
	}
}
