package directory

import (
	"errors"
	"slices"
	"strings"
)

// Following changes: Snapshot.apply makes the snapshot after a change from
// the one before it and the records the change log names, decoding and
// indexing only those. It refuses (errRebuild, and the snapshot is read
// whole) what it cannot make exactly as a full read would, or only at the
// cost of one: a change of the domain SID or realm or of a group's RID,
// two records claiming one SPN, UPN or RID, a snapshot that already holds
// such a claim.

// errRebuild: the changes cannot be applied; read the store whole.
var errRebuild = errors.New("directory: the snapshot must be read whole")

// authzLimit: when a change of groups changes the groups of more accounts
// than this, the snapshot starts a new authorization epoch (every cached
// authorization goes stale) instead of renewing those accounts' entries.
const authzLimit = 1024

// look returns the value of k in l with the pending changes applied.
func look[K comparable, V any](changes map[K]ovEntry[V], l *layered[K, V], k K) (V, bool) {
	if o, ok := changes[k]; ok {
		return o.v, o.live
	}
	return l.get(k)
}

// unclaim removes k from an index if owner holds it.
func unclaim[K comparable](changes map[K]ovEntry[string], l *layered[K, string], k K, owner string) {
	if cur, ok := look(changes, l, k); ok && cur == owner {
		changes[k] = ovEntry[string]{}
	}
}

// claim gives k to owner; false if another holds it.
func claim[K comparable](changes map[K]ovEntry[string], l *layered[K, string], k K, owner string) bool {
	if cur, ok := look(changes, l, k); ok && cur != owner {
		return false
	}
	changes[k] = ovEntry[string]{v: owner, live: true}
	return true
}

// apply returns the snapshot at pos: prev with the changes cs applied,
// read in t.
func (prev *Snapshot) apply(t *txn, cs changeSet, pos logPos, tok string) (*Snapshot, error) {
	if prev.dups {
		return nil, errRebuild
	}
	s := *prev
	s.gen, s.pos = tok, pos
	if cs.domain {
		dom, err := t.domain()
		if err != nil {
			return nil, err
		}
		if prev.domain == nil || dom.SID != prev.domain.SID {
			return nil, errRebuild
		}
		s.domain = dom
	}
	affected := map[string]bool{} // accounts whose groups changed
	stale := false                // too many of them: a new epoch
	var listings map[string][]uint32
	if len(cs.groups) > 0 {
		gt, l, err := prev.applyGroups(t, sortedSet(cs.groups), affected, &stale)
		if err != nil {
			return nil, err
		}
		s.groups, listings = gt, l
	}
	// listing is the ids of the groups listing key after the change.
	listing := func(key string) []uint32 {
		if l, ok := listings[key]; ok {
			return l
		}
		return prev.listing(key)
	}

	type change struct {
		key      string
		old, new *acctEntry
	}
	var changes []change
	dec := accountDecoder{mk: t.d.mk, c: compactBuilder{mk: t.d.mk}}
	for _, k := range sortedSet(cs.accounts) {
		c := change{key: k}
		c.old, _ = prev.accounts.get(k)
		raw, err := t.Get(bucketAccounts, k)
		if err != nil {
			return nil, err
		}
		if raw != nil {
			if c.new, err = dec.decode(k, raw); err != nil {
				return nil, err
			}
		}
		if c.old != nil || c.new != nil {
			changes = append(changes, c)
		}
	}
	accounts := map[string]ovEntry[*acctEntry]{}
	memberOf := map[string]ovEntry[[]uint32]{}
	setMemberOf := func(k string, l []uint32) {
		if _, ok := prev.memberOf.get(k); ok || len(l) > 0 {
			memberOf[k] = ovEntry[[]uint32]{v: l, live: len(l) > 0}
		}
	}
	spns, upns := map[string]ovEntry[string]{}, map[string]ovEntry[string]{}
	rids := map[uint32]ovEntry[string]{}
	hosts := map[string]ovEntry[[]string]{}
	setHost := func(h string, l []string) { hosts[h] = ovEntry[[]string]{v: l, live: len(l) > 0} }
	// The old entries leave the indexes, then the new ones enter them, so
	// that an SPN moving from one account to another is no conflict.
	realm := s.realm()
	if realm != prev.realm() {
		return nil, errRebuild // implicit UPNs would change
	}
	entryOf := func(k string) *acctEntry {
		e, _ := look(accounts, &prev.accounts, k)
		return e
	}
	for _, c := range changes {
		if c.old == nil {
			continue
		}
		x := c.old.index(realm)
		for _, spn := range x.spns {
			unclaim(spns, &prev.spns, spn, c.key)
		}
		if x.upn != "" {
			unclaim(upns, &prev.upns, x.upn, c.key)
		}
		unclaim(rids, &prev.rids, x.rid, c.key)
		if x.host != "" {
			l, _ := look(hosts, &prev.hosts, x.host)
			setHost(x.host, slices.DeleteFunc(slices.Clone(l), func(k string) bool { return k == c.key }))
		}
	}
	for _, c := range changes {
		// The account's listing moves between its entry and memberOf.
		if c.new == nil {
			accounts[c.key] = ovEntry[*acctEntry]{}
			setMemberOf(c.key, listing(c.key))
			continue
		}
		e := c.new
		e.groups = listing(e.key)
		if c.old == nil {
			setMemberOf(e.key, nil)
		}
		accounts[e.key] = ovEntry[*acctEntry]{v: e, live: true}
		x := e.index(realm)
		for _, spn := range x.spns {
			if !claim(spns, &prev.spns, spn, e.key) {
				return nil, errRebuild
			}
		}
		if x.upn != "" && !claim(upns, &prev.upns, x.upn, e.key) {
			return nil, errRebuild
		}
		// An implicit UPN another claims explicitly (indexAccounts).
		if n := realmName(x.upn, realm); n != "" {
			if o := entryOf(n); o != nil && o.key != e.key && o.index(realm).implicit == x.upn {
				return nil, errRebuild
			}
		}
		if x.implicit != "" {
			if owner, ok := look(upns, &prev.upns, x.implicit); ok && owner != e.key {
				return nil, errRebuild
			}
		}
		if !claim(rids, &prev.rids, x.rid, e.key) {
			return nil, errRebuild
		}
		if x.host != "" {
			l, _ := look(hosts, &prev.hosts, x.host)
			i, _ := slices.BinarySearch(l, e.key)
			setHost(x.host, slices.Insert(slices.Clone(l), i, e.key))
		}
	}
	// The other members whose listing changed.
	for k, l := range listings {
		if _, ok := accounts[k]; ok {
			continue
		}
		if e, ok := prev.accounts.get(k); ok {
			accounts[k] = ovEntry[*acctEntry]{v: e.withGroups(l), live: true}
		} else {
			setMemberOf(k, l)
		}
	}
	if stale || len(affected) > authzLimit {
		s.epoch = epochs.Add(1)
	} else {
		for k := range affected {
			if _, ok := accounts[k]; ok {
				continue // a new entry anyway
			}
			if e, ok := prev.accounts.get(k); ok {
				accounts[k] = ovEntry[*acctEntry]{v: e.withGroups(e.groups), live: true}
			}
		}
	}
	s.accounts = prev.accounts.with(accounts)
	s.memberOf = prev.memberOf.with(memberOf)
	s.spns = prev.spns.with(spns)
	s.upns = prev.upns.with(upns)
	s.rids = prev.rids.with(rids)
	s.hosts = prev.hosts.with(hosts)
	return &s, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// applyGroups returns prev's group table after the groups keys changed,
// read in t, and the new listing (the ids of the groups listing it) of
// each member whose listing changed. It adds to affected the accounts
// whose groups (transitively) may have changed, or sets *stale when they
// are more than authzLimit.
func (prev *Snapshot) applyGroups(t *txn, keys []string, affected map[string]bool, stale *bool) (*groupTable, map[string][]uint32, error) {
	gt := prev.groups.clone()
	listings := map[string][]uint32{} // by folded member name
	cur := func(k string) []uint32 {
		if l, ok := listings[k]; ok {
			return l
		}
		return prev.listing(k)
	}
	addEdge := func(k string, id uint32) {
		l := cur(k)
		i, found := slices.BinarySearch(l, id)
		if found {
			return
		}
		if _, ok := listings[k]; !ok {
			k = strings.Clone(k) // not the group record's memory
		}
		listings[k] = slices.Insert(slices.Clone(l), i, id)
	}
	removeEdge := func(k string, id uint32) {
		l := cur(k)
		i, found := slices.BinarySearch(l, id)
		if !found {
			return
		}
		listings[k] = slices.Delete(slices.Clone(l), i, i+1)
	}
	resort, ownSorted := false, false
	for _, key := range keys {
		raw, err := t.Get(bucketGroups, key)
		if err != nil {
			return nil, nil, err
		}
		var ng *Group
		if raw != nil {
			if ng, err = decodeOwnGroup(key, raw); err != nil {
				return nil, nil, err
			}
		}
		oi := gt.byKey[key]
		switch {
		case oi == nil && ng == nil:
		case oi == nil: // created
			gi := &groupInfo{g: ng, key: key, id: uint32(len(gt.byID))}
			gt.byID = append(gt.byID, gi)
			gt.byKey[key] = gi
			if _, dup := gt.byRID[ng.RID]; dup {
				return nil, nil, errRebuild
			}
			gt.byRID[ng.RID] = ng
			for _, m := range ng.Members {
				addEdge(fold(m), gi.id)
			}
			resort = true
		case ng == nil: // deleted
			gt.byID[oi.id] = nil
			delete(gt.byKey, key)
			delete(gt.byRID, oi.g.RID)
			for _, m := range oi.g.Members {
				removeEdge(fold(m), oi.id)
			}
			resort = true
		default:
			gi := &groupInfo{g: ng, key: oi.key, id: oi.id}
			gt.byID[gi.id], gt.byKey[key] = gi, gi
			if ng.RID != oi.g.RID {
				// Never through the directory; it would change the SIDs
				// of every member.
				return nil, nil, errRebuild
			}
			gt.byRID[ng.RID] = ng
			gone, added := diffMembers(oi.g.Members, ng.Members)
			for _, m := range added {
				addEdge(fold(m), gi.id)
			}
			for _, k := range gone {
				removeEdge(k, gi.id)
			}
			if !resort {
				if !ownSorted {
					gt.sorted, ownSorted = slices.Clone(gt.sorted), true
				}
				i, found := slices.BinarySearchFunc(gt.sorted, key, func(g *Group, k string) int { return strings.Compare(fold(g.Name), k) })
				if !found {
					resort = true
				} else {
					gt.sorted[i] = ng
				}
			}
		}
	}
	if resort {
		gt.sort()
	}
	// The accounts whose groups may have changed: the members whose
	// listing changed and, for those that are groups, their members,
	// transitively, before the change and after it.
	isGroup := func(k string) bool {
		_, now := gt.byKey[k]
		_, before := prev.groups.byKey[k]
		return now || before
	}
	var queue []string
	seen := map[string]bool{}
	visit := func(k string) {
		switch {
		case seen[k]:
		case isGroup(k):
			seen[k] = true
			queue = append(queue, k)
		default:
			affected[k] = true
		}
	}
	for k := range listings {
		visit(k)
	}
	for len(queue) > 0 && len(affected) <= authzLimit {
		k := queue[0]
		queue = queue[1:]
		for _, g := range []*groupInfo{gt.byKey[k], prev.groups.byKey[k]} {
			if g == nil {
				continue
			}
			for _, m := range g.g.Members {
				visit(fold(m))
			}
		}
	}
	if len(affected) > authzLimit {
		*stale = true
	}
	return gt, listings, nil
}

// diffMembers returns the members (folded) a group no longer lists, and
// those it may list anew (some may have been listed already), after its
// members changed from a to b. Changes keep the order of the members
// (removals, and additions at the end), so the lists are walked side by
// side; every member whose name is in b is checked before it is said to
// be gone.
func diffMembers(a, b []string) (gone []string, added []string) {
	i, j := 0, 0
	var cand []string
	for i < len(a) && j < len(b) {
		if a[i] == b[j] {
			i, j = i+1, j+1
			continue
		}
		cand = append(cand, a[i])
		i++
	}
	cand = append(cand, a[i:]...)
	added = b[j:]
	if len(cand) == 0 {
		return nil, added
	}
	left := make(map[string]bool, len(cand))
	for _, m := range cand {
		left[fold(m)] = true
	}
	for _, m := range b {
		if len(left) == 0 {
			break
		}
		delete(left, fold(m))
	}
	for k := range left {
		gone = append(gone, k)
	}
	return gone, added
}
