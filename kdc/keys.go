package kdc

import (
	"bytes"
	"sync"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/pac"
)

// keyring turns the directory's stored keys into crypto keys once per
// snapshot, so that the derived keys each crypto.Key caches survive from one
// request to the next. A new snapshot (the directory changed) gets a new
// keyring; accounts are immutable within a snapshot, so their pointers are
// stable keys.
type keyring struct {
	gen   string
	realm krb5.Realm
	m     sync.Map // keyRef -> *crypto.Key
}

type keyRef struct {
	acct  *directory.Account
	kvno  uint32
	etype krb5.EncType
}

func (k *KDC) keyringFor(snap *directory.Snapshot) *keyring {
	gen := snap.Generation()
	if kr := k.keys.Load(); kr != nil && kr.gen == gen {
		return kr
	}
	kr := &keyring{gen: gen, realm: snap.Domain().Realm}
	k.keys.Store(kr)
	return kr
}

// key returns acct's key of type e at kvno (0 = current).
func (kr *keyring) key(acct *directory.Account, e krb5.EncType, kvno uint32) (*crypto.Key, uint32, bool) {
	dk, ok := acct.KeyFor(e, kvno)
	if !ok {
		return nil, 0, false
	}
	ref := keyRef{acct: acct, kvno: dk.KVNO, etype: e}
	if v, ok := kr.m.Load(ref); ok {
		return v.(*crypto.Key), dk.KVNO, true
	}
	ck, err := crypto.NewKey(e, dk.Material())
	if err != nil {
		return nil, 0, false
	}
	v, _ := kr.m.LoadOrStore(ref, ck)
	return v.(*crypto.Key), dk.KVNO, true
}

// usableETypes lists the types of acct's current keys that may be used:
// those crypto supports, and RC4 only where the account allows it.
func usableETypes(acct *directory.Account) []krb5.EncType {
	var out []krb5.EncType
	for _, k := range acct.Keys {
		if !crypto.Supported(k.EncType) {
			continue
		}
		if k.EncType == krb5.RC4HMAC && !acct.AllowRC4 {
			continue
		}
		out = append(out, k.EncType)
	}
	return out
}

// strongestCommon returns the strongest type present in both the client's
// requested list and allowed, or false.
func strongestCommon(requested, allowed []krb5.EncType) (krb5.EncType, bool) {
	var best krb5.EncType
	found := false
	for _, r := range requested {
		if !contains(allowed, r) {
			continue
		}
		if !found || crypto.Preference(r) > crypto.Preference(best) {
			best, found = r, true
		}
	}
	return best, found
}

// strongest returns the strongest of types, or false if it is empty.
func strongest(types []krb5.EncType) (krb5.EncType, bool) {
	return strongestCommon(types, types)
}

func contains(list []krb5.EncType, e krb5.EncType) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// sessionCache keeps the crypto keys of TGT session keys, with the derived
// keys each one caches, so that a client's repeated TGS requests with one
// TGT do not derive them again. It is bounded: a full shard is emptied.
type sessionCache struct {
	shards [16]sessionShard
}

type sessionShard struct {
	mu sync.Mutex
	m  map[sessionID]*crypto.Key
}

type sessionID struct {
	etype krb5.EncType
	n     uint8
	b     [32]byte
}

const sessionShardMax = 1024

// key returns the crypto key for material of type e.
func (c *sessionCache) key(e krb5.EncType, material []byte) (*crypto.Key, error) {
	id, ok := sessionIDOf(e, material)
	if !ok {
		return crypto.NewKey(e, material)
	}
	sh := &c.shards[material[0]&15]
	sh.mu.Lock()
	k, ok := sh.m[id]
	sh.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := crypto.NewKey(e, material)
	if err != nil {
		return nil, err
	}
	sh.mu.Lock()
	if sh.m == nil || len(sh.m) >= sessionShardMax {
		sh.m = make(map[sessionID]*crypto.Key)
	}
	sh.m[id] = k
	sh.mu.Unlock()
	return k, nil
}

// pacCache remembers the TGT PACs the KDC has verified, by the TGT's session
// key (see tgtPAC). It is bounded like sessionCache.
type pacCache struct {
	shards [16]pacShard
}

type pacShard struct {
	mu sync.Mutex
	m  map[sessionID]verifiedPAC
}

type verifiedPAC struct {
	raw []byte
	p   *pac.PAC
}

const pacShardMax = 512

func sessionIDOf(e krb5.EncType, material []byte) (sessionID, bool) {
	if len(material) == 0 || len(material) > 32 {
		return sessionID{}, false
	}
	id := sessionID{etype: e, n: uint8(len(material))}
	copy(id.b[:], material)
	return id, true
}

// get returns the PAC verified for the TGT with this session key, if its
// bytes are raw.
func (c *pacCache) get(e krb5.EncType, session, raw []byte) (*pac.PAC, bool) {
	id, ok := sessionIDOf(e, session)
	if !ok {
		return nil, false
	}
	sh := &c.shards[session[0]&15]
	sh.mu.Lock()
	v, ok := sh.m[id]
	sh.mu.Unlock()
	if !ok || !bytes.Equal(v.raw, raw) {
		return nil, false
	}
	return v.p, true
}

func (c *pacCache) put(e krb5.EncType, session, raw []byte, p *pac.PAC) {
	id, ok := sessionIDOf(e, session)
	if !ok {
		return
	}
	sh := &c.shards[session[0]&15]
	sh.mu.Lock()
	if sh.m == nil || len(sh.m) >= pacShardMax {
		sh.m = make(map[sessionID]verifiedPAC)
	}
	sh.m[id] = verifiedPAC{raw: bytes.Clone(raw), p: p}
	sh.mu.Unlock()
}
