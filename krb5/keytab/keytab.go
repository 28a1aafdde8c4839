package keytab

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"hop/krb5"
)

// Entry is one key of one principal.
type Entry struct {
	Principal krb5.Principal
	Timestamp time.Time // when the key was written; zero if unknown
	KVNO      uint32
	EncType   krb5.EncType
	// Key holds the raw key bytes; the caller turns them into a crypto key.
	// String and Format never print them.
	Key []byte
}

// String describes the entry without its key, e.g.
// "host/b.example.test@EXAMPLE.TEST kvno 3 aes256-cts-hmac-sha1-96".
func (e Entry) String() string {
	var b strings.Builder
	b.WriteString(e.Principal.String())
	b.WriteString(" kvno ")
	b.WriteString(strconv.FormatUint(uint64(e.KVNO), 10))
	b.WriteByte(' ')
	b.WriteString(e.EncType.String())
	if !e.Timestamp.IsZero() {
		b.WriteByte(' ')
		b.WriteString(e.Timestamp.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Keytab is the list of entries of a keytab file, in file order.
type Keytab struct {
	Entries []Entry
}

// ErrNotFound is wrapped by Find's error when no entry matches.
var ErrNotFound = errors.New("keytab: no matching key")

// Find returns a copy of the entry for principal p with key version kvno
// (0: the highest version present) and encryption type e (0: any type).
//
// Principals match when their components are equal and their realms are
// equal ignoring case; the name type does not take part (RFC 4120 §6.2).
// As MIT does, when no entry has exactly the version asked for, an entry
// whose version equals its low 8 bits is accepted: such an entry was
// written by a tool that stored only the 8-bit version. Among equally good
// entries the first in the file wins.
func (k *Keytab) Find(p krb5.Principal, kvno uint32, e krb5.EncType) (*Entry, error) {
	var (
		best      = -1
		truncated = -1
		kvnos     []uint32
	)
	for i := range k.Entries {
		ent := &k.Entries[i]
		if !ent.Principal.Name.Equal(p.Name) || !ent.Principal.Realm.Equal(p.Realm) {
			continue
		}
		if e != 0 && ent.EncType != e {
			continue
		}
		switch {
		case kvno == 0:
			if best < 0 || ent.KVNO > k.Entries[best].KVNO {
				best = i
			}
		case ent.KVNO == kvno:
			if best < 0 {
				best = i
			}
		case kvno > 0xff && ent.KVNO == kvno&0xff:
			if truncated < 0 {
				truncated = i
			}
		default:
			if !slices.Contains(kvnos, ent.KVNO) {
				kvnos = append(kvnos, ent.KVNO)
			}
		}
	}
	if best < 0 {
		best = truncated
	}
	if best >= 0 {
		found := k.Entries[best]
		found.Key = bytes.Clone(found.Key)
		return &found, nil
	}
	what := p.String()
	if kvno != 0 {
		what += " kvno " + strconv.FormatUint(uint64(kvno), 10)
	}
	if e != 0 {
		what += " " + e.String()
	}
	if len(kvnos) > 0 {
		slices.Sort(kvnos)
		var have []string
		for _, v := range kvnos {
			have = append(have, strconv.FormatUint(uint64(v), 10))
		}
		return nil, fmt.Errorf("%w for %s (the keytab has kvno %s): export the current key again", ErrNotFound, what, strings.Join(have, ", "))
	}
	return nil, fmt.Errorf("%w for %s", ErrNotFound, what)
}
