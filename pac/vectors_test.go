package pac

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// The vectors under testdata/mit come from MIT krb5's src/lib/krb5/krb/t_pac.c
// (see testdata/mit/README): PACs and a ticket made by Windows domain
// controllers, with the keys that verify them.

func readHex(t testing.TB, name string) []byte {
	t.Helper()
	s, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(s)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func mustKey(t testing.TB, e krb5.EncType, h string) *crypto.Key {
	t.Helper()
	m, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.NewKey(e, m)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Keys of t_pac.c.
const (
	w2003KDCKey    = "b286757148af7fd252c53603a150b7e7" // kdc_keyblock, rc4-hmac
	w2003MemberKey = "d217faeae5e6b5f95ccc94077ab8a5fc" // member_keyblock, rc4-hmac
	s4uSrvKey      = "14dfb5b2cdb42c8894da2fa882e9729f4a4dc74ba02a242cc6a8d71079b9ad9a"
	s4uTGTSrvKey   = "420c39c51a175404451f956b8c58e0f41bca669a644795ca6e3ad55a3b918c9f"
	w2022KrbtgtKey = "037381ec43967bc2ac3df52aae95a68ebe2458dbce522820af5eb704a222714f"
	w2022ServerKey = "114a84e3148faab1fa7b5351b28ac2f1fd196d61e0f3f23e1fdbd3c1797dc1ee"
)

// w2022Ticket decrypts the Windows Server 2022 service ticket of t_pac.c.
func w2022Ticket(t testing.TB) *wire.EncTicketPart {
	t.Helper()
	tkt, err := wire.ParseTicket(readHex(t, "mit/ticket_w2022.hex"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := mustKey(t, krb5.AES256CTSHMACSHA196, w2022ServerKey).Decrypt(krb5.UsageTicket, tkt.EncPart.Cipher)
	if err != nil {
		t.Fatal(err)
	}
	etp, err := wire.ParseEncTicketPart(plain)
	if err != nil {
		t.Fatal(err)
	}
	return etp
}

// TestWindows2022Ticket verifies the four signatures of a PAC issued by
// Windows Server 2022 (ticket, full, server and KDC), decodes it, and signs
// its decoded form again: hop must reproduce Windows' PAC byte for byte,
// signatures included.
func TestWindows2022Ticket(t *testing.T) {
	etp := w2022Ticket(t)
	pacBytes, ok, err := FromAuthorizationData(etp.AuthorizationData)
	if err != nil || !ok {
		t.Fatalf("FromAuthorizationData: %v %v", ok, err)
	}
	in, err := TicketSigningInput(etp)
	if err != nil {
		t.Fatal(err)
	}
	srv := mustKey(t, krb5.AES256CTSHMACSHA196, w2022ServerKey)
	kdc := mustKey(t, krb5.AES256CTSHMACSHA196, w2022KrbtgtKey)
	p, err := Verify(pacBytes, srv, kdc, SignOptions{Ticket: in})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The values Samba's and impacket's decoders print for this PAC.
	domain := "S-1-5-21-133451344-1126667713-3548050118"
	li := p.LogonInfo
	if li.EffectiveName != "Administrator" || li.UserID != 500 || li.PrimaryGroupID != 513 ||
		li.LogonServer != "W2022-118" || li.LogonDomainName != "W2022-L7" || li.LogonDomainID.String() != domain ||
		li.UserAccountControl != 0x210 || li.UserFlags != 0x220 || li.LogonCount != 370 {
		t.Errorf("logon info %+v", li)
	}
	if ft, _ := toFileTime(li.LogonTime); ft != 133136929195316850 || !li.LogoffTime.IsZero() || !li.PasswordMustChange.IsZero() {
		t.Errorf("times %v (%d) %v %v", li.LogonTime, ft, li.LogoffTime, li.PasswordMustChange)
	}
	wantGroups := []GroupMembership{{513, 7}, {512, 7}, {520, 7}, {518, 7}, {519, 7}}
	if !reflect.DeepEqual(li.Groups, wantGroups) {
		t.Errorf("groups %v", li.Groups)
	}
	if len(li.ExtraSIDs) != 1 || li.ExtraSIDs[0].SID.String() != "S-1-18-1" || li.ExtraSIDs[0].Attributes != 7 {
		t.Errorf("extra SIDs %v", li.ExtraSIDs)
	}
	if li.ResourceGroupDomainSID == nil || li.ResourceGroupDomainSID.String() != domain ||
		!reflect.DeepEqual(li.ResourceGroups, []GroupMembership{{572, 0x20000007}}) {
		t.Errorf("resource groups %v %v", li.ResourceGroupDomainSID, li.ResourceGroups)
	}
	if p.ClientInfo.Name != "administrator" || !p.ClientInfo.ClientID.Equal(etp.AuthTime) {
		t.Errorf("client info %+v (authtime %v)", p.ClientInfo, etp.AuthTime)
	}
	u := p.UPNDNSInfo
	if u.UPN != "Administrator@w2022-l7.base" || u.DNSDomainName != "W2022-L7.BASE" || u.Flags != 3 ||
		u.SAMName != "Administrator" || u.SID == nil || u.SID.String() != domain+"-500" {
		t.Errorf("UPN_DNS_INFO %+v", u)
	}
	if p.TicketChecksum == nil || p.FullChecksum == nil || p.ServerChecksum.Type != krb5.CksumHMACSHA196AES256 {
		t.Errorf("signatures %+v %+v %+v", p.ServerChecksum, p.TicketChecksum, p.FullChecksum)
	}

	resigned, err := p.Sign(srv, kdc, SignOptions{Ticket: in})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resigned, pacBytes) {
		t.Errorf("hop's PAC differs from Windows'\nhop     %x\nwindows %x", resigned, pacBytes)
	}

	// Moved to another ticket (another client name), the PAC fails.
	moved := *etp
	moved.CName = krb5.NewName(krb5.NTPrincipal, "mallory")
	in2, err := TicketSigningInput(&moved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(pacBytes, srv, kdc, SignOptions{Ticket: in2}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("moved PAC: %v", err)
	}
	// Verified as a TGT's PAC (no ticket), the full checksum is still checked
	// and passes.
	if _, err := Verify(pacBytes, srv, kdc, SignOptions{}); err != nil {
		t.Errorf("without ticket: %v", err)
	}
}

// TestMITVectors verifies the older Windows PACs of t_pac.c and checks that
// hop encodes their logon information as Windows did.
func TestMITVectors(t *testing.T) {
	for _, tc := range []struct {
		file      string
		srv, kdc  *crypto.Key
		authtime  int64
		client    string
		upn       string
		flagQuirk bool // Windows 2008 set LOGON_EXTRA_SIDS with no extra SIDs
	}{
		{"saved_pac", mustKey(t, krb5.RC4HMAC, w2003MemberKey), mustKey(t, krb5.RC4HMAC, w2003KDCKey), 1120440609, "w2003final$", "", false},
		{"s4u_pac_regular", mustKey(t, krb5.AES256CTSHMACSHA196, s4uSrvKey), nil, 1538430362, "w2k8u", "w2k8u@abc", true},
		{"s4u_pac_enterprise", mustKey(t, krb5.AES256CTSHMACSHA196, s4uSrvKey), nil, 1538437551, "w2k8u@abc", "w2k8u@abc", true},
		{"s4u_pac_xrealm", mustKey(t, krb5.AES256CTSHMACSHA196, s4uTGTSrvKey), nil, 1538469429, "w2k8u@ACME.COM", "w2k8u@abc", true},
		{"s4u_pac_ent_xrealm", mustKey(t, krb5.AES256CTSHMACSHA196, s4uTGTSrvKey), nil, 1538484998, "w2k8u@abc@ACME.COM", "w2k8u@abc", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readHex(t, "mit/"+tc.file+".hex")
			p, err := Verify(b, tc.srv, tc.kdc, SignOptions{})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !p.ClientInfo.ClientID.Equal(time.Unix(tc.authtime, 0)) || p.ClientInfo.Name != tc.client {
				t.Errorf("client info %+v", p.ClientInfo)
			}
			if tc.upn != "" && (p.UPNDNSInfo == nil || p.UPNDNSInfo.UPN != tc.upn) {
				t.Errorf("UPN_DNS_INFO %+v", p.UPNDNSInfo)
			}
			// Wrong keys fail.
			if _, err := Verify(b, tc.kdc, nil, SignOptions{}); tc.kdc != nil && !errors.Is(err, ErrBadSignature) {
				t.Errorf("KDC key as server key: %v", err)
			}
			// hop's encoding of the decoded logon information is Windows'.
			_, infos, err := parse(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, ib := range infos {
				if ib.typ != TypeLogonInfo {
					continue
				}
				want := bytes.Clone(b[ib.off : ib.off+ib.size])
				got, err := p.LogonInfo.marshal()
				if err != nil {
					t.Fatal(err)
				}
				if tc.flagQuirk {
					// UserFlags is at 16 (headers) + 4 (pointer) + 116.
					want[136] &^= LogonExtraSIDs
				}
				if !bytes.Equal(got, want) {
					t.Errorf("logon info encoding differs\nhop     %x\nwindows %x", got, want)
				}
			}
		})
	}
	if p, _ := Parse(readHex(t, "mit/saved_pac.hex")); p.LogonInfo.EffectiveName != "W2003FINAL$" ||
		p.LogonInfo.LogonDomainName != "WIN2K3THINK" || p.LogonInfo.UserID != 1005 || p.LogonInfo.PrimaryGroupID != 516 {
		t.Errorf("saved_pac logon info %+v", p.LogonInfo)
	}
}

// TestSambaEncodedPAC decodes a PAC that Samba's NDR code encoded
// (testdata/samba/gen.py sets the values compared here).
func TestSambaEncodedPAC(t *testing.T) {
	p, err := Parse(readHex(t, "samba/pac_samba.hex"))
	if err != nil {
		t.Fatal(err)
	}
	domain := "S-1-5-21-1004336348-1177238915-682003330"
	rg := mustSID(t, "S-1-5-21-9-8-7")
	want := &PAC{
		LogonInfo: &ValidationInfo{
			LogonTime:          fromFileTime(133136929195316850),
			PasswordLastSet:    fromFileTime(132893055467651518),
			PasswordCanChange:  fromFileTime(132893919467651518),
			EffectiveName:      "alice",
			FullName:           "Alice Ünicode",
			LogonScript:        "logon.cmd",
			ProfilePath:        `\\srv\profiles\alice`,
			HomeDirectory:      `\\srv\home\alice`,
			HomeDirectoryDrive: "H:",
			LogonCount:         42,
			BadPasswordCount:   3,
			UserID:             1105,
			PrimaryGroupID:     513,
			Groups:             []GroupMembership{{513, 7}, {512, 7}, {1107, 7}},
			UserFlags:          0x220,
			LogonServer:        "DC1",
			LogonDomainName:    "EXAMPLE",
			LogonDomainID:      mustSID(t, domain),
			UserAccountControl: 0x210,
			ExtraSIDs: []SIDAndAttributes{
				{mustSID(t, "S-1-18-1"), 7},
				{mustSID(t, "S-1-5-21-1-2-3-4444"), 0x20000007},
			},
			ResourceGroupDomainSID: &rg,
			ResourceGroups:         []GroupMembership{{1200, 0x20000007}, {1201, 0x20000007}},
		},
		ClientInfo: &ClientInfo{ClientID: fromFileTime(133136929190000000), Name: "alice"},
		UPNDNSInfo: &UPNDNSInfo{UPN: "alice@example.com", DNSDomainName: "EXAMPLE.COM", Flags: 2,
			SAMName: "alice", SID: sidPtr(t, domain+"-1105")},
		Attributes: &Attributes{Flags: 1},
		Requestor:  &Requestor{SID: mustSID(t, domain+"-1105")},
		DelegationInfo: &DelegationInfo{S4U2ProxyTarget: "cifs/fs.example.com",
			TransitedServices: []string{"http/web.example.com@EXAMPLE.COM", "host/b.example.com@EXAMPLE.COM"}},
		ServerChecksum: &Signature{Type: 16, Value: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		KDCChecksum:    &Signature{Type: 16, Value: []byte{13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
		if !reflect.DeepEqual(p.LogonInfo, want.LogonInfo) {
			t.Errorf("logon info\n got %+v\nwant %+v", p.LogonInfo, want.LogonInfo)
		}
	}
	if ft, _ := toFileTime(p.LogonInfo.LogonTime); ft != 133136929195316850 {
		t.Errorf("LogonTime does not round-trip: %d", ft)
	}
}
