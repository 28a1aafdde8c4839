package directory

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hop/krb5"
)

// Snapshot is a consistent, immutable view of the whole directory, with the
// indexes the KDC resolves names through. It is safe for concurrent use; the
// accounts, groups and domain it returns are shared and must not be
// modified.
type Snapshot struct {
	gen      string
	domain   *Domain
	accounts map[string]*Account // by folded name
	raw      map[string][]byte   // the records the accounts were decoded from
	spns     map[string]*Account // by folded SPN
	upns     map[string]*Account // by folded UPN
	groups   map[string]*Group   // by folded name
	memberOf map[string][]*Group // folded member name → groups listing it
	sorted   []*Account
	sortedG  []*Group
	hosts    map[string][]*Account // computers by folded DNS host name
	m        *membership

	// Precomputed for the KDC; see authz.go.
	authz         map[string]accountAuthz // by folded account name
	accountsByRID map[uint32]*Account
	groupsByRID   map[uint32]*Group
}

// Snapshot returns a consistent view of the directory. It is cheap when
// nothing changed: the view is cached, and the store is asked for changes
// at most once per millisecond (and always after this Directory's own
// writes).
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
	return s, nil
}

// build reads the store into a new Snapshot, reusing prev's decoded
// accounts whose records did not change.
func (d *Directory) build(ctx context.Context, prev *Snapshot, tok string) (*Snapshot, error) {
	if prev != nil && d.changes != nil && tok == prev.gen {
		return prev, nil
	}
	s := &Snapshot{
		gen:      tok,
		accounts: map[string]*Account{},
		raw:      map[string][]byte{},
		groups:   map[string]*Group{},
	}
	reused := false
	err := d.view(ctx, func(t *txn) error {
		if d.changes == nil {
			g, err := t.generation()
			if err != nil {
				return err
			}
			s.gen = genToken(g)
			if prev != nil && prev.gen == s.gen {
				reused = true
				return nil
			}
		}
		dom, err := t.domain()
		if err != nil {
			return err
		}
		s.domain = dom
		err = t.ForEach(bucketAccounts, func(k string, v []byte) error {
			if prev != nil {
				if r, ok := prev.raw[k]; ok && bytes.Equal(r, v) {
					s.accounts[k], s.raw[k] = prev.accounts[k], r
					return nil
				}
			}
			a, err := decodeAccount(d.mk, k, v)
			if err != nil {
				return err
			}
			s.accounts[k], s.raw[k] = a, bytes.Clone(v)
			return nil
		})
		if err != nil {
			return err
		}
		return t.ForEach(bucketGroups, func(k string, v []byte) error {
			g, err := decodeGroup(k, v)
			if err != nil {
				return err
			}
			s.groups[k] = g
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return prev, nil
	}
	s.index()
	return s, nil
}

// index builds the lookup tables. Should two records claim one SPN or UPN
// (the indexes in the store prevent it), the account first in name order
// keeps it.
func (s *Snapshot) index() {
	s.sorted = make([]*Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		s.sorted = append(s.sorted, a)
	}
	sortAccounts(s.sorted)
	s.spns = map[string]*Account{}
	s.upns = map[string]*Account{}
	s.hosts = map[string][]*Account{}
	for _, a := range s.sorted {
		if a.Kind == KindComputer && a.DNSHostName != "" {
			k := fold(a.DNSHostName)
			s.hosts[k] = append(s.hosts[k], a)
		}
		for _, spn := range a.SPNs {
			if k := fold(spn); s.spns[k] == nil {
				s.spns[k] = a
			}
		}
		if a.UPN != "" {
			if k := fold(a.UPN); s.upns[k] == nil {
				s.upns[k] = a
			}
		}
	}
	s.sortedG = make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		s.sortedG = append(s.sortedG, g)
	}
	slices.SortFunc(s.sortedG, func(a, b *Group) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
	m := newMembership(s.groups)
	s.m = m
	s.memberOf = m.memberOf
	s.indexAuthz(m)
}

// Domain returns the domain.
func (s *Snapshot) Domain() *Domain { return s.domain }

// Generation returns the change token the snapshot was built from.
func (s *Snapshot) Generation() string { return s.gen }

// Account returns the account named name (any case).
func (s *Snapshot) Account(name string) (*Account, bool) {
	a, ok := s.accounts[fold(name)]
	return a, ok
}

// Accounts returns every account, sorted by name.
func (s *Snapshot) Accounts() []*Account { return slices.Clone(s.sorted) }

// Group returns the group named name (any case).
func (s *Snapshot) Group(name string) (*Group, bool) {
	g, ok := s.groups[fold(name)]
	return g, ok
}

// Groups returns every group, sorted by name.
func (s *Snapshot) Groups() []*Group { return slices.Clone(s.sortedG) }

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
			a, ok := s.accounts[fold(n)]
			return a, ok
		}
		if a, ok := s.upns[fold(n)]; ok {
			return a, true
		}
		if krb5.Realm(n[i+1:]).Equal(s.domain.Realm) {
			a, ok := s.accounts[fold(n[:i])]
			return a, ok
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
	a, ok := s.spns[fold(spn)]
	return a, ok
}

// GroupsOf returns the groups name (an account or a group) belongs to,
// directly or through nested groups, sorted by RID. Cycles, which the
// directory refuses to create, would not loop.
func (s *Snapshot) GroupsOf(name string) []*Group {
	start := fold(name)
	seen := map[*Group]bool{}
	var out []*Group
	queue := []string{start}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, g := range s.memberOf[k] {
			if seen[g] {
				continue
			}
			seen[g] = true
			out = append(out, g)
			queue = append(queue, fold(g.Name))
		}
	}
	slices.SortFunc(out, func(a, b *Group) int { return cmp.Compare(a.RID, b.RID) })
	return out
}

// IsMember reports whether account (an account or group name) belongs to
// group, directly or through nested groups.
func (s *Snapshot) IsMember(account, group string) bool {
	target, ok := s.groups[fold(group)]
	if !ok {
		return false
	}
	seen := map[*Group]bool{}
	queue := []string{fold(account)}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, g := range s.memberOf[k] {
			if g == target {
				return true
			}
			if !seen[g] {
				seen[g] = true
				queue = append(queue, fold(g.Name))
			}
		}
	}
	return false
}
