package directory_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"hop/directory"
	"hop/directory/mem"
	"hop/krb5"
	"hop/sid"
)

func TestInit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		dom, err := e.dir.Domain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if dom.Realm != "EXAMPLE.TEST" {
			t.Errorf("realm %q, want the upper-case EXAMPLE.TEST", dom.Realm)
		}
		if dom.NetBIOSName != "EXAMPLE" {
			t.Errorf("NetBIOS name %q, want EXAMPLE", dom.NetBIOSName)
		}
		if !dom.Created.Equal(e.clock.Now()) {
			t.Errorf("created %v, want the clock's %v", dom.Created, e.clock.Now())
		}
		// S-1-5-21-a-b-c: authority 5, then 21 and three random values.
		subs := dom.SID.SubAuthorities()
		if dom.SID.Authority() != 5 || len(subs) != 4 || subs[0] != 21 || !strings.HasPrefix(dom.SID.String(), "S-1-5-21-") {
			t.Errorf("domain SID %s is not S-1-5-21-a-b-c", dom.SID)
		}
		if p, err := sid.Parse(dom.SID.String()); err != nil || !p.Equal(dom.SID) {
			t.Errorf("domain SID %s does not parse back: %v", dom.SID, err)
		}
		if dom.Policy != (directory.Policy{}) {
			t.Errorf("initial policy %+v, want all defaults", dom.Policy)
		}

		s := e.snap()
		for _, c := range []struct {
			name     string
			rid      uint32
			kind     directory.Kind
			disabled bool
			keyTag   byte // 0: no keys
			spns     []string
		}{
			{"Administrator", 500, directory.KindUser, false, 0xA0, nil},
			{"Guest", 501, directory.KindUser, true, 0, nil},
			{"krbtgt", 502, directory.KindService, true, 0xB0, []string{"krbtgt/EXAMPLE.TEST"}},
			{"kadmin", 600, directory.KindService, false, 1, []string{"kadmin/changepw"}}, // random keys
		} {
			a, ok := s.Account(c.name)
			if !ok {
				t.Errorf("no built-in account %s", c.name)
				continue
			}
			if a.RID != c.rid || a.Kind != c.kind || a.Disabled != c.disabled || !slices.Equal(a.SPNs, c.spns) {
				t.Errorf("%s: RID %d kind %s disabled %v SPNs %q; want %d %s %v %q", c.name, a.RID, a.Kind, a.Disabled, a.SPNs, c.rid, c.kind, c.disabled, c.spns)
			}
			if got := a.SID(dom.SID); got.RID() != c.rid || got.String() != dom.SID.String()+"-"+strconv.FormatUint(uint64(c.rid), 10) {
				t.Errorf("%s: SID %s", c.name, got)
			}
			if c.keyTag == 0 {
				if len(a.Keys) != 0 {
					t.Errorf("%s has keys", c.name)
				}
				continue
			}
			if c.keyTag == 1 {
				// kadmin: its own random AES keys, none of them krbtgt's.
				krbtgt, _ := s.Account("krbtgt")
				if a.KVNO != 1 || len(a.Keys) != 4 {
					t.Errorf("kadmin: kvno %d, %d keys; want kvno 1 and the four AES types", a.KVNO, len(a.Keys))
				}
				for _, k := range a.Keys {
					if k.Salt != "" || k.Len() == 0 {
						t.Errorf("kadmin: key %v is not a random key", k)
					}
					if tk, ok := krbtgt.KeyFor(k.EncType, 0); ok && string(tk.Material()) == string(k.Material()) {
						t.Errorf("kadmin shares its %s key with krbtgt", k.EncType)
					}
				}
				continue
			}
			if a.KVNO != 1 || len(a.Keys) != 2 {
				t.Errorf("%s: kvno %d, %d keys; want kvno 1, 2 keys", c.name, a.KVNO, len(a.Keys))
			}
			k, ok := a.KeyFor(krb5.AES256CTSHMACSHA196, 0)
			if !ok || string(k.Material()) != string(material(32, c.keyTag)) || k.KVNO != 1 {
				t.Errorf("%s: the aes256 key does not hold the material given to Init", c.name)
			}
		}
		for _, c := range []struct {
			name    string
			rid     uint32
			members []string
		}{
			{"Domain Admins", 512, []string{"Administrator"}},
			{"Domain Users", 513, []string{"Administrator", "krbtgt", "kadmin"}},
			{"Domain Computers", 515, nil},
			{"Domain Controllers", 516, nil},
			{"Protected Users", 525, nil},
		} {
			g, ok := s.Group(c.name)
			if !ok {
				t.Errorf("no built-in group %s", c.name)
				continue
			}
			if g.RID != c.rid || !slices.Equal(g.Members, c.members) {
				t.Errorf("%s: RID %d members %q; want %d %q", c.name, g.RID, g.Members, c.rid, c.members)
			}
		}
		if !s.IsMember("administrator", "domain admins") {
			t.Error("Administrator is not in Domain Admins")
		}
		// Init refuses a second time.
		_, err = directory.Init(ctx, e.store, e.mk, realm, nil, aesKeys(1, "x"), directory.Options{})
		wantErr(t, err, directory.ErrExists, "second Init")
		// Open with the right key works.
		if _, err := directory.Open(ctx, e.store, e.mk, directory.Options{}); err != nil {
			t.Errorf("Open: %v", err)
		}
	})
}

func TestInitRefuses(t *testing.T) {
	mk, _ := directory.NewMasterKey(detRand(1))
	for _, c := range []struct {
		name   string
		realm  krb5.Realm
		krbtgt []directory.Key
	}{
		{"empty realm", "", aesKeys(1, "s")},
		{"realm with a slash", "EXAMPLE/TEST", aesKeys(1, "s")},
		{"realm with a space", "EXAMPLE TEST", aesKeys(1, "s")},
		{"no krbtgt keys", realm, nil},
		{"short krbtgt key", realm, []directory.Key{directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "s", make([]byte, 31))}},
		{"des3 krbtgt key", realm, []directory.Key{directory.NewKeyMaterial(krb5.DES3CBCSHA1, "s", make([]byte, 24))}},
		{"rc4 krbtgt key", realm, []directory.Key{directory.NewKeyMaterial(krb5.RC4HMAC, "", make([]byte, 16))}},
	} {
		s := mem.New()
		_, err := directory.Init(ctx, s, mk, c.realm, nil, c.krbtgt, directory.Options{})
		wantErr(t, err, directory.ErrInvalid, c.name)
		if _, err := directory.Open(ctx, s, mk, directory.Options{}); err == nil {
			t.Errorf("%s: a refused Init left a directory behind", c.name)
		}
	}
}

func TestOpenUninitialised(t *testing.T) {
	mk, _ := directory.NewMasterKey(detRand(1))
	_, err := directory.Open(ctx, mem.New(), mk, directory.Options{})
	wantErr(t, err, directory.ErrNotFound, "Open of an empty store")
	if err != nil && !strings.Contains(err.Error(), "hop domain init") {
		t.Errorf("error %q does not say to run hop domain init", err)
	}
}
