package directory

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/sid"
)

// randomAccount is an account with each field set at random, as the
// directory writes it.
func randomAccount(r *rand.Rand, loc *time.Location) *Account {
	pick := func() bool { return r.IntN(2) == 0 }
	when := func() time.Time {
		if pick() {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(loc)
	}
	text := func(prefix string) string {
		if pick() {
			return ""
		}
		return fmt.Sprint(prefix, r.IntN(1000), []string{"", "Ü", "界", `"q"`, "<&>"}[r.IntN(5)])
	}
	list := func(prefix string) []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		var l []string
		for range 1 + r.IntN(3) {
			l = append(l, text(prefix)+"x")
		}
		return l
	}
	dom, _ := sid.New(5, 21, 1, 2, uint32(r.IntN(9)))
	sids := func() []sid.SID {
		if pick() {
			return nil
		}
		return []sid.SID{dom.Append(1100 + uint32(r.IntN(100))), dom.Append(513)}
	}
	kind := Kind(1 + r.IntN(3))
	a := &Account{
		Name: []string{"alice", "Alice", "Ärger", "b$"}[r.IntN(4)], Kind: kind, RID: r.Uint32(), SPNs: list("svc/h"),
		DNSHostName: text("h.example.test"), UPN: text("alice@example.test"), Description: text("d"),
		Disabled: pick(), Expires: when(), PasswordLastSet: when(), PasswordExpires: when(),
		NoPreauthRequired: pick(), AllowRC4: pick(), MaxTicketLife: time.Duration(r.Int64N(1e12)), MaxRenewLife: time.Duration(r.IntN(3)),
		PrimaryGroupRID: defaultPrimaryGroup(kind, 0), TrustedForDelegation: pick(), TrustedToAuthForDelegation: pick(),
		AllowedToDelegateTo: list("cifs/c"), AllowedToActOnBehalfOf: sids(), Sensitive: pick(), NoAuthDataRequired: pick(),
		ManagedBy: sids(), SSHHostKeys: list("ssh-ed25519 AAAA"), Revision: r.Uint64N(1 << 40), KVNO: uint32(1 + r.IntN(5)),
		BadPwdCount: r.IntN(4), BadPwdTime: when(), LockedUntil: when(), Created: when(), Modified: when(),
	}
	if pick() {
		a.CreatorSID = dom.Append(1105)
	}
	if pick() {
		a.PasswordLastSet, a.Modified = a.Created, a.Created
	}
	for _, e := range []krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196, krb5.AES256CTSHMACSHA384192, krb5.RC4HMAC}[:r.IntN(5)] {
		n, _ := keyLen(e)
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(r.IntN(256))
		}
		a.Keys = append(a.Keys, Key{EncType: e, KVNO: a.KVNO, Salt: text("EXAMPLE.TESTalice"), material: m})
		if pick() {
			a.OldKeys = append(a.OldKeys, Key{EncType: e, KVNO: a.KVNO + 7, material: m})
		}
	}
	if pick() {
		a.history = []historyRecord{{EType: int32(historyEType), Salt: "s", Sealed: []byte{1, 2, 3}}, {EType: int32(historyEType), Sealed: []byte{}}}
	}
	return a
}

// TestSnapshotDecodesAsDirectory: what a snapshot decodes from a record
// (the fast parser, the compact form, the Account decoded from it) is
// what decodeAccount decodes, field for field, including the difference
// of an empty list and none; and it fails where decodeAccount does, with
// the same error.
func TestSnapshotDecodesAsDirectory(t *testing.T) {
	mk := fuzzMasterKey(t)
	r := rand.New(rand.NewPCG(7, 7))
	berlin := time.FixedZone("CET", 3600)
	dec := accountDecoder{mk: mk, c: compactBuilder{mk: mk}, realm: "example.test"}
	var records [][]byte
	for i := range 3000 {
		loc := time.UTC
		if i%50 == 0 {
			loc = berlin // no compact form: the entry keeps the Account
		}
		a := randomAccount(r, loc)
		v, err := encodeAccount(mk, fixedReader(byte(i)), a)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, v)
	}
	// Records hop does not write, which the fast parser leaves to
	// encoding/json.
	base := string(records[1])
	for _, v := range []string{
		` ` + base + "\n",
		strings.Replace(base, `"name":`, `"Name":`, 1),
		strings.Replace(base, `"kind":`, `"extra":1,"kind":`, 1),
		strings.Replace(base, `{"name"`, `{"kvno":null,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"spns":null,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"rid":1e3,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"rid":-1,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"rid":4294967296,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"badPwdCount":-3,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"revision":18446744073709551615,"name"`, 1),
		strings.Replace(base, `{"name"`, `{"description":"a\u00e9\n","name"`, 1),
		strings.Replace(base, `{"name"`, `{"description":"`+"\xff"+`","name"`, 1),
		strings.Replace(base, `{"name"`, `{"kind":"service","name"`, 1),
		strings.Replace(base, `{"name"`, `{"expires":"2025-01-01T00:00:00+02:00","name"`, 1),
		strings.Replace(base, `{"name"`, `{"expires":"yesterday","name"`, 1),
		strings.Replace(base, `{"name"`, `{"managedBy":["S-1-5-21-1-2-3-1100","nonsense"],"name"`, 1),
		strings.Replace(base, `{"name"`, `{"keys":[{"etype":18,"kvno":1,"sealed":"!!"}],"name"`, 1),
		strings.Replace(base, `{"name"`, `{"keys":[{"etype":18,"etype":17}],"name"`, 1),
		base + "x",
		`[]`, `null`, `{}`, `{"name":"alice","kind":"user"}`,
	} {
		records = append(records, []byte(v))
	}
	for i, raw := range records {
		var want accountRecord
		wantErr := json.Unmarshal(raw, &want)
		var got accountRecord
		gotErr := dec.p.parseAccountRecord(raw, &got)
		if (wantErr != nil) != (gotErr != nil) || wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d %s:\nparsed %+v (%v)\nwant   %+v (%v)", i, raw, got, gotErr, want, wantErr)
		}
		for _, key := range []string{"alice", "ärger", "b$"} {
			a, errA := decodeAccount(mk, key, raw)
			e, errE := dec.decode(key, raw)
			if fmt.Sprint(errA) != fmt.Sprint(errE) {
				t.Fatalf("record %d %s under %s: snapshot error %v, decodeAccount %v", i, raw, key, errE, errA)
			}
			if errA != nil {
				continue
			}
			if got := e.account(); !reflect.DeepEqual(got, a) {
				t.Fatalf("record %d %s: the snapshot decodes\n%#v\nwant\n%#v", i, raw, got, a)
			}
			if e.key != key {
				t.Fatalf("record %d: entry key %q", i, e.key)
			}
			h := e.head(true)
			if h.name != a.Name || h.rid != a.RID || h.kind != a.Kind || h.upn != a.UPN || h.host != a.DNSHostName ||
				h.primary != a.PrimaryGroupRID || !reflect.DeepEqual(h.spns, a.SPNs) || (h.flags&flagDisabled != 0) != a.Disabled {
				t.Fatalf("record %d: head %+v of %+v", i, h, a)
			}
		}
	}
}

// TestParseGroupRecordAsJSON: the fast group parser decodes as
// encoding/json does.
func TestParseGroupRecordAsJSON(t *testing.T) {
	g, _ := encodeGroup(&Group{Name: "Domain Users", RID: 513, Description: "all", Members: []string{"a", "Ü", `"q"`}, Revision: 3})
	for i, raw := range []string{
		string(g), `{"name":"x","members":[]}`, `{"name":"x","members":null}`, `{"name":"x","managedBy":["S-1-5-21-1-2-3-1100"]}`,
		`{"name":"x","managedBy":[]}`, `{"name":"x","Members":["a"]}`, `{"name":"x","members":["a"],"members":["b"]}`,
		`{"name":"x","rid":1.5}`, `{"name":"x","members":["` + strings.Repeat("m", 300) + `"]}`, `null`, `{`,
	} {
		var want groupRecord
		wantErr := json.Unmarshal([]byte(raw), &want)
		var got groupRecord
		gotErr := parseGroupRecord([]byte(raw), &got)
		if (wantErr != nil) != (gotErr != nil) || wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("record %d %s: parsed %+v (%v), want %+v (%v)", i, raw, got, gotErr, want, wantErr)
		}
	}
}

// FuzzSnapshotRecord: on any record, the snapshot's decoding agrees with
// decodeAccount.
func FuzzSnapshotRecord(f *testing.F) {
	f.Add(seedAccount(f))
	f.Add(seedDelegatingAccount(f))
	f.Add(seedSchema3Account(f))
	if dir, err := os.ReadDir("testdata/fuzz/FuzzDecodeAccount"); err == nil {
		for _, e := range dir {
			if b, err := os.ReadFile(filepath.Join("testdata/fuzz/FuzzDecodeAccount", e.Name())); err == nil {
				f.Add(fuzzSeedBytes(b))
			}
		}
	}
	mk := fuzzMasterKey(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		dec := accountDecoder{mk: mk, c: compactBuilder{mk: mk}}
		a, errA := decodeAccount(mk, "alice", raw)
		e, errE := dec.decode("alice", raw)
		if fmt.Sprint(errA) != fmt.Sprint(errE) {
			t.Fatalf("snapshot error %v, decodeAccount %v", errE, errA)
		}
		if errA == nil && !reflect.DeepEqual(e.account(), a) {
			t.Fatalf("the snapshot decodes %#v, want %#v", e.account(), a)
		}
	})
}

// fuzzSeedBytes returns the []byte of a corpus file ("go test fuzz v1"
// then []byte("...")), or nil.
func fuzzSeedBytes(b []byte) []byte {
	_, rest, ok := strings.Cut(string(b), "[]byte(")
	if !ok {
		return nil
	}
	var s string
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimSpace(rest), ")"), "%q", &s); err != nil {
		return nil
	}
	return []byte(s)
}
