package pac

import (
	"errors"
	"time"
)

// marshal encodes KERB_VALIDATION_INFO ([MS-PAC] §2.5) as a type-serialized
// NDR stream: the top-level unique pointer, the fixed part, then the
// pointees in the order of their pointers.
func (v *ValidationInfo) marshal() ([]byte, error) {
	var times [6]uint64
	var err error
	for i, t := range v.times() {
		if times[i], err = toFileTime(t); err != nil {
			return nil, err
		}
	}
	var names [8]ustring
	for i, s := range []string{v.EffectiveName, v.FullName, v.LogonScript, v.ProfilePath,
		v.HomeDirectory, v.HomeDirectoryDrive, v.LogonServer, v.LogonDomainName} {
		if names[i], err = toUTF16(s); err != nil {
			return nil, err
		}
	}
	if len(v.ResourceGroups) > 0 && v.ResourceGroupDomainSID == nil {
		return nil, errors.New("resource groups without ResourceGroupDomainSID")
	}
	flags := v.UserFlags &^ (LogonExtraSIDs | LogonResourceGroups)
	if len(v.ExtraSIDs) > 0 {
		flags |= LogonExtraSIDs
	}
	if len(v.ResourceGroups) > 0 {
		flags |= LogonResourceGroups
	}

	w := newNDRWriter(256 + 8*len(v.Groups) + 36*len(v.ExtraSIDs) + 8*len(v.ResourceGroups))
	w.ptr(true) // the top-level pointer to KERB_VALIDATION_INFO
	for _, t := range times {
		w.filetime(t)
	}
	for _, n := range names[:6] {
		w.stringHeader(n, 0)
	}
	w.u16(v.LogonCount)
	w.u16(v.BadPasswordCount)
	w.u32(v.UserID)
	w.u32(v.PrimaryGroupID)
	w.u32(uint32(len(v.Groups)))
	w.ptr(len(v.Groups) > 0)
	w.u32(flags)
	w.zeros(16) // UserSessionKey
	w.stringHeader(names[6], 1)
	w.stringHeader(names[7], 1)
	w.ptr(true) // LogonDomainId
	w.u32(0)    // Reserved1[0]
	w.u32(0)    // Reserved1[1]
	w.u32(v.UserAccountControl)
	w.u32(0)      // SubAuthStatus
	w.filetime(0) // LastSuccessfulILogon
	w.filetime(0) // LastFailedILogon
	w.u32(0)      // FailedILogonCount
	w.u32(0)      // Reserved3
	w.u32(uint32(len(v.ExtraSIDs)))
	w.ptr(len(v.ExtraSIDs) > 0)
	sidRefs := w.reserve(len(v.ExtraSIDs))
	w.ptr(v.ResourceGroupDomainSID != nil)
	w.u32(uint32(len(v.ResourceGroups)))
	w.ptr(len(v.ResourceGroups) > 0)

	// Deferred pointees.
	for _, n := range names[:6] {
		w.stringBody(n, 0)
	}
	if len(v.Groups) > 0 {
		w.groups(v.Groups)
	}
	w.stringBody(names[6], 1)
	w.stringBody(names[7], 1)
	w.sid(v.LogonDomainID)
	if len(v.ExtraSIDs) > 0 {
		w.u32(uint32(len(v.ExtraSIDs)))
		for i, s := range v.ExtraSIDs {
			w.u32(sidRefs + 4*uint32(i))
			w.u32(s.Attributes)
		}
		for _, s := range v.ExtraSIDs {
			w.sid(s.SID)
		}
	}
	if v.ResourceGroupDomainSID != nil {
		w.sid(*v.ResourceGroupDomainSID)
	}
	if len(v.ResourceGroups) > 0 {
		w.groups(v.ResourceGroups)
	}
	return w.finish()
}

func (v *ValidationInfo) times() [6]time.Time {
	return [6]time.Time{v.LogonTime, v.LogoffTime, v.KickOffTime, v.PasswordLastSet, v.PasswordCanChange, v.PasswordMustChange}
}

// minSIDLen is the fewest bytes an RPC_SID takes (conformance and header).
const minSIDLen = 12

func parseValidationInfo(b []byte) (*ValidationInfo, error) {
	r, err := newNDRReader(b)
	if err != nil {
		return nil, err
	}
	if !r.ptr() {
		if r.err != nil {
			return nil, r.err
		}
		return nil, malformed("null KERB_VALIDATION_INFO pointer")
	}
	v := new(ValidationInfo)
	var times [6]uint64
	for i := range times {
		times[i] = r.filetime()
	}
	var hdrs [8]stringHeader
	for i := range 6 {
		hdrs[i] = r.stringHeader()
	}
	v.LogonCount = r.u16()
	v.BadPasswordCount = r.u16()
	v.UserID = r.u32()
	v.PrimaryGroupID = r.u32()
	groupCount := r.u32()
	groupsPtr := r.ptr()
	v.UserFlags = r.u32()
	r.bytes(16) // UserSessionKey
	hdrs[6] = r.stringHeader()
	hdrs[7] = r.stringHeader()
	domainIDPtr := r.ptr()
	r.u32() // Reserved1
	r.u32()
	v.UserAccountControl = r.u32()
	r.u32()      // SubAuthStatus
	r.filetime() // LastSuccessfulILogon
	r.filetime() // LastFailedILogon
	r.u32()      // FailedILogonCount
	r.u32()      // Reserved3
	sidCount := r.u32()
	extraPtr := r.ptr()
	resDomainPtr := r.ptr()
	resCount := r.u32()
	resPtr := r.ptr()
	if r.err != nil {
		return nil, r.err
	}

	var names [8]string
	for i := range 6 {
		names[i] = r.stringBody(hdrs[i])
	}
	if groupsPtr {
		v.Groups = r.groups(groupCount)
	} else if groupCount != 0 {
		r.fail("GroupCount %d with a null GroupIds pointer", groupCount)
	}
	names[6] = r.stringBody(hdrs[6])
	names[7] = r.stringBody(hdrs[7])
	if domainIDPtr {
		v.LogonDomainID = r.sid()
	} else {
		r.fail("null LogonDomainId")
	}
	if extraPtr {
		// Each element (8 bytes) has its RPC_SID (at least 12) after the array.
		n := r.count(8 + minSIDLen)
		if r.err == nil && uint32(n) != sidCount {
			r.fail("ExtraSids array of %d elements, SidCount says %d", n, sidCount)
		}
		if r.err == nil && n > 0 {
			v.ExtraSIDs = make([]SIDAndAttributes, n)
			present := make([]bool, n)
			for i := range v.ExtraSIDs {
				present[i] = r.ptr()
				v.ExtraSIDs[i].Attributes = r.u32()
			}
			for i := range v.ExtraSIDs {
				if !present[i] {
					r.fail("null SID in ExtraSids")
					break
				}
				v.ExtraSIDs[i].SID = r.sid()
			}
		}
	} else if sidCount != 0 {
		r.fail("SidCount %d with a null ExtraSids pointer", sidCount)
	}
	if resDomainPtr {
		s := r.sid()
		v.ResourceGroupDomainSID = &s
	}
	if resPtr {
		v.ResourceGroups = r.groups(resCount)
	} else if resCount != 0 {
		r.fail("ResourceGroupCount %d with a null ResourceGroupIds pointer", resCount)
	}
	if r.err != nil {
		return nil, r.err
	}
	v.LogonTime, v.LogoffTime, v.KickOffTime = fromFileTime(times[0]), fromFileTime(times[1]), fromFileTime(times[2])
	v.PasswordLastSet, v.PasswordCanChange, v.PasswordMustChange = fromFileTime(times[3]), fromFileTime(times[4]), fromFileTime(times[5])
	v.EffectiveName, v.FullName, v.LogonScript, v.ProfilePath = names[0], names[1], names[2], names[3]
	v.HomeDirectory, v.HomeDirectoryDrive, v.LogonServer, v.LogonDomainName = names[4], names[5], names[6], names[7]
	return v, nil
}
