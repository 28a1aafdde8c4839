package directory_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"hop/directory"
	"hop/sid"
)

// authzEnv: alice is in Inner ⊂ Middle ⊂ Outer, and Middle is in Protected
// Users; bob is marked sensitive; b$ is in Web Servers; c$ lets Outer, Web
// Servers and b$ delegate to it.
func authzEnv(t *testing.T, e *env) {
	for _, n := range []string{"alice", "bob", "carol"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindUser}, nil)
	}
	for _, n := range []string{"b$", "c$", "d$"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindComputer}, nil)
	}
	e.group("Inner", "alice")
	e.group("Middle", "Inner")
	e.group("Outer", "Middle")
	e.group("Web Servers", "b$")
	e.member("Protected Users", "Middle")
	e.setDelegation("bob", directory.DelegationChange{Sensitive: boolp(true)})
	e.setDelegation("c$", directory.DelegationChange{AllowedToAct: listp("Outer", "Web Servers", "b$")})
	_ = t
}

func TestSnapshotAuthz(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		authzEnv(t, e)
		dom, _ := e.dir.Domain(ctx)
		rid := func(r uint32) sid.SID { return dom.SID.Append(r) }
		s := e.snap()

		for _, c := range []struct {
			name string
			want []sid.SID
		}{
			// Own SID, primary group, then the others by RID (Protected
			// Users 525 before the groups created from 1100 on).
			{"ALICE", append([]sid.SID{e.sidOf("alice"), rid(513), rid(525)}, e.sids("Inner", "Middle", "Outer")...)},
			{"bob", []sid.SID{e.sidOf("bob"), rid(513)}},
			{"b$", []sid.SID{e.sidOf("b$"), rid(515), e.sidOf("Web Servers")}},
			{"Administrator", []sid.SID{rid(500), rid(513), rid(512)}}, // primary group second
			{"nosuch", nil},
		} {
			if got := s.SIDs(c.name); !slices.Equal(got, c.want) {
				t.Errorf("SIDs(%s) = %v, want %v", c.name, got, c.want)
			}
		}

		for _, c := range []struct {
			name                 string
			protected, sensitive bool
		}{
			{"alice", true, true}, // Protected Users through Inner and Middle
			{"bob", false, true},  // marked sensitive
			{"carol", false, false},
			{"b$", false, false},
			{"nosuch", false, false},
		} {
			if got := s.InProtectedUsers(c.name); got != c.protected {
				t.Errorf("InProtectedUsers(%s) = %v", c.name, got)
			}
			if got := s.IsSensitive(c.name); got != c.sensitive {
				t.Errorf("IsSensitive(%s) = %v", c.name, got)
			}
		}

		for _, c := range []struct {
			resource, requester string
			ok                  bool
			via                 string
		}{
			{"c$", "alice", true, "Outer"}, // through three nested groups
			{"C$", "B$", true, "b$"},       // its own SID before Web Servers
			{"c$", "bob", false, ""},
			{"c$", "c$", false, ""},
			{"d$", "b$", false, ""}, // d$ allows nobody
			{"b$", "c$", false, ""},
			{"nosuch$", "b$", false, ""},
			{"c$", "nosuch", false, ""},
		} {
			ok, via := s.AllowedToAct(c.resource, c.requester)
			var want sid.SID
			if c.via != "" {
				want = e.sidOf(c.via)
			}
			if ok != c.ok || via != want {
				t.Errorf("AllowedToAct(%s, %s) = %v, %v; want %v, %v", c.resource, c.requester, ok, via, c.ok, want)
			}
		}

		if a, ok := s.AccountBySID(e.sidOf("alice")); !ok || a.Name != "alice" {
			t.Errorf("AccountBySID(alice) = %v, %v", a, ok)
		}
		if g, ok := s.GroupBySID(rid(525)); !ok || g.Name != "Protected Users" {
			t.Errorf("GroupBySID(525) = %v, %v", g, ok)
		}
		foreign, _ := sid.New(5, 21, 9, 9, 9, e.sidOf("alice").RID())
		short, _ := sid.New(5, 21)
		for _, sid := range []sid.SID{rid(525), foreign, short, {}, rid(99999)} {
			if _, ok := s.AccountBySID(sid); ok {
				t.Errorf("AccountBySID(%v) found an account", sid)
			}
		}
		for _, sid := range []sid.SID{e.sidOf("alice"), foreign, {}} {
			if _, ok := s.GroupBySID(sid); ok {
				t.Errorf("GroupBySID(%v) found a group", sid)
			}
		}
		for sid, want := range map[sid.SID]string{
			e.sidOf("b$"): "b$", rid(513): "Domain Users", foreign: "S-1-5-21-9-9-9-" + fmt.Sprint(foreign.RID()), rid(99999): dom.SID.String() + "-99999",
		} {
			if got := s.NameOf(sid); got != want {
				t.Errorf("NameOf(%v) = %q, want %q", sid, got, want)
			}
		}
		a, _ := s.Account("c$")
		if got := s.NamesOf(a.AllowedToActOnBehalfOf); !slices.Equal(got, []string{"Outer", "Web Servers", "b$"}) {
			t.Errorf("NamesOf(c$'s list) = %q", got)
		}
		if !s.IsDomainAdmin("administrator") || s.IsDomainAdmin("alice") || s.IsDomainAdmin("nosuch") {
			t.Error("IsDomainAdmin")
		}

		// A change of membership shows in the next snapshot at once.
		if _, err := e.admin().RemoveMember(ctx, "Middle", "Inner", 0); err != nil {
			t.Fatal(err)
		}
		s2 := e.snap()
		if ok, _ := s2.AllowedToAct("c$", "alice"); ok || s2.InProtectedUsers("alice") {
			t.Error("alice keeps rights of groups she left")
		}
		if ok, _ := s.AllowedToAct("c$", "alice"); !ok {
			t.Error("the old snapshot changed")
		}
	})
}

// TestSnapshotAuthzCycle builds a cycle of groups behind the directory's
// back: the snapshot must be built, and each SID listed once.
func TestSnapshotAuthzCycle(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
	e.create(&directory.Account{Name: "c$", Kind: directory.KindComputer}, nil)
	err := e.store.Update(ctx, func(tx directory.Tx) error {
		for _, kv := range [][2]string{
			{"g1", `{"name":"G1","rid":2001,"members":["G2","alice"]}`},
			{"g2", `{"name":"G2","rid":2002,"members":["G1"]}`},
			{"protected users", `{"name":"Protected Users","rid":525,"members":["G2"]}`},
		} {
			if err := tx.Put("groups", kv[0], []byte(kv[1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.setDelegation("c$", directory.DelegationChange{AllowedToAct: listp("g2")})
	dom, _ := e.dir.Domain(ctx)
	s := e.snap()
	want := []sid.SID{e.sidOf("alice"), dom.SID.Append(513), dom.SID.Append(525), dom.SID.Append(2001), dom.SID.Append(2002)}
	if got := s.SIDs("alice"); !slices.Equal(got, want) {
		t.Errorf("SIDs(alice) = %v, want %v", got, want)
	}
	if ok, via := s.AllowedToAct("c$", "alice"); !ok || via != dom.SID.Append(2002) {
		t.Errorf("AllowedToAct through a cycle = %v, %v", ok, via)
	}
	if !s.InProtectedUsers("alice") {
		t.Error("Protected Users through a cycle")
	}
	// The rights check walks the same graph without looping.
	e.setDelegation("c$", directory.DelegationChange{ManagedBy: listp("G1")})
	if err := e.dir.MayChange(ctx, directory.Actor{Name: "alice"}, "c$", directory.DelegationChange{AllowedToAct: listp("none")}); err != nil {
		t.Errorf("a manager through a cycle: %v", err)
	}
}

// TestSnapshotAuthzAllocs: the KDC's per-request questions allocate nothing.
func TestSnapshotAuthzAllocs(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	authzEnv(t, e)
	s := e.snap()
	bsid := e.sidOf("b$")
	for name, fn := range map[string]func(){
		"SIDs":              func() { s.SIDs("alice") },
		"SIDs, record case": func() { s.SIDs("Administrator") },
		"AllowedToAct":      func() { s.AllowedToAct("c$", "alice") },
		"AllowedToAct no":   func() { s.AllowedToAct("c$", "bob") },
		"IsSensitive":       func() { s.IsSensitive("bob") },
		"InProtectedUsers":  func() { s.InProtectedUsers("alice") },
		"AccountBySID":      func() { s.AccountBySID(bsid) },
		"IsDomainAdmin":     func() { s.IsDomainAdmin("Administrator") },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

// TestDelegationConcurrent changes an RBCD list from several goroutines
// while others read snapshots (run with -race).
func TestDelegationConcurrent(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "c$", Kind: directory.KindComputer}, nil)
		const n = 8
		for i := range n {
			e.create(&directory.Account{Name: fmt.Sprint("h", i, "$"), Kind: directory.KindComputer}, nil)
		}
		stop := make(chan struct{})
		var readers, writers sync.WaitGroup
		for range 4 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					s, err := e.dir.Snapshot(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					for i := range n {
						s.AllowedToAct("c$", fmt.Sprint("h", i, "$"))
					}
					s.SIDs("c$")
				}
			}()
		}
		for i := range n {
			writers.Add(1)
			go func() {
				defer writers.Done()
				if _, err := e.admin().SetDelegation(ctx, "c$",
					directory.DelegationChange{AllowedToActAdd: []string{fmt.Sprint("h", i, "$")}}, 0); err != nil {
					t.Error(err)
				}
			}()
		}
		writers.Wait()
		close(stop)
		readers.Wait()
		s := e.snap()
		a, _ := s.Account("c$")
		if len(a.AllowedToActOnBehalfOf) != n {
			t.Errorf("%d principals in the list, want %d", len(a.AllowedToActOnBehalfOf), n)
		}
		for i := range n {
			if ok, _ := s.AllowedToAct("c$", fmt.Sprint("h", i, "$")); !ok {
				t.Errorf("h%d$ lost", i)
			}
		}
	})
}
