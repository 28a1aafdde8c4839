package directory

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// Reading the whole store into a snapshot: the accounts' records are
// copied out of the store's transaction in chunks, which workers (one per
// CPU) decode into compact entries, opening their keys; the indexes are
// then built in name order.

// fullBuild reads the whole store into a new snapshot at pos.
func (d *Directory) fullBuild(t *txn, pos logPos, tok string) (*Snapshot, error) {
	dom, err := t.domain()
	if err != nil {
		return nil, err
	}
	entries, accounts, counts, err := d.readAccounts(t, fold(string(dom.Realm)))
	if err != nil {
		return nil, err
	}
	s := &Snapshot{gen: tok, pos: pos, domain: dom, epoch: epochs.Add(1), lineage: new(int)}
	s.accounts = layered[string, *acctEntry]{base: accounts}
	// The other account indexes, while the groups are read.
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		s.indexAccounts(entries, counts)
	}()
	var groups []*Group
	err = t.ForEach(bucketGroups, func(k string, v []byte) error {
		g, err := decodeGroup(k, v)
		groups = append(groups, g)
		return err
	})
	if err == nil {
		s.indexGroups(groups)
	}
	<-indexed
	if err != nil {
		return nil, err
	}
	return s, nil
}

// indexCounts sizes the indexes.
type indexCounts struct{ spns, upns, hosts int }

func (c *indexCounts) add(o indexCounts) {
	c.spns += o.spns
	c.upns += o.upns
	c.hosts += o.hosts
}

// recordChunk is a run of account records on their way to a worker, and
// the entries it decoded.
type recordChunk struct {
	seq    int
	buf    []byte
	offs   []int32 // per record: where its key starts, its value starts, its value ends
	out    []*acctEntry
	counts indexCounts
	err    error
}

const chunkBytes = 1 << 20

// readAccounts decodes every account record: it returns the entries in
// name order, and by folded name. realm is the domain's, folded.
func (d *Directory) readAccounts(t *txn, realm string) ([]*acctEntry, map[string]*acctEntry, indexCounts, error) {
	workers := max(1, runtime.GOMAXPROCS(0))
	free := make(chan *recordChunk, 2*workers+1)
	for range cap(free) {
		free <- &recordChunk{}
	}
	work := make(chan *recordChunk)
	done := make(chan *recordChunk, cap(free))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := accountDecoder{c: compactBuilder{mk: d.mk}, mk: d.mk, realm: realm, slabs: true}
			for c := range work {
				dec.decodeChunk(c)
				done <- c
			}
		}()
	}
	var (
		results  [][]*acctEntry
		accounts = map[string]*acctEntry{}
		counts   indexCounts
		firstErr error
		errSeq   int
		failed   atomic.Bool
	)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for c := range done {
			if c.err != nil && (firstErr == nil || c.seq < errSeq) {
				firstErr, errSeq = c.err, c.seq
				failed.Store(true)
			}
			for len(results) <= c.seq {
				results = append(results, nil)
			}
			results[c.seq] = c.out
			for _, e := range c.out {
				accounts[e.key] = e
			}
			counts.add(c.counts)
			c.out, c.err = nil, nil
			free <- c
		}
	}()
	cur, seq := <-free, 0
	send := func() {
		cur.seq = seq
		seq++
		work <- cur
		cur = <-free
		cur.buf, cur.offs = cur.buf[:0], cur.offs[:0]
	}
	cur.buf, cur.offs = cur.buf[:0], cur.offs[:0]
	err := t.ForEach(bucketAccounts, func(k string, v []byte) error {
		if failed.Load() {
			return errStopScan
		}
		cur.offs = append(cur.offs, int32(len(cur.buf)))
		cur.buf = append(cur.buf, k...)
		cur.offs = append(cur.offs, int32(len(cur.buf)))
		cur.buf = append(cur.buf, v...)
		cur.offs = append(cur.offs, int32(len(cur.buf)))
		if len(cur.buf) >= chunkBytes {
			send()
		}
		return nil
	})
	if len(cur.offs) > 0 {
		send()
	}
	close(work)
	wg.Wait()
	close(done)
	<-collected
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, nil, counts, err
	}
	if firstErr != nil {
		return nil, nil, counts, firstErr
	}
	n := 0
	for _, r := range results {
		n += len(r)
	}
	entries := make([]*acctEntry, 0, n)
	for _, r := range results {
		entries = append(entries, r...)
	}
	return entries, accounts, counts, nil
}

// accountDecoder turns account records into entries, reusing its buffers.
type accountDecoder struct {
	mk    *MasterKey
	realm string // folded
	// slabs: allocate entries and compact forms from entries and recs.
	slabs    bool
	entries  []acctEntry
	nEntries int
	recs     []byte
	p        recordParser
	r        accountRecord
	c        compactBuilder
}

func (dec *accountDecoder) decodeChunk(c *recordChunk) {
	n := len(c.offs) / 3
	c.out = make([]*acctEntry, 0, n)
	c.counts = indexCounts{}
	for i := range n {
		k, v := c.buf[c.offs[3*i]:c.offs[3*i+1]], c.buf[c.offs[3*i+1]:c.offs[3*i+2]]
		e, err := dec.decode(unsafe.String(unsafe.SliceData(k), len(k)), v)
		if err != nil {
			c.err = err
			return
		}
		x := e.index(dec.realm)
		c.counts.spns += len(x.spns)
		if x.upn != "" {
			c.counts.upns++
		}
		if x.host != "" {
			c.counts.hosts++
		}
		c.out = append(c.out, e)
	}
}

// decode returns the entry of the account record raw stored under key;
// neither need outlive the call. Its errors are decodeAccount's.
func (dec *accountDecoder) decode(key string, raw []byte) (*acctEntry, error) {
	r := &dec.r
	if err := dec.p.parseAccountRecord(raw, r); err != nil {
		return nil, corrupt(bucketAccounts, key, err)
	}
	kind, err := r.check(key)
	if err != nil {
		return nil, err
	}
	b, err := dec.c.build(key, r, kind)
	if errors.Is(err, errNoCompact) {
		a, err := decodeAccount(dec.mk, key, raw)
		if err != nil {
			return nil, err
		}
		e := dec.newEntry()
		e.key = strings.Clone(key)
		e.acct.Store(a)
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	e := dec.newEntry()
	e.rec = dec.keep(b)
	e.key = head(e.rec, false).name // shares the compact form's memory
	if e.key != key {
		e.key = strings.Clone(key)
	}
	return e, nil
}

// Reading the whole store, the decoder allocates entries and compact
// forms in slabs: a million small objects would each cost the garbage
// collector, at every cycle, more than the pointers to a few hundred
// large ones. (A slab lives while one of its entries does: what changes
// later is allocated on its own.)
const (
	entrySlab = 4096
	recSlab   = 1 << 20
)

func (dec *accountDecoder) newEntry() *acctEntry {
	if !dec.slabs {
		return &acctEntry{}
	}
	if len(dec.entries) == 0 { // slabs grow, for small directories
		dec.nEntries = min(max(2*dec.nEntries, 32), entrySlab)
		dec.entries = make([]acctEntry, dec.nEntries)
	}
	e := &dec.entries[0]
	dec.entries = dec.entries[1:]
	return e
}

// keep returns a lasting copy of the compact form b.
func (dec *accountDecoder) keep(b []byte) string {
	if !dec.slabs || len(b) > recSlab/16 {
		return string(b)
	}
	if cap(dec.recs)-len(dec.recs) < len(b) {
		dec.recs = make([]byte, 0, min(max(2*cap(dec.recs), 4096), recSlab))
	}
	start := len(dec.recs)
	dec.recs = append(dec.recs, b...)
	return unsafe.String(&dec.recs[start], len(b))
}

// u32Slab hands out the groups lists of a full read, in large slabs.
type u32Slab struct {
	free []uint32
	size int
}

// add appends x to l, which it moves to a larger block when l is full.
func (a *u32Slab) add(l []uint32, x uint32) []uint32 {
	if len(l) < cap(l) {
		return append(l, x)
	}
	n := max(2*cap(l), 4)
	if len(a.free) < n {
		a.size = min(max(2*a.size, 256), 1<<16)
		a.free = make([]uint32, max(n, a.size))
	}
	nl := a.free[:len(l):n]
	a.free = a.free[n:]
	copy(nl, l)
	return append(nl, x)
}

// entryIndex is what the indexes hold of an account: its RID, and its
// folded UPN, DNS host name (computers) and SPNs. A UPN that is the
// account's name at the realm (implicit: "alice@example.test" of alice in
// EXAMPLE.TEST, in ASCII) is not indexed: Lookup finds the account by
// its name when the UPN index does not know the name.
type entryIndex struct {
	rid       uint32
	upn, host string
	implicit  string // the implicit UPN, not in upn
	spns      []string
}

// index returns e's index keys; realm is the domain's, folded.
func (e *acctEntry) index(realm string) entryIndex {
	h := e.head(true)
	x := entryIndex{rid: h.rid}
	if h.upn != "" {
		x.upn = fold(h.upn)
		if isImplicitUPN(x.upn, e.key, realm) {
			x.implicit, x.upn = x.upn, ""
		}
	}
	if h.kind == KindComputer && h.host != "" {
		x.host = fold(h.host)
	}
	if len(h.spns) > 0 {
		x.spns = make([]string, len(h.spns))
		for i, spn := range h.spns {
			x.spns[i] = fold(spn)
		}
	}
	return x
}

// isImplicitUPN reports whether the folded UPN u is the name key at the
// folded realm, in ASCII.
func isImplicitUPN(u, key, realm string) bool {
	if len(u) != len(key)+1+len(realm) || !strings.HasPrefix(u, key) || u[len(key)] != '@' || u[len(key)+1:] != realm {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// realmName returns the name key of the folded UPN u at the folded realm,
// "" if u is not at the realm.
func realmName(u, realm string) string {
	name, ok := strings.CutSuffix(u, "@"+realm)
	if !ok {
		return ""
	}
	return name
}

// indexAccounts builds the account indexes but s.accounts (which it only
// reads) from entries, in name order: should two records claim one SPN,
// UPN or RID (the indexes in the store prevent it), the account first in
// name order keeps it.
func (s *Snapshot) indexAccounts(entries []*acctEntry, n indexCounts) {
	if !s.indexAccountsWith(entries, n, true) {
		// An explicit UPN that is another account's implicit one: index
		// them all, to give it to the first in name order.
		s.indexAccountsWith(entries, n, false)
		s.dups = true
	}
}

// indexAccountsWith is indexAccounts, leaving implicit UPNs out of the
// index if implicit is set; it then reports false if one is claimed by
// another account too.
func (s *Snapshot) indexAccountsWith(entries []*acctEntry, n indexCounts, implicit bool) bool {
	realm := s.realm()
	accounts := s.accounts.base
	spns := make(map[string]string, n.spns)
	upns := make(map[string]string, n.upns)
	rids := make(map[uint32]string, len(entries))
	hosts := make(map[string][]string, n.hosts)
	claim := func(m map[string]string, k, owner string) {
		if o, ok := m[k]; !ok {
			m[k] = owner
		} else if o != owner {
			s.dups = true
		}
	}
	var atRealm []string // explicit UPNs at the realm
	for _, e := range entries {
		x := e.index(realm)
		for _, spn := range x.spns {
			claim(spns, spn, e.key)
		}
		if x.implicit != "" && !implicit {
			x.upn = x.implicit
		}
		if x.upn != "" {
			claim(upns, x.upn, e.key)
			if implicit && realmName(x.upn, realm) != "" {
				atRealm = append(atRealm, x.upn)
			}
		}
		if _, dup := rids[x.rid]; dup {
			s.dups = true
		} else {
			rids[x.rid] = e.key
		}
		if x.host != "" {
			hosts[x.host] = append(hosts[x.host], e.key)
		}
	}
	for _, u := range atRealm {
		if e := accounts[realmName(u, realm)]; e != nil && e.index(realm).implicit == u {
			return false
		}
	}
	s.spns = layered[string, string]{base: spns}
	s.upns = layered[string, string]{base: upns}
	s.rids = layered[uint32, string]{base: rids}
	s.hosts = layered[string, []string]{base: hosts}
	return true
}

// realm returns the domain's realm, folded.
func (s *Snapshot) realm() string {
	if s.domain == nil {
		return ""
	}
	return fold(string(s.domain.Realm))
}

// indexGroups builds the group table and the membership index from
// groups, in name order; accounts sizes the index.
func (s *Snapshot) indexGroups(groups []*Group) {
	gt := &groupTable{
		byKey: make(map[string]*groupInfo, len(groups)),
		byID:  make([]*groupInfo, len(groups)),
		byRID: make(map[uint32]*Group, len(groups)),
	}
	memberOf := make(map[string][]uint32, len(groups))
	var lists u32Slab
	for i, g := range groups {
		gi := &groupInfo{g: g, key: fold(g.Name), id: uint32(i)}
		gt.byKey[gi.key], gt.byID[i] = gi, gi
		if _, dup := gt.byRID[g.RID]; dup {
			s.dups = true
		} else {
			gt.byRID[g.RID] = g
		}
		for j, m := range g.Members {
			k, e := m, s.accounts.base[m]
			if e == nil {
				// Not the decoded record's memory, which then goes.
				m = strings.Clone(m)
				g.Members[j] = m
				if k = fold(m); k != m {
					e = s.accounts.base[k]
				}
			} else {
				g.Members[j] = e.key // one copy of the name
			}
			if e != nil {
				if l := e.groups; len(l) == 0 || l[len(l)-1] != gi.id {
					e.groups = lists.add(l, gi.id)
				}
			} else if l := memberOf[k]; len(l) == 0 || l[len(l)-1] != gi.id {
				memberOf[k] = append(l, gi.id)
			}
		}
	}
	gt.sorted = groups
	s.groups = gt
	s.memberOf = layered[string, []uint32]{base: memberOf}
}
