package pac

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"hop/krb5"
)

func TestRoundTripFull(t *testing.T) {
	p := fullPAC(t)
	p.ServerChecksum = &Signature{Type: krb5.CksumHMACSHA196AES256, Value: bytes.Repeat([]byte{1}, 12)}
	p.KDCChecksum = &Signature{Type: krb5.CksumHMACMD5, Value: bytes.Repeat([]byte{2}, 16)}
	p.TicketChecksum = &Signature{Type: krb5.CksumHMACSHA256128AES128, Value: bytes.Repeat([]byte{3}, 16)}
	p.FullChecksum = &Signature{Type: krb5.CksumHMACSHA384192AES256, Value: bytes.Repeat([]byte{4}, 24), RODCIdentifier: []byte{5, 6}}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
	}
	if !reflect.DeepEqual(got.LogonInfo, p.LogonInfo) {
		t.Errorf("logon info:\n got %+v\nwant %+v", got.LogonInfo, p.LogonInfo)
	}
	b2, err := got.Marshal()
	if err != nil || !bytes.Equal(b, b2) {
		t.Errorf("second encoding differs (%v)", err)
	}
}

func TestRoundTripEachBuffer(t *testing.T) {
	full := fullPAC(t)
	li := *full.LogonInfo
	minimal := &ValidationInfo{LogonDomainID: mustSID(t, testDomain)}
	cases := []struct {
		name string
		p    *PAC
	}{
		{"logon info", &PAC{LogonInfo: &li}},
		{"minimal logon info", &PAC{LogonInfo: minimal}},
		{"client info", &PAC{ClientInfo: full.ClientInfo}},
		{"client info, empty name", &PAC{ClientInfo: &ClientInfo{ClientID: authTime}}},
		{"UPN", &PAC{UPNDNSInfo: &UPNDNSInfo{UPN: "bob@example.com", DNSDomainName: "EXAMPLE.COM"}}},
		{"UPN constructed", &PAC{UPNDNSInfo: &UPNDNSInfo{UPN: "bob@example.com", DNSDomainName: "EXAMPLE.COM", Flags: UPNConstructed}}},
		{"UPN extended", &PAC{UPNDNSInfo: full.UPNDNSInfo}},
		{"UPN SAM name only", &PAC{UPNDNSInfo: &UPNDNSInfo{UPN: "x@y", DNSDomainName: "Y", Flags: UPNHasSAMNameAndID, SAMName: "x"}}},
		{"UPN empty", &PAC{UPNDNSInfo: &UPNDNSInfo{}}},
		{"attributes", &PAC{Attributes: &Attributes{Flags: AttrPACWasGivenImplicitly}}},
		{"requestor", &PAC{Requestor: full.Requestor}},
		{"delegation", &PAC{DelegationInfo: full.DelegationInfo}},
		{"delegation, no transited", &PAC{DelegationInfo: &DelegationInfo{S4U2ProxyTarget: "cifs/x"}}},
		{"server checksum", &PAC{ServerChecksum: &Signature{Type: krb5.CksumHMACSHA196AES128, Value: make([]byte, 12)}}},
		{"KDC checksum with RODC", &PAC{KDCChecksum: &Signature{Type: krb5.CksumHMACMD5, Value: make([]byte, 16), RODCIdentifier: []byte{1, 0}}}},
		{"unknown checksum type", &PAC{TicketChecksum: &Signature{Type: 999, Value: []byte{1, 2, 3}}}},
		{"raw", &PAC{Other: []RawBuffer{{Type: 200, Data: []byte{}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.p) {
				t.Errorf("got %+v\nwant %+v", got, tc.p)
			}
		})
	}
}

// TestLayout checks the encoding against the layout rules of [MS-PAC],
// decoding by hand.
func TestLayout(t *testing.T) {
	p := fullPAC(t)
	p.ServerChecksum = &Signature{Type: krb5.CksumHMACSHA196AES256}
	p.KDCChecksum = &Signature{Type: krb5.CksumHMACMD5}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(b))
	if v := binary.LittleEndian.Uint32(b[4:]); v != 0 {
		t.Errorf("version %d", v)
	}
	if want := 5 + 1 + 5 + 2; n != want { // decoded types, delegation, raw, signatures
		t.Errorf("%d buffers, want %d", n, want)
	}
	buf := map[uint32][]byte{}
	var types []uint32
	end := 8 + 16*n
	for i := range n {
		e := b[8+16*i:]
		typ, size, off := binary.LittleEndian.Uint32(e), int(binary.LittleEndian.Uint32(e[4:])), int(binary.LittleEndian.Uint64(e[8:]))
		if off%8 != 0 {
			t.Errorf("type %d at offset %d", typ, off)
		}
		if off != (end+7)&^7 {
			t.Errorf("type %d at %d, previous buffer ended at %d", typ, off, end)
		}
		if !bytes.Equal(b[end:off], make([]byte, off-end)) {
			t.Errorf("padding before type %d is not zero", typ)
		}
		end = off + size
		buf[typ] = b[off : off+size]
		types = append(types, typ)
	}
	if len(b) != (end+7)&^7 {
		t.Errorf("PAC of %d bytes, last buffer ends at %d", len(b), end)
	}
	if !slices.IsSorted(types) {
		t.Errorf("types %v not in ascending order", types)
	}
	utf16le := func(s string) []byte {
		var o []byte
		for _, u := range utf16.Encode([]rune(s)) {
			o = binary.LittleEndian.AppendUint16(o, u)
		}
		return o
	}
	// PAC_CLIENT_INFO: FILETIME, NameLength in bytes, the name.
	ci := buf[TypeClientInfo]
	if ft := binary.LittleEndian.Uint64(ci); ft != uint64(authTime.Unix()+11644473600)*10000000 {
		t.Errorf("ClientId %d", ft)
	}
	if l := binary.LittleEndian.Uint16(ci[8:]); int(l) != 2*len("alice") || !bytes.Equal(ci[10:], utf16le("alice")) {
		t.Errorf("client info name: %x", ci[8:])
	}
	// UPN_DNS_INFO: offsets from the start of the buffer.
	u := buf[TypeUPNDNSInfo]
	str := func(at int) []byte {
		l, o := binary.LittleEndian.Uint16(u[at:]), binary.LittleEndian.Uint16(u[at+2:])
		if o%8 != 0 {
			t.Errorf("UPN_DNS_INFO item at %d is not 8-byte aligned", o)
		}
		return u[o : o+l]
	}
	if !bytes.Equal(str(0), utf16le("alice@example.com")) || !bytes.Equal(str(4), utf16le("EXAMPLE.COM")) ||
		!bytes.Equal(str(12), utf16le("alice")) || !bytes.Equal(str(16), mustSID(t, testDomain+"-1105").Bytes()) {
		t.Errorf("UPN_DNS_INFO %x", u)
	}
	if f := binary.LittleEndian.Uint32(u[8:]); f != UPNHasSAMNameAndID {
		t.Errorf("UPN flags %#x", f)
	}
	// Signatures: type, then zeros of the checksum's length.
	if s := buf[TypeServerChecksum]; len(s) != 16 || binary.LittleEndian.Uint32(s) != 16 {
		t.Errorf("server checksum buffer %x", s)
	}
	if s := buf[TypeKDCChecksum]; len(s) != 20 || binary.LittleEndian.Uint32(s) != 0xFFFFFF76 {
		t.Errorf("KDC checksum buffer %x", s)
	}
	// KERB_VALIDATION_INFO: the NDR headers.
	li := buf[TypeLogonInfo]
	if !bytes.Equal(li[:8], []byte{1, 0x10, 8, 0, 0xcc, 0xcc, 0xcc, 0xcc}) {
		t.Errorf("common header %x", li[:8])
	}
	if l := binary.LittleEndian.Uint32(li[8:]); int(l) != len(li)-16 || l%8 != 0 {
		t.Errorf("ObjectBufferLength %d for %d bytes", l, len(li))
	}
	if !bytes.Equal(buf[TypeRequestor], mustSID(t, testDomain+"-1105").Bytes()) {
		t.Errorf("requestor %x", buf[TypeRequestor])
	}
	if !bytes.Equal(buf[TypeAttributes], []byte{2, 0, 0, 0, 3, 0, 0, 0}) {
		t.Errorf("attributes %x", buf[TypeAttributes])
	}
}

func TestUserFlagsFollowContent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flags     uint32
		extra     bool
		resources bool
		want      uint32
	}{
		{"none", 0, false, false, 0},
		{"stale flags cleared", LogonExtraSIDs | LogonResourceGroups | 0x1, false, false, 0x1},
		{"extra SIDs", 0, true, false, LogonExtraSIDs},
		{"resource groups", 0, false, true, LogonResourceGroups},
		{"both", 0x4, true, true, 0x4 | LogonExtraSIDs | LogonResourceGroups},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &ValidationInfo{UserFlags: tc.flags, LogonDomainID: mustSID(t, testDomain)}
			if tc.extra {
				v.ExtraSIDs = []SIDAndAttributes{{mustSID(t, "S-1-18-1"), GroupDefault}}
			}
			if tc.resources {
				v.ResourceGroupDomainSID = sidPtr(t, "S-1-5-21-1-2-3")
				v.ResourceGroups = []GroupMembership{{1000, GroupDefault | GroupResource}}
			}
			b, err := (&PAC{LogonInfo: v}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if p.LogonInfo.UserFlags != tc.want {
				t.Errorf("UserFlags %#x, want %#x", p.LogonInfo.UserFlags, tc.want)
			}
		})
	}
}

func TestFileTime(t *testing.T) {
	for _, tc := range []struct {
		t  time.Time
		ft uint64
	}{
		{time.Time{}, 0x7FFFFFFFFFFFFFFF},
		{time.Unix(0, 0), 116444736000000000}, // [MS-DTYP] §2.3.3: 1970 in FILETIME
		{time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC), 1},
		{time.Unix(1120440609, 0), 0x01c58037ea286680}, // t_pac.c's authtime, as its Windows PAC has it
	} {
		ft, err := toFileTime(tc.t)
		if err != nil || ft != tc.ft {
			t.Errorf("toFileTime(%v) = %d, %v; want %d", tc.t, ft, err, tc.ft)
		}
		if back := fromFileTime(tc.ft); !back.Equal(tc.t) {
			t.Errorf("fromFileTime(%d) = %v, want %v", tc.ft, back, tc.t)
		}
	}
	if _, err := toFileTime(time.Date(1600, 12, 31, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a time before 1601 encoded")
	}
}

func TestMarshalErrors(t *testing.T) {
	long := strings.Repeat("x", 0x8000)
	for _, tc := range []struct {
		name string
		p    *PAC
	}{
		{"empty", &PAC{}},
		{"resource groups without domain", &PAC{LogonInfo: &ValidationInfo{ResourceGroups: []GroupMembership{{1, 7}}}}},
		{"name too long", &PAC{LogonInfo: &ValidationInfo{EffectiveName: long}}},
		{"client name too long", &PAC{ClientInfo: &ClientInfo{Name: long}}},
		{"time before 1601", &PAC{ClientInfo: &ClientInfo{ClientID: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		{"Other has a decoded type", &PAC{Other: []RawBuffer{{Type: TypeLogonInfo}}}},
		{"Other repeats a type", &PAC{Other: []RawBuffer{{Type: 2}, {Type: 2}}}},
		{"unknown checksum without value", &PAC{ServerChecksum: &Signature{Type: 999}}},
		{"checksum of the wrong length", &PAC{ServerChecksum: &Signature{Type: krb5.CksumHMACSHA196AES256, Value: make([]byte, 16)}}},
		{"too many buffers", &PAC{Other: func() []RawBuffer {
			var o []RawBuffer
			for i := range MaxBuffers + 1 {
				o = append(o, RawBuffer{Type: uint32(100 + i)})
			}
			return o
		}()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.p.Marshal(); err == nil {
				t.Error("Marshal succeeded")
			}
		})
	}
}

// header builds a PAC header for hand-made malformed inputs.
func header(entries ...[3]uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(entries)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, uint32(e[0]))
		b = binary.LittleEndian.AppendUint32(b, uint32(e[1]))
		b = binary.LittleEndian.AppendUint64(b, e[2])
	}
	return b
}

func TestParseErrors(t *testing.T) {
	good, err := userPAC(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	pad := func(b []byte, n int) []byte { return append(b, make([]byte, n)...) }
	// Offsets into good: the logon info is the first buffer, at 8+16*5 = 88.
	const li = 88
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", []byte{1, 0, 0}},
		{"no buffers", header()},
		{"version 1", mutate(func(b []byte) []byte { b[4] = 1; return b })},
		{"too many buffers", pad(header(make([][3]uint64, 33)...), 0)},
		{"count beyond input", mutate(func(b []byte) []byte { b[0] = 30; return b })},
		{"misaligned offset", pad(header([3]uint64{99, 4, 28}), 16)},
		{"offset inside header", pad(header([3]uint64{99, 4, 16}), 16)},
		{"size beyond input", pad(header([3]uint64{99, 40, 24}), 16)},
		{"huge offset", pad(header([3]uint64{99, 4, 1 << 63}), 16)},
		{"duplicate type", pad(header([3]uint64{99, 4, 40}, [3]uint64{99, 4, 48}), 32)},
		{"overlap", pad(header([3]uint64{98, 16, 40}, [3]uint64{99, 4, 48}), 32)},
		{"NDR version", mutate(func(b []byte) []byte { b[li] = 2; return b })},
		{"NDR big-endian", mutate(func(b []byte) []byte { b[li+1] = 0; return b })},
		{"NDR object length", mutate(func(b []byte) []byte { b[li+9] = 0x40; return b })},
		{"null top-level pointer", mutate(func(b []byte) []byte { clear(b[li+16 : li+20]); return b })},
		{"group count too large", mutate(func(b []byte) []byte { b[li+16+4+108] = 0xff; return b })},
		{"null domain SID", mutate(func(b []byte) []byte { clear(b[li+16+4+152 : li+16+4+156]); return b })},
		{"signature too short", pad(header([3]uint64{TypeServerChecksum, 2, 24}), 8)},
		{"signature shorter than its type", append(header([3]uint64{TypeServerChecksum, 8, 24}), 16, 0, 0, 0, 1, 2, 3, 4)},
		{"client info too short", pad(header([3]uint64{TypeClientInfo, 8, 24}), 8)},
		{"client name length", append(header([3]uint64{TypeClientInfo, 12, 24}), 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0)},
		{"UPN beyond buffer", append(header([3]uint64{TypeUPNDNSInfo, 16, 24}), 2, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"UPN odd length", append(header([3]uint64{TypeUPNDNSInfo, 16, 24}), 1, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"extended UPN too short", append(header([3]uint64{TypeUPNDNSInfo, 16, 24}), 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0)},
		{"attributes beyond buffer", append(header([3]uint64{TypeAttributes, 8, 24}), 64, 0, 0, 0, 0, 0, 0, 0)},
		{"requestor not a SID", append(header([3]uint64{TypeRequestor, 8, 24}), 1, 5, 0, 0, 0, 0, 0, 5)},
		{"MIT fuzz1", readHex(t, "mit/fuzz1.hex")},
		{"MIT fuzz2", readHex(t, "mit/fuzz2.hex")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.b)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", p)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// TestParseTruncated parses every prefix of a full PAC: none may panic, and
// only the whole (with or without its final padding) may succeed.
func TestParseTruncated(t *testing.T) {
	b, err := fullPAC(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, err := Parse(b[:n]); err == nil && n < len(b)-7 {
			t.Errorf("prefix of %d bytes (of %d) parsed", n, len(b))
		}
	}
}
