package pac

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"hop/internal/thirdparty"
	"hop/krb5"
)

// The interoperability tests decode PACs hop encodes with two independent
// implementations, Samba's NDR code (python3-samba) and impacket
// (python3-impacket), and compare every field they print with the values
// hop was given. They skip when a decoder is missing, or fail under
// HOP_INTEROP=1.

const python = "/usr/bin/python3"

var pyChecks sync.Map // module -> error

// requirePython skips (or, under HOP_INTEROP=1, fails) the test unless
// /usr/bin/python3 can import module.
func requirePython(t *testing.T, module, pkg string) {
	t.Helper()
	v, ok := pyChecks.Load(module)
	if !ok {
		var err error
		if _, err = os.Stat(python); err == nil {
			_, _, err = thirdparty.Run(t, nil, "", python, "-c", "import "+module)
		}
		v, _ = pyChecks.LoadOrStore(module, err)
	}
	if err, _ := v.(error); err != nil {
		msg := python + " cannot import " + module + " (Debian package " + pkg + "): " + err.Error()
		if thirdparty.Interop() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// decodeWith runs a decoder script of testdata/interop on b.
func decodeWith(t *testing.T, script string, b []byte, args ...string) map[string]any {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pac.bin")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := thirdparty.Run(t, nil, "", python, append([]string{filepath.Join("testdata", "interop", script), f}, args...)...)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%s: %v\n%s", script, ee, stderr)
		}
		t.Fatalf("%s: %v", script, err)
	}
	return jsonValue(t, []byte(out))
}

func jsonValue(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// normalize passes v through JSON as the decoders' output is.
func normalize(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return jsonValue(t, b)
}

// interopPAC is fullPAC with raw buffers every decoder accepts.
func interopPAC(t *testing.T) *PAC {
	p := fullPAC(t)
	p.Other = []RawBuffer{{Type: TypeClientClaims, Data: []byte{1, 2, 3, 4, 5}}}
	return p
}

// expected builds, from the values hop was given (not from hop's decoder),
// what the decoder scripts print.
func expected(t *testing.T, p *PAC, signed map[uint32]*Signature) map[string]any {
	li := p.LogonInfo
	var times []uint64
	for _, tm := range li.times() {
		v, err := toFileTime(tm)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, v)
	}
	pairs := func(g []GroupMembership) [][2]uint32 {
		o := [][2]uint32{}
		for _, m := range g {
			o = append(o, [2]uint32{m.RID, m.Attributes})
		}
		return o
	}
	sids := [][2]any{}
	for _, s := range li.ExtraSIDs {
		sids = append(sids, [2]any{s.SID.String(), s.Attributes})
	}
	clientTime, _ := toFileTime(p.ClientInfo.ClientID)
	bufs := map[string]any{
		"1": map[string]any{
			"times":               times,
			"names":               []string{li.EffectiveName, li.FullName, li.LogonScript, li.ProfilePath, li.HomeDirectory, li.HomeDirectoryDrive},
			"logon_count":         li.LogonCount,
			"bad_password_count":  li.BadPasswordCount,
			"rid":                 li.UserID,
			"primary_gid":         li.PrimaryGroupID,
			"groups":              pairs(li.Groups),
			"user_flags":          LogonExtraSIDs | LogonResourceGroups,
			"logon_server":        li.LogonServer,
			"logon_domain":        li.LogonDomainName,
			"domain_sid":          li.LogonDomainID.String(),
			"acct_flags":          li.UserAccountControl,
			"sids":                sids,
			"resource_domain_sid": li.ResourceGroupDomainSID.String(),
			"resource_groups":     pairs(li.ResourceGroups),
		},
		"10": map[string]any{"logon_time": clientTime, "account_name": p.ClientInfo.Name},
		"11": map[string]any{"target": p.DelegationInfo.S4U2ProxyTarget, "transited": p.DelegationInfo.TransitedServices},
		"12": map[string]any{"upn": p.UPNDNSInfo.UPN, "dns": p.UPNDNSInfo.DNSDomainName, "flags": UPNHasSAMNameAndID,
			"sam": p.UPNDNSInfo.SAMName, "sid": p.UPNDNSInfo.SID.String()},
		"17": map[string]any{"flags_length": 2, "flags": p.Attributes.Flags},
		"18": map[string]any{"sid": p.Requestor.SID.String()},
		"13": map[string]any{"raw": hex.EncodeToString(p.Other[0].Data)},
	}
	for typ, s := range signed {
		bufs[itoa(typ)] = map[string]any{"type": int32(s.Type), "signature": hex.EncodeToString(s.Value)}
	}
	return normalize(t, map[string]any{
		"types":   []uint32{1, 6, 7, 10, 11, 12, 13, 16, 17, 18, 19},
		"buffers": bufs,
	})
}

func itoa(v uint32) string { b, _ := json.Marshal(v); return string(b) }

// signedInterop signs interopPAC as a service ticket's with aes256 keys and
// returns its encoding, the signatures, and the keys in hex.
func signedInterop(t *testing.T) ([]byte, *PAC, map[uint32]*Signature, []string) {
	sk, kk := fixedKey(t, krb5.AES256CTSHMACSHA196, 1), fixedKey(t, krb5.AES256CTSHMACSHA196, 2)
	in, err := TicketSigningInput(serviceTicket(t, "cifs/fs"))
	if err != nil {
		t.Fatal(err)
	}
	p := interopPAC(t)
	b, err := p.Sign(sk, kk, SignOptions{Ticket: in})
	if err != nil {
		t.Fatal(err)
	}
	sigs := map[uint32]*Signature{TypeServerChecksum: p.ServerChecksum, TypeKDCChecksum: p.KDCChecksum,
		TypeTicketChecksum: p.TicketChecksum, TypeFullChecksum: p.FullChecksum}
	keys := []string{"18", hex.EncodeToString(sk.Material()), "18", hex.EncodeToString(kk.Material())}
	return b, interopPAC(t), sigs, keys
}

func TestInteropSambaDecodesHop(t *testing.T) {
	requirePython(t, "samba.dcerpc.krb5pac", "python3-samba")
	b, p, sigs, _ := signedInterop(t)
	got := decodeWith(t, "samba_decode.py", b)
	want := expected(t, p, sigs)
	want["version"] = json.Number("0")
	compareDecoded(t, got, want)
}

func TestInteropImpacketDecodesHop(t *testing.T) {
	requirePython(t, "impacket.krb5.pac", "python3-impacket")
	b, p, sigs, keys := signedInterop(t)
	got := decodeWith(t, "impacket_decode.py", b, keys...)
	want := expected(t, p, sigs)
	bufs := want["buffers"].(map[string]any)
	// impacket has no decoder for these two buffers; its S4U_DELEGATION_INFO
	// decoder does not follow the pointers inside the transited list.
	bufs["17"] = map[string]any{"raw": hex.EncodeToString(binary.LittleEndian.AppendUint32([]byte{2, 0, 0, 0}, p.Attributes.Flags))}
	bufs["18"] = map[string]any{"raw": hex.EncodeToString(p.Requestor.SID.Bytes())}
	delete(bufs["11"].(map[string]any), "transited")
	delete(got["buffers"].(map[string]any)["11"].(map[string]any), "transited")
	// impacket's own crypto checks the server, KDC and full signatures.
	want["server_ok"], want["kdc_ok"], want["full_ok"] = true, true, true
	compareDecoded(t, got, normalize(t, want))
}

func compareDecoded(t *testing.T, got, want map[string]any) {
	t.Helper()
	gb, wb := got["buffers"].(map[string]any), want["buffers"].(map[string]any)
	for k, w := range wb {
		if !reflect.DeepEqual(gb[k], w) {
			t.Errorf("buffer %s:\n got %v\nwant %v", k, gb[k], w)
		}
	}
	for k := range gb {
		if _, ok := wb[k]; !ok {
			t.Errorf("unexpected buffer %s: %v", k, gb[k])
		}
	}
	for k, w := range want {
		if k != "buffers" && !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
}
