package directory_test

import (
	"slices"
	"testing"

	"hop/directory"
)

func groupNames(gs []*directory.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func TestNestedGroups(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
		e.create(&directory.Account{Name: "bob", Kind: directory.KindUser}, nil)
		for _, g := range []string{"Outer", "Middle", "Inner"} {
			if _, err := e.admin().CreateGroup(ctx, g, g+" group"); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range [][2]string{{"outer", "MIDDLE"}, {"Middle", "inner"}, {"Inner", "Alice"}, {"Protected Users", "inner"}} {
			wantErr(t, errOf(e.admin().AddMember(ctx, m[0], m[1], 0)), nil, "AddMember "+m[0]+" "+m[1])
		}
		g, err := e.admin().Group(ctx, "inner")
		if err != nil || !slices.Equal(g.Members, []string{"alice"}) {
			t.Errorf("Inner = %+v, %v; want the member spelled as its record (alice)", g, err)
		}
		s := e.snap()
		// RIDs: Domain Users 513, Protected Users 525, Outer 1102, Middle 1103, Inner 1104.
		if got, want := groupNames(s.GroupsOf("ALICE")), []string{"Domain Users", "Protected Users", "Outer", "Middle", "Inner"}; !slices.Equal(got, want) {
			t.Errorf("GroupsOf(alice) = %q, want %q (by RID)", got, want)
		}
		if got, want := groupNames(s.GroupsOf("bob")), []string{"Domain Users"}; !slices.Equal(got, want) {
			t.Errorf("GroupsOf(bob) = %q, want %q", got, want)
		}
		if got, want := groupNames(s.GroupsOf("inner")), []string{"Protected Users", "Outer", "Middle"}; !slices.Equal(got, want) {
			t.Errorf("GroupsOf(Inner) = %q, want %q", got, want)
		}
		for _, c := range []struct {
			who, group string
			want       bool
		}{
			{"alice", "outer", true}, {"alice", "Inner", true}, {"alice", "protected users", true},
			{"bob", "outer", false}, {"bob", "domain users", true}, {"inner", "outer", true},
			{"outer", "inner", false}, {"alice", "nosuch", false}, {"nobody", "outer", false},
			{"alice", "alice", false},
		} {
			if got := s.IsMember(c.who, c.group); got != c.want {
				t.Errorf("IsMember(%s, %s) = %v, want %v", c.who, c.group, got, c.want)
			}
		}

		before := dump(t, e.store)
		for _, c := range []struct {
			group, member string
			want          error
		}{
			{"inner", "outer", directory.ErrInvalid},  // Outer ⊃ Middle ⊃ Inner
			{"inner", "middle", directory.ErrInvalid}, // Middle ⊃ Inner
			{"middle", "outer", directory.ErrInvalid},
			{"outer", "outer", directory.ErrInvalid},
			{"inner", "ALICE", directory.ErrExists},
			{"outer", "nobody", directory.ErrNotFound},
			{"nosuch", "alice", directory.ErrNotFound},
		} {
			wantErr(t, errOf(e.admin().AddMember(ctx, c.group, c.member, 0)), c.want, "AddMember "+c.group+" "+c.member)
		}
		wantErr(t, errOf(e.admin().RemoveMember(ctx, "outer", "alice", 0)), directory.ErrNotFound, "RemoveMember of a non-member")
		wantErr(t, e.admin().DeleteGroup(ctx, "Domain Admins", 0), directory.ErrInvalid, "DeleteGroup of a built-in group")
		_, err = e.admin().CreateGroup(ctx, "bad/name", "")
		wantErr(t, err, directory.ErrInvalid, "CreateGroup with a bad name")
		if after := dump(t, e.store); after != before {
			t.Error("refused group changes changed the store")
		}

		// Removing Middle's link breaks the chain.
		wantErr(t, errOf(e.admin().RemoveMember(ctx, "OUTER", "middle", 0)), nil, "RemoveMember")
		if s := e.snap(); s.IsMember("alice", "outer") {
			t.Error("alice still in Outer")
		}
		// Now Inner may contain Outer.
		wantErr(t, errOf(e.admin().AddMember(ctx, "inner", "outer", 0)), nil, "AddMember after the cycle was broken")
		// Deleting a group removes it from the groups it was in.
		wantErr(t, e.admin().DeleteGroup(ctx, "Inner", 0), nil, "DeleteGroup")
		s = e.snap()
		if got := groupNames(s.GroupsOf("alice")); !slices.Equal(got, []string{"Domain Users"}) {
			t.Errorf("after deleting Inner, GroupsOf(alice) = %q", got)
		}
		if pu, _ := s.Group("Protected Users"); len(pu.Members) != 0 {
			t.Errorf("Protected Users still lists %q", pu.Members)
		}
		all, err := e.admin().Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := groupNames(all), []string{"Domain Admins", "Domain Computers", "Domain Controllers", "Domain Guests", "Domain Users", "Middle", "Outer", "Protected Users"}; !slices.Equal(got, want) {
			t.Errorf("Groups = %q, want %q", got, want)
		}
	})
}

// TestGroupsOfCycle builds a cycle behind the directory's back: the
// snapshot must not loop.
func TestGroupsOfCycle(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
	err := e.store.Update(ctx, func(tx directory.Tx) error {
		for _, kv := range [][2]string{
			{"g1", `{"name":"G1","rid":2001,"members":["G2","alice"]}`},
			{"g2", `{"name":"G2","rid":2002,"members":["G1"]}`},
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
	s := e.snap()
	if got, want := groupNames(s.GroupsOf("alice")), []string{"Domain Users", "G1", "G2"}; !slices.Equal(got, want) {
		t.Errorf("GroupsOf(alice) = %q, want %q", got, want)
	}
	if !s.IsMember("g1", "g1") || s.IsMember("alice", "nosuch") {
		t.Error("IsMember over a cycle")
	}
}
