package ccache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"hop/krb5"
)

// ErrMalformed is wrapped by every error Parse returns for bad input.
var ErrMalformed = errors.New("ccache: malformed file")

const (
	fileVersionBase = 0x0500
	tagDeltaTime    = 1
)

// reader walks big-endian fields of a byte slice; its first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) bytes(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("%s: truncated", what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) uint8 {
	if b := r.bytes(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if b := r.bytes(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.bytes(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// data reads a uint32-counted string of at most limit bytes and copies it;
// an empty string reads as nil.
func (r *reader) data(what string, limit int) []byte {
	n := r.u32(what + " length")
	if r.err == nil && uint64(n) > uint64(limit) {
		r.fail("%s is %d bytes, more than %d", what, n, limit)
	}
	b := r.bytes(uint64(n), what)
	if len(b) == 0 {
		return nil // absent and empty read alike, as nil
	}
	return append([]byte(nil), b...)
}

func (r *reader) principal(what string) krb5.Principal {
	var p krb5.Principal
	p.Name.Type = krb5.NameType(int32(r.u32(what + " name type")))
	n := r.u32(what + " component count")
	if r.err == nil && n > krb5.MaxNameComponents {
		r.fail("%s has %d components, more than %d", what, n, krb5.MaxNameComponents)
	}
	p.Realm = krb5.Realm(r.data(what+" realm", krb5.MaxComponentLen))
	if r.err != nil {
		return krb5.Principal{}
	}
	if n > 0 {
		p.Name.Components = make([]string, 0, n)
	}
	for range n {
		c := r.data(what+" name component", krb5.MaxComponentLen)
		if r.err != nil {
			return krb5.Principal{}
		}
		p.Name.Components = append(p.Name.Components, string(c))
	}
	return p
}

// count reads a uint32 element count, each element taking at least size bytes.
func (r *reader) count(what string, size int) int {
	n := r.u32(what + " count")
	if r.err == nil && uint64(n)*uint64(size) > uint64(len(r.b)) {
		r.fail("%d %s do not fit in the %d bytes left", n, what, len(r.b))
		return 0
	}
	return int(n)
}

// Parse decodes a credential cache file of format version 3 or 4.
func Parse(b []byte) (*Cache, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: file is shorter than its version number", ErrMalformed)
	}
	c := &Cache{}
	switch v := binary.BigEndian.Uint16(b); v {
	case fileVersionBase + 3, fileVersionBase + 4:
		c.Version = int(v - fileVersionBase)
	case fileVersionBase + 1, fileVersionBase + 2:
		return nil, fmt.Errorf("%w: format version %d (host byte order, before MIT krb5 1.0) is not supported", ErrMalformed, v-fileVersionBase)
	default:
		return nil, fmt.Errorf("%w: unknown version 0x%04x (not a FILE: credential cache?)", ErrMalformed, v)
	}
	r := &reader{b: b[2:]}
	if c.Version == 4 {
		if err := c.parseHeader(r); err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
	}
	c.Default = r.principal("default principal")
	if r.err == nil && c.Default.Name.IsZero() {
		r.fail("the default principal has no name")
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, r.err)
	}
	for len(r.b) > 0 {
		off := len(b) - len(r.b)
		cred := parseCredential(r, c.Version)
		if r.err != nil {
			return nil, fmt.Errorf("%w: credential %d at offset %d: %v", ErrMalformed, len(c.Credentials), off, r.err)
		}
		c.Credentials = append(c.Credentials, cred)
	}
	return c, nil
}

func (c *Cache) parseHeader(r *reader) error {
	hr := &reader{b: r.bytes(uint64(r.u16("header length")), "header")}
	if r.err != nil {
		return r.err
	}
	for len(hr.b) > 0 {
		tag := hr.u16("field tag")
		val := &reader{b: hr.bytes(uint64(hr.u16("field length")), "field")}
		if hr.err != nil {
			return hr.err
		}
		if tag != tagDeltaTime {
			continue // unknown fields are ignored, as the format asks
		}
		if len(val.b) != 8 {
			return fmt.Errorf("deltatime field is %d bytes, want 8", len(val.b))
		}
		sec, usec := int32(val.u32("seconds")), int32(val.u32("microseconds"))
		if usec <= -1e6 || usec >= 1e6 {
			return fmt.Errorf("deltatime has %d microseconds", usec)
		}
		c.TimeOffset = time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		c.HasTimeOffset = true
	}
	return nil
}

func parseCredential(r *reader, version int) Credential {
	var c Credential
	c.Client = r.principal("client")
	c.Server = r.principal("server")
	c.KeyType = krb5.EncType(int16(r.u16("key type")))
	if version == 3 {
		r.u16("key type") // version 3 repeats it; MIT ignores the copy
	}
	c.Key = r.data("key", len(r.b))
	c.AuthTime = fromUnix32(r.u32("authtime"))
	c.StartTime = fromUnix32(r.u32("starttime"))
	c.EndTime = fromUnix32(r.u32("endtime"))
	c.RenewTill = fromUnix32(r.u32("renew-till"))
	switch skey := r.u8("is_skey"); skey {
	case 0:
	case 1:
		c.IsSKey = true
	default:
		r.fail("is_skey is %d, want 0 or 1", skey)
	}
	c.Flags = krb5.Flags(r.u32("ticket flags"))
	if n := r.count("addresses", 6); n > 0 {
		c.Addresses = make([]Address, 0, n)
		for range n {
			a := Address{Type: r.u16("address type"), Data: r.data("address", len(r.b))}
			if r.err != nil {
				break
			}
			c.Addresses = append(c.Addresses, a)
		}
	}
	if n := r.count("authorization data", 6); n > 0 {
		c.AuthData = make([]AuthData, 0, n)
		for range n {
			a := AuthData{Type: r.u16("authorization data type"), Data: r.data("authorization data", len(r.b))}
			if r.err != nil {
				break
			}
			c.AuthData = append(c.AuthData, a)
		}
	}
	c.Ticket = r.data("ticket", len(r.b))
	c.SecondTicket = r.data("second ticket", len(r.b))
	return c
}

// Marshal encodes the cache in format version 4 (or 3 if c.Version is 3).
func (c *Cache) Marshal() ([]byte, error) {
	version := c.Version
	switch version {
	case 0:
		version = 4
	case 3, 4:
	default:
		return nil, fmt.Errorf("ccache: cannot write format version %d (use 4)", c.Version)
	}
	if c.Default.Name.IsZero() {
		return nil, errors.New("ccache: the cache has no default principal")
	}
	w := &writer{}
	w.u16(uint16(fileVersionBase + version))
	if version == 4 {
		if c.HasTimeOffset {
			sec := c.TimeOffset / time.Second
			usec := (c.TimeOffset % time.Second) / time.Microsecond
			if sec < math.MinInt32 || sec > math.MaxInt32 {
				return nil, fmt.Errorf("ccache: time offset %s does not fit in 32 bits", c.TimeOffset)
			}
			w.u16(12)
			w.u16(tagDeltaTime)
			w.u16(8)
			w.u32(uint32(int32(sec)))
			w.u32(uint32(int32(usec)))
		} else {
			w.u16(0)
		}
	}
	w.principal(c.Default)
	if w.err != nil {
		return nil, fmt.Errorf("ccache: default principal %s: %w", c.Default, w.err)
	}
	for i := range c.Credentials {
		w.credential(&c.Credentials[i], version)
		if w.err != nil {
			return nil, fmt.Errorf("ccache: credential %d (%s): %w", i, c.Credentials[i], w.err)
		}
	}
	return w.b, nil
}

type writer struct {
	b   []byte
	err error
}

func (w *writer) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *writer) data(what string, v []byte, limit uint64) {
	if uint64(len(v)) > limit && w.err == nil {
		w.err = fmt.Errorf("%s is %d bytes, more than %d", what, len(v), limit)
	}
	w.u32(uint32(len(v)))
	w.b = append(w.b, v...)
}

func (w *writer) principal(p krb5.Principal) {
	comps := p.Name.Components
	if len(comps) > krb5.MaxNameComponents && w.err == nil {
		w.err = fmt.Errorf("principal %s has %d components, more than %d", p, len(comps), krb5.MaxNameComponents)
	}
	w.u32(uint32(int32(p.Name.Type)))
	w.u32(uint32(len(comps)))
	w.data("realm", []byte(p.Realm), krb5.MaxComponentLen)
	for _, c := range comps {
		w.data("name component", []byte(c), krb5.MaxComponentLen)
	}
}

func (w *writer) time(what string, t time.Time) {
	s, err := toUnix32(t)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("%s: %w", what, err)
	}
	w.u32(s)
}

func (w *writer) credential(c *Credential, version int) {
	w.principal(c.Client)
	w.principal(c.Server)
	if (c.KeyType < math.MinInt16 || c.KeyType > math.MaxInt16) && w.err == nil {
		w.err = fmt.Errorf("encryption type %d does not fit in 16 bits", int32(c.KeyType))
	}
	w.u16(uint16(int16(c.KeyType)))
	if version == 3 {
		w.u16(uint16(int16(c.KeyType)))
	}
	w.data("key", c.Key, math.MaxUint32)
	w.time("authtime", c.AuthTime)
	w.time("starttime", c.StartTime)
	w.time("endtime", c.EndTime)
	w.time("renew-till", c.RenewTill)
	if c.IsSKey {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
	w.u32(uint32(c.Flags))
	w.u32(uint32(len(c.Addresses)))
	for _, a := range c.Addresses {
		w.u16(a.Type)
		w.data("address", a.Data, math.MaxUint32)
	}
	w.u32(uint32(len(c.AuthData)))
	for _, a := range c.AuthData {
		w.u16(a.Type)
		w.data("authorization data", a.Data, math.MaxUint32)
	}
	w.data("ticket", c.Ticket, math.MaxUint32)
	w.data("second ticket", c.SecondTicket, math.MaxUint32)
}

// fromUnix32 turns a stored time into a time.Time; 0 means absent.
func fromUnix32(s uint32) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

// toUnix32 is the inverse of fromUnix32; sub-second parts are dropped.
// MIT reads these fields as unsigned, so they reach 2106.
func toUnix32(t time.Time) (uint32, error) {
	if t.IsZero() {
		return 0, nil
	}
	s := t.Unix()
	if s < 0 || s > math.MaxUint32 {
		return 0, fmt.Errorf("time %s is outside 1970..2106", t.UTC().Format(time.RFC3339))
	}
	return uint32(s), nil
}
