package directory

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// The change log lets a Snapshot follow the store without reading it all:
// every write transaction of the directory records, in the transaction
// itself, which accounts and groups it wrote (and whether the domain
// record), under the number of the store's update it is ([Sequenced]). A
// snapshot that knows the update it was built at reads the entries after
// it, and decodes and indexes only those records (Snapshot.apply).
//
// The log proves that it covers the gap, or the snapshot is built again
// from the whole store: each entry carries a random nonce, and the
// snapshot remembers the nonce of its own update, so that a store
// restored from a backup (whose update numbers mean other changes) or
// written by a hop that keeps no log (no entry for an update) is read
// whole. The log keeps the last changeLogKeep entries; a transaction that
// touches more than changeLogMaxKeys records logs "all".

// Sequenced is an optional capability of a [Tx], which the change log
// needs: Seq returns the number of Updates the store has committed, as
// this transaction sees it; in an Update, the number this one will have
// once it commits. Each Update counts one, whoever makes it, so that the
// directory can tell that every update is accounted for.
type Sequenced interface {
	Seq() (uint64, error)
}

const (
	bucketChanges    = "change-log"
	changeLogKeep    = 4096
	changeLogMaxKeys = 10_000
)

// changeEntry is one entry of the change log: what one update wrote.
type changeEntry struct {
	Nonce    string   `json:"n"`
	Accounts []string `json:"a,omitempty"`
	Groups   []string `json:"g,omitempty"`
	Domain   bool     `json:"d,omitempty"`
	All      bool     `json:"all,omitempty"`
}

// changeRecorder is a Tx that notes the records a transaction writes.
type changeRecorder struct {
	Tx
	accounts, groups map[string]bool
	domain, all      bool
}

func (c *changeRecorder) note(bucket, key string) {
	var m *map[string]bool
	switch bucket {
	case bucketAccounts:
		m = &c.accounts
	case bucketGroups:
		m = &c.groups
	case bucketDomain:
		c.domain = true
		return
	default:
		return
	}
	if c.all {
		return
	}
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[key] = true
	if len(c.accounts)+len(c.groups) > changeLogMaxKeys {
		c.all, c.accounts, c.groups = true, nil, nil
	}
}

func (c *changeRecorder) Put(bucket, key string, value []byte) error {
	c.note(bucket, key)
	return c.Tx.Put(bucket, key, value)
}

func (c *changeRecorder) Delete(bucket, key string) error {
	c.note(bucket, key)
	return c.Tx.Delete(bucket, key)
}

func logKey(seq uint64) string {
	b := make([]byte, 0, 16)
	s := strconv.FormatUint(seq, 16)
	for range 16 - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

var errStopScan = errors.New("stop")

// writeChangeLog records, in tx, what c noted (nil: nothing, an update
// that changed no record the snapshot holds), and drops the entries older
// than changeLogKeep updates. It does nothing for a store whose
// transactions are not Sequenced.
func writeChangeLog(tx Tx, c *changeRecorder) error {
	sq, ok := tx.(Sequenced)
	if !ok {
		return nil
	}
	seq, err := sq.Seq()
	if err != nil {
		return err
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return fmt.Errorf("directory: change log: %w", err)
	}
	e := changeEntry{Nonce: hex.EncodeToString(nonce[:])}
	if c != nil {
		e.Domain, e.All = c.domain, c.all
		for k := range c.accounts {
			e.Accounts = append(e.Accounts, k)
		}
		for k := range c.groups {
			e.Groups = append(e.Groups, k)
		}
		slices.Sort(e.Accounts)
		slices.Sort(e.Groups)
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := tx.Put(bucketChanges, logKey(seq), v); err != nil {
		return err
	}
	if seq <= changeLogKeep {
		return nil
	}
	cut := logKey(seq - changeLogKeep)
	var old []string
	err = tx.ForEach(bucketChanges, func(k string, _ []byte) error {
		if k >= cut {
			return errStopScan
		}
		old = append(old, k)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(bucketChanges, k); err != nil {
			return err
		}
	}
	return nil
}

// logPos is where a snapshot stands in the change log: the store's update
// number and the nonce of that update's entry ("" when it has none).
type logPos struct {
	seq   uint64
	nonce string
	ok    bool // the store is Sequenced
}

func readEntry(tx Tx, seq uint64) (*changeEntry, error) {
	v, err := tx.Get(bucketChanges, logKey(seq))
	if err != nil || v == nil {
		return nil, err
	}
	var e changeEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, corrupt(bucketChanges, logKey(seq), err)
	}
	return &e, nil
}

// readLogPos returns the position of the state tx sees.
func readLogPos(tx Tx) (logPos, error) {
	sq, ok := tx.(Sequenced)
	if !ok {
		return logPos{}, nil
	}
	seq, err := sq.Seq()
	if err != nil {
		return logPos{}, err
	}
	p := logPos{seq: seq, ok: true}
	e, err := readEntry(tx, seq)
	if err != nil {
		return logPos{}, err
	}
	if e != nil {
		p.nonce = e.Nonce
	}
	return p, nil
}

// changeSet is what changed between two positions.
type changeSet struct {
	accounts, groups map[string]bool
	domain           bool
}

// changesSince returns what the updates after from up to to changed; ok
// is false when the log cannot tell (an update without an entry, an entry
// that logged "all", more than max records, or another history).
func changesSince(tx Tx, from, to logPos, max int) (cs changeSet, ok bool, err error) {
	if !from.ok || !to.ok || from.nonce == "" || to.seq < from.seq || to.seq-from.seq > changeLogKeep {
		return cs, false, nil
	}
	e, err := readEntry(tx, from.seq)
	if err != nil || e == nil || e.Nonce != from.nonce {
		return cs, false, err
	}
	cs = changeSet{accounts: map[string]bool{}, groups: map[string]bool{}}
	for seq := from.seq + 1; seq <= to.seq; seq++ {
		e, err := readEntry(tx, seq)
		if err != nil || e == nil || e.All {
			return cs, false, err
		}
		cs.domain = cs.domain || e.Domain
		for _, k := range e.Accounts {
			cs.accounts[k] = true
		}
		for _, k := range e.Groups {
			cs.groups[k] = true
		}
		if len(cs.accounts)+len(cs.groups) > max {
			return cs, false, nil
		}
	}
	return cs, true, nil
}
