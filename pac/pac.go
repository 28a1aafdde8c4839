package pac

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/sid"
)

// Buffer types ([MS-PAC] §2.4).
const (
	TypeLogonInfo      = 1
	TypeCredentials    = 2
	TypeServerChecksum = 6
	TypeKDCChecksum    = 7
	TypeClientInfo     = 10
	TypeDelegationInfo = 11
	TypeUPNDNSInfo     = 12
	TypeClientClaims   = 13
	TypeDeviceInfo     = 14
	TypeDeviceClaims   = 15
	TypeTicketChecksum = 16
	TypeAttributes     = 17
	TypeRequestor      = 18
	TypeFullChecksum   = 19
)

// SE_GROUP_* attributes of a group membership ([MS-PAC] §2.2.1,
// [MS-DTYP] §2.4.2.4).
const (
	GroupMandatory        = 0x00000001
	GroupEnabledByDefault = 0x00000002
	GroupEnabled          = 0x00000004
	GroupOwner            = 0x00000008
	GroupResource         = 0x20000000

	// GroupDefault is what Active Directory gives ordinary groups:
	// mandatory, enabled by default, enabled.
	GroupDefault = GroupMandatory | GroupEnabledByDefault | GroupEnabled
)

// UserFlags bits of KERB_VALIDATION_INFO ([MS-PAC] §2.5, [MS-NRPC] §2.2.1.4.11).
const (
	LogonExtraSIDs      = 0x00000020
	LogonResourceGroups = 0x00000200
)

// UserAccountControl bits of KERB_VALIDATION_INFO ([MS-SAMR] §2.2.1.12).
const (
	UserAccountDisabled            = 0x00000001
	UserNormalAccount              = 0x00000010
	UserWorkstationTrustAccount    = 0x00000080
	UserServerTrustAccount         = 0x00000100
	UserDontExpirePassword         = 0x00000200
	UserSmartcardRequired          = 0x00001000
	UserTrustedForDelegation       = 0x00002000
	UserNotDelegated               = 0x00004000
	UserUseDESKeyOnly              = 0x00008000
	UserDontRequirePreauth         = 0x00010000
	UserTrustedToAuthForDelegation = 0x00100000
	UserNoAuthDataRequired         = 0x00200000
)

// UPN_DNS_INFO flags ([MS-PAC] §2.10).
const (
	UPNConstructed     = 0x1 // U: the account has no userPrincipalName; the UPN was made up
	UPNHasSAMNameAndID = 0x2 // S: the SAM name and SID follow
)

// PAC_ATTRIBUTES_INFO flags ([MS-PAC] §2.14).
const (
	AttrPACWasRequested       = 0x1
	AttrPACWasGivenImplicitly = 0x2
)

// MaxBuffers bounds the number of buffers Parse accepts. Active Directory
// writes at most a dozen.
const MaxBuffers = 32

// maxNameLen bounds an encoded string, in bytes: RPC_UNICODE_STRING's
// MaximumLength is a 16-bit byte count, which may count a NUL.
const maxNameLen = 0xFFFC

var (
	// ErrMalformed is wrapped by the errors for PACs that do not decode.
	ErrMalformed = errors.New("pac: malformed PAC")
	// ErrBadSignature is wrapped by the errors for a missing required
	// signature, a checksum that does not match, or a checksum type that does
	// not fit the key.
	ErrBadSignature = errors.New("pac: bad PAC signature")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// GroupMembership is a GROUP_MEMBERSHIP ([MS-PAC] §2.2.2): a group's RID in the
// logon domain (or the resource domain) and its SE_GROUP_* attributes.
type GroupMembership struct {
	RID        uint32
	Attributes uint32
}

// SIDAndAttributes is a KERB_SID_AND_ATTRIBUTES ([MS-PAC] §2.2.1).
type SIDAndAttributes struct {
	SID        sid.SID
	Attributes uint32
}

// ValidationInfo is KERB_VALIDATION_INFO ([MS-PAC] §2.5). Times are zero for
// "never" (0x7FFFFFFFFFFFFFFF on the wire, as Active Directory writes it).
// The fields of the structure that Kerberos PACs leave zero (UserSessionKey,
// SubAuthStatus, LastSuccessfulILogon, LastFailedILogon, FailedILogonCount,
// the reserved fields) are written as zero and ignored when read.
type ValidationInfo struct {
	LogonTime, LogoffTime, KickOffTime                     time.Time
	PasswordLastSet, PasswordCanChange, PasswordMustChange time.Time

	EffectiveName, FullName, LogonScript, ProfilePath, HomeDirectory, HomeDirectoryDrive string

	LogonCount, BadPasswordCount uint16
	UserID, PrimaryGroupID       uint32
	Groups                       []GroupMembership

	// UserFlags: Marshal sets LogonExtraSIDs exactly when ExtraSIDs is not
	// empty and LogonResourceGroups exactly when ResourceGroups is not empty,
	// whatever the field holds; Parse returns the flags as received.
	UserFlags uint32

	LogonServer, LogonDomainName string
	LogonDomainID                sid.SID

	UserAccountControl uint32

	// ExtraSIDs are SIDs outside the logon domain, for instance S-1-18-1
	// (authentication authority asserted identity) or S-1-18-2 (service
	// asserted identity, MS-SFU §3.2.5.1.2).
	ExtraSIDs []SIDAndAttributes

	// ResourceGroupDomainSID and ResourceGroups are the domain-local groups
	// of the resource domain; ResourceGroups needs ResourceGroupDomainSID.
	ResourceGroupDomainSID *sid.SID
	ResourceGroups         []GroupMembership
}

// ClientInfo is PAC_CLIENT_INFO ([MS-PAC] §2.7).
type ClientInfo struct {
	ClientID time.Time // the ticket's authtime
	Name     string    // the client's name, without the realm
}

// UPNDNSInfo is UPN_DNS_INFO ([MS-PAC] §2.10). Marshal writes the extended
// form (flag UPNHasSAMNameAndID) exactly when SAMName or SID is set.
type UPNDNSInfo struct {
	UPN, DNSDomainName string
	Flags              uint32
	SAMName            string
	SID                *sid.SID
}

// Attributes is PAC_ATTRIBUTES_INFO ([MS-PAC] §2.14).
type Attributes struct {
	Flags uint32 // AttrPACWasRequested, AttrPACWasGivenImplicitly
}

// Requestor is PAC_REQUESTOR ([MS-PAC] §2.15): the SID of the client the TGT
// was issued to.
type Requestor struct {
	SID sid.SID
}

// DelegationInfo is S4U_DELEGATION_INFO ([MS-PAC] §2.9).
type DelegationInfo struct {
	S4U2ProxyTarget   string
	TransitedServices []string
}

// Signature is PAC_SIGNATURE_DATA ([MS-PAC] §2.8). An empty Value is written
// as zeros of the checksum type's length.
type Signature struct {
	Type           krb5.ChecksumType
	Value          []byte
	RODCIdentifier []byte // the trailer after the checksum, kept as received
}

// RawBuffer is a PAC buffer this package does not decode.
type RawBuffer struct {
	Type uint32
	Data []byte
}

// PAC is a decoded PAC. Nil fields are absent buffers.
type PAC struct {
	LogonInfo      *ValidationInfo
	ClientInfo     *ClientInfo
	UPNDNSInfo     *UPNDNSInfo
	Attributes     *Attributes
	Requestor      *Requestor
	DelegationInfo *DelegationInfo

	ServerChecksum, KDCChecksum, TicketChecksum, FullChecksum *Signature

	// Other holds the buffers of other types (credentials, claims, device
	// information, unknown types), byte for byte.
	Other []RawBuffer
}

// decoded reports whether buffers of type t have a field of their own in PAC.
func decoded(t uint32) bool {
	switch t {
	case TypeLogonInfo, TypeClientInfo, TypeUPNDNSInfo, TypeAttributes, TypeRequestor,
		TypeDelegationInfo, TypeServerChecksum, TypeKDCChecksum, TypeTicketChecksum, TypeFullChecksum:
		return true
	}
	return false
}

// infoBuffer is one PAC_INFO_BUFFER: where a buffer is in the encoding.
type infoBuffer struct {
	typ  uint32
	size int
	off  int
}

const (
	pacTypeLen    = 8  // cBuffers, Version
	infoBufferLen = 16 // ulType, cbBufferSize, Offset
	sigHeaderLen  = 4  // SignatureType
)

var sigTypes = [...]uint32{TypeServerChecksum, TypeKDCChecksum, TypeTicketChecksum, TypeFullChecksum}

func align8(n int) int { return (n + 7) &^ 7 }

// Parse decodes a PAC. It checks the layout and decodes every buffer it
// knows; it checks no signature (see Verify).
func Parse(b []byte) (*PAC, error) {
	p, _, err := parse(b)
	return p, err
}

func parse(b []byte) (*PAC, []infoBuffer, error) {
	bufs, err := parseHeader(b)
	if err != nil {
		return nil, nil, err
	}
	p := new(PAC)
	for _, ib := range bufs {
		data := b[ib.off : ib.off+ib.size : ib.off+ib.size]
		if err := p.decodeBuffer(ib.typ, data); err != nil {
			return nil, nil, err
		}
	}
	return p, bufs, nil
}

// parseHeader decodes and checks PACTYPE and its PAC_INFO_BUFFERs.
func parseHeader(b []byte) ([]infoBuffer, error) {
	if len(b) < pacTypeLen {
		return nil, malformed("%d bytes is too short", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if v := binary.LittleEndian.Uint32(b[4:]); v != 0 {
		return nil, malformed("version %d, want 0", v)
	}
	if n == 0 || n > MaxBuffers {
		return nil, malformed("%d buffers (want 1 to %d)", n, MaxBuffers)
	}
	hdr := pacTypeLen + int(n)*infoBufferLen
	if len(b) < hdr {
		return nil, malformed("%d buffers do not fit in %d bytes", n, len(b))
	}
	bufs := make([]infoBuffer, n)
	for i := range bufs {
		e := b[pacTypeLen+i*infoBufferLen:]
		typ := binary.LittleEndian.Uint32(e)
		size := uint64(binary.LittleEndian.Uint32(e[4:]))
		off := binary.LittleEndian.Uint64(e[8:])
		if off%8 != 0 {
			return nil, malformed("buffer %d (type %d) at offset %d is not 8-byte aligned", i, typ, off)
		}
		if off < uint64(hdr) || off > uint64(len(b)) || size > uint64(len(b))-off {
			return nil, malformed("buffer %d (type %d) of %d bytes at offset %d is outside the PAC", i, typ, size, off)
		}
		for _, prev := range bufs[:i] {
			if prev.typ == typ {
				return nil, malformed("two buffers of type %d", typ)
			}
		}
		bufs[i] = infoBuffer{typ: typ, size: int(size), off: int(off)}
	}
	sorted := slices.Clone(bufs)
	slices.SortFunc(sorted, func(a, b infoBuffer) int { return a.off - b.off })
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1].off+sorted[i-1].size > sorted[i].off {
			return nil, malformed("buffers of types %d and %d overlap", sorted[i-1].typ, sorted[i].typ)
		}
	}
	return bufs, nil
}

func (p *PAC) decodeBuffer(typ uint32, data []byte) error {
	var err error
	switch typ {
	case TypeLogonInfo:
		p.LogonInfo, err = parseValidationInfo(data)
	case TypeClientInfo:
		p.ClientInfo, err = parseClientInfo(data)
	case TypeUPNDNSInfo:
		p.UPNDNSInfo, err = parseUPNDNSInfo(data)
	case TypeAttributes:
		p.Attributes, err = parseAttributes(data)
	case TypeRequestor:
		p.Requestor, err = parseRequestor(data)
	case TypeDelegationInfo:
		p.DelegationInfo, err = parseDelegationInfo(data)
	case TypeServerChecksum:
		p.ServerChecksum, err = parseSignature(data)
	case TypeKDCChecksum:
		p.KDCChecksum, err = parseSignature(data)
	case TypeTicketChecksum:
		p.TicketChecksum, err = parseSignature(data)
	case TypeFullChecksum:
		p.FullChecksum, err = parseSignature(data)
	default:
		p.Other = append(p.Other, RawBuffer{Type: typ, Data: slices.Clone(data)})
	}
	if err != nil {
		return fmt.Errorf("%w (buffer type %d)", err, typ)
	}
	return nil
}

// Marshal encodes p: the buffers in ascending order of type (the order of
// Windows Server 2022), each 8-byte aligned.
// Signature buffers are sized for their checksum type and hold their Value,
// or zeros when it is empty; Sign fills them in.
func (p *PAC) Marshal() ([]byte, error) {
	b, _, err := p.encode()
	return b, err
}

type encodedBuffer struct {
	typ  uint32
	data []byte
}

func (p *PAC) encode() ([]byte, []infoBuffer, error) {
	var list []encodedBuffer
	add := func(typ uint32, data []byte, err error) error {
		if err != nil {
			return fmt.Errorf("pac: encode buffer type %d: %w", typ, err)
		}
		list = append(list, encodedBuffer{typ, data})
		return nil
	}
	seen := make(map[uint32]bool)
	for _, o := range p.Other {
		if decoded(o.Type) {
			return nil, nil, fmt.Errorf("pac: Other holds a buffer of type %d, which has its own field", o.Type)
		}
		if seen[o.Type] {
			return nil, nil, fmt.Errorf("pac: Other holds two buffers of type %d", o.Type)
		}
		seen[o.Type] = true
		list = append(list, encodedBuffer{o.Type, o.Data})
	}
	var err error
	if p.LogonInfo != nil {
		b, e := p.LogonInfo.marshal()
		err = errors.Join(err, add(TypeLogonInfo, b, e))
	}
	if p.ClientInfo != nil {
		b, e := p.ClientInfo.marshal()
		err = errors.Join(err, add(TypeClientInfo, b, e))
	}
	if p.DelegationInfo != nil {
		b, e := p.DelegationInfo.marshal()
		err = errors.Join(err, add(TypeDelegationInfo, b, e))
	}
	if p.UPNDNSInfo != nil {
		b, e := p.UPNDNSInfo.marshal()
		err = errors.Join(err, add(TypeUPNDNSInfo, b, e))
	}
	if p.Attributes != nil {
		err = errors.Join(err, add(TypeAttributes, p.Attributes.marshal(), nil))
	}
	if p.Requestor != nil {
		err = errors.Join(err, add(TypeRequestor, p.Requestor.SID.Bytes(), nil))
	}
	for i, s := range []*Signature{p.ServerChecksum, p.KDCChecksum, p.TicketChecksum, p.FullChecksum} {
		if s != nil {
			b, e := s.marshal()
			err = errors.Join(err, add(sigTypes[i], b, e))
		}
	}
	if err != nil {
		return nil, nil, err
	}
	// Ascending type order, as Windows Server 2022 writes its PACs.
	slices.SortFunc(list, func(a, b encodedBuffer) int { return cmp.Compare(a.typ, b.typ) })
	if len(list) == 0 {
		return nil, nil, errors.New("pac: no buffers")
	}
	if len(list) > MaxBuffers {
		return nil, nil, fmt.Errorf("pac: %d buffers, at most %d", len(list), MaxBuffers)
	}
	hdr := pacTypeLen + len(list)*infoBufferLen
	total := hdr
	for _, e := range list {
		if uint64(len(e.data)) > 0xFFFFFFFF {
			return nil, nil, fmt.Errorf("pac: buffer type %d is too large", e.typ)
		}
		total += align8(len(e.data))
	}
	out := make([]byte, total)
	binary.LittleEndian.PutUint32(out, uint32(len(list)))
	binary.LittleEndian.PutUint32(out[4:], 0)
	infos := make([]infoBuffer, len(list))
	off := hdr
	for i, e := range list {
		h := out[pacTypeLen+i*infoBufferLen:]
		binary.LittleEndian.PutUint32(h, e.typ)
		binary.LittleEndian.PutUint32(h[4:], uint32(len(e.data)))
		binary.LittleEndian.PutUint64(h[8:], uint64(off))
		copy(out[off:], e.data)
		infos[i] = infoBuffer{typ: e.typ, size: len(e.data), off: off}
		off += align8(len(e.data))
	}
	return out, infos, nil
}

// parseSignature decodes PAC_SIGNATURE_DATA. The checksum's length comes
// from its type; what follows it is the RODCIdentifier. A type this package
// does not know takes the whole rest of the buffer as its value.
func parseSignature(b []byte) (*Signature, error) {
	if len(b) < sigHeaderLen {
		return nil, malformed("signature buffer of %d bytes", len(b))
	}
	s := &Signature{Type: krb5.ChecksumType(int32(binary.LittleEndian.Uint32(b)))}
	rest := b[sigHeaderLen:]
	n, ok := crypto.ChecksumSize(s.Type)
	if !ok {
		n = len(rest)
	}
	if n > len(rest) {
		return nil, malformed("signature of type %d needs %d bytes, has %d", s.Type, n, len(rest))
	}
	s.Value = slices.Clone(rest[:n])
	if len(rest) > n {
		s.RODCIdentifier = slices.Clone(rest[n:])
	}
	return s, nil
}

func (s *Signature) marshal() ([]byte, error) {
	n := len(s.Value)
	if n == 0 {
		var ok bool
		if n, ok = crypto.ChecksumSize(s.Type); !ok {
			return nil, fmt.Errorf("unknown checksum type %d and no value", s.Type)
		}
	} else if want, ok := crypto.ChecksumSize(s.Type); ok && want != n {
		return nil, fmt.Errorf("checksum of type %d has %d bytes, want %d", s.Type, n, want)
	}
	b := make([]byte, sigHeaderLen+n, sigHeaderLen+n+len(s.RODCIdentifier))
	binary.LittleEndian.PutUint32(b, uint32(int32(s.Type)))
	copy(b[sigHeaderLen:], s.Value)
	return append(b, s.RODCIdentifier...), nil
}
