package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/crypto"
	"hop/krb5/keytab"
	"hop/krb5/wire"
	"hop/pac"
)

// sambaPython is the interpreter of Debian's python3-samba.
const sambaPython = "/usr/bin/python3"

// sambaDecodePAC decodes the PAC in the file argv[1] with Samba's NDR code
// and prints, as JSON, the fields the test compares with the directory.
const sambaDecodePAC = `
import json, sys
from samba.dcerpc import krb5pac
from samba.ndr import ndr_unpack
def s(x):
    return x.string if x is not None and x.string is not None else ""
pac = ndr_unpack(krb5pac.PAC_DATA, open(sys.argv[1], "rb").read())
out = {"types": [], "buffers": {}}
for buf in pac.buffers:
    t, info = buf.type, buf.info
    out["types"].append(t)
    d = {}
    if t == krb5pac.PAC_TYPE_LOGON_INFO:
        i3 = info.info.info3
        b = i3.base
        d = {"account_name": s(b.account_name), "rid": b.rid, "primary_gid": b.primary_gid,
             "groups": sorted(g.rid for g in (b.groups.rids or [])[:b.groups.count]),
             "group_attrs": sorted(set(g.attributes for g in (b.groups.rids or [])[:b.groups.count])),
             "user_flags": b.user_flags, "logon_domain": s(b.logon_domain), "domain_sid": str(b.domain_sid),
             "acct_flags": b.acct_flags,
             "sids": [[str(x.sid), x.attributes] for x in (i3.sids or [])[:i3.sidcount]]}
    elif t == krb5pac.PAC_TYPE_LOGON_NAME:
        d = {"account_name": info.account_name, "logon_time": info.logon_time}
    elif t == krb5pac.PAC_TYPE_UPN_DNS_INFO:
        d = {"upn": info.upn_name or "", "dns": info.dns_domain_name or "", "flags": info.flags}
        if info.flags & krb5pac.PAC_UPN_DNS_FLAG_HAS_SAM_NAME_AND_SID:
            d["sam"] = info.ex.samaccountname or ""
            d["sid"] = str(info.ex.objectsid)
    elif t == krb5pac.PAC_TYPE_CONSTRAINED_DELEGATION:
        cd = info.info
        d = {"target": s(cd.proxy_target),
             "transited": [s(x) for x in (cd.transited_services or [])[:cd.num_transited_services]]}
    elif t == krb5pac.PAC_TYPE_REQUESTER_SID:
        d = {"sid": str(info.sid)}
    elif t == krb5pac.PAC_TYPE_ATTRIBUTES_INFO:
        d = {"flags": info.flags}
    elif t in (krb5pac.PAC_TYPE_SRV_CHECKSUM, krb5pac.PAC_TYPE_KDC_CHECKSUM,
               krb5pac.PAC_TYPE_TICKET_CHECKSUM, krb5pac.PAC_TYPE_FULL_CHECKSUM):
        d = {"type": info.type, "length": len(bytes(info.signature))}
    out["buffers"][str(t)] = d
json.dump(out, sys.stdout)
`

// sambaPAC is what sambaDecodePAC prints.
type sambaPAC struct {
	Types   []int
	Buffers map[string]json.RawMessage
}

type sambaLogonInfo struct {
	AccountName string `json:"account_name"`
	RID         uint32
	PrimaryGID  uint32 `json:"primary_gid"`
	Groups      []uint32
	GroupAttrs  []uint32 `json:"group_attrs"`
	UserFlags   uint32   `json:"user_flags"`
	LogonDomain string   `json:"logon_domain"`
	DomainSID   string   `json:"domain_sid"`
	AcctFlags   uint32   `json:"acct_flags"`
	SIDs        [][2]any `json:"sids"`
}

// sambaRequirePython skips (or under HOP_INTEROP=1 fails) the test unless
// python3-samba's PAC bindings import.
func sambaRequirePython(t *testing.T) {
	t.Helper()
	if _, _, err := thirdparty.Run(t, nil, "", sambaPython, "-c", "from samba.dcerpc import krb5pac"); err != nil {
		msg := sambaPython + " cannot import samba.dcerpc.krb5pac (Debian package python3-samba): " + err.Error()
		if thirdparty.Interop() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// sambaTicketPAC finds the ticket from client to server in the ccache at
// cc, decrypts it with the matching key of the keytab kt, and decodes its
// PAC with Samba. It returns the decoded PAC and the ticket's authtime.
func sambaTicketPAC(t *testing.T, cc, kt, client, server string) (*sambaPAC, *ccache.Credential) {
	t.Helper()
	c, err := ccache.Load(cc)
	if err != nil {
		t.Fatal(err)
	}
	var cred *ccache.Credential
	for i := range c.Credentials {
		cr := &c.Credentials[i]
		if !cr.IsConfig() && cr.Client.String() == client && cr.Server.String() == server {
			cred = cr
		}
	}
	if cred == nil {
		t.Fatalf("no ticket %s -> %s in %s", client, server, cc)
	}
	tkt, err := wire.ParseTicket(cred.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keytab.Load(kt)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := krb5.ParsePrincipal(server)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := keys.Find(sp, tkt.EncPart.KVNO, tkt.EncPart.EType)
	if err != nil {
		t.Fatalf("no key for %s: %v", server, err)
	}
	key, err := crypto.NewKey(ent.EncType, ent.Key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := key.Decrypt(krb5.UsageTicket, tkt.EncPart.Cipher)
	if err != nil {
		t.Fatalf("ticket to %s does not decrypt with its keytab key: %v", server, err)
	}
	etp, err := wire.ParseEncTicketPart(plain)
	if err != nil {
		t.Fatal(err)
	}
	raw, found, err := pac.FromAuthorizationData(etp.AuthorizationData)
	if err != nil || !found {
		t.Fatalf("ticket to %s: no PAC (%v)", server, err)
	}
	f := filepath.Join(t.TempDir(), "pac.bin")
	if err := os.WriteFile(f, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := thirdparty.Run(t, nil, "", sambaPython, "-c", sambaDecodePAC, f)
	if err != nil {
		t.Fatalf("Samba cannot decode the PAC of the ticket to %s: %v\n%s", server, err, stderr)
	}
	var p sambaPAC
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return &p, cred
}

// sambaJSON runs hop ... --json and decodes its output into v.
func sambaJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	if err := json.Unmarshal([]byte(hop(t, "", append(args, "--json")...)), v); err != nil {
		t.Fatal(err)
	}
}

// Samba's NDR decoder reads the PACs of tickets hop issues to MIT's
// clients: a service ticket from alice's TGT (kvno), an S4U2Self ticket
// (kvno -U) and an S4U2Proxy ticket (kvno -U -P), and every field it
// decodes is what the directory says.
func TestSambaDecodesHopTicketPACs(t *testing.T) {
	sambaRequirePython(t)
	kinit := thirdparty.Require(t, "kinit")
	kvno := thirdparty.Require(t, "kvno")
	r := newRealm(t, "")
	dir := r.dir
	hop(t, "", "account", "add-computer", "c.example.test", "--spn", "cifs/c.example.test", "--dir", dir)
	cKT := filepath.Join(dir, "c.keytab")
	hop(t, "", "keytab", "export", "c$", "-o", cKT, "--dir", dir)
	bKT := filepath.Join(dir, "b.keytab")
	// alice is in Web Admins directly and in Tier 2 through it.
	hop(t, "", "group", "create", "Web Admins", "--dir", dir)
	hop(t, "", "group", "create", "Tier 2", "--dir", dir)
	hop(t, "", "group", "add-member", "Web Admins", "alice", "--dir", dir)
	hop(t, "", "group", "add-member", "Tier 2", "Web Admins", "--dir", dir)
	hop(t, "", "account", "set", "b$", "--allowed-to-delegate-to", "cifs/c.example.test", "--protocol-transition", "--dir", dir)

	var dom struct {
		Realm, SID string
		NetBIOS    string `json:"netbios_name"`
	}
	sambaJSON(t, &dom, "domain", "show", "--dir", dir)
	var alice struct {
		RID uint32
		SID string
		UPN string
	}
	sambaJSON(t, &alice, "account", "show", "alice", "--dir", dir)
	wantGroups := []uint32{513} // Domain Users, alice's primary group
	for _, g := range []string{"Web Admins", "Tier 2"} {
		var gv struct{ RID uint32 }
		sambaJSON(t, &gv, "group", "show", g, "--dir", dir)
		wantGroups = append(wantGroups, gv.RID)
	}
	slices.Sort(wantGroups)

	// The three tickets, each in a ccache of its own.
	env, userCC := r.env(t)
	if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice"); err != nil {
		t.Fatalf("kinit alice: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", kvno, "host/b.example.test"); err != nil {
		t.Fatalf("kvno host/b.example.test: %v\n%s%s", err, out, errOut)
	}
	env, svcCC := r.env(t)
	if out, errOut, err := thirdparty.Run(t, env, "", kinit, "-k", "-t", bKT, "host/b.example.test"); err != nil {
		t.Fatalf("kinit -k: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", kvno, "-U", "alice", "-P", "cifs/c.example.test"); err != nil {
		t.Fatalf("kvno -U alice -P cifs/c.example.test: %v\n%s%s", err, out, errOut)
	}

	for _, tc := range []struct {
		name, cc, kt, server string
		asserted             string
		delegation           bool
	}{
		{"service ticket from the TGT", userCC, bKT, "host/b.example.test@EXAMPLE.TEST", "S-1-18-1", false},
		{"S4U2Self", svcCC, bKT, "host/b.example.test@EXAMPLE.TEST", "S-1-18-2", false},
		{"S4U2Proxy", svcCC, cKT, "cifs/c.example.test@EXAMPLE.TEST", "S-1-18-2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, cred := sambaTicketPAC(t, tc.cc, tc.kt, "alice@EXAMPLE.TEST", tc.server)
			buf := func(typ int, v any) bool {
				raw, ok := p.Buffers[fmt.Sprint(typ)]
				if ok {
					if err := json.Unmarshal(raw, v); err != nil {
						t.Fatal(err)
					}
				}
				return ok
			}
			for _, typ := range []int{1, 6, 7, 10, 12, 16, 19} { // MS-PAC §2.4
				if !slices.Contains(p.Types, typ) {
					t.Errorf("no PAC buffer of type %d in %v", typ, p.Types)
				}
			}

			var li sambaLogonInfo
			if !buf(1, &li) {
				t.Fatal("no KERB_VALIDATION_INFO")
			}
			if li.AccountName != "alice" || li.RID != alice.RID || li.PrimaryGID != 513 || li.DomainSID != dom.SID || li.LogonDomain != dom.NetBIOS {
				t.Errorf("logon info %+v; want alice, RID %d, domain %s (%s)", li, alice.RID, dom.SID, dom.NetBIOS)
			}
			if !slices.Equal(li.Groups, wantGroups) || !slices.Equal(li.GroupAttrs, []uint32{7}) {
				t.Errorf("groups %v (attributes %v), want %v with attributes 7", li.Groups, li.GroupAttrs, wantGroups)
			}
			if li.AcctFlags&0x10 == 0 { // USER_NORMAL_ACCOUNT, MS-SAMR §2.2.1.12
				t.Errorf("UserAccountControl %#x lacks USER_NORMAL_ACCOUNT", li.AcctFlags)
			}
			// The asserted identity SID in ExtraSids, attributes 7, and the
			// EXTRA_SIDS user flag (MS-PAC §2.5).
			var sids []string
			for _, s := range li.SIDs {
				sids = append(sids, fmt.Sprintf("%v/%v", s[0], s[1]))
			}
			if want := []string{tc.asserted + "/7"}; !slices.Equal(sids, want) || li.UserFlags&0x20 == 0 {
				t.Errorf("ExtraSids %v (user flags %#x), want %v", sids, li.UserFlags, want)
			}

			var ci struct {
				AccountName string `json:"account_name"`
				LogonTime   uint64 `json:"logon_time"`
			}
			buf(10, &ci)
			// PAC_CLIENT_INFO: the client name and the ticket's authtime
			// as a FILETIME (MS-PAC §2.7).
			ft := uint64(cred.AuthTime.Unix()+11644473600) * 10000000
			if ci.AccountName != "alice" || ci.LogonTime != ft {
				t.Errorf("client info %+v, want alice at %d (authtime %s)", ci, ft, cred.AuthTime)
			}

			var upn struct {
				UPN, DNS, Sam, SID string
				Flags              uint32
			}
			buf(12, &upn)
			if upn.UPN != alice.UPN || !strings.EqualFold(upn.DNS, dom.Realm) || upn.Sam != "alice" || upn.SID != alice.SID || upn.Flags&2 == 0 {
				t.Errorf("UPN_DNS_INFO %+v, want %s in %s, sam alice, SID %s", upn, alice.UPN, dom.Realm, alice.SID)
			}

			// PAC_REQUESTOR names the account that asked for the ticket;
			// S4U2Self tickets carry none (MS-KILE §3.3.5.6.4.8, rules §1.4).
			var req struct{ SID string }
			switch has := buf(18, &req); {
			case has && tc.asserted == "S-1-18-2":
				t.Errorf("PAC_REQUESTOR %s in a ticket made by S4U", req.SID)
			case has && req.SID != alice.SID:
				t.Errorf("PAC_REQUESTOR %s, want %s", req.SID, alice.SID)
			}

			for _, typ := range []int{7, 16, 19} {
				var sig struct{ Type, Length int }
				buf(typ, &sig)
				if sig.Type != 16 || sig.Length != 12 { // hmac-sha1-96-aes256 with krbtgt's AES256 key
					t.Errorf("signature buffer %d: type %d, %d bytes", typ, sig.Type, sig.Length)
				}
			}

			var di struct {
				Target    string
				Transited []string
			}
			has := buf(11, &di)
			switch {
			case has != tc.delegation:
				t.Errorf("S4U_DELEGATION_INFO present %v", has)
			case has && (di.Target != "cifs/c.example.test" || !slices.Equal(di.Transited, []string{"host/b.example.test@EXAMPLE.TEST"})):
				t.Errorf("S4U_DELEGATION_INFO %+v", di)
			}
		})
	}
}
