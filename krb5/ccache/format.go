package ccache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"hop/krb5"
	"hop/krb5/internal/mitfile"
)

// ErrMalformed is wrapped by every error Parse returns for bad input.
var ErrMalformed = errors.New("ccache: malformed file")

const (
	fileVersionBase = 0x0500
	tagDeltaTime    = 1
)

// ReadPrincipal reads a principal as the format stores it: name type,
// component count, realm, components, each string counted by 32 bits.
// Heimdal's KCM protocol (krb5/kcm) marshals principals the same way; what
// names the principal in the error r records.
func ReadPrincipal(r *mitfile.Reader, what string) krb5.Principal {
	var p krb5.Principal
	p.Name.Type = krb5.NameType(int32(r.U32(what + " name type")))
	n := r.U32(what + " component count")
	if r.Err() == nil && n > krb5.MaxNameComponents {
		r.Fail("%s has %d components, more than %d", what, n, krb5.MaxNameComponents)
	}
	p.Realm = krb5.Realm(r.Data32(what+" realm", krb5.MaxComponentLen))
	if r.Err() != nil {
		return krb5.Principal{}
	}
	if n > 0 {
		p.Name.Components = make([]string, 0, n)
	}
	for range n {
		c := r.Data32(what+" name component", krb5.MaxComponentLen)
		if r.Err() != nil {
			return krb5.Principal{}
		}
		p.Name.Components = append(p.Name.Components, string(c))
	}
	return p
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
	r := mitfile.NewReader(b[2:], binary.BigEndian)
	if c.Version == 4 {
		if err := c.parseHeader(r); err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
		}
	}
	c.Default = ReadPrincipal(r, "default principal")
	if r.Err() == nil && c.Default.Name.IsZero() {
		r.Fail("the default principal has no name")
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, r.Err())
	}
	for r.Len() > 0 {
		off := len(b) - r.Len()
		cred := parseCredential(r, c.Version)
		if r.Err() != nil {
			return nil, fmt.Errorf("%w: credential %d at offset %d: %v", ErrMalformed, len(c.Credentials), off, r.Err())
		}
		c.Credentials = append(c.Credentials, cred)
	}
	return c, nil
}

func (c *Cache) parseHeader(r *mitfile.Reader) error {
	hr := r.Sub(uint64(r.U16("header length")), "header")
	if r.Err() != nil {
		return r.Err()
	}
	for hr.Len() > 0 {
		tag := hr.U16("field tag")
		val := hr.Sub(uint64(hr.U16("field length")), "field")
		if hr.Err() != nil {
			return hr.Err()
		}
		if tag != tagDeltaTime {
			continue // unknown fields are ignored, as the format asks
		}
		if val.Len() != 8 {
			return fmt.Errorf("deltatime field is %d bytes, want 8", val.Len())
		}
		sec, usec := int32(val.U32("seconds")), int32(val.U32("microseconds"))
		if usec <= -1e6 || usec >= 1e6 {
			return fmt.Errorf("deltatime has %d microseconds", usec)
		}
		c.TimeOffset = time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		c.HasTimeOffset = true
	}
	return nil
}

// ReadTimes reads the fields of a credential from authtime to the ticket
// flags (the four times, is_skey, the flags) into c; the KCM protocol's
// credential tag (krb5/kcm) has them in the same encoding.
func ReadTimes(r *mitfile.Reader, c *Credential) {
	c.AuthTime = mitfile.FromUnix32(r.U32("authtime"))
	c.StartTime = mitfile.FromUnix32(r.U32("starttime"))
	c.EndTime = mitfile.FromUnix32(r.U32("endtime"))
	c.RenewTill = mitfile.FromUnix32(r.U32("renew-till"))
	switch skey := r.U8("is_skey"); skey {
	case 0:
	case 1:
		c.IsSKey = true
	default:
		r.Fail("is_skey is %d, want 0 or 1", skey)
	}
	c.Flags = krb5.Flags(r.U32("ticket flags"))
}

// ReadAddresses reads a counted list of client addresses.
func ReadAddresses(r *mitfile.Reader) []Address {
	n := r.Count("addresses", 6)
	if n == 0 {
		return nil
	}
	out := make([]Address, 0, n)
	for range n {
		a := Address{Type: r.U16("address type"), Data: r.Data32("address", r.Len())}
		if r.Err() != nil {
			break
		}
		out = append(out, a)
	}
	return out
}

// ReadAuthData reads a counted list of authorization data.
func ReadAuthData(r *mitfile.Reader) []AuthData {
	n := r.Count("authorization data", 6)
	if n == 0 {
		return nil
	}
	out := make([]AuthData, 0, n)
	for range n {
		a := AuthData{Type: r.U16("authorization data type"), Data: r.Data32("authorization data", r.Len())}
		if r.Err() != nil {
			break
		}
		out = append(out, a)
	}
	return out
}

// ReadCredential reads one credential in the encoding of format version 4,
// which is also how the KCM protocol (krb5/kcm) carries credentials.
func ReadCredential(r *mitfile.Reader) Credential { return parseCredential(r, 4) }

func parseCredential(r *mitfile.Reader, version int) Credential {
	var c Credential
	c.Client = ReadPrincipal(r, "client")
	c.Server = ReadPrincipal(r, "server")
	c.KeyType = krb5.EncType(int16(r.U16("key type")))
	if version == 3 {
		r.U16("key type") // version 3 repeats it; MIT ignores the copy
	}
	c.Key = r.Data32("key", r.Len())
	ReadTimes(r, &c)
	c.Addresses = ReadAddresses(r)
	c.AuthData = ReadAuthData(r)
	c.Ticket = r.Data32("ticket", r.Len())
	c.SecondTicket = r.Data32("second ticket", r.Len())
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

// AppendPrincipal appends p as the format (and the KCM protocol) stores it.
func AppendPrincipal(b []byte, p krb5.Principal) ([]byte, error) {
	w := &writer{b: b}
	w.principal(p)
	if w.err != nil {
		return b, fmt.Errorf("ccache: principal %s: %w", p, w.err)
	}
	return w.b, nil
}

// AppendCredential appends c in the encoding of format version 4, which is
// also how the KCM protocol carries credentials.
func AppendCredential(b []byte, c *Credential) ([]byte, error) {
	w := &writer{b: b}
	w.credential(c, 4)
	if w.err != nil {
		return b, fmt.Errorf("ccache: credential %s: %w", c, w.err)
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
	s, err := mitfile.ToUnix32("time", t)
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

// DecodeCredential decodes one credential in the encoding of format
// version 4 (AppendCredential's), which must be all of b. The result
// shares no memory with b.
func DecodeCredential(b []byte) (Credential, error) {
	buf := bytes.Clone(b)
	r := mitfile.NewReader(buf, binary.BigEndian)
	c := ReadCredential(r)
	// Every field was copied out; the copy of b held the session key.
	clear(buf)
	if r.Err() == nil && r.Len() != 0 {
		r.Fail("%d bytes after the credential", r.Len())
	}
	if err := r.Err(); err != nil {
		return Credential{}, fmt.Errorf("ccache: %w", err)
	}
	return c, nil
}
