package pac

import (
	"encoding/binary"
	"errors"

	"hop/sid"
)

// clientInfoLen is the fixed part of PAC_CLIENT_INFO: ClientId and NameLength.
const clientInfoLen = 10

func (c *ClientInfo) marshal() ([]byte, error) {
	ft, err := toFileTime(c.ClientID)
	if err != nil {
		return nil, err
	}
	u, err := toUTF16(c.Name)
	if err != nil {
		return nil, err
	}
	b := make([]byte, clientInfoLen, clientInfoLen+2*len(u))
	binary.LittleEndian.PutUint64(b, ft)
	binary.LittleEndian.PutUint16(b[8:], uint16(2*len(u))) // NameLength, in bytes
	return appendUTF16(b, u), nil
}

// parseClientInfo decodes PAC_CLIENT_INFO ([MS-PAC] §2.7).
func parseClientInfo(b []byte) (*ClientInfo, error) {
	if len(b) < clientInfoLen {
		return nil, malformed("PAC_CLIENT_INFO of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint16(b[8:]))
	if n%2 != 0 || clientInfoLen+n > len(b) {
		return nil, malformed("PAC_CLIENT_INFO NameLength %d in %d bytes", n, len(b))
	}
	return &ClientInfo{
		ClientID: fromFileTime(binary.LittleEndian.Uint64(b)),
		Name:     decodeUTF16(b[clientInfoLen : clientInfoLen+n]),
	}, nil
}

// UPN_DNS_INFO's fixed parts: UpnLength, UpnOffset, DnsDomainNameLength,
// DnsDomainNameOffset, Flags; then, with the S flag, SamNameLength,
// SamNameOffset, SidLength, SidOffset.
const (
	upnBaseLen = 12
	upnExtLen  = 20
)

// marshal encodes UPN_DNS_INFO ([MS-PAC] §2.10): the fixed part, then each
// string (and the SID) at the next 8-byte boundary, as Windows lays it out.
func (u *UPNDNSInfo) marshal() ([]byte, error) {
	ext := u.SAMName != "" || u.SID != nil
	flags := u.Flags &^ UPNHasSAMNameAndID
	hdr := upnBaseLen
	if ext {
		flags |= UPNHasSAMNameAndID
		hdr = upnExtLen
	}
	var items [][]byte
	for _, s := range []string{u.UPN, u.DNSDomainName, u.SAMName} {
		w, err := toUTF16(s)
		if err != nil {
			return nil, err
		}
		items = append(items, appendUTF16(nil, w))
	}
	if u.SID != nil {
		items = append(items, u.SID.Bytes())
	} else {
		items = append(items, nil)
	}
	if !ext {
		items = items[:2]
	}
	b := make([]byte, hdr)
	fields := make([]uint16, 0, 8)
	for _, it := range items {
		off := 0
		if len(it) > 0 {
			off = align8(len(b))
			b = append(b, make([]byte, off-len(b))...)
			b = append(b, it...)
		}
		if len(b) > 0xFFFF {
			return nil, errors.New("UPN_DNS_INFO is too long")
		}
		fields = append(fields, uint16(len(it)), uint16(off))
	}
	binary.LittleEndian.PutUint16(b[0:], fields[0])
	binary.LittleEndian.PutUint16(b[2:], fields[1])
	binary.LittleEndian.PutUint16(b[4:], fields[2])
	binary.LittleEndian.PutUint16(b[6:], fields[3])
	binary.LittleEndian.PutUint32(b[8:], flags)
	if ext {
		for i, f := range fields[4:] {
			binary.LittleEndian.PutUint16(b[upnBaseLen+2*i:], f)
		}
	}
	// Windows pads the buffer itself to 8 bytes.
	return append(b, make([]byte, align8(len(b))-len(b))...), nil
}

// parseUPNDNSInfo decodes UPN_DNS_INFO ([MS-PAC] §2.10). Offsets are from
// the start of the buffer.
func parseUPNDNSInfo(b []byte) (*UPNDNSInfo, error) {
	if len(b) < upnBaseLen {
		return nil, malformed("UPN_DNS_INFO of %d bytes", len(b))
	}
	u := &UPNDNSInfo{Flags: binary.LittleEndian.Uint32(b[8:])}
	field := func(at int, name string, utf16 bool) ([]byte, error) {
		n := int(binary.LittleEndian.Uint16(b[at:]))
		off := int(binary.LittleEndian.Uint16(b[at+2:]))
		if n == 0 {
			return nil, nil
		}
		if off+n > len(b) || (utf16 && n%2 != 0) {
			return nil, malformed("UPN_DNS_INFO %s of %d bytes at %d in %d", name, n, off, len(b))
		}
		return b[off : off+n], nil
	}
	s, err := field(0, "UPN", true)
	if err != nil {
		return nil, err
	}
	u.UPN = decodeUTF16(s)
	if s, err = field(4, "DNS domain name", true); err != nil {
		return nil, err
	}
	u.DNSDomainName = decodeUTF16(s)
	if u.Flags&UPNHasSAMNameAndID == 0 {
		return u, nil
	}
	if len(b) < upnExtLen {
		return nil, malformed("extended UPN_DNS_INFO of %d bytes", len(b))
	}
	if s, err = field(12, "SAM name", true); err != nil {
		return nil, err
	}
	u.SAMName = decodeUTF16(s)
	if s, err = field(16, "SID", false); err != nil {
		return nil, err
	}
	if s != nil {
		sid, err := sid.ParseBytes(s)
		if err != nil {
			return nil, malformed("UPN_DNS_INFO SID: %v", err)
		}
		u.SID = &sid
	}
	return u, nil
}

// marshal encodes PAC_ATTRIBUTES_INFO ([MS-PAC] §2.14): FlagsLength, in
// bits, is 2, and the flags take one 32-bit word.
func (a *Attributes) marshal() []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, 2)
	binary.LittleEndian.PutUint32(b[4:], a.Flags)
	return b
}

func parseAttributes(b []byte) (*Attributes, error) {
	if len(b) < 4 {
		return nil, malformed("PAC_ATTRIBUTES_INFO of %d bytes", len(b))
	}
	bits := uint64(binary.LittleEndian.Uint32(b))
	words := (bits + 31) / 32
	if 4+4*words > uint64(len(b)) {
		return nil, malformed("PAC_ATTRIBUTES_INFO of %d bits in %d bytes", bits, len(b))
	}
	a := new(Attributes)
	if words > 0 {
		a.Flags = binary.LittleEndian.Uint32(b[4:])
		if bits < 32 {
			a.Flags &= 1<<bits - 1
		}
	}
	return a, nil
}

// parseRequestor decodes PAC_REQUESTOR ([MS-PAC] §2.15): one SID in its
// binary form.
func parseRequestor(b []byte) (*Requestor, error) {
	s, err := sid.ParseBytes(b)
	if err != nil {
		return nil, malformed("PAC_REQUESTOR: %v", err)
	}
	return &Requestor{SID: s}, nil
}

// marshal encodes S4U_DELEGATION_INFO ([MS-PAC] §2.9) as a type-serialized
// NDR stream.
func (d *DelegationInfo) marshal() ([]byte, error) {
	target, err := toUTF16(d.S4U2ProxyTarget)
	if err != nil {
		return nil, err
	}
	services := make([]ustring, len(d.TransitedServices))
	for i, s := range d.TransitedServices {
		if services[i], err = toUTF16(s); err != nil {
			return nil, err
		}
	}
	w := newNDRWriter(64 + 64*len(services))
	w.ptr(true)
	w.stringHeader(target, 0)
	w.u32(uint32(len(services)))
	w.ptr(len(services) > 0)
	w.stringBody(target, 0)
	if len(services) > 0 {
		w.u32(uint32(len(services)))
		for _, s := range services {
			w.stringHeader(s, 0)
		}
		for _, s := range services {
			w.stringBody(s, 0)
		}
	}
	return w.finish()
}

func parseDelegationInfo(b []byte) (*DelegationInfo, error) {
	r, err := newNDRReader(b)
	if err != nil {
		return nil, err
	}
	if !r.ptr() {
		if r.err != nil {
			return nil, r.err
		}
		return nil, malformed("null S4U_DELEGATION_INFO pointer")
	}
	th := r.stringHeader()
	n := r.u32()
	listPtr := r.ptr()
	d := &DelegationInfo{S4U2ProxyTarget: r.stringBody(th)}
	if listPtr {
		m := r.count(8)
		if r.err == nil && uint32(m) != n {
			r.fail("S4UTransitedServices array of %d elements, TransitedListSize says %d", m, n)
		}
		if r.err == nil && m > 0 {
			hdrs := make([]stringHeader, m)
			for i := range hdrs {
				hdrs[i] = r.stringHeader()
			}
			d.TransitedServices = make([]string, m)
			for i, h := range hdrs {
				d.TransitedServices[i] = r.stringBody(h)
			}
		}
	} else if n != 0 {
		r.fail("TransitedListSize %d with a null pointer", n)
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}
