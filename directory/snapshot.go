package directory

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"hop/krb5"
)

// Snapshot is a consistent, immutable view of the whole directory, with the
// indexes the KDC resolves names through. It is safe for concurrent use; the
// accounts, groups and domain it returns are shared and must not be
// modified.
//
// A snapshot holds each account in a compact form and decodes it on first
// use (compact.go); its large indexes are layered maps, so that the
// snapshot after a change shares all but the changed entries with the one
// before it (layered.go, apply.go).
type Snapshot struct {
	gen    string
	pos    logPos // where it stands in the change log (changelog.go)
	domain *Domain

	accounts layered[string, *acctEntry] // by folded name
	spns     layered[string, string]     // folded SPN → folded account name
	upns     layered[string, string]     // folded UPN → folded account name
	rids     layered[uint32, string]     // RID → folded account name
	hosts    layered[string, []string]   // folded DNS host name → the computers claiming it, folded, in name order
	memberOf layered[string, []uint32]   // folded member name of no account → the ids of the groups listing it, ascending (an account's are in its entry)
	groups   *groupTable

	// epoch tells the accounts' cached authorization data (authz.go) of
	// this snapshot from data of snapshots whose group graph differs.
	epoch uint64
	// dups: two records claim one SPN, UPN or RID (or a group lists a
	// member twice), which only writes behind the directory's back make;
	// the first in name order wins, and every change rebuilds the
	// snapshot whole to keep that so.
	dups bool
	// lineage identifies the bases of the layered maps, for compaction.
	lineage *int
}

// groupTable is a snapshot's groups. It is small (a group per hundred
// accounts, say) and copied whole when a group changes.
type groupTable struct {
	byKey  map[string]*groupInfo // by folded name
	byID   []*groupInfo          // by id; nil for a deleted group
	byRID  map[uint32]*Group     // the first in name order when two share a RID
	sorted []*Group              // by folded name
}

type groupInfo struct {
	g   *Group
	key string // folded name
	id  uint32 // the group's place in memberOf lists; never reused
}

func (gt *groupTable) clone() *groupTable {
	return &groupTable{byKey: maps.Clone(gt.byKey), byID: slices.Clone(gt.byID), byRID: maps.Clone(gt.byRID), sorted: gt.sorted}
}

// sort fills sorted from byKey.
func (gt *groupTable) sort() {
	infos := make([]*groupInfo, 0, len(gt.byKey))
	for _, gi := range gt.byKey {
		infos = append(infos, gi)
	}
	slices.SortFunc(infos, func(a, b *groupInfo) int { return strings.Compare(a.key, b.key) })
	gt.sorted = make([]*Group, len(infos))
	for i, gi := range infos {
		gt.sorted[i] = gi.g
	}
}

// epochs numbers authorization epochs, in this process.
var epochs atomic.Uint64

// Snapshot returns a consistent view of the directory. It is cheap when
// nothing changed: the view is cached, and the store is asked for changes
// at most once per millisecond (and always after this Directory's own
// writes). After a change it reads only what changed, when the store's
// change log covers the gap (changelog.go); else it reads the whole store.
func (d *Directory) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := d.snap.Load()
	if s != nil && !d.dirty.Load() {
		now := int64(time.Since(d.epoch))
		last := d.lastCheck.Load()
		if now-last < int64(d.checkEvery) || !d.lastCheck.CompareAndSwap(last, now) {
			return s, nil
		}
		tok, err := d.token(ctx)
		if err != nil {
			return nil, err
		}
		if tok == s.gen {
			return s, nil
		}
	}
	return d.rebuild(ctx)
}

// token identifies the store's state: the store's own change token, or the
// directory's generation counter.
func (d *Directory) token(ctx context.Context) (string, error) {
	if d.changes != nil {
		return d.changes.Token(ctx)
	}
	var g uint64
	err := d.view(ctx, func(t *txn) (err error) {
		g, err = t.generation()
		return err
	})
	return genToken(g), err
}

func genToken(g uint64) string { return "g" + strconv.FormatUint(g, 10) }

func (d *Directory) rebuild(ctx context.Context) (*Snapshot, error) {
	d.buildMu.Lock()
	defer d.buildMu.Unlock()
	// Cleared before the token is read: a write that lands later sets it
	// again, so it is never lost.
	d.dirty.Store(false)
	prev := d.snap.Load()
	var tok string
	if d.changes != nil {
		var err error
		if tok, err = d.changes.Token(ctx); err != nil {
			d.dirty.Store(true)
			return nil, err
		}
	}
	s, err := d.build(ctx, prev, tok)
	if err != nil {
		d.dirty.Store(true)
		return nil, err
	}
	d.snap.Store(s)
	d.lastCheck.Store(int64(time.Since(d.epoch)))
	if s.overlaySize() > overlayLimit && d.compacting.CompareAndSwap(false, true) {
		d.compactions.Add(1)
		go d.compact(s)
	}
	return s, nil
}

// build returns the snapshot of the store's state: prev itself when
// nothing changed, prev with the changes the log lists applied when it
// covers them, else a snapshot read from the whole store.
func (d *Directory) build(ctx context.Context, prev *Snapshot, tok string) (*Snapshot, error) {
	if prev != nil && d.changes != nil && tok == prev.gen {
		return prev, nil
	}
	var out *Snapshot
	err := d.view(ctx, func(t *txn) error {
		if d.changes == nil {
			g, err := t.generation()
			if err != nil {
				return err
			}
			tok = genToken(g)
			if prev != nil && prev.gen == tok {
				out = prev
				return nil
			}
		}
		pos, err := readLogPos(t.Tx)
		if err != nil {
			return err
		}
		if prev != nil {
			start := time.Now()
			s, n, err := d.follow(t, prev, pos, tok)
			if err != nil {
				return err
			}
			if s != nil {
				d.follows.Add(1)
				if n > 0 {
					d.log.Debug("directory snapshot applied changes", "records", n, "duration", time.Since(start), "seq", pos.seq)
				}
				out = s
				return nil
			}
		}
		start := time.Now()
		s, err := d.fullBuild(t, pos, tok)
		if err != nil {
			return err
		}
		d.fullBuilds.Add(1)
		d.log.Debug("directory snapshot built", "accounts", s.accounts.len(), "groups", len(s.groups.byKey), "duration", time.Since(start), "seq", pos.seq)
		out = s
		return nil
	})
	return out, err
}

// follow returns prev moved to pos by the change log, and how many records
// changed; nil when the log does not cover the gap.
func (d *Directory) follow(t *txn, prev *Snapshot, pos logPos, tok string) (*Snapshot, int, error) {
	if prev.dups || !pos.ok || !prev.pos.ok || prev.pos.nonce == "" {
		return nil, 0, nil
	}
	if pos.seq == prev.pos.seq {
		if pos.nonce != prev.pos.nonce {
			return nil, 0, nil
		}
		s := *prev // an update that changed nothing the snapshot holds
		s.gen = tok
		return &s, 0, nil
	}
	cs, ok, err := changesSince(t.Tx, prev.pos, pos, maxApply(prev))
	if err != nil || !ok {
		return nil, 0, err
	}
	s, err := prev.apply(t, cs, pos, tok)
	if errors.Is(err, errRebuild) {
		return nil, 0, nil
	}
	return s, len(cs.accounts) + len(cs.groups), err
}

// maxApply is the most records a snapshot reads one by one; more, and it
// reads the store whole.
func maxApply(s *Snapshot) int { return max(1000, len(s.accounts.base)/4) }

// overlaySize is the size of the largest overlay.
func (s *Snapshot) overlaySize() int {
	return max(len(s.accounts.over), len(s.spns.over), len(s.upns.over), len(s.rids.over), len(s.hosts.over), len(s.memberOf.over))
}

// compact folds the overlays of from into new bases, and moves the
// current snapshot onto them if it was made from from by changes.
func (d *Directory) compact(from *Snapshot) {
	defer d.compactions.Done()
	defer d.compacting.Store(false)
	accounts, spns, upns := from.accounts.merged(), from.spns.merged(), from.upns.merged()
	rids, hosts, memberOf := from.rids.merged(), from.hosts.merged(), from.memberOf.merged()
	d.buildMu.Lock()
	defer d.buildMu.Unlock()
	cur := d.snap.Load()
	if cur == nil || cur.lineage != from.lineage || cur.pos.seq < from.pos.seq {
		return
	}
	c := *cur
	c.lineage = new(int)
	samePtr := func(a, b *acctEntry) bool { return a == b }
	sameStr := func(a, b string) bool { return a == b }
	c.accounts = cur.accounts.rebased(accounts, &from.accounts, samePtr)
	c.spns = cur.spns.rebased(spns, &from.spns, sameStr)
	c.upns = cur.upns.rebased(upns, &from.upns, sameStr)
	c.rids = cur.rids.rebased(rids, &from.rids, sameStr)
	c.hosts = cur.hosts.rebased(hosts, &from.hosts, slices.Equal[[]string])
	c.memberOf = cur.memberOf.rebased(memberOf, &from.memberOf, slices.Equal[[]uint32])
	d.snap.Store(&c)
	d.compacted.Add(1)
}

// entry returns the account named name (any case), without allocating
// for a name in ASCII.
func (s *Snapshot) entry(name string) *acctEntry {
	var buf [64]byte
	b, folded, ascii := buf[:0], true, true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case 'A' <= c && c <= 'Z':
			folded = false
			c += 'a' - 'A'
		}
		if len(b) < cap(b) {
			b = append(b, c)
		}
	}
	switch {
	case folded && ascii:
		e, _ := s.accounts.get(name)
		return e
	case ascii && len(b) == len(name):
		if len(s.accounts.over) > 0 {
			if o, ok := s.accounts.over[string(b)]; ok {
				return o.v
			}
		}
		return s.accounts.base[string(b)]
	}
	e, _ := s.accounts.get(fold(name))
	return e
}

// entryByKey returns the account whose folded name is key.
func (s *Snapshot) entryByKey(key string) *acctEntry {
	e, _ := s.accounts.get(key)
	return e
}

// Domain returns the domain.
func (s *Snapshot) Domain() *Domain { return s.domain }

// Generation returns the change token the snapshot was built from.
func (s *Snapshot) Generation() string { return s.gen }

// Account returns the account named name (any case).
func (s *Snapshot) Account(name string) (*Account, bool) {
	if e := s.entry(name); e != nil {
		return e.account(), true
	}
	return nil, false
}

// Accounts returns every account, sorted by name.
func (s *Snapshot) Accounts() []*Account {
	out := make([]*Account, 0, len(s.accounts.base))
	s.accounts.each(func(_ string, e *acctEntry) { out = append(out, e.peek()) })
	sortAccounts(out)
	return out
}

// Group returns the group named name (any case).
func (s *Snapshot) Group(name string) (*Group, bool) {
	if gi, ok := s.groups.byKey[fold(name)]; ok {
		return gi.g, true
	}
	return nil, false
}

// Groups returns every group, sorted by name.
func (s *Snapshot) Groups() []*Group { return slices.Clone(s.groups.sorted) }

// Lookup resolves a principal name in realm to an account, as AD does
// (case-insensitively; realm must be the domain's):
//   - one component: the sAMAccountName ("alice", "b$");
//   - one component containing "@", or any NT-ENTERPRISE name (RFC 6806
//     §5): split at the last "@", the UPN first, then the sAMAccountName
//     when the suffix is the realm;
//   - two or more components: the SPN they spell joined by "/"
//     ("host/b.example.test", "HTTP/web.example.test:8080",
//     "krbtgt/EXAMPLE.TEST").
func (s *Snapshot) Lookup(name krb5.PrincipalName, realm krb5.Realm) (*Account, bool) {
	if s.domain == nil || !realm.Equal(s.domain.Realm) {
		return nil, false
	}
	c := name.Components
	switch {
	case len(c) == 0 || len(c) > krb5.MaxNameComponents:
		return nil, false
	case len(c) == 1:
		n := c[0]
		if len(n) > maxUPNLen || !utf8.ValidString(n) {
			return nil, false
		}
		i := strings.LastIndexByte(n, '@')
		if i < 0 {
			return s.Account(n)
		}
		if k, ok := s.upns.get(fold(n)); ok {
			return s.accountByKey(k)
		}
		if krb5.Realm(n[i+1:]).Equal(s.domain.Realm) {
			return s.Account(n[:i])
		}
		return nil, false
	}
	size := len(c) - 1
	for _, p := range c {
		size += len(p)
	}
	if size > maxSPNLen {
		return nil, false
	}
	spn := strings.Join(c, "/")
	if !utf8.ValidString(spn) {
		return nil, false
	}
	if k, ok := s.spns.get(fold(spn)); ok {
		return s.accountByKey(k)
	}
	return nil, false
}

func (s *Snapshot) accountByKey(key string) (*Account, bool) {
	if e := s.entryByKey(key); e != nil {
		return e.account(), true
	}
	return nil, false
}

// listedIn and groupByRID make the snapshot a groupGraph.
func (s *Snapshot) listedIn(key string, add func(*Group)) {
	for _, id := range s.listing(key) {
		if gi := s.groups.byID[id]; gi != nil {
			add(gi.g)
		}
	}
}

// listing returns the ids of the groups listing the member whose folded
// name is key.
func (s *Snapshot) listing(key string) []uint32 {
	if e := s.entryByKey(key); e != nil {
		return e.groups
	}
	ids, _ := s.memberOf.get(key)
	return ids
}

func (s *Snapshot) groupByRID(rid uint32) (*Group, bool) {
	g, ok := s.groups.byRID[rid]
	return g, ok
}

// GroupsOf returns the groups name (an account or a group) belongs to,
// directly or through nested groups, sorted by RID. Cycles, which the
// directory refuses to create, would not loop.
func (s *Snapshot) GroupsOf(name string) []*Group { return closure(s, name, 0) }

// IsMember reports whether account (an account or group name) belongs to
// group, directly or through nested groups.
func (s *Snapshot) IsMember(account, group string) bool {
	target, ok := s.Group(group)
	return ok && slices.Contains(closure(s, account, 0), target)
}

// logger returns o.Logger or a logger that discards.
func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
