package directory

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"
	"unsafe"

	"hop/sid"
)

// parseAccountRecord decodes raw into r (which it resets) exactly as
// json.Unmarshal does. Records as hop writes them (compact JSON, the
// record's own field names, no escapes, no nulls) it decodes itself,
// about ten times faster and without allocating: r's strings and slices
// then share raw's memory and p's buffers, valid until raw changes or p
// parses again. Anything else it leaves to json.Unmarshal.
func (p *recordParser) parseAccountRecord(raw []byte, r *accountRecord) error {
	*r = accountRecord{}
	if p.account(raw, r) {
		return nil
	}
	*r = accountRecord{}
	return json.Unmarshal(raw, r)
}

// recordParser holds the buffers of parseAccountRecord.
type recordParser struct {
	s       jsonScan
	strs    []string
	keys    []keyRecord
	history []historyRecord
	sids    []sid.SID
	bytes   []byte
}

// jsonScan reads JSON for parseAccountRecord: each method reports false
// for anything it does not handle, and the record goes to json.Unmarshal.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c,
// consuming it if so.
func (s *jsonScan) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// rawStr returns a string's bytes without its quotes, refusing escapes,
// control characters and invalid UTF-8 (which json.Unmarshal changes).
func (s *jsonScan) rawStr() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

// str returns a string sharing the scanned memory.
func (s *jsonScan) str() (string, bool) {
	b, ok := s.rawStr()
	if !ok {
		return "", false
	}
	if len(b) == 0 {
		return "", true
	}
	return unsafe.String(&b[0], len(b)), true
}

// digits returns an integer literal's digits (no sign, fraction or
// exponent; no leading zero), at most 18: they fit any integer type.
func (s *jsonScan) digits() ([]byte, bool) {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	d := s.b[start:s.i]
	if len(d) == 0 || len(d) > 1 && d[0] == '0' || len(d) > 18 {
		return nil, false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return nil, false
		}
	}
	return d, true
}

func (s *jsonScan) uint(bits uint) (uint64, bool) {
	s.ws()
	d, ok := s.digits()
	if !ok {
		return 0, false
	}
	var v uint64
	for _, c := range d {
		v = v*10 + uint64(c-'0')
	}
	return v, bits == 64 || v>>bits == 0
}

func (s *jsonScan) int(bits uint) (int64, bool) {
	s.ws()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	d, ok := s.digits()
	if !ok {
		return 0, false
	}
	var v int64
	for _, c := range d {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	lim := int64(1) << (bits - 1)
	return v, bits == 64 || v >= -lim && v < lim
}

func (s *jsonScan) boolean() (bool, bool) {
	s.ws()
	rest := s.b[s.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// time decodes a time as json.Unmarshal does: by time.Time's UnmarshalJSON.
func (s *jsonScan) time(t *time.Time) bool {
	s.ws()
	start := s.i
	if _, ok := s.rawStr(); !ok {
		return false
	}
	return t.UnmarshalJSON(s.b[start:s.i]) == nil
}

// object scans an object's members, calling field with each name; the
// scanner is then before the value, which field must consume. It refuses
// a name given twice (json.Unmarshal keeps the last).
func (s *jsonScan) object(field func(name []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	var buf [48]string
	seen := buf[:0]
	for {
		name, ok := s.rawStr()
		if !ok || !s.next(':') {
			return false
		}
		for _, n := range seen {
			if n == string(name) {
				return false
			}
		}
		seen = append(seen, unsafe.String(unsafe.SliceData(name), len(name)))
		if !field(name) {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// array scans an array, calling elem for each element; it reports false
// for null. empty is called first (for an empty, non-nil slice).
func (s *jsonScan) array(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next(']')
	}
}

// strList scans an array of strings into p.strs.
func (p *recordParser) strList(dst *[]string) bool {
	start := len(p.strs)
	ok := p.s.array(func() bool {
		v, ok := p.s.str()
		p.strs = append(p.strs, v)
		return ok
	})
	*dst = p.strs[start:len(p.strs):len(p.strs)]
	return ok
}

func (p *recordParser) sidList(dst *[]sid.SID) bool {
	start := len(p.sids)
	ok := p.s.array(func() bool {
		var v sid.SID
		ok := p.sid(&v)
		p.sids = append(p.sids, v)
		return ok
	})
	*dst = p.sids[start:len(p.sids):len(p.sids)]
	return ok
}

// sid decodes a SID as json.Unmarshal does: by its UnmarshalText.
func (p *recordParser) sid(v *sid.SID) bool {
	b, ok := p.s.rawStr()
	return ok && v.UnmarshalText(b) == nil
}

// base64 decodes a []byte as json.Unmarshal does (standard encoding).
func (p *recordParser) base64(dst *[]byte) bool {
	b, ok := p.s.rawStr()
	if !ok {
		return false
	}
	start := len(p.bytes)
	p.bytes = append(p.bytes, make([]byte, base64.StdEncoding.DecodedLen(len(b)))...)
	n, err := base64.StdEncoding.Decode(p.bytes[start:], b)
	if err != nil {
		return false
	}
	p.bytes = p.bytes[:start+n]
	*dst = p.bytes[start : start+n : start+n]
	return true
}

func (p *recordParser) keyList(dst *[]keyRecord) bool {
	start := len(p.keys)
	ok := p.s.array(func() bool {
		var k keyRecord
		ok := p.s.object(func(name []byte) bool {
			var ok bool
			switch string(name) {
			case "etype":
				var v int64
				v, ok = p.s.int(32)
				k.EType = int32(v)
			case "kvno":
				var v uint64
				v, ok = p.s.uint(32)
				k.KVNO = uint32(v)
			case "salt":
				k.Salt, ok = p.s.str()
			case "sealed":
				ok = p.base64(&k.Sealed)
			}
			return ok
		})
		p.keys = append(p.keys, k)
		return ok
	})
	*dst = p.keys[start:len(p.keys):len(p.keys)]
	return ok
}

func (p *recordParser) historyList(dst *[]historyRecord) bool {
	start := len(p.history)
	ok := p.s.array(func() bool {
		var h historyRecord
		ok := p.s.object(func(name []byte) bool {
			var ok bool
			switch string(name) {
			case "etype":
				var v int64
				v, ok = p.s.int(32)
				h.EType = int32(v)
			case "salt":
				h.Salt, ok = p.s.str()
			case "sealed":
				ok = p.base64(&h.Sealed)
			}
			return ok
		})
		p.history = append(p.history, h)
		return ok
	})
	*dst = p.history[start:len(p.history):len(p.history)]
	return ok
}

// account is the fast path of parseAccountRecord.
func (p *recordParser) account(raw []byte, r *accountRecord) bool {
	p.s = jsonScan{b: raw}
	if p.strs == nil {
		p.strs, p.keys, p.history, p.sids, p.bytes = make([]string, 0, 16), make([]keyRecord, 0, 8), make([]historyRecord, 0, 4), make([]sid.SID, 0, 4), make([]byte, 0, 512)
	}
	p.strs, p.keys, p.history, p.sids, p.bytes = p.strs[:0], p.keys[:0], p.history[:0], p.sids[:0], p.bytes[:0]
	s := &p.s
	u32 := func(dst *uint32) bool {
		v, ok := s.uint(32)
		*dst = uint32(v)
		return ok
	}
	boolean := func(dst *bool) bool {
		v, ok := s.boolean()
		*dst = v
		return ok
	}
	duration := func(dst *time.Duration) bool {
		v, ok := s.int(64)
		*dst = time.Duration(v)
		return ok
	}
	ok := s.object(func(name []byte) bool {
		var ok bool
		switch string(name) {
		case "name":
			r.Name, ok = s.str()
		case "kind":
			r.Kind, ok = s.str()
		case "rid":
			ok = u32(&r.RID)
		case "spns":
			ok = p.strList(&r.SPNs)
		case "dnsHostName":
			r.DNSHostName, ok = s.str()
		case "upn":
			r.UPN, ok = s.str()
		case "description":
			r.Description, ok = s.str()
		case "disabled":
			ok = boolean(&r.Disabled)
		case "expires":
			ok = s.time(&r.Expires)
		case "passwordLastSet":
			ok = s.time(&r.PasswordLastSet)
		case "passwordExpires":
			ok = s.time(&r.PasswordExpires)
		case "noPreauthRequired":
			ok = boolean(&r.NoPreauthRequired)
		case "allowRC4":
			ok = boolean(&r.AllowRC4)
		case "maxTicketLife":
			ok = duration(&r.MaxTicketLife)
		case "maxRenewLife":
			ok = duration(&r.MaxRenewLife)
		case "primaryGroupRID":
			ok = u32(&r.PrimaryGroupRID)
		case "kvno":
			ok = u32(&r.KVNO)
		case "keys":
			ok = p.keyList(&r.Keys)
		case "oldKeys":
			ok = p.keyList(&r.OldKeys)
		case "badPwdCount":
			var v int64
			v, ok = s.int(64)
			r.BadPwdCount = int(v)
		case "badPwdTime":
			ok = s.time(&r.BadPwdTime)
		case "lockedUntil":
			ok = s.time(&r.LockedUntil)
		case "created":
			ok = s.time(&r.Created)
		case "modified":
			ok = s.time(&r.Modified)
		case "trustedForDelegation":
			ok = boolean(&r.TrustedForDelegation)
		case "trustedToAuthForDelegation":
			ok = boolean(&r.TrustedToAuthForDelegation)
		case "allowedToDelegateTo":
			ok = p.strList(&r.AllowedToDelegateTo)
		case "allowedToActOnBehalfOfOtherIdentity":
			ok = p.sidList(&r.AllowedToActOnBehalfOf)
		case "notDelegated":
			ok = boolean(&r.NotDelegated)
		case "noAuthDataRequired":
			ok = boolean(&r.NoAuthDataRequired)
		case "managedBy":
			ok = p.sidList(&r.ManagedBy)
		case "revision":
			r.Revision, ok = s.uint(64)
		case "creatorSID":
			ok = p.sid(&r.CreatorSID)
		case "sshHostKeys":
			ok = p.strList(&r.SSHHostKeys)
		case "passwordHistory":
			ok = p.historyList(&r.PasswordHistory)
		}
		return ok
	})
	s.ws()
	return ok && s.i == len(s.b)
}

// parseGroupRecord decodes raw into r exactly as json.Unmarshal does,
// itself for records as hop writes them (see parseAccountRecord) and with
// json.Unmarshal otherwise. r's strings are its own: the members share
// one copy of raw.
func parseGroupRecord(raw []byte, r *groupRecord) error {
	return parseOwnGroupRecord(bytes.Clone(raw), r)
}

// parseOwnGroupRecord is parseGroupRecord of a raw it may keep.
func parseOwnGroupRecord(raw []byte, r *groupRecord) error {
	*r = groupRecord{}
	if fastGroupRecord(raw, r) {
		return nil
	}
	*r = groupRecord{}
	return json.Unmarshal(raw, r)
}

// fastGroupRecord is the fast path of parseGroupRecord; the members share
// raw's memory.
func fastGroupRecord(raw []byte, r *groupRecord) bool {
	s := &jsonScan{b: raw}
	own := func(dst *string) bool { // a string of its own
		b, ok := s.rawStr()
		*dst = string(b)
		return ok
	}
	ok := s.object(func(name []byte) bool {
		switch string(name) {
		case "name":
			return own(&r.Name)
		case "rid":
			v, ok := s.uint(32)
			r.RID = uint32(v)
			return ok
		case "description":
			return own(&r.Description)
		case "members":
			if !s.next('[') {
				return false
			}
			r.Members = make([]string, 0, bytes.Count(raw, []byte{'"'})/2) // at most
			if s.next(']') {
				return true
			}
			for {
				b, ok := s.rawStr()
				switch {
				case !ok:
					return false
				case len(b) == 0:
					r.Members = append(r.Members, "")
				default:
					r.Members = append(r.Members, unsafe.String(&b[0], len(b)))
				}
				if !s.next(',') {
					return s.next(']')
				}
			}
		case "managedBy":
			r.ManagedBy = []sid.SID{}
			return s.array(func() bool {
				b, ok := s.rawStr()
				var v sid.SID
				ok = ok && v.UnmarshalText(b) == nil
				r.ManagedBy = append(r.ManagedBy, v)
				return ok
			})
		case "revision":
			v, ok := s.uint(64)
			r.Revision = v
			return ok
		}
		return false
	})
	s.ws()
	return ok && s.i == len(s.b)
}
