package directory_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/directory"
	"hop/directory/bolt"
	"hop/directory/mem"
	"hop/krb5"
)

func TestKVNOAndOldKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, name := range []string{"alice", "krbtgt"} {
			if name == "alice" {
				e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, aesKeys(0x01, "s1"))
			}
			start, _ := e.dir.Account(ctx, name)
			for gen := uint32(2); gen <= 5; gen++ {
				e.clock.Advance(time.Hour)
				set, err := e.admin().SetKeys(ctx, name, aesKeys(byte(gen*16), fmt.Sprint("s", gen)), 0)
				if err != nil {
					t.Fatal(err)
				}
				if want := start.KVNO + gen - 1; set.KVNO != want {
					t.Fatalf("%s: SetKeys returned kvno %d, want %d", name, set.KVNO, want)
				}
			}
			a, err := e.dir.Account(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if a.KVNO != start.KVNO+4 || !a.PasswordLastSet.Equal(e.clock.Now()) {
				t.Errorf("%s: kvno %d, password set %v", name, a.KVNO, a.PasswordLastSet)
			}
			check := func(kvno uint32, tag byte, want bool) {
				t.Helper()
				k, ok := a.KeyFor(krb5.AES256CTSHMACSHA196, kvno)
				if ok != want {
					t.Errorf("%s: KeyFor(aes256, %d) found %v, want %v", name, kvno, ok, want)
					return
				}
				if ok && !bytes.Equal(k.Material(), material(32, tag)) {
					t.Errorf("%s: KeyFor(aes256, %d) has the wrong material", name, kvno)
				}
				if ok && kvno != 0 && k.KVNO != kvno {
					t.Errorf("%s: KeyFor(aes256, %d) has kvno %d", name, kvno, k.KVNO)
				}
			}
			cur := a.KVNO
			check(0, 5*16, true)
			check(cur, 5*16, true)
			check(cur-1, 4*16, true) // previous generation kept
			check(cur-2, 3*16, true) // and the one before
			check(cur-3, 2*16, false)
			check(cur+1, 0, false)
			if k, ok := a.KeyFor(krb5.AES128CTSHMACSHA196, cur-1); !ok || k.Salt != "s4" {
				t.Errorf("%s: old aes128 key %v %v, want salt s4", name, k, ok)
			}
			if len(a.OldKeys) != 4 {
				t.Errorf("%s: %d old keys, want 4 (2 generations × 2 types)", name, len(a.OldKeys))
			}
		}
		_, err := e.admin().SetKeys(ctx, "alice", nil, 0)
		wantErr(t, err, directory.ErrInvalid, "SetKeys without keys")
		_, err = e.admin().SetKeys(ctx, "nobody", aesKeys(1, "s"), 0)
		wantErr(t, err, directory.ErrNotFound, "SetKeys of a missing account")
		_, err = e.admin().SetKeys(ctx, "alice", append(aesKeys(1, "s"), aesKeys(2, "s")[0]), 0)
		wantErr(t, err, directory.ErrInvalid, "two keys of one type")
	})
}

func TestRC4(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	rc4 := directory.NewKeyMaterial(krb5.RC4HMAC, "", material(16, 0x44))
	_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: "old", Kind: directory.KindUser}, []directory.Key{rc4})
	wantErr(t, err, directory.ErrInvalid, "rc4 key without AllowRC4")
	if err != nil && !strings.Contains(err.Error(), "allow RC4") {
		t.Errorf("message %q does not say how to allow RC4", err)
	}
	e.create(&directory.Account{Name: "old", Kind: directory.KindUser, AllowRC4: true}, append(aesKeys(1, "s"), rc4))
	a, _ := e.dir.Account(ctx, "old")
	if k, ok := a.KeyFor(krb5.RC4HMAC, 0); !ok || !bytes.Equal(k.Material(), material(16, 0x44)) {
		t.Error("rc4 key not stored")
	}
	if _, err := e.admin().UpdateAccount(ctx, "old", 0, func(a *directory.Account) error { a.AllowRC4 = false; return nil }); err != nil {
		t.Fatal(err)
	}
	a, _ = e.dir.Account(ctx, "old")
	if _, ok := a.KeyFor(krb5.RC4HMAC, 0); ok {
		t.Error("KeyFor returned an rc4 key while AllowRC4 is off")
	}
	if _, ok := a.KeyFor(krb5.AES256CTSHMACSHA196, 0); !ok {
		t.Error("aes key lost")
	}
}

// TestSealedKeysInFile looks for key material in the raw bolt file.
func TestSealedKeysInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.db")
	e := newEnv(t, func(t testing.TB) directory.Store { return boltAt(t, path) })
	secret := material(32, 0x5A)
	e.create(&directory.Account{Name: "alice-sealed", Kind: directory.KindUser},
		[]directory.Key{directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "salt-marker", secret)})
	if _, err := e.admin().SetKeys(ctx, "alice-sealed", []directory.Key{directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "s", material(32, 0x6B))}, 0); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The grep works: public fields are in the file.
	for _, public := range []string{"alice-sealed", "salt-marker"} {
		if !bytes.Contains(raw, []byte(public)) {
			t.Fatalf("the file does not contain %q; the search itself is broken", public)
		}
	}
	for _, m := range [][]byte{secret, material(32, 0x6B), material(32, 0xA0), material(32, 0xB0)} {
		for _, form := range [][]byte{m, m[:12], []byte(base64.StdEncoding.EncodeToString(m)), []byte(base64.StdEncoding.EncodeToString(m)[:16]), []byte(hex.EncodeToString(m)[:24])} {
			if bytes.Contains(raw, form) {
				t.Errorf("key material found in the file in clear (%q...)", form[:8])
			}
		}
	}
}

func TestSealBindsAccount(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, aesKeys(1, "s"))
	e.create(&directory.Account{Name: "mallory", Kind: directory.KindUser}, aesKeys(2, "s"))
	// Copy alice's sealed keys into mallory's record.
	err := e.store.Update(ctx, func(tx directory.Tx) error {
		av, _ := tx.Get("accounts", "alice")
		mv, _ := tx.Get("accounts", "mallory")
		var a, m map[string]any
		if err := json.Unmarshal(av, &a); err != nil {
			return err
		}
		if err := json.Unmarshal(mv, &m); err != nil {
			return err
		}
		m["keys"] = a["keys"]
		v, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return tx.Put("accounts", "mallory", v)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.dir.Account(ctx, "mallory")
	wantErr(t, err, directory.ErrCorrupt, "keys copied from another account")
	if err != nil && !strings.Contains(err.Error(), `accounts/"mallory"`) {
		t.Errorf("error %q does not name the record", err)
	}
	if _, err := e.dir.Account(ctx, "alice"); err != nil {
		t.Errorf("alice: %v", err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		other, err := directory.NewMasterKey(detRand(99))
		if err != nil {
			t.Fatal(err)
		}
		_, err = directory.Open(ctx, e.store, other, directory.Options{})
		wantErr(t, err, directory.ErrMasterKey, "Open with another master key")
		if err != nil && !strings.Contains(err.Error(), "master key") {
			t.Errorf("message %q does not mention the master key", err)
		}
		if _, err := directory.Open(ctx, e.store, e.mk, directory.Options{}); err != nil {
			t.Errorf("Open with the right key: %v", err)
		}
		_, err = directory.Open(ctx, e.store, nil, directory.Options{})
		wantErr(t, err, directory.ErrInvalid, "Open without a key")
	})
}

func TestMasterKeyStash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	mk, err := directory.NewMasterKey(detRand(7))
	if err != nil {
		t.Fatal(err)
	}
	if err := mk.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("stash mode %04o, want 0600", fi.Mode().Perm())
	}
	// Never overwritten.
	before, _ := os.ReadFile(path)
	other, _ := directory.NewMasterKey(detRand(8))
	wantErr(t, other.Save(path), directory.ErrExists, "Save over an existing stash")
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Save changed an existing stash")
	}
	// The loaded key opens what the saved key sealed.
	s := mem.New()
	if _, err := directory.Init(ctx, s, mk, realm, nil, aesKeys(1, "s"), directory.Options{}); err != nil {
		t.Fatal(err)
	}
	loaded, err := directory.LoadMasterKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := directory.Open(ctx, s, loaded, directory.Options{}); err != nil {
		t.Errorf("Open with the loaded key: %v", err)
	}
	// Group- or world-accessible stashes are refused.
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := directory.LoadMasterKey(path)
		wantErr(t, err, directory.ErrInvalid, fmt.Sprintf("LoadMasterKey of a %04o file", mode))
		if err != nil && !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("message %q does not say chmod 600", err)
		}
	}
	_, err = directory.LoadMasterKey(filepath.Join(dir, "absent"))
	wantErr(t, err, directory.ErrNotFound, "LoadMasterKey of a missing file")
	// Damaged stashes.
	for i, content := range []string{"", "hop-master-key-v1\n", "hop-master-key-v1\nAAAA\n", "other\n" + strings.Repeat("A", 44) + "\n",
		"hop-master-key-v1\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\nextra\n", strings.Repeat("x", 5000)} {
		p := filepath.Join(dir, fmt.Sprint("bad", i))
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := directory.LoadMasterKey(p)
		wantErr(t, err, directory.ErrInvalid, fmt.Sprintf("damaged stash %d", i))
	}
}

func TestDirectoryFileModes(t *testing.T) {
	base := filepath.Join(t.TempDir(), "var", "hop")
	path := filepath.Join(base, "directory.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := directory.NewMasterKey(detRand(1))
	if _, err := directory.Init(ctx, s, mk, realm, nil, aesKeys(1, "s"), directory.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := mk.Save(filepath.Join(base, "master.key")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, base: 0o700, filepath.Join(base, "master.key"): 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", p, fi.Mode().Perm(), want)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	m := material(32, 0xC3)
	k := directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "salt", m)
	a := &directory.Account{Name: "alice", Kind: directory.KindUser, Keys: []directory.Key{k}}
	mk, _ := directory.NewMasterKey(detRand(3))
	var out strings.Builder
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		fmt.Fprintf(&out, f+"\n", k)
		fmt.Fprintf(&out, f+"\n", a)
		fmt.Fprintf(&out, f+"\n", *a)
		fmt.Fprintf(&out, f+"\n", mk)
		fmt.Fprintf(&out, f+"\n", *mk)
	}
	j, _ := json.Marshal(a)
	out.Write(j)
	text := out.String()
	forms := []string{hex.EncodeToString(m[:8]), strings.ToUpper(hex.EncodeToString(m[:8])),
		strings.Trim(fmt.Sprint(m[:6]), "[]"), base64.StdEncoding.EncodeToString(m)[:12], string(m[:8])}
	for _, f := range forms {
		if strings.Contains(text, f) {
			t.Errorf("key material (%q) printed:\n%s", f, text)
		}
	}
	// Material returns a copy.
	got := k.Material()
	got[0] ^= 0xFF
	if !bytes.Equal(k.Material(), m) {
		t.Error("modifying Material's result changed the key")
	}
	m[1] ^= 0xFF
	if bytes.Equal(k.Material(), m) {
		t.Error("NewKeyMaterial did not copy its input")
	}
	if !k.Equal(directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "salt", k.Material())) || k.Equal(directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "salt2", k.Material())) {
		t.Error("Key.Equal")
	}
}

func TestCorruptRecords(t *testing.T) {
	// A damaged counter stops writes, naming it.
	e := newEnv(t, storeKinds[0].open)
	if err := e.store.Update(ctx, func(tx directory.Tx) error { return tx.Put("meta", "generation", []byte("many")) }); err != nil {
		t.Fatal(err)
	}
	_, err := e.admin().CreateGroup(ctx, "g", "")
	wantErr(t, err, directory.ErrCorrupt, "CreateGroup with a damaged generation counter")
	if err != nil && !strings.Contains(err.Error(), `meta/"generation"`) {
		t.Errorf("error %q does not name the record", err)
	}

	for _, c := range []struct {
		bucket, key, value string
		failsOpen          bool
	}{
		{"accounts", "zed", "{not json", false},
		{"accounts", "zed", `{"name":"other","kind":"user"}`, false},
		{"accounts", "zed", `{"name":"zed","kind":"robot"}`, false},
		{"accounts", "zed", `{"name":"zed","kind":"user","keys":[{"etype":18,"kvno":1,"sealed":"AAAA"}]}`, false},
		{"accounts", "zed", `{"name":"zed","kind":"user","badPwdCount":-1}`, false},
		{"groups", "zed", `{"name":"zed","members":[""]}`, false},
		{"groups", "zed", `[1,2,3]`, false},
		{"domain", "domain", `{"realm":"EXAMPLE.TEST","sid":"S-1-x"}`, true},
		{"domain", "domain", `{"realm":"","sid":"S-1-5-21-1-2-3"}`, true},
		{"domain", "domain", `{"realm":"EXAMPLE.TEST","sid":"S-1-5-21-1-2-3","policy":{"clockSkew":-5}}`, true},
	} {
		e := newEnv(t, storeKinds[0].open)
		err := e.store.Update(ctx, func(tx directory.Tx) error { return tx.Put(c.bucket, c.key, []byte(c.value)) })
		if err != nil {
			t.Fatal(err)
		}
		_, openErr := directory.Open(ctx, e.store, e.mk, directory.Options{})
		if c.failsOpen != (openErr != nil) {
			t.Errorf("%s/%s=%s: Open error %v", c.bucket, c.key, c.value, openErr)
		}
		_, err = e.dir.Snapshot(ctx)
		if err == nil {
			t.Errorf("%s/%s=%s: Snapshot succeeded", c.bucket, c.key, c.value)
			continue
		}
		if !errors.Is(err, directory.ErrCorrupt) {
			t.Errorf("%s/%s: Snapshot error %v, want ErrCorrupt", c.bucket, c.key, err)
		}
		if !strings.Contains(err.Error(), c.bucket+"/") {
			t.Errorf("%s/%s: error %q does not name the record", c.bucket, c.key, err)
		}
	}
}
