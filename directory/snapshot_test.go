package directory_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hop/directory"
	"hop/directory/mem"
	"hop/krb5"
)

// pastCheckInterval waits out the directory's rate limit on change checks.
func pastCheckInterval() { time.Sleep(2 * time.Millisecond) }

func TestSnapshotReuse(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s1 := e.snap()
		if s2 := e.snap(); s2 != s1 {
			t.Error("a second Snapshot right away was rebuilt")
		}
		pastCheckInterval()
		if s3 := e.snap(); s3 != s1 {
			t.Error("Snapshot was rebuilt although the store did not change")
		}
		// A View does not count as a change.
		if _, err := e.admin().Accounts(ctx); err != nil {
			t.Fatal(err)
		}
		pastCheckInterval()
		if s4 := e.snap(); s4 != s1 {
			t.Error("Snapshot was rebuilt after a read")
		}
		// The directory's own write shows at once, without waiting.
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
		s5 := e.snap()
		if s5 == s1 {
			t.Fatal("Snapshot not rebuilt after a write")
		}
		if _, ok := s5.Account("alice"); !ok {
			t.Error("new account missing from the snapshot")
		}
		if _, ok := s1.Account("alice"); ok {
			t.Error("the old snapshot changed")
		}
		if s5.Generation() == s1.Generation() {
			t.Error("generation unchanged")
		}
		// Unchanged accounts are shared between snapshots.
		a1, _ := s1.Account("krbtgt")
		a5, _ := s5.Account("krbtgt")
		if a1 != a5 {
			t.Error("the unchanged krbtgt account was decoded again")
		}
		// A failed update changes nothing.
		_, err := e.admin().UpdateAccount(ctx, "alice", 0, func(a *directory.Account) error { return errors.New("no") })
		if err == nil {
			t.Fatal("UpdateAccount error lost")
		}
		pastCheckInterval()
		if s6 := e.snap(); s6.Generation() != s5.Generation() {
			t.Errorf("a failed update changed the generation: %q → %q", s5.Generation(), s6.Generation())
		}
	})
}

// storeWithoutChanges hides the Changes capability of a store.
type storeWithoutChanges struct{ directory.Store }

func TestSnapshotWithoutChanges(t *testing.T) {
	m := mem.New()
	e := newEnv(t, func(testing.TB) directory.Store { return storeWithoutChanges{m} })
	other, err := directory.Open(ctx, storeWithoutChanges{m}, e.mk, directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s1 := e.snap()
	pastCheckInterval()
	if e.snap() != s1 {
		t.Error("rebuilt without a change")
	}
	if _, err := other.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: "alice", Kind: directory.KindUser}, nil); err != nil {
		t.Fatal(err)
	}
	pastCheckInterval()
	s2 := e.snap()
	if _, ok := s2.Account("alice"); !ok {
		t.Error("a write through another Directory was not seen")
	}
}

// TestSnapshotOtherProcess writes through a second bolt Store on the same
// file, as the CLI does while the KDC runs, several times in quick
// succession (within one tick of the file's modification time).
func TestSnapshotOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.db")
	kdc := newEnv(t, func(t testing.TB) directory.Store { return boltAt(t, path) })
	cli, err := directory.Open(ctx, boltAt(t, path), kdc.mk, directory.Options{Now: kdc.clock.Now, Rand: detRand(5)})
	if err != nil {
		t.Fatal(err)
	}
	kdc.snap()
	for i := range 20 {
		name := fmt.Sprint("user", i)
		if _, err := cli.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: name, Kind: directory.KindUser}, nil); err != nil {
			t.Fatal(err)
		}
		pastCheckInterval()
		if _, ok := kdc.snap().Account(name); !ok {
			t.Fatalf("write %d by the other handle not seen", i)
		}
		// Two writes back to back.
		if _, err := cli.As(directory.LocalAdmin).UpdateAccount(ctx, name, 0, func(a *directory.Account) error { a.Description = "first"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.As(directory.LocalAdmin).UpdateAccount(ctx, name, 0, func(a *directory.Account) error { a.Description = "second"; return nil }); err != nil {
			t.Fatal(err)
		}
		pastCheckInterval()
		if a, _ := kdc.snap().Account(name); a.Description != "second" {
			t.Fatalf("round %d: the KDC sees description %q, want second", i, a.Description)
		}
		if _, err := cli.As(directory.LocalAdmin).SetKeys(ctx, name, aesKeys(byte(i), "s"), 0); err != nil {
			t.Fatal(err)
		}
		pastCheckInterval()
		if a, _ := kdc.snap().Account(name); a.KVNO != 2 {
			t.Fatalf("round %d: the KDC sees kvno %d after SetKeys, want 2", i, a.KVNO)
		}
	}
}

func TestSnapshotConcurrent(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser, SPNs: []string{"svc/alice"}}, aesKeys(1, "s"))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					s, err := e.dir.Snapshot(ctx)
					if err != nil {
						errs <- err
						return
					}
					a, ok := s.Lookup(krb5.NewName(krb5.NTSrvInst, "svc", "alice"), realm)
					if !ok {
						errs <- errors.New("alice not found")
						return
					}
					if _, ok := a.KeyFor(krb5.AES256CTSHMACSHA196, 0); !ok {
						errs <- errors.New("alice has no key")
						return
					}
					s.GroupsOf("alice")
				}
			}()
		}
		for i := range 20 {
			if _, err := e.admin().CreateAccount(ctx, &directory.Account{Name: fmt.Sprint("u", i), Kind: directory.KindUser}, nil); err != nil {
				t.Error(err)
			}
			if _, err := e.admin().SetKeys(ctx, "alice", aesKeys(byte(i), "s"), 0); err != nil {
				t.Error(err)
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s := e.snap()
		if a, _ := s.Account("alice"); a.KVNO != 21 {
			t.Errorf("final kvno %d, want 21", a.KVNO)
		}
		if len(s.Accounts()) != 4+1+20 {
			t.Errorf("%d accounts in the final snapshot", len(s.Accounts()))
		}
	})
}

func TestPolicy(t *testing.T) {
	d := directory.Policy{}.WithDefaults()
	want := directory.Policy{
		MaxTicketLife: 10 * time.Hour, MaxRenewLife: 7 * 24 * time.Hour, ClockSkew: 5 * time.Minute,
		LockoutThreshold: 0, LockoutWindow: 30 * time.Minute, LockoutDuration: 30 * time.Minute,
		ProtectedUsersTGTLife: 4 * time.Hour, MinPasswordLength: 8, PasswordHistory: 24, MachineAccountQuota: 0,
	}
	if d != want {
		t.Errorf("defaults %+v, want %+v", d, want)
	}
	if got := (directory.Policy{MaxTicketLife: time.Hour}).WithDefaults().MaxTicketLife; got != time.Hour {
		t.Errorf("WithDefaults replaced a set value: %v", got)
	}
	for _, c := range []struct {
		p  directory.Policy
		ok bool
	}{
		{directory.Policy{}, true},
		{directory.Policy{MaxTicketLife: 8 * time.Hour, LockoutThreshold: 5}, true},
		{directory.Policy{MaxTicketLife: -time.Hour}, false},
		{directory.Policy{ClockSkew: -1}, false},
		{directory.Policy{ClockSkew: 48 * time.Hour}, false},
		{directory.Policy{LockoutThreshold: -1}, false},
		{directory.Policy{MaxTicketLife: 30 * time.Second}, false},
		{directory.Policy{MaxTicketLife: 8 * 24 * time.Hour}, false}, // beyond the default renew life
		{directory.Policy{MaxTicketLife: 8 * 24 * time.Hour, MaxRenewLife: 9 * 24 * time.Hour}, true},
		{directory.Policy{MinPasswordLength: 1, PasswordHistory: 1, MachineAccountQuota: 10}, true},
		{directory.Policy{MinPasswordLength: 256, PasswordHistory: 24}, true},
		{directory.Policy{PasswordHistory: directory.NoPasswordHistory}, true},
		{directory.Policy{MinPasswordLength: -1}, false},
		{directory.Policy{MinPasswordLength: 257}, false},
		{directory.Policy{PasswordHistory: -2}, false},
		{directory.Policy{PasswordHistory: 25}, false},
		{directory.Policy{MachineAccountQuota: -1}, false},
	} {
		if err := c.p.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", c.p, err, c.ok)
		} else if err != nil && !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("Validate error %v is not ErrInvalid", err)
		}
	}
	forEachStore(t, func(t *testing.T, e *env) {
		p := directory.Policy{MaxTicketLife: 8 * time.Hour, LockoutThreshold: 5}
		if _, err := e.admin().SetPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		if dom, _ := e.dir.Domain(ctx); dom.Policy != p {
			t.Errorf("stored policy %+v, want %+v", dom.Policy, p)
		}
		if e.snap().Domain().Policy != p {
			t.Error("the snapshot does not show the new policy")
		}
		wantErr(t, errOf(e.admin().SetPolicy(ctx, directory.Policy{ClockSkew: -1})), directory.ErrInvalid, "SetPolicy of an invalid policy")
	})
}

func TestKind(t *testing.T) {
	for _, k := range []directory.Kind{directory.KindUser, directory.KindComputer, directory.KindService} {
		got, err := directory.ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
	for s, want := range map[string]directory.Kind{"user": directory.KindUser, "Computer": directory.KindComputer, "SERVICE": directory.KindService} {
		if got, err := directory.ParseKind(s); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := directory.ParseKind("robot"); !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("ParseKind(robot) = %v", err)
	}
}
