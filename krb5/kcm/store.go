package kcm

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"sync"

	"hop/krb5"
	"hop/krb5/ccache"
)

// Cache is a named credential cache as a Store holds it.
type Cache struct {
	Name      string
	UUID      UUID
	Principal krb5.Principal // zero until INITIALIZE
	KDCOffset int32          // seconds, the KDC's clock minus the client's
	Entries   []Entry        // in the order they were stored
}

// Entry is a credential with the UUID the protocol names it by; the UUID
// stays the same for as long as the credential is in the cache.
type Entry struct {
	UUID       UUID
	Credential ccache.Credential
}

// Initialized reports whether the cache has a principal.
func (c *Cache) Initialized() bool { return !c.Principal.Name.IsZero() }

// Zero overwrites every session key and ticket of the cache and empties it.
func (c *Cache) Zero() {
	for i := range c.Entries {
		cr := &c.Entries[i].Credential
		clear(cr.Key)
		clear(cr.Ticket)
		clear(cr.SecondTicket)
	}
	clear(c.Entries)
	c.Entries = nil
}

// Store holds the caches a Server serves.
type Store interface {
	// Caches returns the caches' names and UUIDs, in creation order.
	Caches(ctx context.Context) ([]CacheID, error)
	// Update calls fn with the cache named name, or nil when there is none,
	// while no other call changes it; fn returns the cache to keep: a new
	// one (Update gives it a UUID when it has none), the one it was given
	// (changed or not), or nil to remove it, which zeroes its keys. fn must
	// not keep the cache after it returns. An error of fn is returned and
	// changes nothing.
	Update(ctx context.Context, name string, fn func(c *Cache) (*Cache, error)) error
	// Default returns the name of the default cache of the peer with uid;
	// SetDefault changes it.
	Default(ctx context.Context, uid uint32) (string, error)
	SetDefault(ctx context.Context, uid uint32, name string) error
}

// CacheID names a cache.
type CacheID struct {
	Name string
	UUID UUID
}

// Mem is a Store in memory. Its zero value is ready to use.
type Mem struct {
	// Rand gives the UUIDs; nil means crypto/rand.
	Rand io.Reader

	mu       sync.Mutex
	caches   map[string]*Cache
	order    []string
	defaults map[uint32]string
}

// NewUUID returns a UUID from rnd (crypto/rand when nil).
func NewUUID(rnd io.Reader) (UUID, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var u UUID
	if _, err := io.ReadFull(rnd, u[:]); err != nil {
		return UUID{}, fmt.Errorf("kcm: make a UUID: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4, RFC 9562 §5.4
	u[8] = u[8]&0x3f | 0x80
	return u, nil
}

// Caches implements Store.
func (m *Mem) Caches(ctx context.Context) ([]CacheID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]CacheID, 0, len(m.order))
	for _, n := range m.order {
		out = append(out, CacheID{Name: n, UUID: m.caches[n].UUID})
	}
	return out, nil
}

// Update implements Store.
func (m *Mem) Update(ctx context.Context, name string, fn func(c *Cache) (*Cache, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.caches[name]
	// fn works on a copy of the entry list, so that an error leaves the cache as it was.
	var work *Cache
	if old != nil {
		cp := *old
		cp.Entries = append([]Entry(nil), old.Entries...)
		work = &cp
	}
	c, err := fn(work)
	if err != nil {
		return err
	}
	for i := range c.entries() {
		if c.Entries[i].UUID == (UUID{}) {
			if c.Entries[i].UUID, err = NewUUID(m.Rand); err != nil {
				return err
			}
		}
	}
	switch {
	case c == nil && old != nil:
		old.Zero()
		delete(m.caches, name)
		for i, n := range m.order {
			if n == name {
				m.order = append(m.order[:i], m.order[i+1:]...)
				break
			}
		}
	case c != nil:
		if c.UUID == (UUID{}) {
			if c.UUID, err = NewUUID(m.Rand); err != nil {
				return err
			}
		}
		c.Name = name
		if old == nil {
			m.order = append(m.order, name)
		} else {
			zeroDropped(old, c)
		}
		if m.caches == nil {
			m.caches = map[string]*Cache{}
		}
		m.caches[name] = c
	}
	return nil
}

func (c *Cache) entries() []Entry {
	if c == nil {
		return nil
	}
	return c.Entries
}

// zeroDropped zeroes the keys of the entries of old that now is without.
func zeroDropped(old, now *Cache) {
	kept := map[UUID]bool{}
	for _, e := range now.Entries {
		kept[e.UUID] = true
	}
	for i := range old.Entries {
		if !kept[old.Entries[i].UUID] {
			cr := &old.Entries[i].Credential
			clear(cr.Key)
			clear(cr.Ticket)
			clear(cr.SecondTicket)
		}
	}
}

// Default implements Store: until SetDefault, the default cache of a peer
// is named by its uid, as Heimdal's kcm does.
func (m *Mem) Default(ctx context.Context, uid uint32) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.defaults[uid]; ok {
		return n, nil
	}
	return strconv.FormatUint(uint64(uid), 10), nil
}

// SetDefault implements Store.
func (m *Mem) SetDefault(ctx context.Context, uid uint32, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.defaults == nil {
		m.defaults = map[uint32]string{}
	}
	m.defaults[uid] = name
	return nil
}

// Close zeroes and removes every cache.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.caches {
		c.Zero()
	}
	m.caches, m.order = nil, nil
	return nil
}
