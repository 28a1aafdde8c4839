package directory

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hop/audit"
	"hop/krb5"
	"hop/sid"
)

// Well-known relative identifiers ([MS-DTYP] §2.4.2.4).
const (
	RIDAdministrator     = 500
	RIDGuest             = 501
	RIDKrbtgt            = 502
	RIDDomainAdmins      = 512
	RIDDomainUsers       = 513
	RIDDomainGuests      = 514
	RIDDomainComputers   = 515
	RIDDomainControllers = 516
	RIDProtectedUsers    = 525
	// RIDKadmin is the RID of hop's built-in kpasswd service account
	// (NameKadmin). It is hop's own: no Microsoft well-known RID is in the
	// 600s ([MS-DTYP] §2.4.2.4), and one below 1000 makes the account
	// built in (it cannot be deleted) without taking a RID from the pool.
	RIDKadmin = 600
	// FirstRID is the first RID the directory allocates to new objects.
	FirstRID = 1100
	// builtinRIDLimit: objects below it are built in and cannot be deleted.
	builtinRIDLimit = 1000
)

// Names of the built-in accounts and groups.
const (
	NameAdministrator     = "Administrator"
	NameGuest             = "Guest"
	NameKrbtgt            = "krbtgt"
	NameDomainAdmins      = "Domain Admins"
	NameDomainUsers       = "Domain Users"
	NameDomainGuests      = "Domain Guests"
	NameDomainComputers   = "Domain Computers"
	NameDomainControllers = "Domain Controllers"
	NameProtectedUsers    = "Protected Users"
	// NameKadmin is the built-in service account of the kpasswd service
	// (RFC 3244): it holds the SPN SPNKadminChangePW, for which MIT and
	// Heimdal kpasswd ask the KDC by an AS exchange, and random keys of its
	// own — never krbtgt's, so that a kpasswd ticket can never serve as a
	// TGT. It cannot be deleted and takes only random keys.
	NameKadmin = "kadmin"
	// SPNKadminChangePW is the kpasswd service's principal name
	// (kadmin/changepw@REALM).
	SPNKadminChangePW = "kadmin/changepw"
)

// Options configures a Directory. The zero value uses time.Now and
// crypto/rand.
type Options struct {
	Now  func() time.Time
	Rand io.Reader
	// Audit receives an event for every change made through the
	// directory's authorized operations, naming who, what, and old and new
	// values (never secrets); nil = audit.Discard.
	Audit audit.Sink
	// Logger receives debug messages: how long snapshots take to build
	// and to follow changes. Nil: none.
	Logger *slog.Logger
}

// Directory is the domain directory over a Store, sealing keys under a
// master key. It is safe for concurrent use.
type Directory struct {
	store   Store
	changes Changes // nil when the store cannot report changes
	mk      *MasterKey
	now     func() time.Time
	rand    io.Reader
	sink    audit.Sink
	// behind: a change's events could not be written; the next change
	// whose events can be also writes what the outbox holds.
	behind atomic.Bool

	// Snapshot cache; see snapshot.go.
	snap       atomic.Pointer[Snapshot]
	dirty      atomic.Bool  // this Directory wrote since the snapshot was built
	lastCheck  atomic.Int64 // monotonic ns (since epoch) of the last change check
	epoch      time.Time
	checkEvery time.Duration
	buildMu    sync.Mutex
	log        *slog.Logger
	// A compaction of the snapshot's overlays runs in the background.
	compacting  atomic.Bool
	compactions sync.WaitGroup
	// How snapshots were made: read whole, or by following changes; and
	// how many compactions moved the snapshot onto new bases.
	fullBuilds, follows, compacted atomic.Int64
}

// snapshotCheckInterval rate-limits change checks of the store.
const snapshotCheckInterval = time.Millisecond

func newDirectory(s Store, mk *MasterKey, o Options) (*Directory, error) {
	if s == nil {
		return nil, invalid("no store given")
	}
	if mk == nil || mk.aead == nil {
		return nil, invalid("no master key given")
	}
	d := &Directory{store: s, mk: mk, now: o.Now, rand: randOrDefault(o.Rand), sink: o.Audit, epoch: time.Now(), checkEvery: snapshotCheckInterval, log: o.logger()}
	if d.now == nil {
		d.now = time.Now
	}
	if d.sink == nil {
		d.sink = audit.Discard
	}
	if c, ok := s.(Changes); ok {
		d.changes = c
	}
	return d, nil
}

func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	if r == rand.Reader {
		return r
	}
	return &lockedReader{r: r}
}

// lockedReader serialises reads of a caller's reader, which need not be
// safe for concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// Init creates the domain in an empty store: a random domain SID
// S-1-5-21-a-b-c, the built-in accounts Administrator (RID 500, keys admin),
// Guest (501, disabled, no keys), krbtgt (502, SPN krbtgt/REALM, keys
// krbtgt, disabled as a client as in AD) and kadmin (600, SPN
// kadmin/changepw, random keys), and the built-in groups. It refuses a
// store that already holds a domain (ErrExists).
func Init(ctx context.Context, s Store, mk *MasterKey, realm krb5.Realm, admin []Key, krbtgt []Key, o Options) (*Directory, error) {
	d, err := newDirectory(s, mk, o)
	if err != nil {
		return nil, err
	}
	if err := validateRealm(realm); err != nil {
		return nil, err
	}
	realm = realm.Canonical()
	if len(krbtgt) == 0 {
		return nil, invalid("no krbtgt keys given; the KDC cannot issue tickets without them")
	}
	var a [3]uint32
	var buf [12]byte
	if _, err := io.ReadFull(d.rand, buf[:]); err != nil {
		return nil, fmt.Errorf("directory: generate the domain SID: %w", err)
	}
	for i := range a {
		a[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	sid, _ := sid.New(5, 21, a[0], a[1], a[2])
	now := d.now()
	dom := &Domain{Realm: realm, SID: sid, NetBIOSName: netBIOSName(realm), Created: now}

	accounts := []*Account{
		{Name: NameAdministrator, Kind: KindUser, RID: RIDAdministrator, Description: "Built-in account for administering the domain"},
		{Name: NameGuest, Kind: KindUser, RID: RIDGuest, Disabled: true, Description: "Built-in account for guest access to the domain"},
		{Name: NameKrbtgt, Kind: KindService, RID: RIDKrbtgt, Disabled: true, SPNs: []string{"krbtgt/" + string(realm)},
			Description: "Key Distribution Center service account"},
	}
	kadminKeys, err := RandomKeys(defaultETypes, d.rand)
	if err != nil {
		return nil, err
	}
	accounts = append(accounts, newKadmin())
	keys := map[string][]Key{NameAdministrator: admin, NameKrbtgt: krbtgt, NameKadmin: kadminKeys}
	groups := []*Group{
		{Name: NameDomainAdmins, RID: RIDDomainAdmins, Description: "Designated administrators of the domain", Members: []string{NameAdministrator}},
		{Name: NameDomainUsers, RID: RIDDomainUsers, Description: "All domain users", Members: []string{NameAdministrator, NameKrbtgt, NameKadmin}},
		{Name: NameDomainGuests, RID: RIDDomainGuests, Description: "All domain guests", Members: []string{NameGuest}},
		{Name: NameDomainComputers, RID: RIDDomainComputers, Description: "All workstations and servers joined to the domain"},
		{Name: NameDomainControllers, RID: RIDDomainControllers, Description: "All domain controllers in the domain"},
		{Name: NameProtectedUsers, RID: RIDProtectedUsers, Description: "Members of this group are afforded additional protections against authentication security threats"},
	}
	for _, acct := range accounts {
		acct.PrimaryGroupRID = defaultPrimaryGroup(acct.Kind, acct.RID)
		acct.KVNO = 1
		acct.Created, acct.Modified = now, now
		ks, err := newGeneration(acct, keys[acct.Name], 1)
		if err != nil {
			return nil, err
		}
		acct.Keys = ks
		if len(ks) > 0 {
			acct.PasswordLastSet = now
		}
	}
	// The administrator's password starts its password history (a new
	// domain has the default policy).
	if err := (&txn{d: d}).pushHistory(accounts[0], accounts[0].Keys, Policy{}.historyLen()); err != nil {
		return nil, err
	}

	err = d.update(ctx, func(t *txn) error {
		if v, err := t.Get(bucketMeta, metaSchema); err != nil {
			return err
		} else if v != nil {
			existing := "unknown"
			if dd, err := t.domain(); err == nil {
				existing = string(dd.Realm)
			}
			return exists("this directory is already initialised (realm %s); hop domain init runs once per directory", existing)
		}
		check, err := d.mk.seal(d.rand, mkCheckAAD, mkCheckPlain)
		if err != nil {
			return err
		}
		for _, kv := range []struct {
			k string
			v []byte
		}{
			{metaSchema, encodeUint(schemaVersion)},
			{metaNextRID, encodeUint(FirstRID)},
			{metaMKCheck, check},
		} {
			if err := t.Put(bucketMeta, kv.k, kv.v); err != nil {
				return err
			}
		}
		if err := t.putDomain(dom); err != nil {
			return err
		}
		for _, acct := range accounts {
			if err := t.putAccount(acct, nil); err != nil {
				return err
			}
		}
		for _, g := range groups {
			if err := t.putGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Open opens the directory in s, checking that mk is its master key.
func Open(ctx context.Context, s Store, mk *MasterKey, o Options) (*Directory, error) {
	d, err := newDirectory(s, mk, o)
	if err != nil {
		return nil, err
	}
	upgrade := false
	err = s.View(ctx, func(tx Tx) error {
		t := &txn{Tx: tx, d: d}
		v, err := tx.Get(bucketMeta, metaSchema)
		if err != nil {
			return err
		}
		if v == nil {
			return notFound("the store holds no directory; create one with hop domain init")
		}
		ver, err := decodeUint(bucketMeta, metaSchema, v)
		if err != nil {
			return err
		}
		if ver < oldestSchema || ver > schemaVersion {
			return invalid("the directory has schema version %d and this hop understands versions %d to %d; use a hop release that matches the directory", ver, oldestSchema, schemaVersion)
		}
		upgrade = ver < schemaVersion
		check, err := tx.Get(bucketMeta, metaMKCheck)
		if err != nil {
			return err
		}
		if pt, err := d.mk.open(mkCheckAAD, check); err != nil || string(pt) != string(mkCheckPlain) {
			return errorf(ErrMasterKey, "the master key does not open this directory; use the master key stash created with it (hop domain init wrote it next to the directory)")
		}
		_, err = t.domain()
		return err
	})
	if err != nil {
		return nil, err
	}
	if upgrade {
		if err := d.upgrade(ctx); err != nil {
			return nil, err
		}
	}
	// What a change left in the outbox goes to the log now; a log that
	// still cannot be written keeps it there, and the directory opens.
	if err := d.drainOutbox(ctx); err != nil && !errors.Is(err, ErrUnaudited) {
		return nil, err
	}
	return d, nil
}

// upgrade raises the directory's schema version to schemaVersion. The
// records of every older version read as they are, so the version changes
// and, from version 2 to 3, the built-in kadmin account is added: from then
// on, a hop that does not know the newer fields refuses the directory
// instead of dropping them.
func (d *Directory) upgrade(ctx context.Context) error {
	kadminKeys, err := RandomKeys(defaultETypes, d.rand)
	if err != nil {
		return err
	}
	var ev audit.Event
	err = d.update(ctx, func(t *txn) error {
		v, err := t.Get(bucketMeta, metaSchema)
		if err != nil {
			return err
		}
		ver, err := decodeUint(bucketMeta, metaSchema, v)
		if err != nil {
			return err
		}
		if ver >= schemaVersion { // another process upgraded it meanwhile
			return errNoChange
		}
		dom, err := t.domain()
		if err != nil {
			return err
		}
		ev = audit.Event{Type: "directory.schema.upgrade", Actor: LocalAdmin.String(), Target: string(dom.Realm),
			Changes: []audit.Change{{Field: "schema", Old: strconv.FormatUint(ver, 10), New: strconv.Itoa(schemaVersion)}}}
		added, err := t.addKadmin(kadminKeys)
		if err != nil {
			return fmt.Errorf("directory: upgrade the schema from version %d to %d: %w", ver, schemaVersion, err)
		}
		if err := t.indexNames(); err != nil {
			return fmt.Errorf("directory: upgrade the schema from version %d to %d: index the names: %w", ver, schemaVersion, err)
		}
		if added {
			ev.Changes = append(ev.Changes, audit.Change{Field: "accounts", New: NameKadmin})
		}
		if err := t.Put(bucketMeta, metaSchema, encodeUint(schemaVersion)); err != nil {
			return fmt.Errorf("directory: upgrade the schema from version %d to %d: %w", ver, schemaVersion, err)
		}
		return nil
	})
	if err == nil && ev.Type != "" {
		ev.Time = d.now()
		d.sink.Emit(ev)
	}
	return err
}

// Close closes the store.
func (d *Directory) Close() error { return d.store.Close() }

// Domain returns the domain record.
func (d *Directory) Domain(ctx context.Context) (*Domain, error) {
	var dom *Domain
	err := d.view(ctx, func(t *txn) (err error) {
		dom, err = t.domain()
		return err
	})
	return dom, err
}

// txn is a store transaction with typed access to the records.
type txn struct {
	Tx
	d      *Directory
	events []audit.Event // the change's audit events (outbox.go)
}

func (d *Directory) view(ctx context.Context, fn func(*txn) error) error {
	return d.store.View(ctx, func(tx Tx) error { return fn(&txn{Tx: tx, d: d}) })
}

// update runs fn in one store transaction and counts the generation. fn
// may return errNoChange to write nothing.
func (d *Directory) update(ctx context.Context, fn func(*txn) error) error {
	var keys []string
	var events []audit.Event
	err := d.store.Update(ctx, func(tx Tx) error {
		rec := &changeRecorder{Tx: tx}
		t := &txn{Tx: rec, d: d}
		keys, events = nil, nil
		if err := fn(t); err != nil {
			return err
		}
		gen, err := t.bumpGeneration()
		if err != nil {
			return err
		}
		// The change's events commit with it (outbox.go).
		keys, err = t.putOutbox(gen)
		events = t.events
		if err != nil {
			return err
		}
		// So does what it wrote, for the snapshots (changelog.go).
		return writeChangeLog(tx, rec)
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	// Even a failed Update may have committed (an error after the commit),
	// so the next Snapshot checks the store.
	d.dirty.Store(true)
	if err == nil && len(events) > 0 {
		err = d.deliver(ctx, keys, events)
	}
	return err
}

// errNoChange, returned by an update function, aborts the transaction
// because there is nothing to write; update then returns nil.
var errNoChange = errors.New("directory: no change")

// bumpGeneration counts the change and returns its generation.
func (t *txn) bumpGeneration() (uint64, error) {
	g, err := t.generation()
	if err != nil {
		return 0, err
	}
	return g + 1, t.Put(bucketMeta, metaGen, encodeUint(g+1))
}

func (t *txn) generation() (uint64, error) {
	v, err := t.Get(bucketMeta, metaGen)
	if err != nil || v == nil {
		return 0, err
	}
	return decodeUint(bucketMeta, metaGen, v)
}

func (t *txn) domain() (*Domain, error) {
	v, err := t.Get(bucketDomain, keyDomain)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, notFound("the store holds no domain record; create the directory with hop domain init")
	}
	return decodeDomain(v)
}

func (t *txn) putDomain(dom *Domain) error {
	v, err := encodeDomain(dom)
	if err != nil {
		return err
	}
	return t.Put(bucketDomain, keyDomain, v)
}

func (t *txn) nextRID() (uint32, error) {
	v, err := t.Get(bucketMeta, metaNextRID)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, corrupt(bucketMeta, metaNextRID, errors.New("missing"))
	}
	rid, err := decodeUint(bucketMeta, metaNextRID, v)
	if err != nil {
		return 0, err
	}
	if rid < FirstRID || rid >= 1<<30 {
		return 0, invalid("the RID pool is exhausted (next RID %d)", rid)
	}
	if err := t.Put(bucketMeta, metaNextRID, encodeUint(rid+1)); err != nil {
		return 0, err
	}
	return uint32(rid), nil
}

// account returns the account record named name (any case).
func (t *txn) account(name string) (*Account, error) {
	key := fold(name)
	if key == "" {
		return nil, notFound("no account name given")
	}
	v, err := t.Get(bucketAccounts, key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, notFound("no account %q in the directory (list them with hop account list)", name)
	}
	return decodeAccount(t.d.mk, key, v)
}

// putAccount writes a, and its index entries, replacing old (nil for a new
// account), as revision old.Revision+1 (1 for a new account). It checks
// SPN and UPN uniqueness.
func (t *txn) putAccount(a *Account, old *Account) error {
	a.Revision = 1
	if old != nil {
		a.Revision = old.Revision + 1
	}
	return t.writeAccount(a, old)
}

// putBookkeeping writes a over old keeping its revision: for the KDC's
// failed-logon bookkeeping, which is not an edit (see Account.Revision).
func (t *txn) putBookkeeping(a *Account, old *Account) error {
	a.Revision = old.Revision
	return t.writeAccount(a, old)
}

func (t *txn) writeAccount(a *Account, old *Account) error {
	key := fold(a.Name)
	if old == nil {
		if err := t.indexName(a.Name); err != nil {
			return err
		}
	}
	var oldSPNs map[string]bool
	if old != nil {
		oldSPNs = make(map[string]bool, len(old.SPNs))
		for _, s := range old.SPNs {
			oldSPNs[fold(s)] = true
		}
	}
	newSPNs := make(map[string]bool, len(a.SPNs))
	for _, s := range a.SPNs {
		k := fold(s)
		newSPNs[k] = true
		if oldSPNs[k] {
			continue
		}
		owner, err := t.Get(bucketSPNs, k)
		if err != nil {
			return err
		}
		if owner != nil && fold(string(owner)) != key {
			return exists("SPN %q already belongs to account %q; remove it there first (hop spn remove %s %s)", s, owner, owner, s)
		}
		if err := t.Put(bucketSPNs, k, []byte(a.Name)); err != nil {
			return err
		}
	}
	for k := range oldSPNs {
		if !newSPNs[k] {
			if err := t.Delete(bucketSPNs, k); err != nil {
				return err
			}
		}
	}
	if old == nil || fold(old.UPN) != fold(a.UPN) {
		if a.UPN != "" {
			owner, err := t.Get(bucketUPNs, fold(a.UPN))
			if err != nil {
				return err
			}
			if owner != nil && fold(string(owner)) != key {
				return exists("UPN %q already belongs to account %q; change it there first (hop account set %s --upn ...)", a.UPN, owner, owner)
			}
			if err := t.Put(bucketUPNs, fold(a.UPN), []byte(a.Name)); err != nil {
				return err
			}
		}
		if old != nil && old.UPN != "" {
			if err := t.Delete(bucketUPNs, fold(old.UPN)); err != nil {
				return err
			}
		}
	}
	v, err := encodeAccount(t.d.mk, t.d.rand, a)
	if err != nil {
		return err
	}
	return t.Put(bucketAccounts, key, v)
}

func (t *txn) group(name string) (*Group, error) {
	key := fold(name)
	if key == "" {
		return nil, notFound("no group name given")
	}
	v, err := t.Get(bucketGroups, key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, notFound("no group %q in the directory (list them with hop group list)", name)
	}
	return decodeOwnGroup(key, v)
}

// putGroup writes g, counting its revision up by one (to 1 for a new
// group).
func (t *txn) putGroup(g *Group) error {
	if g.Revision == 0 {
		if err := t.indexName(g.Name); err != nil {
			return err
		}
	}
	g.Revision++
	v, err := encodeGroup(g)
	if err != nil {
		return err
	}
	return t.Put(bucketGroups, fold(g.Name), v)
}

// indexName records name in the look-alike index (a name whose key is
// taken is refused before: lookAlike).
func (t *txn) indexName(name string) error {
	return t.Put(bucketNameKeys, nameKey(name), []byte(name))
}

// unindexName removes name from the look-alike index, if it is its entry.
func (t *txn) unindexName(name string) error {
	k := nameKey(name)
	v, err := t.Get(bucketNameKeys, k)
	if err != nil || v == nil || fold(string(v)) != fold(name) {
		return err
	}
	return t.Delete(bucketNameKeys, k)
}

// lookAlike returns the existing account or group name that name would
// look like (the same once compared as nameKey does), "" if none.
func (t *txn) lookAlike(name string) (string, error) {
	v, err := t.Get(bucketNameKeys, nameKey(name))
	if err != nil || v == nil || fold(string(v)) == fold(name) {
		return "", err
	}
	return string(v), nil
}

// indexNames builds the look-alike index from every account and group
// (the schema 4 upgrade). Names that already look alike keep the first.
func (t *txn) indexNames() error {
	for _, b := range []string{bucketAccounts, bucketGroups} {
		var names []string
		err := t.ForEach(b, func(key string, _ []byte) error {
			names = append(names, key)
			return nil
		})
		if err != nil {
			return err
		}
		for _, n := range names {
			name := n
			if b == bucketAccounts {
				if a, err := t.account(n); err == nil {
					name = a.Name
				}
			} else if g, err := t.group(n); err == nil {
				name = g.Name
			}
			if v, err := t.Get(bucketNameKeys, nameKey(name)); err != nil {
				return err
			} else if v == nil {
				if err := t.indexName(name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// nameTaken reports whether an account or group already uses name, as
// sAMAccountNames share one namespace.
func (t *txn) nameTaken(name string) (string, error) {
	for _, b := range []struct{ bucket, what string }{{bucketAccounts, "an account"}, {bucketGroups, "a group"}} {
		v, err := t.Get(b.bucket, fold(name))
		if err != nil {
			return "", err
		}
		if v != nil {
			return b.what, nil
		}
	}
	return "", nil
}
