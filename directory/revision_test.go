package directory_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"hop/directory"
)

func (e *env) rev(name string) uint64 {
	e.t.Helper()
	a, err := e.dir.Account(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Revision
}

func (e *env) grev(name string) uint64 {
	e.t.Helper()
	g, err := e.admin().Group(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return g.Revision
}

func TestRevisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{LockoutThreshold: 10}); err != nil {
			t.Fatal(err)
		}
		computers := e.grev("Domain Computers")
		e.create(&directory.Account{Name: "b$", Kind: directory.KindComputer}, aesKeys(1, ""))
		if r := e.rev("b$"); r != 1 {
			t.Errorf("a new account has revision %d, want 1", r)
		}
		if r := e.grev("Domain Computers"); r != computers+1 {
			t.Errorf("adding b$ to its primary group: revision %d, want %d", r, computers+1)
		}
		x := e.dir.As(directory.LocalAdmin)
		// Every change counts one, through the primitives as through Acting.
		steps := []struct {
			name string
			do   func() error
		}{
			{"UpdateAccount", func() error {
				_, err := e.admin().UpdateAccount(ctx, "b$", 0, func(a *directory.Account) error { a.Description = "web"; return nil })
				return err
			}},
			{"SetKeys", func() error { _, err := e.admin().SetKeys(ctx, "b$", aesKeys(2, ""), 0); return err }},
			{"AddSPN", func() error { return errOf(e.admin().AddSPN(ctx, "b$", "host/b", 0)) }},
			{"RemoveSPN", func() error { return errOf(e.admin().RemoveSPN(ctx, "b$", "host/b", 0)) }},
			{"SetDelegation", func() error {
				_, err := e.admin().SetDelegation(ctx, "b$", directory.DelegationChange{Sensitive: boolp(true)}, 0)
				return err
			}},
			{"Acting.SetPassword", func() error { _, err := x.SetPassword(ctx, "b$", "B-password-1", 0); return err }},
			{"Acting.UpdateAccount", func() error {
				_, err := x.UpdateAccount(ctx, "b$", 0, func(a *directory.Account) error { a.Description = "web2"; return nil })
				return err
			}},
		}
		for i, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if r := e.rev("b$"); r != uint64(i+2) {
				t.Errorf("after %s: revision %d, want %d", s.name, r, i+2)
			}
		}
		// Failed-logon bookkeeping is not an edit.
		r := e.rev("b$")
		if _, err := e.dir.RecordPreauthFailure(ctx, "b$"); err != nil {
			t.Fatal(err)
		}
		if err := e.dir.ClearPreauthFailures(ctx, "b$"); err != nil {
			t.Fatal(err)
		}
		if got := e.rev("b$"); got != r {
			t.Errorf("lockout bookkeeping changed the revision from %d to %d", r, got)
		}
		// A change conditional on an old revision is refused, whole.
		before := dump(t, e.store)
		for _, c := range []struct {
			name string
			do   func(rev uint64) error
		}{
			{"SetPassword", func(rev uint64) error { _, err := x.SetPassword(ctx, "b$", "B-password-2", rev); return err }},
			{"SetKeys", func(rev uint64) error { _, err := x.SetKeys(ctx, "b$", aesKeys(3, ""), rev); return err }},
			{"AddSPN", func(rev uint64) error { _, err := x.AddSPN(ctx, "b$", "host/b2", rev); return err }},
			{"RemoveSPN", func(rev uint64) error { _, err := x.RemoveSPN(ctx, "b$", "host/b2", rev); return err }},
			{"SetDelegation", func(rev uint64) error {
				_, err := x.SetDelegation(ctx, "b$", directory.DelegationChange{Sensitive: boolp(false)}, rev)
				return err
			}},
			{"UpdateAccount", func(rev uint64) error {
				_, err := x.UpdateAccount(ctx, "b$", rev, func(a *directory.Account) error { a.Description = "x"; return nil })
				return err
			}},
			{"DeleteAccount", func(rev uint64) error { return x.DeleteAccount(ctx, "b$", rev) }},
		} {
			err := c.do(r - 2)
			if !errors.Is(err, directory.ErrConflict) {
				t.Errorf("%s with a stale revision: %v, want a conflict", c.name, err)
				continue
			}
			want := "account b$ changed since you read it (revision " + itoa(r-2) + ", now " + itoa(r) + "): read it again and retry"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %q", c.name, err, want)
			}
		}
		if dump(t, e.store) != before {
			t.Error("a conflicting change wrote to the store")
		}
		// The current revision goes through.
		a, err := x.UpdateAccount(ctx, "b$", r, func(a *directory.Account) error { a.Description = "ok"; return nil })
		if err != nil || a.Revision != r+1 {
			t.Errorf("change at the current revision: %v, %v", a, err)
		}
		// Revisions belong to the directory.
		if _, err := x.UpdateAccount(ctx, "b$", 0, func(a *directory.Account) error { a.Revision = 99; return nil }); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("a change of the revision itself: %v", err)
		}
		// Groups.
		g, err := x.CreateGroup(ctx, "Web", "")
		if err != nil || g.Revision != 1 {
			t.Fatalf("new group: %+v, %v", g, err)
		}
		if g, err = x.AddMember(ctx, "Web", "b$", 1); err != nil || g.Revision != 2 {
			t.Fatalf("AddMember at revision 1: %+v, %v", g, err)
		}
		if _, err := x.AddMember(ctx, "Web", "Guest", 1); !errors.Is(err, directory.ErrConflict) || !strings.Contains(err.Error(), "group Web changed since you read it (revision 1, now 2)") {
			t.Errorf("stale AddMember: %v", err)
		}
		for _, f := range []func() error{
			func() error { _, err := x.RemoveMember(ctx, "Web", "b$", 1); return err },
			func() error { _, err := x.SetGroupManagers(ctx, "Web", []string{"b$"}, 1); return err },
			func() error { return x.DeleteGroup(ctx, "Web", 1) },
		} {
			if err := f(); !errors.Is(err, directory.ErrConflict) {
				t.Errorf("stale group change: %v", err)
			}
		}
		// Deleting b$ removes it from Web: a change of Web too.
		if err := x.DeleteAccount(ctx, "b$", 0); err != nil {
			t.Fatal(err)
		}
		if r := e.grev("Web"); r != 3 {
			t.Errorf("Web after its member's deletion: revision %d, want 3", r)
		}
	})
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// TestConcurrentConditionalEdits has writers race to change one account
// at the revision they read: exactly one wins each round, the others get
// a conflict, and no change is lost or half made.
func TestConcurrentConditionalEdits(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "c$", Kind: directory.KindComputer}, nil)
		x := e.dir.As(directory.LocalAdmin)
		for round := 0; round < 5; round++ {
			rev := e.rev("c$")
			var wg sync.WaitGroup
			results := make([]error, 4)
			for w := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, results[w] = x.UpdateAccount(ctx, "c$", rev, func(a *directory.Account) error {
						a.Description = "writer " + itoa(uint64(w))
						return nil
					})
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range results {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, directory.ErrConflict):
					t.Errorf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Errorf("round %d: %d writers won, want 1", round, won)
			}
			if got := e.rev("c$"); got != rev+1 {
				t.Errorf("round %d: revision %d, want %d", round, got, rev+1)
			}
		}
	})
}
