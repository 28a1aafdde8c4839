// Package storetest checks that an implementation of [directory.Store]
// keeps the contract the directory relies on: transactions that see their
// own writes, atomic commits, nothing left behind by a failed Update, byte
// ordered iteration, and (for [directory.Changes]) a token that changes
// after every commit and only then.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"hop/directory"
)

// Run runs the conformance tests; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) directory.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, directory.Store)
	}{
		{"GetAbsent", testGetAbsent},
		{"PutGet", testPutGet},
		{"OwnWrites", testOwnWrites},
		{"FailedUpdateLeavesNothing", testFailedUpdate},
		{"ForEachOrder", testForEachOrder},
		{"ReadOnlyView", testReadOnlyView},
		{"Token", testToken},
		{"Seq", testSeq},
		{"ReservedBucket", testReserved},
		{"Canceled", testCanceled},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

func put(t *testing.T, s directory.Store, kv ...string) {
	t.Helper()
	err := s.Update(ctx, func(tx directory.Tx) error {
		for i := 0; i+2 < len(kv); i += 3 {
			if err := tx.Put(kv[i], kv[i+1], []byte(kv[i+2])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func get(t *testing.T, s directory.Store, bucket, key string) []byte {
	t.Helper()
	var v []byte
	err := s.View(ctx, func(tx directory.Tx) (err error) {
		v, err = tx.Get(bucket, key)
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return v
}

// dump returns every key and value of the buckets as "bucket/key=value".
func dump(t *testing.T, s directory.Store, buckets ...string) []string {
	t.Helper()
	var out []string
	err := s.View(ctx, func(tx directory.Tx) error {
		for _, b := range buckets {
			if err := tx.ForEach(b, func(k string, v []byte) error {
				out = append(out, fmt.Sprintf("%s/%s=%s", b, k, v))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return out
}

func testGetAbsent(t *testing.T, s directory.Store) {
	if v := get(t, s, "none", "k"); v != nil {
		t.Errorf("Get in a missing bucket = %q, want nil", v)
	}
	put(t, s, "b", "k", "v")
	if v := get(t, s, "b", "other"); v != nil {
		t.Errorf("Get of a missing key = %q, want nil", v)
	}
	if got := dump(t, s, "none"); len(got) != 0 {
		t.Errorf("ForEach of a missing bucket = %q", got)
	}
}

func testPutGet(t *testing.T, s directory.Store) {
	put(t, s, "b", "k", "v1", "b", "e", "")
	if v := get(t, s, "b", "k"); string(v) != "v1" {
		t.Errorf("Get = %q, want v1", v)
	}
	if v := get(t, s, "b", "e"); v == nil || len(v) != 0 {
		t.Errorf("Get of an empty value = %#v, want a non-nil empty slice", v)
	}
	// The returned value is a copy.
	err := s.View(ctx, func(tx directory.Tx) error {
		v, err := tx.Get("b", "k")
		if err != nil {
			return err
		}
		v[0] = 'X'
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := get(t, s, "b", "k"); string(v) != "v1" {
		t.Errorf("modifying a Get result changed the store: %q", v)
	}
	put(t, s, "b", "k", "v2")
	if v := get(t, s, "b", "k"); string(v) != "v2" {
		t.Errorf("Get after overwrite = %q, want v2", v)
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.Delete("b", "k") }); err != nil {
		t.Fatal(err)
	}
	if v := get(t, s, "b", "k"); v != nil {
		t.Errorf("Get after Delete = %q, want nil", v)
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.Delete("nobucket", "k") }); err != nil {
		t.Errorf("Delete of an absent key: %v", err)
	}
}

func testOwnWrites(t *testing.T, s directory.Store) {
	put(t, s, "b", "a", "1", "b", "c", "3")
	err := s.Update(ctx, func(tx directory.Tx) error {
		if err := tx.Put("b", "b", []byte("2")); err != nil {
			return err
		}
		if err := tx.Delete("b", "c"); err != nil {
			return err
		}
		if v, err := tx.Get("b", "b"); err != nil || string(v) != "2" {
			return fmt.Errorf("Get of an own write = %q, %v", v, err)
		}
		if v, err := tx.Get("b", "c"); err != nil || v != nil {
			return fmt.Errorf("Get of an own delete = %q, %v", v, err)
		}
		var keys []string
		if err := tx.ForEach("b", func(k string, v []byte) error {
			keys = append(keys, k+"="+string(v))
			return nil
		}); err != nil {
			return err
		}
		if want := []string{"a=1", "b=2"}; !slices.Equal(keys, want) {
			return fmt.Errorf("ForEach inside the transaction = %q, want %q", keys, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, s, "b"), []string{"b/a=1", "b/b=2"}; !slices.Equal(got, want) {
		t.Errorf("after commit: %q, want %q", got, want)
	}
}

func testFailedUpdate(t *testing.T, s directory.Store) {
	put(t, s, "b", "keep", "1")
	before := dump(t, s, "b", "new")
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx directory.Tx) error {
		if err := tx.Put("b", "keep", []byte("changed")); err != nil {
			return err
		}
		if err := tx.Put("new", "k", []byte("v")); err != nil {
			return err
		}
		if err := tx.Delete("b", "keep"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if after := dump(t, s, "b", "new"); !slices.Equal(before, after) {
		t.Errorf("a failed Update changed the store: before %q, after %q", before, after)
	}
}

func testForEachOrder(t *testing.T, s directory.Store) {
	put(t, s, "b", "b", "2", "b", "a", "1", "b", "B", "0", "b", "ab", "x", "other", "z", "9")
	want := []string{"b/B=0", "b/a=1", "b/ab=x", "b/b=2"} // byte order
	if got := dump(t, s, "b"); !slices.Equal(got, want) {
		t.Errorf("ForEach = %q, want %q", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err := s.View(ctx, func(tx directory.Tx) error {
		return tx.ForEach("b", func(string, []byte) error { n++; return stop })
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEach did not stop at the first error: %v after %d calls", err, n)
	}
}

func testReadOnlyView(t *testing.T, s directory.Store) {
	put(t, s, "b", "k", "v")
	err := s.View(ctx, func(tx directory.Tx) error { return tx.Put("b", "k", []byte("w")) })
	if err == nil {
		t.Error("Put in a View succeeded")
	}
	err = s.View(ctx, func(tx directory.Tx) error { return tx.Delete("b", "k") })
	if err == nil {
		t.Error("Delete in a View succeeded")
	}
	if v := get(t, s, "b", "k"); string(v) != "v" {
		t.Errorf("after writes in a View: %q", v)
	}
}

func testToken(t *testing.T, s directory.Store) {
	c, ok := s.(directory.Changes)
	if !ok {
		t.Skip("the store does not implement directory.Changes")
	}
	tok := func() string {
		t.Helper()
		v, err := c.Token(ctx)
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		return v
	}
	seen := map[string]bool{}
	prev := tok()
	seen[prev] = true
	for i := range 20 {
		put(t, s, "b", "k", fmt.Sprint(i%2)) // alternating values: same size
		now := tok()
		if seen[now] {
			t.Fatalf("after commit %d the token %q was seen before", i, now)
		}
		seen[now] = true
		if again := tok(); again != now {
			t.Fatalf("token changed without a commit: %q then %q", now, again)
		}
		prev = now
	}
	_ = s.View(ctx, func(tx directory.Tx) error { _, err := tx.Get("b", "k"); return err })
	_ = s.Update(ctx, func(tx directory.Tx) error {
		_ = tx.Put("b", "k", []byte("rolled back"))
		return errors.New("no")
	})
	if now := tok(); now != prev {
		t.Errorf("a View or a failed Update changed the token: %q → %q", prev, now)
	}
}

// seq returns the Seq a View sees, and whether the store's transactions
// are Sequenced.
func seq(t *testing.T, s directory.Store) (uint64, bool) {
	t.Helper()
	var n uint64
	var ok bool
	err := s.View(ctx, func(tx directory.Tx) error {
		sq, is := tx.(directory.Sequenced)
		if !is {
			return nil
		}
		ok = true
		var err error
		n, err = sq.Seq()
		return err
	})
	if err != nil {
		t.Fatalf("Seq in a View: %v", err)
	}
	return n, ok
}

func testSeq(t *testing.T, s directory.Store) {
	before, ok := seq(t, s)
	if !ok {
		t.Skip("the store's transactions are not directory.Sequenced")
	}
	for i := range 3 {
		var inUpdate uint64
		err := s.Update(ctx, func(tx directory.Tx) error {
			var err error
			inUpdate, err = tx.(directory.Sequenced).Seq()
			if err != nil {
				return err
			}
			return tx.Put("b", "k", []byte(fmt.Sprint(i)))
		})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := seq(t, s)
		if inUpdate != before+1 || after != before+1 {
			t.Fatalf("Seq %d before an Update, %d in it and %d after; want %d in and after", before, inUpdate, after, before+1)
		}
		before = after
	}
	_ = s.Update(ctx, func(tx directory.Tx) error { return errors.New("no") })
	if after, _ := seq(t, s); after != before {
		t.Errorf("a failed Update counted: Seq %d → %d", before, after)
	}
}

func testReserved(t *testing.T, s directory.Store) {
	for _, b := range []string{"", "\x00internal"} {
		err := s.Update(ctx, func(tx directory.Tx) error { return tx.Put(b, "k", []byte("v")) })
		if err == nil {
			t.Errorf("Put in bucket %q succeeded", b)
		}
	}
	err := s.Update(ctx, func(tx directory.Tx) error { return tx.Put("b", "", []byte("v")) })
	if err == nil {
		t.Error("Put with an empty key succeeded")
	}
}

func testCanceled(t *testing.T, s directory.Store) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	if err := s.Update(c, func(directory.Tx) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context: %v", err)
	}
	if err := s.View(c, func(directory.Tx) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context: %v", err)
	}
	if called {
		t.Error("fn ran under a canceled context")
	}
}

func testClosed(t *testing.T, s directory.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(directory.Tx) error { return nil }); err == nil {
		t.Error("View on a closed store succeeded")
	}
	if err := s.Update(ctx, func(directory.Tx) error { return nil }); err == nil {
		t.Error("Update on a closed store succeeded")
	}
}
