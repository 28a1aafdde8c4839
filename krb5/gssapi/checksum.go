package gssapi

import (
	"crypto/md5"
	"encoding/binary"
	"strings"
)

// Flags are the GSS-API context flags (RFC 2744 §3.9 values), as the 0x8003
// checksum carries them (RFC 4121 §4.1.1.1).
type Flags uint32

// Context flags.
const (
	FlagDeleg         Flags = 1
	FlagMutual        Flags = 2
	FlagReplay        Flags = 4
	FlagSequence      Flags = 8
	FlagConf          Flags = 16
	FlagInteg         Flags = 32
	FlagAnon          Flags = 64
	FlagProtReady     Flags = 128
	FlagTrans         Flags = 256
	FlagDCEStyle      Flags = 0x1000
	FlagIdentify      Flags = 0x2000
	FlagExtendedError Flags = 0x4000
)

// initiatorFlags are the flags an acceptor takes from the checksum (as MIT
// krb5's INITIATOR_FLAGS); FlagDeleg is added when a credential arrives.
const initiatorFlags = FlagInteg | FlagConf | FlagMutual | FlagReplay | FlagSequence |
	FlagDCEStyle | FlagIdentify | FlagExtendedError

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagDeleg, "deleg"}, {FlagMutual, "mutual"}, {FlagReplay, "replay"}, {FlagSequence, "sequence"},
	{FlagConf, "conf"}, {FlagInteg, "integ"}, {FlagAnon, "anon"}, {FlagProtReady, "prot-ready"},
	{FlagTrans, "trans"}, {FlagDCEStyle, "dce-style"}, {FlagIdentify, "identify"},
	{FlagExtendedError, "extended-error"},
}

// String names the flags, comma separated.
func (f Flags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ",")
}

// ChannelBindings are RFC 2744 §3.11's channel bindings: addresses of the
// two ends (usually type 0, GSS_C_AF_UNSPEC, and empty) and application
// data, such as TLS channel binding data (RFC 5929, RFC 9266).
type ChannelBindings struct {
	InitiatorAddrType uint32
	InitiatorAddress  []byte
	AcceptorAddrType  uint32
	AcceptorAddress   []byte
	ApplicationData   []byte
}

// Hash is Bnd, the MD5 of the bindings that the 0x8003 checksum carries
// (RFC 4121 §4.1.1.2): each address type, address length and address, then
// the application data's length and bytes, integers as four little-endian
// octets. Nil bindings hash to zeros.
func (cb *ChannelBindings) Hash() [16]byte {
	if cb == nil {
		return [16]byte{}
	}
	h := md5.New()
	var n [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(n[:], v)
		h.Write(n[:])
	}
	put(cb.InitiatorAddrType)
	put(uint32(len(cb.InitiatorAddress)))
	h.Write(cb.InitiatorAddress)
	put(cb.AcceptorAddrType)
	put(uint32(len(cb.AcceptorAddress)))
	h.Write(cb.AcceptorAddress)
	put(uint32(len(cb.ApplicationData)))
	h.Write(cb.ApplicationData)
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// AuthenticatorChecksum is the value of the 0x8003 authenticator checksum
// (RFC 4121 §4.1.1).
type AuthenticatorChecksum struct {
	Bindings [16]byte // Bnd: ChannelBindings.Hash, or zeros
	Flags    Flags
	// Delegation is the KRB-CRED of a delegated credential (DlgOpt 1),
	// present only with FlagDeleg.
	Delegation []byte
	// Extensions follow (RFC 4121 §4.1.1: type and length big-endian).
	Extensions []Extension
}

// Extension is one extension of the 0x8003 checksum.
type Extension struct {
	Type uint32
	Data []byte
}

// MaxExtensions bounds the extensions ParseAuthenticatorChecksum accepts.
const MaxExtensions = 16

const (
	cbLen      = 16
	min8003Len = 4 + cbLen + 4
	dlgOpt     = 1 // KRB5_GSS_FOR_CREDS_OPTION
)

// ParseAuthenticatorChecksum decodes a 0x8003 checksum value. Like MIT
// krb5, it reads the delegation option only when FlagDeleg is set and at
// least four bytes follow the flags. The slices alias b.
func ParseAuthenticatorChecksum(b []byte) (*AuthenticatorChecksum, error) {
	if len(b) < min8003Len {
		return nil, defective("0x8003 checksum of %d bytes (at least %d)", len(b), min8003Len)
	}
	if n := binary.LittleEndian.Uint32(b); n != cbLen {
		return nil, defective("0x8003 checksum with channel bindings of length %d, not 16", n)
	}
	c := &AuthenticatorChecksum{Flags: Flags(binary.LittleEndian.Uint32(b[20:]))}
	copy(c.Bindings[:], b[4:20])
	rest := b[24:]
	if c.Flags&FlagDeleg != 0 && len(rest) >= 4 {
		opt := binary.LittleEndian.Uint16(rest)
		n := int(binary.LittleEndian.Uint16(rest[2:]))
		if opt != dlgOpt {
			return nil, defective("0x8003 checksum with delegation option %d, not 1", opt)
		}
		if len(rest)-4 < n {
			return nil, defective("0x8003 checksum: delegation of %d bytes, %d left", n, len(rest)-4)
		}
		c.Delegation = rest[4 : 4+n : 4+n]
		rest = rest[4+n:]
	}
	for len(rest) > 0 {
		if len(c.Extensions) == MaxExtensions {
			return nil, defective("0x8003 checksum with more than %d extensions", MaxExtensions)
		}
		if len(rest) < 8 {
			return nil, defective("0x8003 checksum: truncated extension header")
		}
		typ := binary.BigEndian.Uint32(rest)
		n := binary.BigEndian.Uint32(rest[4:])
		if uint64(n) > uint64(len(rest)-8) {
			return nil, defective("0x8003 checksum: extension of %d bytes, %d left", n, len(rest)-8)
		}
		c.Extensions = append(c.Extensions, Extension{Type: typ, Data: rest[8 : 8+n : 8+n]})
		rest = rest[8+n:]
	}
	return c, nil
}

// Marshal encodes c. The delegation option is written when Delegation is
// not nil (its length must fit 16 bits).
func (c *AuthenticatorChecksum) Marshal() ([]byte, error) {
	b := make([]byte, 0, min8003Len+4+len(c.Delegation))
	b = binary.LittleEndian.AppendUint32(b, cbLen)
	b = append(b, c.Bindings[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Flags))
	if c.Delegation != nil {
		if len(c.Delegation) > 0xffff {
			return nil, defective("delegated credential of %d bytes does not fit the 0x8003 checksum", len(c.Delegation))
		}
		b = binary.LittleEndian.AppendUint16(b, dlgOpt)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(c.Delegation)))
		b = append(b, c.Delegation...)
	}
	for _, e := range c.Extensions {
		b = binary.BigEndian.AppendUint32(b, e.Type)
		b = binary.BigEndian.AppendUint32(b, uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b, nil
}
