package directory_test

import (
	"testing"
	"time"

	"hop/directory"
)

func TestLockoutOffWritesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, aesKeys(1, "s"))
		before := e.token()
		for range 5 {
			until, err := e.dir.RecordPreauthFailure(ctx, "alice")
			if err != nil || !until.IsZero() {
				t.Fatalf("RecordPreauthFailure with lockout off = %v, %v", until, err)
			}
		}
		if after := e.token(); after != before {
			t.Errorf("RecordPreauthFailure wrote with lockout off (token %q → %q)", before, after)
		}
		if a, _ := e.dir.Account(ctx, "alice"); a.BadPwdCount != 0 || !a.LockedUntil.IsZero() {
			t.Errorf("alice: count %d, locked until %v", a.BadPwdCount, a.LockedUntil)
		}
		_, err := e.dir.RecordPreauthFailure(ctx, "nobody")
		wantErr(t, err, directory.ErrNotFound, "RecordPreauthFailure of a missing account")
	})
}

func TestLockout(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, aesKeys(1, "s"))
		pol := directory.Policy{LockoutThreshold: 3, LockoutWindow: 10 * time.Minute, LockoutDuration: 30 * time.Minute}
		if _, err := e.admin().SetPolicy(ctx, pol); err != nil {
			t.Fatal(err)
		}
		fail := func(wantCount int, wantLocked bool) time.Time {
			t.Helper()
			until, err := e.dir.RecordPreauthFailure(ctx, "ALICE")
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.dir.Account(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if a.BadPwdCount != wantCount || a.IsLocked(e.clock.Now()) != wantLocked || until.IsZero() == wantLocked {
				t.Fatalf("after a failure at %v: count %d, locked until %v (returned %v); want count %d, locked %v",
					e.clock.Now(), a.BadPwdCount, a.LockedUntil, until, wantCount, wantLocked)
			}
			if s, _ := e.snap().Account("alice"); s.BadPwdCount != wantCount {
				t.Fatalf("the snapshot says count %d, want %d", s.BadPwdCount, wantCount)
			}
			return until
		}
		t0 := e.clock.Now()
		fail(1, false)
		e.clock.Advance(time.Minute)
		fail(2, false)
		e.clock.Advance(time.Minute)
		until := fail(3, true)
		if want := t0.Add(2*time.Minute + 30*time.Minute); !until.Equal(want) {
			t.Errorf("locked until %v, want %v (now + LockoutDuration)", until, want)
		}
		// While locked, failures are not counted and nothing is written.
		tok := e.token()
		e.clock.Advance(time.Minute)
		if u, err := e.dir.RecordPreauthFailure(ctx, "alice"); err != nil || !u.Equal(until) {
			t.Errorf("failure while locked = %v, %v; want %v", u, err, until)
		}
		if e.token() != tok {
			t.Error("a failure while locked was written")
		}
		// The lock expires; the next failure starts a new count.
		e.clock.Advance(30 * time.Minute)
		if a, _ := e.dir.Account(ctx, "alice"); a.IsLocked(e.clock.Now()) {
			t.Error("still locked after LockoutDuration")
		}
		fail(1, false)
		// Failures further apart than the window do not accumulate.
		e.clock.Advance(11 * time.Minute)
		fail(1, false)
		e.clock.Advance(9 * time.Minute)
		fail(2, false)
		// A success clears the count.
		if err := e.dir.ClearPreauthFailures(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		fail(1, false)
	})
}

func TestClearPreauthFailures(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, aesKeys(1, "s"))
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{LockoutThreshold: 5}); err != nil {
			t.Fatal(err)
		}
		e.snap()
		before := e.token()
		for range 3 {
			if err := e.dir.ClearPreauthFailures(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
		}
		if after := e.token(); after != before {
			t.Errorf("ClearPreauthFailures wrote with a zero count (token %q → %q)", before, after)
		}
		if _, err := e.dir.RecordPreauthFailure(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		mid := e.token()
		if mid == before {
			t.Fatal("RecordPreauthFailure with lockout on did not write")
		}
		if err := e.dir.ClearPreauthFailures(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if e.token() == mid {
			t.Error("ClearPreauthFailures did not write a non-zero count")
		}
		if a, _ := e.dir.Account(ctx, "alice"); a.BadPwdCount != 0 {
			t.Errorf("count %d after ClearPreauthFailures", a.BadPwdCount)
		}
		wantErr(t, e.dir.ClearPreauthFailures(ctx, "nobody"), directory.ErrNotFound, "ClearPreauthFailures of a missing account")
	})
}
