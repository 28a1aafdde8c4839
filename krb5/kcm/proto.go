package kcm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/internal/mitfile"
)

// Op is a KCM opcode.
type Op uint16

// The opcodes of Heimdal's protocol and MIT's two extensions.
const (
	OpNoop             Op = 0
	OpGetName          Op = 1
	OpResolve          Op = 2
	OpGenNew           Op = 3
	OpInitialize       Op = 4
	OpDestroy          Op = 5
	OpStore            Op = 6
	OpRetrieve         Op = 7
	OpGetPrincipal     Op = 8
	OpGetCredUUIDList  Op = 9
	OpGetCredByUUID    Op = 10
	OpRemoveCred       Op = 11
	OpSetFlags         Op = 12
	OpChown            Op = 13
	OpChmod            Op = 14
	OpGetInitialTicket Op = 15
	OpGetTicket        Op = 16
	OpMoveCache        Op = 17
	OpGetCacheUUIDList Op = 18
	OpGetCacheByUUID   Op = 19
	OpGetDefaultCache  Op = 20
	OpSetDefaultCache  Op = 21
	OpGetKDCOffset     Op = 22
	OpSetKDCOffset     Op = 23
	OpGetCredList      Op = 13001 // MIT: (name) -> (count, count × {length, credential})
	OpReplace          Op = 13002 // MIT: (name, offset, principal, count, count × {length, credential}) -> ()
	// OpHopBroker is hop's own (hop.go): (JSON BrokerQuery) -> (JSON
	// BrokerStatus). MIT's and Heimdal's servers answer it as unknown.
	OpHopBroker Op = 18001
)

var opNames = map[Op]string{
	OpNoop: "NOOP", OpGetName: "GET_NAME", OpResolve: "RESOLVE", OpGenNew: "GEN_NEW",
	OpInitialize: "INITIALIZE", OpDestroy: "DESTROY", OpStore: "STORE", OpRetrieve: "RETRIEVE",
	OpGetPrincipal: "GET_PRINCIPAL", OpGetCredUUIDList: "GET_CRED_UUID_LIST",
	OpGetCredByUUID: "GET_CRED_BY_UUID", OpRemoveCred: "REMOVE_CRED", OpSetFlags: "SET_FLAGS",
	OpChown: "CHOWN", OpChmod: "CHMOD", OpGetInitialTicket: "GET_INITIAL_TICKET",
	OpGetTicket: "GET_TICKET", OpMoveCache: "MOVE_CACHE", OpGetCacheUUIDList: "GET_CACHE_UUID_LIST",
	OpGetCacheByUUID: "GET_CACHE_BY_UUID", OpGetDefaultCache: "GET_DEFAULT_CACHE",
	OpSetDefaultCache: "SET_DEFAULT_CACHE", OpGetKDCOffset: "GET_KDC_OFFSET",
	OpSetKDCOffset: "SET_KDC_OFFSET", OpGetCredList: "GET_CRED_LIST", OpReplace: "REPLACE",
	OpHopBroker: "HOP_BROKER",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("opcode %d", uint16(o))
}

// Status is the status code of a reply: 0 or an error code of MIT's krb5
// com_err table. It is an error; Client methods return it as one.
type Status int32

// The status codes a KCM server sends.
const (
	StatusOK      Status = 0
	ErrNotFound   Status = -1765328243 // KRB5_CC_NOTFOUND: no credential matches
	ErrEnd        Status = -1765328242 // KRB5_CC_END: no such entry (a UUID that is gone)
	ErrIO         Status = -1765328191 // KRB5_CC_IO
	ErrPermission Status = -1765328190 // KRB5_FCC_PERM
	ErrNoCache    Status = -1765328189 // KRB5_FCC_NOFILE: the cache does not exist or has no principal
	ErrInternal   Status = -1765328188 // KRB5_FCC_INTERNAL: Heimdal's answer to an unknown opcode
	ErrNoMem      Status = -1765328186 // KRB5_CC_NOMEM: a bound of the server is reached
	ErrFormat     Status = -1765328185 // KRB5_CC_FORMAT: a malformed request
	ErrNotSupp    Status = -1765328137 // KRB5_CC_NOSUPP: the opcode is not supported
)

var statusNames = map[Status]string{
	ErrNotFound: "KRB5_CC_NOTFOUND (matching credential not found)", ErrEnd: "KRB5_CC_END (end of credential cache reached)",
	ErrIO: "KRB5_CC_IO (credentials cache I/O operation failed)", ErrPermission: "KRB5_FCC_PERM (credentials cache permissions incorrect)",
	ErrNoCache: "KRB5_FCC_NOFILE (no credentials cache found)", ErrInternal: "KRB5_FCC_INTERNAL (internal credentials cache error)",
	ErrNoMem: "KRB5_CC_NOMEM (no more memory to allocate)", ErrFormat: "KRB5_CC_FORMAT (bad format in credentials cache)",
	ErrNotSupp: "KRB5_CC_NOSUPP (credentials cache operation not supported)",
}

func (s Status) Error() string {
	if n, ok := statusNames[s]; ok {
		return "kcm: " + n
	}
	return fmt.Sprintf("kcm: status %d", int32(s))
}

// Unsupported reports whether s is one of the codes with which MIT's client
// treats an opcode as not implemented and falls back.
func (s Status) Unsupported() bool { return s == ErrNotSupp || s == ErrIO || s == ErrInternal }

// Flags of RETRIEVE and REMOVE_CRED (Heimdal's values; MIT maps its own).
const (
	GCCached           uint32 = 1 << 0  // only from the cache (MIT always sets it)
	TCDontMatchRealm   uint32 = 1 << 31 // compare principals without their realms
	TCMatchKeyType     uint32 = 1 << 30
	TCMatchSrvNameOnly uint32 = 1 << 29 // compare the server without its realm
	TCMatchFlagsExact  uint32 = 1 << 28
	TCMatchFlags       uint32 = 1 << 27 // the credential has at least the tag's flags
	TCMatchTimesExact  uint32 = 1 << 26
	TCMatchTimes       uint32 = 1 << 25 // the credential lasts at least until the tag's endtime and renew-till
	TCMatchAuthData    uint32 = 1 << 24
	TCMatch2ndTkt      uint32 = 1 << 23
	TCMatchIsSKey      uint32 = 1 << 22
)

// Bounds of the decoder.
const (
	ProtocolMajor, ProtocolMinor = 2, 0
	// MaxRequestSize bounds a request, framing excluded.
	MaxRequestSize = 1 << 20
	// MaxReplySize bounds a reply; it is MIT's client's bound.
	MaxReplySize = 10 << 20
	// MaxNameLen bounds a cache name.
	MaxNameLen = 255
	// MaxListCredentials bounds the credentials of GET_CRED_LIST and REPLACE.
	MaxListCredentials = 4096
	uuidLen            = 16
)

// UUID names a cache or a credential within the protocol.
type UUID [16]byte

func (u UUID) String() string { return hex.EncodeToString(u[:]) }

// Match is a credential tag: what RETRIEVE and REMOVE_CRED look for. Nil
// principals and empty fields are absent from the tag.
type Match struct {
	Client, Server                          *krb5.Principal
	KeyType                                 krb5.EncType // 0: no session key in the tag
	Key                                     []byte       // never printed
	AuthTime, StartTime, EndTime, RenewTill time.Time
	IsSKey                                  bool
	Flags                                   krb5.Flags
	Addresses                               []ccache.Address
	AuthData                                []ccache.AuthData
	Ticket, SecondTicket                    []byte // never printed
}

// The bits of a credential tag's header.
const (
	tagClient = 1 << iota
	tagServer
	tagKey
	tagTicket
	tagSecondTicket
	tagAuthData
	tagAddresses
	tagAll = 1<<iota - 1
)

// Request is a decoded request. Which fields an opcode uses:
// every opcode that names a cache (all but NOOP, GEN_NEW,
// GET_CACHE_UUID_LIST, GET_CACHE_BY_UUID and GET_DEFAULT_CACHE) Name;
// INITIALIZE and REPLACE Principal; STORE Credential; RETRIEVE and
// REMOVE_CRED Flags and Match; GET_CRED_BY_UUID and GET_CACHE_BY_UUID UUID;
// SET_KDC_OFFSET and REPLACE Offset; REPLACE Credentials. The arguments of
// opcodes this package does not decode stay in Raw.
type Request struct {
	Op          Op
	Name        string
	Principal   krb5.Principal
	Credential  *ccache.Credential
	Flags       uint32
	Match       *Match
	UUID        UUID
	Offset      int32 // seconds, the KDC's clock minus the client's
	Credentials []ccache.Credential
	Raw         []byte
}

// Reply is a decoded reply. Which fields an opcode's success sets:
// GEN_NEW, GET_CACHE_BY_UUID and GET_DEFAULT_CACHE Name; GET_PRINCIPAL
// Principal; RETRIEVE and GET_CRED_BY_UUID Credential; GET_CRED_UUID_LIST
// and GET_CACHE_UUID_LIST UUIDs; GET_KDC_OFFSET Offset; GET_CRED_LIST
// Credentials. A reply with a nonzero Status has no results. The results
// of opcodes this package does not decode stay in Raw.
type Reply struct {
	Status      Status
	Name        string
	Principal   krb5.Principal
	Credential  *ccache.Credential
	UUIDs       []UUID
	Offset      int32
	Credentials []ccache.Credential
	Raw         []byte
}

// namesCache reports whether op's arguments begin with a cache name.
func namesCache(op Op) bool {
	switch op {
	case OpInitialize, OpDestroy, OpStore, OpRetrieve, OpGetPrincipal, OpGetCredUUIDList,
		OpGetCredByUUID, OpRemoveCred, OpSetDefaultCache, OpGetKDCOffset, OpSetKDCOffset,
		OpGetCredList, OpReplace:
		return true
	}
	return false
}

// known reports whether this package decodes op's arguments.
func known(op Op) bool {
	return namesCache(op) || op == OpNoop || op == OpGenNew || op == OpGetCacheUUIDList ||
		op == OpGetCacheByUUID || op == OpGetDefaultCache
}

// ErrMalformed is wrapped by every error of the decoders.
var ErrMalformed = errors.New("kcm: malformed message")

type reader struct{ *mitfile.Reader }

func newReader(b []byte) reader { return reader{mitfile.NewReader(b, binary.BigEndian)} }

func (r reader) name() string {
	end := bytes.IndexByte(r.peekAll(), 0)
	if r.Err() == nil && end < 0 {
		r.Fail("cache name is not terminated by a NUL byte")
	}
	if r.Err() == nil && end > MaxNameLen {
		r.Fail("cache name is %d bytes, more than %d", end, MaxNameLen)
	}
	if r.Err() != nil {
		return ""
	}
	s := string(r.Bytes(uint64(end), "name"))
	r.U8("name terminator")
	return s
}

// peekAll returns the bytes left without consuming them.
func (r reader) peekAll() []byte {
	peek := *r.Reader // a copy reads ahead without moving r
	return peek.Bytes(uint64(r.Len()), "rest")
}

func (r reader) uuid() UUID {
	var u UUID
	copy(u[:], r.Bytes(uuidLen, "UUID"))
	return u
}

func (r reader) uuids() []UUID {
	if r.Len()%uuidLen != 0 {
		r.Fail("UUID list of %d bytes is not a multiple of %d", r.Len(), uuidLen)
		return nil
	}
	var out []UUID
	for r.Len() > 0 {
		out = append(out, r.uuid())
	}
	return out
}

func (r reader) principal(what string) krb5.Principal {
	p := ccache.ReadPrincipal(r.Reader, what)
	if r.Err() == nil && p.Name.IsZero() {
		r.Fail("%s has no name", what)
	}
	return p
}

func (r reader) credential() *ccache.Credential {
	c := ccache.ReadCredential(r.Reader)
	if r.Err() != nil {
		return nil
	}
	return &c
}

// credentials reads count × {length, credential}.
func (r reader) credentials() []ccache.Credential {
	n := r.Count("credentials", 4)
	if r.Err() != nil {
		return nil
	}
	if n > MaxListCredentials {
		r.Fail("%d credentials, more than %d", n, MaxListCredentials)
		return nil
	}
	out := make([]ccache.Credential, 0, n)
	for range n {
		sub := reader{r.Sub(uint64(r.U32("credential length")), "credential")}
		c := sub.credential()
		if sub.Err() == nil && sub.Len() != 0 {
			sub.Fail("%d bytes after a credential", sub.Len())
		}
		if err := sub.Err(); err != nil {
			r.Fail("%v", err)
		}
		if r.Err() != nil {
			return nil
		}
		out = append(out, *c)
	}
	return out
}

func (r reader) match() *Match {
	m := &Match{}
	h := r.U32("credential tag header")
	if r.Err() == nil && h&^tagAll != 0 {
		r.Fail("credential tag header 0x%x has unknown bits", h)
	}
	if h&tagClient != 0 {
		p := r.principal("client")
		m.Client = &p
	}
	if h&tagServer != 0 {
		p := r.principal("server")
		m.Server = &p
	}
	if h&tagKey != 0 {
		m.KeyType = krb5.EncType(int16(r.U16("key type")))
		m.Key = r.Data32("key", r.Len())
		if r.Err() == nil && m.KeyType == 0 {
			r.Fail("credential tag has a session key of type 0")
		}
	}
	var times ccache.Credential
	ccache.ReadTimes(r.Reader, &times)
	m.AuthTime, m.StartTime, m.EndTime, m.RenewTill = times.AuthTime, times.StartTime, times.EndTime, times.RenewTill
	m.IsSKey, m.Flags = times.IsSKey, times.Flags
	if h&tagAddresses != 0 {
		m.Addresses = ccache.ReadAddresses(r.Reader)
		if r.Err() == nil && len(m.Addresses) == 0 {
			r.Fail("credential tag says it has addresses but has none")
		}
	}
	if h&tagAuthData != 0 {
		m.AuthData = ccache.ReadAuthData(r.Reader)
		if r.Err() == nil && len(m.AuthData) == 0 {
			r.Fail("credential tag says it has authorization data but has none")
		}
	}
	if h&tagTicket != 0 {
		m.Ticket = r.Data32("ticket", r.Len())
		if r.Err() == nil && len(m.Ticket) == 0 {
			r.Fail("credential tag has an empty ticket")
		}
	}
	if h&tagSecondTicket != 0 {
		m.SecondTicket = r.Data32("second ticket", r.Len())
		if r.Err() == nil && len(m.SecondTicket) == 0 {
			r.Fail("credential tag has an empty second ticket")
		}
	}
	return m
}

// DecodeRequest decodes a request without its length prefix. It checks
// the size, the protocol version, every length and count, and that nothing
// follows the arguments of the opcodes it decodes.
func DecodeRequest(b []byte) (*Request, error) {
	if len(b) > MaxRequestSize {
		return nil, fmt.Errorf("%w: request of %d bytes, more than %d", ErrMalformed, len(b), MaxRequestSize)
	}
	r := newReader(b)
	major, minor := r.U8("major version"), r.U8("minor version")
	req := &Request{Op: Op(r.U16("opcode"))}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if major != ProtocolMajor {
		return nil, fmt.Errorf("%w: protocol version %d.%d, want %d.x", ErrMalformed, major, minor, ProtocolMajor)
	}
	if !known(req.Op) {
		req.Raw = bytes.Clone(r.peekAll())
		return req, nil
	}
	if namesCache(req.Op) {
		req.Name = r.name()
	}
	switch req.Op {
	case OpInitialize:
		req.Principal = r.principal("principal")
	case OpStore:
		req.Credential = r.credential()
	case OpRetrieve, OpRemoveCred:
		req.Flags = r.U32("flags")
		req.Match = r.match()
	case OpGetCredByUUID, OpGetCacheByUUID:
		req.UUID = r.uuid()
	case OpSetKDCOffset:
		req.Offset = int32(r.U32("KDC offset"))
	case OpReplace:
		req.Offset = int32(r.U32("KDC offset"))
		req.Principal = r.principal("principal")
		req.Credentials = r.credentials()
	}
	if r.Err() == nil && r.Len() != 0 {
		r.Fail("%d bytes after the arguments of %s", r.Len(), req.Op)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, req.Op, err)
	}
	return req, nil
}

type writer struct {
	b   []byte
	err error
}

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *writer) name(s string) {
	if len(s) > MaxNameLen || bytes.IndexByte([]byte(s), 0) >= 0 {
		w.fail(fmt.Errorf("kcm: cache name %q is longer than %d bytes or holds a NUL byte", s, MaxNameLen))
	}
	w.b = append(append(w.b, s...), 0)
}

func (w *writer) principal(p krb5.Principal) {
	b, err := ccache.AppendPrincipal(w.b, p)
	if err != nil {
		w.fail(err)
	}
	w.b = b
}

func (w *writer) credential(c *ccache.Credential) {
	if c == nil {
		w.fail(errors.New("kcm: missing credential"))
		return
	}
	// Room first, so that appending the session key never moves the
	// buffer and leaves a copy of what it held behind.
	n := 1024 + len(c.Key) + len(c.Ticket) + len(c.SecondTicket)
	for _, a := range c.Addresses {
		n += 8 + len(a.Data)
	}
	for _, a := range c.AuthData {
		n += 8 + len(a.Data)
	}
	w.reserve(n)
	b, err := ccache.AppendCredential(w.b, c)
	if err != nil {
		w.fail(err)
	}
	w.b = b
}

// reserve makes room for n more bytes, zeroing the buffer it leaves: a
// message may hold session keys.
func (w *writer) reserve(n int) {
	if cap(w.b)-len(w.b) >= n {
		return
	}
	nb := make([]byte, len(w.b), 2*(len(w.b)+n))
	copy(nb, w.b)
	clear(w.b)
	w.b = nb
}

func (w *writer) credentials(cs []ccache.Credential) {
	if len(cs) > MaxListCredentials {
		w.fail(fmt.Errorf("kcm: %d credentials, more than %d", len(cs), MaxListCredentials))
	}
	w.u32(uint32(len(cs)))
	for i := range cs {
		at := len(w.b)
		w.u32(0)
		w.credential(&cs[i])
		binary.BigEndian.PutUint32(w.b[at:], uint32(len(w.b)-at-4))
	}
}

func (w *writer) data(v []byte) {
	if uint64(len(v)) > math.MaxUint32 {
		w.fail(errors.New("kcm: field longer than 4 GiB"))
	}
	w.u32(uint32(len(v)))
	w.b = append(w.b, v...)
}

func (w *writer) time(what string, t time.Time) {
	s, err := mitfile.ToUnix32(what, t)
	if err != nil {
		w.fail(fmt.Errorf("kcm: %w", err))
	}
	w.u32(s)
}

func (w *writer) match(m *Match) {
	if m == nil {
		w.fail(errors.New("kcm: missing credential tag"))
		return
	}
	var h uint32
	if m.Client != nil {
		h |= tagClient
	}
	if m.Server != nil {
		h |= tagServer
	}
	if m.KeyType != 0 {
		h |= tagKey
	}
	if len(m.Ticket) > 0 {
		h |= tagTicket
	}
	if len(m.SecondTicket) > 0 {
		h |= tagSecondTicket
	}
	if len(m.AuthData) > 0 {
		h |= tagAuthData
	}
	if len(m.Addresses) > 0 {
		h |= tagAddresses
	}
	w.u32(h)
	if m.Client != nil {
		w.principal(*m.Client)
	}
	if m.Server != nil {
		w.principal(*m.Server)
	}
	if m.KeyType != 0 {
		if m.KeyType < math.MinInt16 || m.KeyType > math.MaxInt16 {
			w.fail(fmt.Errorf("kcm: encryption type %d does not fit in 16 bits", int32(m.KeyType)))
		}
		w.u16(uint16(int16(m.KeyType)))
		w.data(m.Key)
	}
	w.time("authtime", m.AuthTime)
	w.time("starttime", m.StartTime)
	w.time("endtime", m.EndTime)
	w.time("renew-till", m.RenewTill)
	if m.IsSKey {
		w.u8(1)
	} else {
		w.u8(0)
	}
	w.u32(uint32(m.Flags))
	if len(m.Addresses) > 0 {
		w.u32(uint32(len(m.Addresses)))
		for _, a := range m.Addresses {
			w.u16(a.Type)
			w.data(a.Data)
		}
	}
	if len(m.AuthData) > 0 {
		w.u32(uint32(len(m.AuthData)))
		for _, a := range m.AuthData {
			w.u16(a.Type)
			w.data(a.Data)
		}
	}
	if len(m.Ticket) > 0 {
		w.data(m.Ticket)
	}
	if len(m.SecondTicket) > 0 {
		w.data(m.SecondTicket)
	}
}

// Marshal encodes the request without its length prefix.
func (req *Request) Marshal() ([]byte, error) {
	w := &writer{}
	w.u8(ProtocolMajor)
	w.u8(ProtocolMinor)
	w.u16(uint16(req.Op))
	if !known(req.Op) {
		w.b = append(w.b, req.Raw...)
	} else if namesCache(req.Op) {
		w.name(req.Name)
	}
	switch req.Op {
	case OpInitialize:
		w.principal(req.Principal)
	case OpStore:
		w.credential(req.Credential)
	case OpRetrieve, OpRemoveCred:
		w.u32(req.Flags)
		w.match(req.Match)
	case OpGetCredByUUID, OpGetCacheByUUID:
		w.b = append(w.b, req.UUID[:]...)
	case OpSetKDCOffset:
		w.u32(uint32(req.Offset))
	case OpReplace:
		w.u32(uint32(req.Offset))
		w.principal(req.Principal)
		w.credentials(req.Credentials)
	}
	if w.err == nil && len(w.b) > MaxRequestSize {
		w.err = fmt.Errorf("kcm: %s request of %d bytes, more than %d", req.Op, len(w.b), MaxRequestSize)
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// Marshal encodes the reply to a request with opcode op: the status code
// and, on success, the results.
func (rep *Reply) Marshal(op Op) ([]byte, error) {
	w := &writer{}
	w.u32(uint32(rep.Status))
	if rep.Status != StatusOK {
		return w.b, nil
	}
	switch op {
	case OpGenNew, OpGetCacheByUUID, OpGetDefaultCache:
		w.name(rep.Name)
	case OpGetPrincipal:
		w.principal(rep.Principal)
	case OpRetrieve, OpGetCredByUUID:
		w.credential(rep.Credential)
	case OpGetCredUUIDList, OpGetCacheUUIDList:
		for _, u := range rep.UUIDs {
			w.b = append(w.b, u[:]...)
		}
	case OpGetKDCOffset:
		w.u32(uint32(rep.Offset))
	case OpGetCredList:
		w.credentials(rep.Credentials)
	default:
		if !known(op) {
			w.b = append(w.b, rep.Raw...)
		}
	}
	if w.err == nil && len(w.b) > MaxReplySize {
		w.err = fmt.Errorf("kcm: %s reply of %d bytes, more than %d", op, len(w.b), MaxReplySize)
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// DecodeReply decodes the reply (status code and results, without the
// framing) to a request with opcode op.
func DecodeReply(op Op, b []byte) (*Reply, error) {
	if len(b) > MaxReplySize {
		return nil, fmt.Errorf("%w: reply of %d bytes, more than %d", ErrMalformed, len(b), MaxReplySize)
	}
	r := newReader(b)
	rep := &Reply{Status: Status(int32(r.U32("status")))}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if rep.Status != StatusOK {
		return rep, nil
	}
	switch op {
	case OpGenNew, OpGetCacheByUUID, OpGetDefaultCache:
		rep.Name = r.name()
	case OpGetPrincipal:
		if r.Len() == 0 { // Heimdal's answer for a cache without a principal
			rep.Status = ErrNoCache
			return rep, nil
		}
		rep.Principal = r.principal("principal")
	case OpRetrieve, OpGetCredByUUID:
		rep.Credential = r.credential()
	case OpGetCredUUIDList, OpGetCacheUUIDList:
		rep.UUIDs = r.uuids()
	case OpGetKDCOffset:
		rep.Offset = int32(r.U32("KDC offset"))
	case OpGetCredList:
		rep.Credentials = r.credentials()
	default:
		if !known(op) {
			rep.Raw = bytes.Clone(r.Bytes(uint64(r.Len()), "results"))
		}
	}
	if r.Err() == nil && r.Len() != 0 {
		r.Fail("%d bytes after the results of %s", r.Len(), op)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s reply: %v", ErrMalformed, op, err)
	}
	return rep, nil
}

// readFrame reads a 32-bit length and that many bytes, refusing more than max.
func readFrame(rd io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: message of %d bytes, more than %d", ErrMalformed, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, fmt.Errorf("kcm: read a message of %d bytes: %w", n, err)
	}
	return b, nil
}

// writeRequest writes a request with its length prefix.
func writeRequest(w io.Writer, req []byte) error {
	_, err := w.Write(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(req)), uint32(len(req))))
	if err == nil {
		_, err = w.Write(req)
	}
	return err
}

// writeReply writes a reply with its length prefix and transport status.
func writeReply(w io.Writer, rep []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(rep)))
	// Without copying rep, which the caller zeroes.
	bufs := net.Buffers{hdr[:], rep}
	_, err := bufs.WriteTo(w)
	return err
}

// readReply reads a reply's framing; a nonzero transport status is
// returned as the reply's status, as MIT's client does.
func readReply(rd io.Reader) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return nil, fmt.Errorf("kcm: read a reply: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if code := int32(binary.BigEndian.Uint32(hdr[4:])); code != 0 {
		return nil, Status(code)
	}
	if n > MaxReplySize {
		return nil, fmt.Errorf("%w: reply of %d bytes, more than %d", ErrMalformed, n, MaxReplySize)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, fmt.Errorf("kcm: read a reply of %d bytes: %w", n, err)
	}
	return b, nil
}
