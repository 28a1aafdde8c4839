package directory_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"hop/directory"
	"hop/directory/mem"
	"hop/krb5"
	"hop/sid"
)

// TestSnapshotFollowsChanges makes random changes (accounts created,
// changed and deleted; SPNs, UPNs, delegation, keys; groups created,
// nested and deleted, members added and removed; some by a second
// Directory on the same store, as another process; some behind the
// directory's back) and checks after each that the snapshot the directory
// made by following the changes answers every question exactly as one
// read whole from the store by a new Directory does; that it was made by
// following, not by reading the store again; and that the snapshot before
// the change still answers as it did.
func TestSnapshotFollowsChanges(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			defer directory.SetOverlayLimit(8)() // compact often
			var path string
			open := k.open
			if k.name == "bolt" {
				path = filepath.Join(t.TempDir(), "directory.db")
				open = func(t testing.TB) directory.Store { return boltAt(t, path) }
			}
			e := newEnv(t, open)
			// The other process: another Directory, on another Store of the
			// same file (or the same memory store).
			otherStore := e.store
			if path != "" {
				otherStore = boltAt(t, path)
			}
			other, err := directory.Open(ctx, otherStore, e.mk, directory.Options{Now: e.clock.Now, Rand: detRand(3)})
			if err != nil {
				t.Fatal(err)
			}
			seed, steps := uint64(1), 400
			if v := os.Getenv("HOP_FOLLOW_SEED"); v != "" {
				seed, _ = strconv.ParseUint(v, 10, 64)
				steps = 2000
			}
			f := &follower{t: t, e: e, other: other, r: rand.New(rand.NewPCG(seed, 2)), known: map[string]bool{}}
			f.run(steps)
			full, followed := e.dir.SnapshotBuilds()
			t.Logf("snapshots: %d read whole (%d writes behind the directory's back), %d by following changes; %d compactions", full, f.direct, followed, e.dir.Compactions())
			if e.dir.Compactions() == 0 {
				t.Error("no compaction")
			}
			// A write behind the directory's back leaves no entry in the
			// change log: the snapshot after it, and the one after that
			// (which cannot prove where it starts from), are read whole.
			if full > 1+2*int64(f.direct) || followed < 100 {
				t.Errorf("%d snapshots read whole, %d followed the changes; want at most %d read whole", full, followed, 1+2*f.direct)
			}
		})
	}
}

type follower struct {
	t      *testing.T
	e      *env
	other  *directory.Directory
	r      *rand.Rand
	known  map[string]bool // every name, SPN and UPN ever used: the probes
	step   int
	direct int // writes behind the directory's back
}

func (f *follower) pick(prefix string, n int) string { return fmt.Sprint(prefix, f.r.IntN(n)) }

func (f *follower) note(names ...string) {
	for _, n := range names {
		if n != "" {
			f.known[n] = true
		}
	}
}

// act makes one random change; refusals (names taken, cycles, missing
// accounts) are part of the game.
func (f *follower) act() (string, error) {
	x := f.e.admin()
	if f.r.IntN(4) == 0 {
		x = f.other.As(directory.LocalAdmin)
	}
	user, comp, grp := f.pick("u", 30), f.pick("c", 12)+"$", f.pick("G", 8)
	anyName := []string{user, comp, grp, "Domain Admins", "Protected Users"}[f.r.IntN(5)]
	switch op := f.r.IntN(20); op {
	case 0, 1:
		upn := ""
		switch f.r.IntN(3) {
		case 0:
			upn = user + "@example.test" // the implicit form
		case 1:
			upn = user + ".x@corp.example"
		}
		f.note(user, upn)
		_, err := x.CreateAccount(ctx, &directory.Account{Name: user, Kind: directory.KindUser, UPN: upn}, aesKeys(byte(f.step), ""))
		return "create " + user, err
	case 2:
		host := strings.TrimSuffix(comp, "$")
		spns := []string{"host/" + host + ".example.test", "HOST/" + host}
		f.note(comp, spns[0], spns[1], host+".example.test")
		_, err := x.CreateAccount(ctx, &directory.Account{Name: comp, Kind: directory.KindComputer, DNSHostName: host + ".example.test", SPNs: spns,
			SSHHostKeys: []string{hostKey(f.t, byte(f.step))}}, aesKeys(byte(f.step), ""))
		return "create " + comp, err
	case 3:
		return "delete " + user, x.DeleteAccount(ctx, user, 0)
	case 4:
		return "delete " + comp, x.DeleteAccount(ctx, comp, 0)
	case 5:
		_, err := x.UpdateAccount(ctx, user, 0, func(a *directory.Account) error {
			a.Description = fmt.Sprint("step ", f.step)
			a.Disabled = f.r.IntN(3) == 0
			return nil
		})
		return "update " + user, err
	case 6:
		upn := []string{"", user + "@EXAMPLE.TEST", f.pick("u", 30) + "@example.test", user + ".y@corp.example"}[f.r.IntN(4)]
		f.note(upn)
		_, err := x.UpdateAccount(ctx, user, 0, func(a *directory.Account) error { a.UPN = upn; return nil })
		return "upn " + user + " " + upn, err
	case 7:
		spn := fmt.Sprint("svc", f.r.IntN(5), "/", []string{user, comp}[f.r.IntN(2)])
		f.note(spn)
		target := []string{user, comp}[f.r.IntN(2)]
		if f.r.IntN(2) == 0 {
			_, err := x.AddSPN(ctx, target, spn, 0)
			return "add spn " + spn + " to " + target, err
		}
		_, err := x.RemoveSPN(ctx, target, spn, 0)
		return "remove spn " + spn + " from " + target, err
	case 8:
		c := directory.DelegationChange{}
		switch f.r.IntN(4) {
		case 0:
			c.Sensitive = boolp(f.r.IntN(2) == 0)
		case 1:
			c.AllowedToActAdd = []string{anyName}
		case 2:
			c.AllowedToAct = listp("none")
		case 3:
			c.TrustedToAuthForDelegation = boolp(true)
			c.AllowedToDelegateTo = listp("host/" + strings.TrimSuffix(f.pick("c", 12), "") + ".example.test")
		}
		_, err := x.SetDelegation(ctx, comp, c, 0)
		return "delegation " + comp, err
	case 9:
		_, err := x.SetKeys(ctx, []string{user, comp}[f.r.IntN(2)], aesKeys(byte(f.step), "salt"), 0)
		return "keys", err
	case 10:
		f.note(grp)
		_, err := x.CreateGroup(ctx, grp, "")
		return "create group " + grp, err
	case 11:
		return "delete group " + grp, x.DeleteGroup(ctx, grp, 0)
	case 12, 13, 14:
		_, err := x.AddMember(ctx, []string{grp, grp, "Protected Users", "Domain Admins"}[f.r.IntN(4)], anyName, 0)
		return "add member " + anyName, err
	case 15, 16:
		g := []string{grp, "Protected Users", "Domain Users"}[f.r.IntN(3)]
		_, err := x.RemoveMember(ctx, g, anyName, 0)
		return "remove member " + anyName + " from " + g, err
	case 17:
		_, err := x.SetGroupManagers(ctx, grp, []string{anyName}, 0)
		return "managers of " + grp, err
	case 18:
		_, err := x.SetPolicy(ctx, directory.Policy{LockoutThreshold: f.r.IntN(5)})
		return "policy", err
	default:
		// Behind the directory's back: a group record written straight
		// into the store, which the change log does not know.
		if f.r.IntN(4) != 0 {
			return "nothing", nil
		}
		name := f.pick("Z", 3)
		f.note(name)
		f.direct++
		v := fmt.Sprintf(`{"name":%q,"rid":%d,"members":[%q,%q]}`, name, 90000+f.step, user, grp)
		return "direct write " + name, f.e.store.Update(ctx, func(tx directory.Tx) error { return tx.Put("groups", strings.ToLower(name), []byte(v)) })
	}
}

func (f *follower) run(steps int) {
	t := f.t
	var prev *directory.Snapshot
	var prevDump string
	var prevProbes map[string]bool
	for f.step = 0; f.step < steps; f.step++ {
		what, err := f.act()
		if err != nil && !errors.Is(err, directory.ErrExists) && !errors.Is(err, directory.ErrNotFound) && !errors.Is(err, directory.ErrInvalid) {
			t.Fatalf("step %d, %s: %v", f.step, what, err)
		}
		got := f.snapshot()
		want := f.fresh()
		if got.Generation() != want.Generation() {
			t.Fatalf("step %d: generations %s and %s", f.step, got.Generation(), want.Generation())
		}
		g, w := dumpSnapshot(got, f.known), dumpSnapshot(want, f.known)
		if g != w {
			t.Fatalf("step %d, after %s: the followed snapshot differs from one read whole:\n%s", f.step, what, firstDiff(g, w))
		}
		if prev != nil {
			if again := dumpSnapshot(prev, prevProbes); again != prevDump {
				t.Fatalf("step %d, after %s: the previous snapshot changed:\n%s", f.step, what, firstDiff(again, prevDump))
			}
		}
		f.e.dir.WaitCompactions()
		prev, prevDump, prevProbes = got, g, maps.Clone(f.known)
	}
}

// snapshot is the directory's snapshot once it has seen the other
// Directory's changes too (it looks at the store at most once a
// millisecond).
func (f *follower) snapshot() *directory.Snapshot {
	for i := 0; ; i++ {
		s, err := f.e.dir.Snapshot(ctx)
		if err != nil {
			f.t.Fatalf("step %d: Snapshot: %v", f.step, err)
		}
		if s.Generation() == f.e.token() || i > 100 {
			return s
		}
		time.Sleep(time.Millisecond)
	}
}

// fresh is the snapshot of a new Directory, read whole.
func (f *follower) fresh() *directory.Snapshot {
	d, err := directory.Open(ctx, f.e.store, f.e.mk, directory.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := d.Snapshot(ctx)
	if err != nil {
		f.t.Fatalf("step %d: a new Directory's Snapshot: %v", f.step, err)
	}
	return s
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s", i, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(al), len(bl))
}

// dumpSnapshot writes down every answer of s about the accounts and
// groups it holds and the names in probes.
func dumpSnapshot(s *directory.Snapshot, probes map[string]bool) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	name := func(a *directory.Account, ok bool) string {
		if !ok {
			return "-"
		}
		return fmt.Sprintf("%s rev %d", a.Name, a.Revision)
	}
	groupNames := func(gs []*directory.Group) string {
		var out []string
		for _, g := range gs {
			out = append(out, fmt.Sprint(g.Name, "/", g.RID))
		}
		return strings.Join(out, ",")
	}
	dom := s.Domain()
	p("domain %+v", *dom)
	realm := dom.Realm
	accounts, groups := s.Accounts(), s.Groups()
	var names []string
	for n := range probes {
		names = append(names, n)
	}
	var sids []sid.SID
	for _, a := range accounts {
		p("account %#v", *a)
		for _, k := range append(slices.Clone(a.Keys), a.OldKeys...) {
			p("  key %v %x", k, k.Material())
		}
		names = append(names, a.Name, strings.ToUpper(a.Name), a.UPN, a.DNSHostName)
		names = append(names, a.SPNs...)
		sids = append(sids, a.SID(dom.SID))
		sids = append(sids, a.AllowedToActOnBehalfOf...)
	}
	for _, g := range groups {
		p("group %#v", *g)
		names = append(names, g.Name)
		sids = append(sids, g.SID(dom.SID), dom.SID.Append(g.RID+1))
	}
	sort.Strings(names)
	names = slices.Compact(names)
	for _, n := range names {
		if n == "" {
			continue
		}
		a, ok := s.Account(n)
		p("name %q: account %s; groups %s; protected %q; sids %v; pu %v sensitive %v admin %v", n, name(a, ok),
			groupNames(s.GroupsOf(n)), s.ProtectedBy(n), s.SIDs(n), s.InProtectedUsers(n), s.IsSensitive(n), s.IsDomainAdmin(n))
		comps := strings.Split(n, "/")
		p("  lookup %s / %s / %s / %s", name(s.Lookup(krb5.NewName(krb5.NTPrincipal, comps...), realm)),
			name(s.Lookup(krb5.NewName(krb5.NTEnterprise, n), realm)),
			name(s.Lookup(krb5.NewName(krb5.NTEnterprise, n+"@"+strings.ToLower(string(realm))), realm)),
			name(s.Lookup(krb5.NewName(krb5.NTPrincipal, n), "OTHER.TEST")))
		p("  host keys %q; unknown %q", s.HostKeys(n), s.UnknownSPNs([]string{n}))
		if g, ok := s.Group(n); ok {
			var members []string
			for _, m := range names {
				if s.IsMember(m, g.Name) {
					members = append(members, m)
				}
			}
			p("  group %s holds %q", g.Name, members)
		}
		for _, r := range accounts {
			if len(r.AllowedToActOnBehalfOf) > 0 {
				ok, why := s.AllowedToAct(r.Name, n)
				p("  may act on %s: %v %s", r.Name, ok, why)
			}
		}
	}
	for _, x := range sids {
		a, aok := s.AccountBySID(x)
		g, gok := s.GroupBySID(x)
		gn := "-"
		if gok {
			gn = g.Name
		}
		p("sid %s: %s %s %s", x, name(a, aok), gn, s.NameOf(x))
	}
	return b.String()
}

func TestFollowOtherStoreKinds(t *testing.T) {
	// A store without the change log's capability is read whole after
	// every change, as before.
	e := newEnv(t, func(testing.TB) directory.Store { return plainStore{mem.New()} })
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
	e.snap()
	e.create(&directory.Account{Name: "bob", Kind: directory.KindUser}, nil)
	if _, ok := e.snap().Account("bob"); !ok {
		t.Fatal("bob missing")
	}
	if full, followed := e.dir.SnapshotBuilds(); followed != 0 || full != 2 {
		t.Errorf("%d snapshots read whole, %d followed; want 2 and 0", full, followed)
	}
}

// plainStore hides the Sequenced transactions of the store it wraps.
type plainStore struct{ *mem.Store }

type plainTx struct{ directory.Tx }

func (s plainStore) View(ctx2 context.Context, fn func(directory.Tx) error) error {
	return s.Store.View(ctx2, func(tx directory.Tx) error { return fn(plainTx{tx}) })
}

func (s plainStore) Update(ctx2 context.Context, fn func(directory.Tx) error) error {
	return s.Store.Update(ctx2, func(tx directory.Tx) error { return fn(plainTx{tx}) })
}
