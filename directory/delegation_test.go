package directory_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"hop/directory"
	"hop/sid"
)

func boolp(v bool) *bool { return &v }

func listp(v ...string) *[]string {
	if v == nil {
		v = []string{}
	}
	return &v
}

// sidOf returns the SID of the account or group named name, computed by the
// test from the domain SID and the RID in the record.
func (e *env) sidOf(name string) sid.SID {
	e.t.Helper()
	dom, err := e.dir.Domain(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if a, err := e.dir.Account(ctx, name); err == nil {
		return dom.SID.Append(a.RID)
	}
	g, err := e.admin().Group(ctx, name)
	if err != nil {
		e.t.Fatalf("no account or group %s: %v", name, err)
	}
	return dom.SID.Append(g.RID)
}

func (e *env) sids(names ...string) []sid.SID {
	var out []sid.SID
	for _, n := range names {
		out = append(out, e.sidOf(n))
	}
	return out
}

func (e *env) group(name string, members ...string) {
	e.t.Helper()
	if _, err := e.admin().CreateGroup(ctx, name, ""); err != nil {
		e.t.Fatal(err)
	}
	for _, m := range members {
		e.member(name, m)
	}
}

func (e *env) member(group, member string) {
	e.t.Helper()
	if _, err := e.admin().AddMember(ctx, group, member, 0); err != nil {
		e.t.Fatalf("AddMember(%s, %s): %v", group, member, err)
	}
}

func (e *env) setDelegation(account string, c directory.DelegationChange) *directory.Account {
	e.t.Helper()
	a, err := e.admin().SetDelegation(ctx, account, c, 0)
	if err != nil {
		e.t.Fatalf("SetDelegation(%s): %v", account, err)
	}
	return a
}

func TestDelegationFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, n := range []string{"b$", "c$", "d$"} {
			e.create(&directory.Account{Name: n, Kind: directory.KindComputer}, nil)
		}
		e.create(&directory.Account{Name: "svc-web", Kind: directory.KindService, SPNs: []string{"HTTP/web.example.test"}}, nil)
		e.create(&directory.Account{Name: "s-admin", Kind: directory.KindUser}, nil) // looks like the start of a SID
		e.group("Web Servers", "b$")

		cases := []struct {
			name  string
			c     directory.DelegationChange
			check func(a *directory.Account) bool
		}{
			{"unconstrained on", directory.DelegationChange{TrustedForDelegation: boolp(true)},
				func(a *directory.Account) bool { return a.TrustedForDelegation }},
			{"unconstrained off", directory.DelegationChange{TrustedForDelegation: boolp(false)},
				func(a *directory.Account) bool { return !a.TrustedForDelegation }},
			{"protocol transition on", directory.DelegationChange{TrustedToAuthForDelegation: boolp(true)},
				func(a *directory.Account) bool { return a.TrustedToAuthForDelegation }},
			{"protocol transition off", directory.DelegationChange{TrustedToAuthForDelegation: boolp(false)},
				func(a *directory.Account) bool { return !a.TrustedToAuthForDelegation }},
			{"sensitive on", directory.DelegationChange{Sensitive: boolp(true)},
				func(a *directory.Account) bool { return a.Sensitive }},
			{"sensitive off", directory.DelegationChange{Sensitive: boolp(false)},
				func(a *directory.Account) bool { return !a.Sensitive }},
			{"no PAC on", directory.DelegationChange{NoAuthDataRequired: boolp(true)},
				func(a *directory.Account) bool { return a.NoAuthDataRequired }},
			{"no PAC off", directory.DelegationChange{NoAuthDataRequired: boolp(false)},
				func(a *directory.Account) bool { return !a.NoAuthDataRequired }},
			{"KCD set, duplicates folded", directory.DelegationChange{AllowedToDelegateTo: listp("HTTP/web.example.test", "cifs/nosuch.example.test", "http/WEB.example.test")},
				func(a *directory.Account) bool {
					return slices.Equal(a.AllowedToDelegateTo, []string{"HTTP/web.example.test", "cifs/nosuch.example.test"})
				}},
			{"KCD clear", directory.DelegationChange{AllowedToDelegateTo: listp()},
				func(a *directory.Account) bool { return a.AllowedToDelegateTo == nil }},
			{"KCD set again", directory.DelegationChange{AllowedToDelegateTo: listp("HTTP/web.example.test")},
				func(a *directory.Account) bool {
					return slices.Equal(a.AllowedToDelegateTo, []string{"HTTP/web.example.test"})
				}},
			{"KCD clear with none", directory.DelegationChange{AllowedToDelegateTo: listp("None")},
				func(a *directory.Account) bool { return a.AllowedToDelegateTo == nil }},
			{"RBCD set by names, any case, duplicates dropped", directory.DelegationChange{AllowedToAct: listp("B$", "web servers", "b$", "S-admin")},
				func(a *directory.Account) bool {
					return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("b$", "Web Servers", "s-admin"))
				}},
			{"RBCD clear with none", directory.DelegationChange{AllowedToAct: listp("none")},
				func(a *directory.Account) bool { return a.AllowedToActOnBehalfOf == nil }},
			{"RBCD set by SID string", directory.DelegationChange{AllowedToAct: listp(e.sidOf("d$").String())},
				func(a *directory.Account) bool { return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("d$")) }},
			{"RBCD add one", directory.DelegationChange{AllowedToActAdd: []string{"b$"}},
				func(a *directory.Account) bool { return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("d$", "b$")) }},
			{"RBCD add two", directory.DelegationChange{AllowedToActAdd: []string{"svc-web", "Web Servers"}},
				func(a *directory.Account) bool {
					return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("d$", "b$", "svc-web", "Web Servers"))
				}},
			{"RBCD remove one, add one", directory.DelegationChange{AllowedToActRemove: []string{"D$"}, AllowedToActAdd: []string{"s-admin"}},
				func(a *directory.Account) bool {
					return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("b$", "svc-web", "Web Servers", "s-admin"))
				}},
			{"RBCD remove the rest", directory.DelegationChange{AllowedToActRemove: []string{"b$", "svc-web", "web servers", "s-admin"}},
				func(a *directory.Account) bool { return a.AllowedToActOnBehalfOf == nil }},
			{"RBCD set then clear with an empty list", directory.DelegationChange{AllowedToAct: listp()},
				func(a *directory.Account) bool { return a.AllowedToActOnBehalfOf == nil }},
			{"managers set", directory.DelegationChange{ManagedBy: listp("svc-web", "Web Servers")},
				func(a *directory.Account) bool { return slices.Equal(a.ManagedBy, e.sids("svc-web", "Web Servers")) }},
			{"managers clear with none", directory.DelegationChange{ManagedBy: listp("NONE")},
				func(a *directory.Account) bool { return a.ManagedBy == nil }},
			{"several at once", directory.DelegationChange{TrustedToAuthForDelegation: boolp(true), AllowedToDelegateTo: listp("HTTP/web.example.test"),
				ManagedBy: listp("d$"), AllowedToAct: listp("b$")},
				func(a *directory.Account) bool {
					return a.TrustedToAuthForDelegation && len(a.AllowedToDelegateTo) == 1 &&
						slices.Equal(a.ManagedBy, e.sids("d$")) && slices.Equal(a.AllowedToActOnBehalfOf, e.sids("b$"))
				}},
		}
		for _, c := range cases {
			before := e.clock.Now()
			e.clock.Advance(1)
			got, err := e.admin().SetDelegation(ctx, "C$", c.c, 0)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if !c.check(got) {
				t.Errorf("%s: SetDelegation returned %+v", c.name, got)
			}
			stored, err := e.dir.Account(ctx, "c$")
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(stored) {
				t.Errorf("%s: stored %+v", c.name, stored)
			}
			// The snapshot shows the change at once: no stale cache.
			if a, _ := e.snap().Account("c$"); !c.check(a) {
				t.Errorf("%s: the snapshot shows %+v", c.name, a)
			}
			if !stored.Modified.After(before) {
				t.Errorf("%s: Modified %v not updated", c.name, stored.Modified)
			}
		}
		// The SPN that exists is not reported; the one that does not is.
		e.setDelegation("c$", directory.DelegationChange{AllowedToDelegateTo: listp("http/WEB.example.test", "cifs/nosuch.example.test")})
		a, _ := e.snap().Account("c$")
		if got := e.snap().UnknownSPNs(a.AllowedToDelegateTo); !slices.Equal(got, []string{"cifs/nosuch.example.test"}) {
			t.Errorf("UnknownSPNs = %q, want only cifs/nosuch.example.test", got)
		}
		// A change of nothing writes nothing.
		tok := e.token()
		if a, err := e.admin().SetDelegation(ctx, "c$", directory.DelegationChange{}, 0); err != nil || a.Name != "c$" {
			t.Errorf("empty change: %v, %v", a, err)
		}
		if e.token() != tok {
			t.Error("an empty change wrote to the store")
		}
		// Other updates keep the delegation settings.
		if _, err := e.admin().UpdateAccount(ctx, "c$", 0, func(a *directory.Account) error { a.Description = "x"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin().SetKeys(ctx, "c$", aesKeys(3, "s"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.dir.RecordPreauthFailure(ctx, "c$"); err != nil {
			t.Fatal(err)
		}
		if a, _ := e.dir.Account(ctx, "c$"); !a.TrustedToAuthForDelegation || !slices.Equal(a.ManagedBy, e.sids("d$")) ||
			!slices.Equal(a.AllowedToActOnBehalfOf, e.sids("b$")) || len(a.AllowedToDelegateTo) != 2 {
			t.Errorf("delegation settings lost by other updates: %+v", a)
		}
	})
}

func TestDelegationErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, n := range []string{"b$", "c$", "tmp$"} {
			e.create(&directory.Account{Name: n, Kind: directory.KindComputer}, nil)
		}
		e.setDelegation("c$", directory.DelegationChange{AllowedToAct: listp("b$")})
		for _, c := range []struct {
			name    string
			account string
			c       directory.DelegationChange
			kind    error
			msg     []string
		}{
			{"unknown account", "nosuch$", directory.DelegationChange{Sensitive: boolp(true)}, directory.ErrNotFound, []string{`"nosuch$"`}},
			{"unknown RBCD name", "c$", directory.DelegationChange{AllowedToAct: listp("b$", "ghost")}, directory.ErrNotFound,
				[]string{`no account or group "ghost"`}},
			{"unknown SID", "c$", directory.DelegationChange{AllowedToAct: listp("S-1-5-21-1-2-3-4000")}, directory.ErrNotFound,
				[]string{"S-1-5-21-1-2-3-4000"}},
			{"unknown name to add", "c$", directory.DelegationChange{AllowedToActAdd: []string{"ghost"}}, directory.ErrNotFound, []string{`"ghost"`}},
			{"unknown manager", "c$", directory.DelegationChange{ManagedBy: listp("ghost")}, directory.ErrNotFound, []string{`"ghost"`}},
			{"remove what is not there", "c$", directory.DelegationChange{AllowedToActRemove: []string{"tmp$"}}, directory.ErrNotFound,
				[]string{"tmp$ may not delegate to c$", "the list has: b$"}},
			{"add what is there", "c$", directory.DelegationChange{AllowedToActAdd: []string{"B$"}}, directory.ErrExists,
				[]string{"b$ may already delegate to c$"}},
			{"replace and add", "c$", directory.DelegationChange{AllowedToAct: listp("b$"), AllowedToActAdd: []string{"tmp$"}}, directory.ErrInvalid, nil},
			{"add and remove one", "c$", directory.DelegationChange{AllowedToActAdd: []string{"tmp$"}, AllowedToActRemove: []string{"TMP$"}}, directory.ErrInvalid, nil},
			{"empty name", "c$", directory.DelegationChange{AllowedToActAdd: []string{" "}}, directory.ErrInvalid, nil},
			{"bad SPN", "c$", directory.DelegationChange{AllowedToDelegateTo: listp("HTTP/web.example.test", "not-an-spn")}, directory.ErrInvalid,
				[]string{`"not-an-spn"`}},
			{"too many SPNs", "c$", directory.DelegationChange{AllowedToDelegateTo: listp(slices.Repeat([]string{"a/b"}, 257)...)}, directory.ErrInvalid, nil},
			{"manages itself", "c$", directory.DelegationChange{ManagedBy: listp("b$", "C$")}, directory.ErrInvalid, []string{"c$ cannot manage itself"}},
		} {
			before := dump(t, e.store)
			_, err := e.admin().SetDelegation(ctx, c.account, c.c, 0)
			wantErr(t, err, c.kind, c.name)
			for _, m := range c.msg {
				if err != nil && !strings.Contains(err.Error(), m) {
					t.Errorf("%s: error %q does not say %q", c.name, err, m)
				}
			}
			if dump(t, e.store) != before {
				t.Errorf("%s: a refused change wrote to the store", c.name)
			}
		}

		// A deleted principal stays in the list as its SID (RIDs are never
		// reused), shows as the SID string, and is removed by it.
		e.setDelegation("c$", directory.DelegationChange{AllowedToActAdd: []string{"tmp$"}})
		gone := e.sidOf("tmp$")
		if err := e.admin().DeleteAccount(ctx, "tmp$", 0); err != nil {
			t.Fatal(err)
		}
		s := e.snap()
		a, _ := s.Account("c$")
		if got := s.NamesOf(a.AllowedToActOnBehalfOf); !slices.Equal(got, []string{"b$", gone.String()}) {
			t.Errorf("NamesOf = %q, want b$ and the SID string", got)
		}
		_, err := e.admin().SetDelegation(ctx, "c$", directory.DelegationChange{AllowedToActRemove: []string{"tmp$"}}, 0)
		wantErr(t, err, directory.ErrNotFound, "removing a deleted account by name")
		a = e.setDelegation("c$", directory.DelegationChange{AllowedToActRemove: []string{strings.ToLower(gone.String())}})
		if !slices.Equal(a.AllowedToActOnBehalfOf, e.sids("b$")) {
			t.Errorf("after removing the SID: %v", a.AllowedToActOnBehalfOf)
		}
		// A new account does not inherit the deleted one's place.
		n := e.create(&directory.Account{Name: "tmp$", Kind: directory.KindComputer}, nil)
		if ok, _ := e.snap().AllowedToAct("c$", "tmp$"); ok || n.RID == gone.RID() {
			t.Errorf("the new tmp$ (RID %d) inherited the old one's delegation (RID %d)", n.RID, gone.RID())
		}
	})
}

// TestDelegationOutsideSetDelegation checks that the delegation settings
// change through SetDelegation only.
func TestDelegationOutsideSetDelegation(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "b$", Kind: directory.KindComputer}, nil)
		bSID := e.sidOf("b$")
		for _, c := range []struct {
			name string
			fn   func(a *directory.Account)
		}{
			{"unconstrained", func(a *directory.Account) { a.TrustedForDelegation = true }},
			{"protocol transition", func(a *directory.Account) { a.TrustedToAuthForDelegation = true }},
			{"KCD", func(a *directory.Account) { a.AllowedToDelegateTo = []string{"cifs/c"} }},
			{"RBCD", func(a *directory.Account) { a.AllowedToActOnBehalfOf = []sid.SID{bSID} }},
			{"sensitive", func(a *directory.Account) { a.Sensitive = true }},
			{"no PAC", func(a *directory.Account) { a.NoAuthDataRequired = true }},
			{"managers", func(a *directory.Account) { a.ManagedBy = []sid.SID{bSID} }},
			{"primary group", func(a *directory.Account) { a.PrimaryGroupRID = directory.RIDDomainControllers }},
		} {
			_, err := e.admin().UpdateAccount(ctx, "Administrator", 0, func(a *directory.Account) error { c.fn(a); return nil })
			wantErr(t, err, directory.ErrInvalid, "UpdateAccount of "+c.name)
			a := &directory.Account{Name: "new", Kind: directory.KindUser}
			c.fn(a)
			_, err = e.admin().CreateAccount(ctx, a, nil)
			if c.name == "primary group" {
				// 516 is for computers only.
				wantErr(t, err, directory.ErrInvalid, "CreateAccount of a user in Domain Controllers")
				continue
			}
			wantErr(t, err, directory.ErrInvalid, "CreateAccount with "+c.name)
		}
	})
}

func TestPrimaryGroup(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		dom, _ := e.dir.Domain(ctx)
		for _, c := range []struct {
			a       *directory.Account
			primary uint32
			group   string
			err     error
		}{
			{&directory.Account{Name: "alice", Kind: directory.KindUser}, 513, "Domain Users", nil},
			{&directory.Account{Name: "svc", Kind: directory.KindService}, 513, "Domain Users", nil},
			{&directory.Account{Name: "b$", Kind: directory.KindComputer}, 515, "Domain Computers", nil},
			{&directory.Account{Name: "dc1$", Kind: directory.KindComputer, PrimaryGroupRID: 516}, 516, "Domain Controllers", nil},
			{&directory.Account{Name: "visitor", Kind: directory.KindUser, PrimaryGroupRID: 514}, 514, "Domain Guests", nil},
			{&directory.Account{Name: "x$", Kind: directory.KindComputer, PrimaryGroupRID: 513}, 0, "", directory.ErrInvalid},
			{&directory.Account{Name: "boss", Kind: directory.KindUser, PrimaryGroupRID: 512}, 0, "", directory.ErrInvalid},
		} {
			got, err := e.admin().CreateAccount(ctx, c.a, nil)
			wantErr(t, err, c.err, "CreateAccount "+c.a.Name)
			if err != nil {
				continue
			}
			if got.PrimaryGroupRID != c.primary {
				t.Errorf("%s: primary group %d, want %d", c.a.Name, got.PrimaryGroupRID, c.primary)
			}
			s := e.snap()
			if groups := groupNames(s.GroupsOf(c.a.Name)); !slices.Equal(groups, []string{c.group}) {
				t.Errorf("%s is in %q, want only %s", c.a.Name, groups, c.group)
			}
			if sids := s.SIDs(c.a.Name); len(sids) != 2 || sids[1] != dom.SID.Append(c.primary) {
				t.Errorf("%s: SIDs %v, want its own and its primary group's", c.a.Name, sids)
			}
		}
		// The built-in accounts, as in AD.
		s := e.snap()
		for name, rid := range map[string]uint32{"Administrator": 513, "Guest": 514, "krbtgt": 513} {
			if a, _ := s.Account(name); a.PrimaryGroupRID != rid {
				t.Errorf("%s: primary group %d, want %d", name, a.PrimaryGroupRID, rid)
			}
		}
	})
}

// rightsEnv is a domain with every kind of actor the rights rules tell
// apart, around the resource c$.
func rightsEnv(t *testing.T, e *env) {
	for _, n := range []string{"alice", "carol", "dave", "mgr", "webop", "bob"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindUser, Disabled: n == "dave"}, nil)
	}
	for _, n := range []string{"b$", "c$", "d$"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindComputer}, nil)
	}
	e.group("Tier0", "carol")
	e.group("Web Ops", "webop")
	e.group("Web Ops Outer", "Web Ops")
	e.member("Domain Admins", "alice")
	e.member("Domain Admins", "Tier0")
	e.member("Domain Admins", "dave")
	_ = t
}

func TestDelegationRights(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		rightsEnv(t, e)
		reset := directory.DelegationChange{
			TrustedForDelegation: boolp(false), TrustedToAuthForDelegation: boolp(false), Sensitive: boolp(false),
			NoAuthDataRequired: boolp(false), AllowedToDelegateTo: listp(), ManagedBy: listp("mgr", "Web Ops Outer"),
			AllowedToAct: listp("b$"),
		}
		type setting struct {
			name      string
			c         directory.DelegationChange
			adminOnly bool
			what      string // as the refusal names it
			check     func(a *directory.Account) bool
		}
		settings := []setting{
			{"unconstrained", directory.DelegationChange{TrustedForDelegation: boolp(true)}, true, "unconstrained delegation",
				func(a *directory.Account) bool { return a.TrustedForDelegation }},
			{"protocol transition", directory.DelegationChange{TrustedToAuthForDelegation: boolp(true)}, true, "protocol transition",
				func(a *directory.Account) bool { return a.TrustedToAuthForDelegation }},
			{"KCD", directory.DelegationChange{AllowedToDelegateTo: listp("cifs/d.example.test")}, true, "constrained delegation",
				func(a *directory.Account) bool { return len(a.AllowedToDelegateTo) == 1 }},
			{"sensitive", directory.DelegationChange{Sensitive: boolp(true)}, true, "sensitive",
				func(a *directory.Account) bool { return a.Sensitive }},
			{"no PAC", directory.DelegationChange{NoAuthDataRequired: boolp(true)}, true, "no-auth-data-required",
				func(a *directory.Account) bool { return a.NoAuthDataRequired }},
			{"managers", directory.DelegationChange{ManagedBy: listp("bob")}, true, "managers",
				func(a *directory.Account) bool { return slices.Equal(a.ManagedBy, e.sids("bob")) }},
			{"RBCD replace", directory.DelegationChange{AllowedToAct: listp("d$")}, false, "resource-based delegation",
				func(a *directory.Account) bool { return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("d$")) }},
			{"RBCD none", directory.DelegationChange{AllowedToAct: listp("none")}, false, "resource-based delegation",
				func(a *directory.Account) bool { return a.AllowedToActOnBehalfOf == nil }},
			{"RBCD add", directory.DelegationChange{AllowedToActAdd: []string{"d$"}}, false, "resource-based delegation",
				func(a *directory.Account) bool { return slices.Equal(a.AllowedToActOnBehalfOf, e.sids("b$", "d$")) }},
			{"RBCD remove", directory.DelegationChange{AllowedToActRemove: []string{"b$"}}, false, "resource-based delegation",
				func(a *directory.Account) bool { return a.AllowedToActOnBehalfOf == nil }},
			{"RBCD and KCD", directory.DelegationChange{AllowedToActAdd: []string{"d$"}, AllowedToDelegateTo: listp("cifs/d.example.test")}, true,
				"constrained delegation", func(a *directory.Account) bool { return len(a.AllowedToDelegateTo) == 1 }},
		}
		admins := "only Domain Admins may (members: Administrator, alice, carol)"
		actors := []struct {
			name         string
			actor        directory.Actor
			admin, rbcd  bool
			who, on, why string // as the refusal names them
			hint         string // what a refusal of resource-based delegation adds
		}{
			{"local admin", directory.LocalAdmin, true, true, "", "", "", ""},
			{"domain admin", directory.Actor{Name: "ALICE"}, true, true, "", "", "", ""},
			{"domain admin through a nested group", directory.Actor{Name: "carol"}, true, true, "", "", "", ""},
			{"manager through nested groups", directory.Actor{Name: "webop"}, false, true, "webop", "c$", "", ""},
			{"manager", directory.Actor{Name: "mgr"}, false, true, "mgr", "c$", "", ""},
			{"the account itself", directory.Actor{Name: "c$"}, false, false, "c$", "itself", "", "an account never manages its own delegation"},
			{"unrelated user", directory.Actor{Name: "bob"}, false, false, "bob", "c$", "",
				"a domain admin can make bob a manager with: hop account set c$ --managed-by 'mgr,Web Ops Outer,bob'"},
			{"disabled domain admin", directory.Actor{Name: "dave"}, false, false, "dave", "c$", "account dave is disabled", ""},
			{"unknown account", directory.Actor{Name: "mallory"}, false, false, "mallory", "c$", `there is no account "mallory" in the directory`, ""},
		}
		for _, ac := range actors {
			for _, st := range settings {
				e.setDelegation("c$", reset)
				before := dump(t, e.store)
				allowed := ac.rbcd
				if st.adminOnly {
					allowed = ac.admin
				}
				what := ac.name + " / " + st.name
				mayErr := e.dir.MayChange(ctx, ac.actor, "c$", st.c)
				got, err := e.dir.As(ac.actor).SetDelegation(ctx, "C$", st.c, 0)
				if allowed {
					if mayErr != nil || err != nil {
						t.Errorf("%s: MayChange %v, SetDelegation %v; want allowed", what, mayErr, err)
						continue
					}
					if !st.check(got) {
						t.Errorf("%s: not applied: %+v", what, got)
					}
					continue
				}
				for _, err := range []error{mayErr, err} {
					if !errors.Is(err, directory.ErrAccessDenied) {
						t.Errorf("%s: error %v, want ErrAccessDenied", what, err)
						continue
					}
					msg := err.Error()
					want := []string{ac.who + " may not ", st.what, " on " + ac.on + ":", ac.why}
					if st.adminOnly {
						want = append(want, admins)
					} else {
						want = append(want, "only Domain Admins and the managers of c$ (mgr, Web Ops Outer) may", ac.hint)
					}
					for _, w := range want {
						if !strings.Contains(msg, w) {
							t.Errorf("%s: error %q does not say %q", what, msg, w)
						}
					}
				}
				if dump(t, e.store) != before {
					t.Errorf("%s: a refused change wrote to the store", what)
				}
			}
		}
		// The refusal the brief shows, word for word.
		_, err := e.dir.As(directory.Actor{Name: "bob"}).SetDelegation(ctx, "d$", directory.DelegationChange{AllowedToAct: listp("b$")}, 0)
		const want = "directory: bob may not set resource-based delegation on d$: only Domain Admins and the managers of d$ (none) may; " +
			"a domain admin can make bob a manager with: hop account set d$ --managed-by bob"
		if err == nil || err.Error() != want {
			t.Errorf("refusal:\n got %v\nwant %s", err, want)
		}
		// A change of nothing needs no right; an unknown account is not found.
		if err := e.dir.MayChange(ctx, directory.Actor{Name: "bob"}, "c$", directory.DelegationChange{}); err != nil {
			t.Errorf("MayChange of nothing: %v", err)
		}
		wantErr(t, e.dir.MayChange(ctx, directory.Actor{Name: "alice"}, "nosuch$", directory.DelegationChange{Sensitive: boolp(true)}),
			directory.ErrNotFound, "MayChange on an unknown account")
		// Leaving the managing group takes the right away at once.
		if _, err := e.admin().RemoveMember(ctx, "Web Ops", "webop", 0); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.dir.MayChange(ctx, directory.Actor{Name: "webop"}, "c$", directory.DelegationChange{AllowedToAct: listp("none")}),
			directory.ErrAccessDenied, "MayChange after leaving the managers' group")
	})
}

func TestShellQuoteInMessages(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	e.create(&directory.Account{Name: "bob's", Kind: directory.KindUser}, nil)
	e.create(&directory.Account{Name: "c$", Kind: directory.KindComputer}, nil)
	_, err := e.dir.As(directory.Actor{Name: "bob's"}).SetDelegation(ctx, "c$", directory.DelegationChange{AllowedToAct: listp("none")}, 0)
	if want := `hop account set c$ --managed-by 'bob'\''s'`; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %v does not end with %s", err, want)
	}
}

// FuzzDelegationNames feeds arbitrary principal names and SPNs, as a
// manager's request over the network would, to SetDelegation: it must
// answer with a typed error or a valid change, never panic, and leave the
// store unchanged when it refuses.
func FuzzDelegationNames(f *testing.F) {
	for _, s := range []string{"b$", "none", "B$,Web Servers", "S-1-5-21-1-2-3-1100", "s-admin", "cifs/c.example.test", "b$\x00", "\xff", " ,b$", "NONE,b$"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	e := newEnv(f, storeKinds[0].open)
	for _, n := range []string{"b$", "c$"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindComputer}, nil)
	}
	e.create(&directory.Account{Name: "mgr", Kind: directory.KindUser}, nil)
	e.group("Web Servers", "b$")
	e.setDelegation("c$", directory.DelegationChange{ManagedBy: listp("mgr")})
	f.Fuzz(func(t *testing.T, input string, which uint8) {
		e.t = t // the fuzz engine calls this function sequentially
		names := strings.Split(input, ",")
		var c directory.DelegationChange
		actor := directory.Actor{Name: "mgr"}
		switch which % 5 {
		case 0:
			c.AllowedToAct = &names
		case 1:
			c.AllowedToActAdd = names
		case 2:
			c.AllowedToActRemove = names
		case 3:
			c.AllowedToDelegateTo, actor = &names, directory.LocalAdmin
		case 4:
			c.ManagedBy, actor = &names, directory.LocalAdmin
		}
		before := dump(t, e.store)
		a, err := e.dir.As(actor).SetDelegation(ctx, "c$", c, 0)
		if err != nil {
			if !errors.Is(err, directory.ErrInvalid) && !errors.Is(err, directory.ErrNotFound) && !errors.Is(err, directory.ErrExists) {
				t.Fatalf("untyped error %v", err)
			}
			if dump(t, e.store) != before {
				t.Fatal("a refused change wrote to the store")
			}
			return
		}
		s := e.snap()
		for _, sid := range append(slices.Clone(a.AllowedToActOnBehalfOf), a.ManagedBy...) {
			if _, ok := s.AccountBySID(sid); !ok {
				if _, ok := s.GroupBySID(sid); !ok {
					t.Fatalf("stored SID %v names nothing", sid)
				}
			}
		}
		if c.ManagedBy != nil {
			e.setDelegation("c$", directory.DelegationChange{ManagedBy: listp("mgr")})
		}
	})
}
