package directory

import "context"

// Store is the transactional key-value storage under a [Directory]. Keys live
// in named buckets; both names are non-empty strings, and bucket names
// beginning with NUL are reserved for the store's own use.
//
// Implementations: hop/directory/bolt (one file, shared by processes) and
// hop/directory/mem (tests, tools).
type Store interface {
	// View runs fn in a read-only transaction that sees one consistent
	// state.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction. fn's writes commit
	// atomically, and durably, if and only if fn returns nil; otherwise
	// none of them take effect and Update returns fn's error.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is a transaction on a [Store]. It is valid only during the function it
// is passed to and must not be used from other goroutines.
type Tx interface {
	// Get returns a copy of the value under key, or (nil, nil) when absent.
	Get(bucket, key string) ([]byte, error)
	// Put stores value under key, creating the bucket as needed. It fails
	// in a View transaction.
	Put(bucket, key string, value []byte) error
	// Delete removes key; removing an absent key is not an error.
	Delete(bucket, key string) error
	// ForEach calls fn for every key of bucket in byte order, and stops at
	// the first error, which it returns. value is valid only until fn
	// returns and must not be modified. fn must not write to the bucket.
	ForEach(bucket string, fn func(key string, value []byte) error) error
}

// Changes is an optional capability of a [Store]: Token returns a value that
// differs after every committed Update, whichever process made it, and is
// cheap to compute when nothing changed.
type Changes interface {
	Token(ctx context.Context) (string, error)
}
