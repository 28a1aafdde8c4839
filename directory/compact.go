package directory

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"
	"unsafe"

	"hop/krb5"
	"hop/sid"
)

// The Snapshot holds each account in a compact binary form, its keys
// opened, and decodes the Account from it on first use (acctEntry.account):
// a million Accounts decoded at once would take more than a GiB; their
// compact forms take a fifth of that, and hold no pointers for the
// collector to scan. The form is private to this process and never stored.
//
// Layout: a fixed header (RID, primary group RID, kind, flags), then the
// fields in the order of compactBuilder.build, each as
//   - string: uvarint length, bytes;
//   - list (strings, SIDs, history entries): uvarint n+1 (0: nil), items;
//   - key list: uvarint n, each key: varint type, uvarint kvno, salt string,
//     material string;
//   - time: 0 (zero), 1 then varint seconds and uvarint nanoseconds (UTC),
//     or 2 (the previous non-zero time again);
//   - SID: string of its binary form ("" for the zero SID);
//   - numbers: varints.
//
// An account whose times are not UTC (a directory written in another time
// zone) has no compact form: its entry keeps the decoded Account.

const compactHeader = 11 // RID, primary group RID, kind, flags

// The flags of the header, in the order compactBuilder.build sets them.
const (
	flagDisabled = 1 << iota
	flagNoPreauth
	flagAllowRC4
	flagTrustedForDelegation
	flagTrustedToAuth
	flagSensitive
	flagNoAuthData
)

// errNoCompact: the record has no compact form.
var errNoCompact = errors.New("no compact form")

// compactWriter appends the compact form.
type compactWriter struct {
	b    []byte
	last time.Time // the previous non-zero time
	bad  bool      // a field the form cannot hold
}

func (w *compactWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *compactWriter) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *compactWriter) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *compactWriter) bytes(s []byte)   { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }

func (w *compactWriter) list(n int, isNil bool) {
	if isNil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(n) + 1)
}

func (w *compactWriter) strs(l []string) {
	w.list(len(l), l == nil)
	for _, s := range l {
		w.str(s)
	}
}

func (w *compactWriter) time(t time.Time) {
	switch {
	case t == time.Time{}:
		w.b = append(w.b, 0)
	case t.Location() != time.UTC:
		w.bad = true
	case t == w.last:
		w.b = append(w.b, 2)
	default:
		w.b = append(w.b, 1)
		w.varint(t.Unix())
		w.uvarint(uint64(t.Nanosecond()))
		w.last = t
		if time.Unix(t.Unix(), int64(t.Nanosecond())).UTC() != t {
			w.bad = true
		}
	}
}

func (w *compactWriter) sid(s sid.SID) {
	if s.IsZero() {
		w.str("")
		return
	}
	b := s.Bytes()
	if p, err := sid.ParseBytes(b); err != nil || p != s || len(b) == 0 {
		w.bad = true
	}
	w.bytes(b)
}

func (w *compactWriter) sids(l []sid.SID) {
	w.list(len(l), l == nil)
	for _, s := range l {
		w.sid(s)
	}
}

// compactBuilder makes the compact form of checked account records,
// reusing its buffers from one record to the next.
type compactBuilder struct {
	mk  *MasterKey
	w   compactWriter
	aad []byte
	mat []byte // opened key material
}

// build returns the compact form of the record r (checked: r.check gave
// kind) stored under key, opening its keys; errNoCompact when it has none.
// Its errors are those decodeAccount returns for the record. The form is
// valid until the next call.
func (c *compactBuilder) build(key string, r *accountRecord, kind Kind) ([]byte, error) {
	w := &c.w
	w.b, w.last, w.bad = w.b[:0], time.Time{}, false
	var flags uint16
	for i, f := range []bool{r.Disabled, r.NoPreauthRequired, r.AllowRC4, r.TrustedForDelegation, r.TrustedToAuthForDelegation, r.NotDelegated, r.NoAuthDataRequired} {
		if f {
			flags |= 1 << i
		}
	}
	w.b = binary.LittleEndian.AppendUint32(w.b, r.RID)
	w.b = binary.LittleEndian.AppendUint32(w.b, r.PrimaryGroupRID)
	w.b = append(w.b, byte(kind))
	w.b = binary.LittleEndian.AppendUint16(w.b, flags)
	w.str(r.Name)
	w.str(r.UPN)
	w.str(r.DNSHostName)
	w.strs(r.SPNs)
	w.str(r.Description)
	w.time(r.Expires)
	w.time(r.PasswordLastSet)
	w.time(r.PasswordExpires)
	w.varint(int64(r.MaxTicketLife))
	w.varint(int64(r.MaxRenewLife))
	w.uvarint(uint64(r.KVNO))
	for i, recs := range [][]keyRecord{r.Keys, r.OldKeys} {
		if len(recs) > 0 {
			if err := checkKeyCount(recs); err != nil {
				return nil, corrupt(bucketAccounts, key, err)
			}
		}
		w.uvarint(uint64(len(recs)))
		for _, kr := range recs {
			var err error
			if c.mat, err = openKey(c.mat[:0], &c.aad, c.mk, r.Name, kr); err != nil {
				return nil, corrupt(bucketAccounts, key, err)
			}
			w.varint(int64(kr.EType))
			w.uvarint(uint64(kr.KVNO))
			w.str(kr.Salt)
			w.bytes(c.mat)
		}
		if i == 0 { // as decodeAccount: once every current key opened
			for _, kr := range recs {
				if err := r.checkKeyKVNO(key, krb5.EncType(kr.EType), kr.KVNO); err != nil {
					return nil, err
				}
			}
		}
	}
	w.varint(int64(r.BadPwdCount))
	w.time(r.BadPwdTime)
	w.time(r.LockedUntil)
	w.time(r.Created)
	w.time(r.Modified)
	w.strs(r.AllowedToDelegateTo)
	w.sids(r.AllowedToActOnBehalfOf)
	w.sids(r.ManagedBy)
	w.uvarint(r.Revision)
	w.sid(r.CreatorSID)
	w.strs(r.SSHHostKeys)
	w.list(len(r.PasswordHistory), r.PasswordHistory == nil)
	for _, h := range r.PasswordHistory {
		w.varint(int64(h.EType))
		w.str(h.Salt)
		w.list(len(h.Sealed), h.Sealed == nil)
		w.b = append(w.b, h.Sealed...)
	}
	if w.bad {
		return nil, errNoCompact
	}
	return w.b, nil
}

// compactReader reads a compact form. Its strings and key material share
// the form's memory, which never changes.
type compactReader struct {
	s    string
	i    int
	last time.Time
}

func (r *compactReader) uvarint() uint64 {
	v, n := binary.Uvarint(unsafe.Slice(unsafe.StringData(r.s[r.i:]), len(r.s)-r.i))
	r.i += n
	return v
}

func (r *compactReader) varint() int64 {
	v, n := binary.Varint(unsafe.Slice(unsafe.StringData(r.s[r.i:]), len(r.s)-r.i))
	r.i += n
	return v
}

func (r *compactReader) str() string {
	n := int(r.uvarint())
	s := r.s[r.i : r.i+n]
	r.i += n
	return s
}

// bytes returns n bytes of the form as a slice that must not be modified.
func (r *compactReader) bytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	b := unsafe.Slice(unsafe.StringData(r.s[r.i:]), n)
	r.i += n
	return b[:n:n]
}

// list reads a list's length; ok is false for nil.
func (r *compactReader) list() (int, bool) {
	n := r.uvarint()
	return int(n) - 1, n != 0
}

func (r *compactReader) strs() []string {
	n, ok := r.list()
	if !ok {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *compactReader) time() time.Time {
	tag := r.s[r.i]
	r.i++
	switch tag {
	case 0:
		return time.Time{}
	case 2:
		return r.last
	}
	sec := r.varint()
	nsec := r.uvarint()
	r.last = time.Unix(sec, int64(nsec)).UTC()
	return r.last
}

func (r *compactReader) sid() sid.SID {
	b := r.str()
	if b == "" {
		return sid.SID{}
	}
	s, _ := sid.ParseBytes([]byte(b))
	return s
}

func (r *compactReader) sids() []sid.SID {
	n, ok := r.list()
	if !ok {
		return nil
	}
	out := make([]sid.SID, n)
	for i := range out {
		out[i] = r.sid()
	}
	return out
}

func (r *compactReader) keys() []Key {
	n := int(r.uvarint())
	if n == 0 {
		return nil
	}
	out := make([]Key, n)
	for i := range out {
		e := krb5.EncType(r.varint())
		kvno := uint32(r.uvarint())
		salt := r.str()
		m := r.bytes(int(r.uvarint()))
		out[i] = Key{EncType: e, KVNO: kvno, Salt: salt, material: m}
	}
	return out
}

// compactHead is the part of a compact form the indexes need.
type compactHead struct {
	rid, primary uint32
	kind         Kind
	flags        uint16
	name, upn    string
	host         string   // DNSHostName
	spns         []string // nil unless asked for
}

// head reads the header of the compact form s, and its SPNs if spns is set.
func head(s string, spns bool) compactHead {
	h := compactHead{
		rid:     le32(s[0:4]),
		primary: le32(s[4:8]),
		kind:    Kind(s[8]),
		flags:   uint16(s[9]) | uint16(s[10])<<8,
	}
	r := compactReader{s: s, i: compactHeader}
	h.name, h.upn, h.host = r.str(), r.str(), r.str()
	if spns {
		h.spns = r.strs()
	}
	return h
}

// decodeCompact returns the Account whose compact form is s.
func decodeCompact(s string) *Account {
	h := head(s, false)
	r := compactReader{s: s, i: compactHeader}
	r.str()
	r.str()
	r.str()
	f := func(bit uint16) bool { return h.flags&bit != 0 }
	a := &Account{
		Name: h.name, Kind: h.kind, RID: h.rid, PrimaryGroupRID: h.primary, UPN: h.upn, DNSHostName: h.host,
		Disabled: f(flagDisabled), NoPreauthRequired: f(flagNoPreauth), AllowRC4: f(flagAllowRC4),
		TrustedForDelegation: f(flagTrustedForDelegation), TrustedToAuthForDelegation: f(flagTrustedToAuth),
		Sensitive: f(flagSensitive), NoAuthDataRequired: f(flagNoAuthData),
	}
	a.SPNs = r.strs()
	a.Description = r.str()
	a.Expires = r.time()
	a.PasswordLastSet = r.time()
	a.PasswordExpires = r.time()
	a.MaxTicketLife = time.Duration(r.varint())
	a.MaxRenewLife = time.Duration(r.varint())
	a.KVNO = uint32(r.uvarint())
	a.Keys = r.keys()
	a.OldKeys = r.keys()
	a.BadPwdCount = int(r.varint())
	a.BadPwdTime = r.time()
	a.LockedUntil = r.time()
	a.Created = r.time()
	a.Modified = r.time()
	a.AllowedToDelegateTo = r.strs()
	a.AllowedToActOnBehalfOf = r.sids()
	a.ManagedBy = r.sids()
	a.Revision = r.uvarint()
	a.CreatorSID = r.sid()
	a.SSHHostKeys = r.strs()
	if n, ok := r.list(); ok {
		a.history = make([]historyRecord, n)
		for i := range a.history {
			h := &a.history[i]
			h.EType = int32(r.varint())
			h.Salt = r.str()
			if n, ok := r.list(); ok {
				h.Sealed = r.bytes(n)
			}
		}
	}
	return a
}

// acctEntry is one account of a Snapshot: its compact form, and the
// Account and authorization data decoded from it on first use. An entry
// never changes but for those caches; a change to the account, or to its
// groups, makes a new entry.
type acctEntry struct {
	key string // the folded name
	rec string // the compact form; "" when acct was set at creation
	// groups are the ids of the groups that list the account (its name,
	// folded), ascending; set before the entry is published.
	groups []uint32
	acct   atomic.Pointer[Account]
	az     atomic.Pointer[accountAuthz]
}

// account returns the entry's Account, decoding it the first time: every
// call returns the same pointer.
func (e *acctEntry) account() *Account {
	if a := e.acct.Load(); a != nil {
		return a
	}
	e.acct.CompareAndSwap(nil, decodeCompact(e.rec))
	return e.acct.Load()
}

// peek returns the entry's Account without keeping a decoded one.
func (e *acctEntry) peek() *Account {
	if a := e.acct.Load(); a != nil {
		return a
	}
	return decodeCompact(e.rec)
}

// head returns the fields the indexes need.
func (e *acctEntry) head(spns bool) compactHead {
	if e.rec != "" {
		return head(e.rec, spns)
	}
	a := e.acct.Load()
	h := compactHead{rid: a.RID, primary: a.PrimaryGroupRID, kind: a.Kind, name: a.Name, upn: a.UPN, host: a.DNSHostName}
	if a.Disabled {
		h.flags |= flagDisabled
	}
	if spns {
		h.spns = a.SPNs
	}
	return h
}

// withGroups returns a copy of e listed in the groups ids, whose
// authorization data will be computed again.
func (e *acctEntry) withGroups(ids []uint32) *acctEntry {
	n := &acctEntry{key: e.key, rec: e.rec, groups: ids}
	n.acct.Store(e.acct.Load())
	return n
}

func le32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}
