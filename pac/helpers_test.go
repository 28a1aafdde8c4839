package pac

import (
	"testing"
	"time"

	"hop/sid"
)

func mustSID(t testing.TB, s string) sid.SID {
	t.Helper()
	sid, err := sid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

func sidPtr(t testing.TB, s string) *sid.SID {
	sid := mustSID(t, s)
	return &sid
}

// authTime is a fixed clock: every test PAC is made at this instant.
var authTime = time.Date(2024, 3, 1, 9, 30, 15, 0, time.UTC)

const testDomain = "S-1-5-21-1004336348-1177238915-682003330"

// userPAC is a typical user's PAC as hop's KDC makes it for a TGT.
func userPAC(t testing.TB) *PAC {
	return &PAC{
		LogonInfo: &ValidationInfo{
			LogonTime:          authTime,
			PasswordLastSet:    authTime.Add(-30 * 24 * time.Hour),
			PasswordCanChange:  authTime.Add(-29 * 24 * time.Hour),
			EffectiveName:      "alice",
			FullName:           "Alice Liddell",
			LogonCount:         7,
			UserID:             1105,
			PrimaryGroupID:     513,
			Groups:             []GroupMembership{{513, GroupDefault}, {512, GroupDefault}, {1107, GroupDefault}},
			UserFlags:          LogonExtraSIDs,
			LogonServer:        "KDC1",
			LogonDomainName:    "EXAMPLE",
			LogonDomainID:      mustSID(t, testDomain),
			UserAccountControl: UserNormalAccount | UserDontExpirePassword,
			ExtraSIDs:          []SIDAndAttributes{{mustSID(t, "S-1-18-1"), GroupDefault}},
		},
		ClientInfo: &ClientInfo{ClientID: authTime, Name: "alice"},
		UPNDNSInfo: &UPNDNSInfo{
			UPN: "alice@example.com", DNSDomainName: "EXAMPLE.COM", Flags: UPNHasSAMNameAndID,
			SAMName: "alice", SID: sidPtr(t, testDomain+"-1105"),
		},
		Attributes: &Attributes{Flags: AttrPACWasRequested},
		Requestor:  &Requestor{SID: mustSID(t, testDomain+"-1105")},
	}
}

// fullPAC has every buffer type, with values that exercise the encodings:
// non-ASCII and astral-plane strings, resource groups, several extra SIDs,
// delegation information and raw buffers of the types hop keeps as bytes.
func fullPAC(t testing.TB) *PAC {
	p := userPAC(t)
	li := p.LogonInfo
	li.LogoffTime = authTime.Add(10 * time.Hour)
	li.KickOffTime = authTime.Add(12 * time.Hour)
	li.PasswordMustChange = authTime.Add(60 * 24 * time.Hour).Add(123456700 * time.Nanosecond)
	li.FullName = "Ålice Lïddell 𝔸"
	li.LogonScript = "logon.cmd"
	li.ProfilePath = `\\srv\profiles\alice`
	li.HomeDirectory = `\\srv\home\alice`
	li.HomeDirectoryDrive = "H:"
	li.BadPasswordCount = 2
	li.UserFlags = LogonExtraSIDs | LogonResourceGroups
	li.ExtraSIDs = append(li.ExtraSIDs,
		SIDAndAttributes{mustSID(t, "S-1-18-2"), GroupDefault},
		SIDAndAttributes{mustSID(t, "S-1-5-21-1-2-3-4444"), GroupDefault | GroupResource})
	li.ResourceGroupDomainSID = sidPtr(t, "S-1-5-21-9-8-7")
	li.ResourceGroups = []GroupMembership{{1200, GroupDefault | GroupResource}, {1201, GroupDefault | GroupResource}}
	li.UserAccountControl |= UserNotDelegated
	p.DelegationInfo = &DelegationInfo{
		S4U2ProxyTarget:   "cifs/fs.example.com",
		TransitedServices: []string{"http/web.example.com@EXAMPLE.COM", "host/b.example.com@EXAMPLE.COM"},
	}
	p.Attributes.Flags = AttrPACWasRequested | AttrPACWasGivenImplicitly
	p.Other = []RawBuffer{
		{Type: TypeCredentials, Data: []byte{0, 0, 0, 0, 18, 0, 0, 0, 1, 2, 3}},
		{Type: TypeClientClaims, Data: []byte{1, 2, 3, 4, 5}},
		{Type: TypeDeviceInfo, Data: []byte{6, 7, 8}},
		{Type: TypeDeviceClaims, Data: []byte{9}},
		{Type: 99, Data: []byte("unknown buffer type")},
	}
	return p
}
