package service

import (
	"crypto/sha256"
	"errors"
	"os"
	"sync"
	"time"
)

// DefaultReplayLimit is the number of entries a ReplayCache holds at most
// unless SetLimit says otherwise: over a five-minute window, about 3,500
// authentications a second, in some 100 MB.
const DefaultReplayLimit = 1 << 20

// ErrReplayCacheFull is wrapped by the refusal (KRB_ERR_GENERIC) of an
// authenticator that arrives while the replay cache is full of unexpired
// entries.
var ErrReplayCacheFull = errors.New("service: replay cache full")

// errReplay is what add reports for an authenticator already seen.
var errReplay = errors.New("service: authenticator replayed")

// replayKey identifies an authenticator: the first 16 bytes of the SHA-256
// of its ciphertext.
type replayKey [16]byte

// ReplayCache remembers the authenticators an Acceptor accepted
// (RFC 4120 §3.2.3, §10), in memory, each until its ctime plus the window
// has passed. It is safe for concurrent use, and one cache may serve
// several Acceptors. See the package documentation for what it keys on and
// what happens when it is full.
type ReplayCache struct {
	window time.Duration

	mu        sync.Mutex
	limit     int
	seen      map[replayKey]int64 // expiry, Unix nanoseconds
	nextSweep int64               // sweep expired entries at or after this time
	minExpiry int64               // no entry expires before this (after a sweep)

	// path and file: Persist's file, written records counted (live and
	// expired) to know when to compact it.
	path    string
	file    *os.File
	written int
}

// NewReplayCache returns an empty cache whose entries live for window
// after their authenticator's ctime. An Acceptor uses at least its MaxSkew
// whatever the window: an authenticator is acceptable for MaxSkew after its
// ctime, and must be remembered that long.
func NewReplayCache(window time.Duration) *ReplayCache {
	if window <= 0 {
		window = DefaultMaxSkew
	}
	return &ReplayCache{window: window, limit: DefaultReplayLimit, seen: make(map[replayKey]int64)}
}

// SetLimit bounds the number of entries (n < 1 means 1).
func (c *ReplayCache) SetLimit(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = max(n, 1)
}

// Len returns the number of entries, expired ones not yet swept included.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// add records the authenticator ciphertext ct whose ctime is ctime, to be
// remembered for max(window, skew) after ctime. It returns errReplay if ct
// was recorded before and has not expired, and ErrReplayCacheFull if there
// is no room.
func (c *ReplayCache) add(ct []byte, ctime time.Time, skew time.Duration, now time.Time) error {
	sum := sha256.Sum256(ct)
	var k replayKey
	copy(k[:], sum[:])
	life := max(c.window, skew)
	expiry := ctime.Add(life).UnixNano()
	t := now.UnixNano()

	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[k]; ok && exp >= t {
		return errReplay
	}
	if t >= c.nextSweep || (len(c.seen) >= c.limit && t >= c.minExpiry) {
		c.sweep(t, life)
	}
	if len(c.seen) >= c.limit {
		return ErrReplayCacheFull
	}
	// On disk first: an entry the file lacks could be replayed after a
	// restart.
	if err := c.record(k, expiry); err != nil {
		return err
	}
	c.seen[k] = expiry
	c.minExpiry = min(c.minExpiry, expiry)
	return nil
}

// sweep deletes the expired entries. It runs at most every quarter window,
// and when the cache is full only once some entry can have expired, so a
// full cache costs one map walk per expiry, not per request.
func (c *ReplayCache) sweep(t int64, life time.Duration) {
	lowest := int64(1<<63 - 1)
	for k, exp := range c.seen {
		if exp < t {
			delete(c.seen, k)
		} else if exp < lowest {
			lowest = exp
		}
	}
	c.minExpiry = lowest
	c.nextSweep = t + max(int64(life/4), int64(time.Second))
}
