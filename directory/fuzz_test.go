package directory

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/sid"
)

// fuzzMasterKey is a fixed key, so that seeds can carry sealed keys.
func fuzzMasterKey(tb testing.TB) *MasterKey {
	raw := make([]byte, masterKeyLen)
	for i := range raw {
		raw[i] = byte(i)
	}
	mk, err := newMasterKey(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return mk
}

// fixedReader is a deterministic nonce source for seeds.
type fixedReader byte

func (r fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r) + byte(i)
	}
	return len(p), nil
}

func seedAccount(tb testing.TB) []byte {
	a := &Account{
		Name: "alice", Kind: KindUser, RID: 1100, SPNs: []string{"svc/alice"}, UPN: "alice@example.test",
		KVNO: 2, Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Keys:    []Key{{EncType: krb5.AES256CTSHMACSHA196, KVNO: 2, Salt: "EXAMPLE.TESTalice", material: make([]byte, 32)}},
		OldKeys: []Key{{EncType: krb5.AES128CTSHMACSHA196, KVNO: 1, Salt: "EXAMPLE.TESTalice", material: make([]byte, 16)}},
	}
	v, err := encodeAccount(fuzzMasterKey(tb), fixedReader(1), a)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// seedDelegatingAccount is a schema-2 record with every delegation setting.
func seedDelegatingAccount(tb testing.TB) []byte {
	dom, _ := sid.New(5, 21, 1, 2, 3)
	a := &Account{
		Name: "alice", Kind: KindUser, RID: 1100, PrimaryGroupRID: RIDDomainGuests, KVNO: 1,
		TrustedForDelegation: true, TrustedToAuthForDelegation: true, Sensitive: true, NoAuthDataRequired: true,
		AllowedToDelegateTo:    []string{"cifs/c.example.test", "HTTP/web.example.test:8080"},
		AllowedToActOnBehalfOf: []sid.SID{dom.Append(1102), dom.Append(RIDDomainAdmins)},
		ManagedBy:              []sid.SID{dom.Append(1103)},
	}
	v, err := encodeAccount(fuzzMasterKey(tb), fixedReader(1), a)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// seedSchema3Account is a schema-3 record: revision, creator, SSH host keys
// and a sealed password history.
func seedSchema3Account(tb testing.TB) []byte {
	dom, _ := sid.New(5, 21, 1, 2, 3)
	mk := fuzzMasterKey(tb)
	a := &Account{
		Name: "alice", Kind: KindComputer, RID: 1100, PrimaryGroupRID: RIDDomainComputers, KVNO: 3, Revision: 7,
		CreatorSID: dom.Append(1105), ManagedBy: []sid.SID{dom.Append(1105)},
		SSHHostKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE"},
	}
	t := &txn{d: &Directory{mk: mk, rand: fixedReader(4)}}
	if err := t.pushHistory(a, []Key{{EncType: historyEType, Salt: "EXAMPLE.TESTalice$", material: make([]byte, 32)}}, 24); err != nil {
		tb.Fatal(err)
	}
	v, err := encodeAccount(mk, fixedReader(1), a)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func FuzzDecodeAccount(f *testing.F) {
	f.Add(seedAccount(f))
	f.Add(seedDelegatingAccount(f))
	f.Add(seedSchema3Account(f))
	f.Add([]byte(`{"name":"alice","kind":"computer","kvno":1,"revision":3,"creatorSID":"","sshHostKeys":[""],"passwordHistory":[{"etype":17,"sealed":""}]}`))
	f.Add([]byte(`{"name":"alice","kind":"user","kvno":1,"primaryGroupRID":515,"managedBy":["S-1-5-21-1-2-3-1100",""]}`))
	f.Add([]byte(`{"name":"alice","kind":"user","kvno":1,"allowedToActOnBehalfOfOtherIdentity":["S-1-5-21-1-2-3-1100",null],"allowedToDelegateTo":[""]}`))
	f.Add([]byte(`{"name":"alice","kind":"computer","kvno":1}`))
	f.Add([]byte(`{"name":"ALICE","kind":"user","keys":[{"etype":18,"kvno":1,"sealed":"AQ=="}]}`))
	f.Add([]byte(`{}`))
	mk := fuzzMasterKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := decodeAccount(mk, "alice", data)
		if err != nil {
			return
		}
		if fold(a.Name) != "alice" || !a.Kind.Valid() {
			t.Fatalf("decoded an inconsistent account %+v", a)
		}
		for _, k := range a.Keys {
			if n, ok := keyLen(k.EncType); !ok || n != len(k.material) || k.KVNO != a.KVNO {
				t.Fatalf("decoded an invalid key %v", k)
			}
		}
		// What decodes re-encodes to something that decodes the same.
		v, err := encodeAccount(mk, fixedReader(2), a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := decodeAccount(mk, "alice", v)
		if err != nil {
			t.Fatalf("re-encoded account does not decode: %v", err)
		}
		if b.Name != a.Name || b.RID != a.RID || len(b.Keys) != len(a.Keys) || len(b.OldKeys) != len(a.OldKeys) ||
			b.PrimaryGroupRID != a.PrimaryGroupRID || !sameDelegation(a, b) || b.Revision != a.Revision ||
			b.CreatorSID != a.CreatorSID || !slices.Equal(b.SSHHostKeys, a.SSHHostKeys) || len(b.history) != len(a.history) {
			t.Fatalf("round trip changed the account: %+v → %+v", a, b)
		}
		if a.Revision == 0 {
			t.Fatal("decoded revision 0")
		}
		if len(a.history) > maxPasswordHistory || len(a.SSHHostKeys) > maxHostKeys {
			t.Fatal("decoded an unbounded list")
		}
		if !validPrimaryGroup(a.Kind, a.PrimaryGroupRID) {
			t.Fatalf("decoded primary group %d for a %s", a.PrimaryGroupRID, a.Kind)
		}
		for _, l := range [][]sid.SID{a.AllowedToActOnBehalfOf, a.ManagedBy} {
			for _, sid := range l {
				if sid.IsZero() {
					t.Fatal("decoded a zero SID in a delegation list")
				}
			}
		}
		for i := range a.Keys {
			if !a.Keys[i].Equal(b.Keys[i]) {
				t.Fatal("round trip changed a key")
			}
		}
	})
}

func FuzzDecodeGroup(f *testing.F) {
	g, _ := encodeGroup(&Group{Name: "Domain Admins", RID: 512, Members: []string{"Administrator", "Inner"}})
	f.Add(g)
	dom, _ := sid.New(5, 21, 1, 2, 3)
	g, _ = encodeGroup(&Group{Name: "Domain Admins", RID: 512, ManagedBy: []sid.SID{dom.Append(1100)}, Revision: 4})
	f.Add(g)
	f.Add([]byte(`{"name":"domain admins","managedBy":["S-1-5-21-1-2-3-1100",""],"revision":0}`))
	f.Add([]byte(`{"name":"domain admins","members":[""]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := decodeGroup("domain admins", data)
		if err != nil {
			return
		}
		if fold(g.Name) != "domain admins" {
			t.Fatalf("decoded group %q under another key", g.Name)
		}
		for _, m := range g.Members {
			if m == "" {
				t.Fatal("decoded an empty member")
			}
		}
		for _, s := range g.ManagedBy {
			if s.IsZero() {
				t.Fatal("decoded a zero manager SID")
			}
		}
		if g.Revision == 0 {
			t.Fatal("decoded revision 0")
		}
		v, err := encodeGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeGroup("domain admins", v)
		if err != nil || back.Revision != g.Revision || !slices.Equal(back.ManagedBy, g.ManagedBy) || !slices.Equal(back.Members, g.Members) {
			t.Fatalf("round trip: %+v → %+v, %v", g, back, err)
		}
	})
}

func FuzzDecodeDomain(f *testing.F) {
	sid, _ := sid.New(5, 21, 1, 2, 3)
	d, _ := encodeDomain(&Domain{Realm: "EXAMPLE.TEST", SID: sid, NetBIOSName: "EXAMPLE",
		Policy: Policy{LockoutThreshold: 5, MaxTicketLife: time.Hour}})
	f.Add(d)
	d, _ = encodeDomain(&Domain{Realm: "EXAMPLE.TEST", SID: sid, NetBIOSName: "EXAMPLE",
		Policy: Policy{MinPasswordLength: 12, PasswordHistory: NoPasswordHistory, MachineAccountQuota: 3}})
	f.Add(d)
	f.Add([]byte(`{"realm":"EXAMPLE.TEST","sid":"S-1-5-21-1-2-3","policy":{"clockSkew":-1}}`))
	f.Add([]byte(`{"realm":"EXAMPLE.TEST","sid":"S-1-5-21-1-2-3","policy":{"passwordHistory":-2,"minPasswordLength":300}}`))
	f.Add([]byte(`{"realm":"A","sid":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dom, err := decodeDomain(data)
		if err != nil {
			return
		}
		if dom.SID.IsZero() || validateRealm(dom.Realm) != nil || dom.Policy.Validate() != nil {
			t.Fatalf("decoded an invalid domain %+v", dom)
		}
		v, err := encodeDomain(dom)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeDomain(v)
		if err != nil || back.Realm != dom.Realm || !back.SID.Equal(dom.SID) || back.Policy != dom.Policy {
			t.Fatalf("round trip: %+v → %+v, %v", dom, back, err)
		}
	})
}

func FuzzParseMasterKey(f *testing.F) {
	f.Add([]byte("hop-master-key-v1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	f.Add([]byte("hop-master-key-v1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n"))
	f.Add([]byte("hop-master-key-v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMasterKey(data)
		if err != nil {
			return
		}
		// A parsed key seals and opens.
		sealed, err := m.seal(fixedReader(3), []byte("aad"), []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := m.open([]byte("aad"), sealed); err != nil || string(pt) != "x" {
			t.Fatalf("seal/open: %q %v", pt, err)
		}
	})
}

// FuzzHostKeys feeds normalizeHostKeys what a joining host may send.
func FuzzHostKeys(f *testing.F) {
	for _, s := range []string{
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE root@b",
		`command="x" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE`,
		"# comment\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		out, err := normalizeHostKeys([]string{line, line})
		if err != nil {
			return
		}
		if len(out) != 1 {
			t.Fatalf("%q normalised to %d keys", line, len(out))
		}
		again, err := normalizeHostKeys(out)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("normalising %q again: %q, %v", out, again, err)
		}
		if strings.ContainsAny(out[0], "\r\n") || len(out[0]) > maxHostKeyLen*2 {
			t.Fatalf("normalised to %q", out[0])
		}
	})
}

// FuzzParseJoinToken feeds parseJoinToken what a joining host may send.
func FuzzParseJoinToken(f *testing.F) {
	f.Add(encodeJoinToken(make([]byte, joinTokenBytes)))
	f.Add("  HOP-JOIN-" + strings.Repeat("7", 52) + "\n")
	f.Add("hop-join-" + strings.Repeat("1", 52))
	f.Add("hop-join-")
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := parseJoinToken(s)
		if err != nil {
			return
		}
		if len(raw) != joinTokenBytes {
			t.Fatalf("%q parsed to %d bytes", s, len(raw))
		}
		tok := encodeJoinToken(raw)
		if tok != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("%q parsed and printed as %q", s, tok)
		}
		back, err := parseJoinToken(tok)
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("%q does not parse back: %v", tok, err)
		}
	})
}
