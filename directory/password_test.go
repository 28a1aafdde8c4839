package directory_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
)

// TestPasswordKeys checks PasswordKeys against the krb5/crypto
// string-to-key with the default salt of RFC 4120 §4 spelled by hand.
func TestPasswordKeys(t *testing.T) {
	etypes := []krb5.EncType{krb5.AES256CTSHMACSHA384192, krb5.AES128CTSHMACSHA256128, krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196, krb5.RC4HMAC}
	keys, err := directory.PasswordKeys("EXAMPLE.TEST", "alice", "pässword", etypes)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(etypes) {
		t.Fatalf("%d keys for %d types", len(keys), len(etypes))
	}
	for i, e := range etypes {
		want, err := crypto.StringToKey(e, "pässword", "EXAMPLE.TESTalice", nil)
		if err != nil {
			t.Fatal(err)
		}
		k := keys[i]
		if k.EncType != e || k.Salt != "EXAMPLE.TESTalice" || string(k.Material()) != string(want.Material()) {
			t.Errorf("%s: got %v, not the key krb5/crypto derives", e, k)
		}
	}
	if got := directory.DefaultETypes(false); len(got) != 4 || got[0] != krb5.AES256CTSHMACSHA384192 {
		t.Errorf("DefaultETypes(false) = %v", got)
	}
	if got := directory.DefaultETypes(true); len(got) != 5 || got[4] != krb5.RC4HMAC {
		t.Errorf("DefaultETypes(true) = %v", got)
	}
	r, err := directory.RandomKeys([]krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196}, detRand(5))
	if err != nil || len(r) != 2 || r[0].Len() != 32 || r[1].Len() != 16 || r[0].Salt != "" {
		t.Errorf("RandomKeys: %v, %v", r, err)
	}
}

// keyOf returns the stored aes256-cts-hmac-sha1-96 key of account name.
func (e *env) keyOf(name string) directory.Key {
	e.t.Helper()
	a, err := e.dir.Account(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	k, ok := a.KeyFor(krb5.AES256CTSHMACSHA196, 0)
	if !ok {
		e.t.Fatalf("%s has no aes256 key", name)
	}
	return k
}

func TestPasswordPolicy(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, pwKeys(t, "alice", "Initial-pw-0"))
		admin := e.dir.As(directory.LocalAdmin)
		set := func(pw string) error {
			_, err := admin.SetPassword(ctx, "alice", pw, 0)
			return err
		}
		for _, c := range []struct {
			name string
			pw   string
			kind error
			msg  string
		}{
			{"five characters", "abcde", directory.ErrPolicy, "the new password has 5 characters; this domain requires at least 8 (hop domain set --min-password-length)"},
			{"seven two-byte characters", "äääääää", directory.ErrPolicy, "the new password has 7 characters"},
			{"empty", "", directory.ErrPolicy, "empty"},
			{"too long", strings.Repeat("x", 257), directory.ErrPolicy, "257 bytes long; at most 256"},
			{"NUL", "abc\x00defghij", directory.ErrInvalid, "NUL"},
			{"not UTF-8", "abcdefgh\xff", directory.ErrInvalid, "UTF-8"},
			{"the current password", "Initial-pw-0", directory.ErrPolicy, "the new password was used before (one of the last 24): choose a new one"},
		} {
			before := dump(t, e.store)
			err := set(c.pw)
			wantErr(t, err, c.kind, c.name)
			if err != nil && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%s: error %q does not say %q", c.name, err, c.msg)
			}
			if dump(t, e.store) != before {
				t.Errorf("%s: a refused password was stored", c.name)
			}
		}
		// Eight characters of two bytes each are eight characters.
		if err := set("ääääääää"); err != nil {
			t.Fatalf("eight characters: %v", err)
		}
		if got, want := e.keyOf("alice"), pwKeys(t, "alice", "ääääääää")[0]; string(got.Material()) != string(want.Material()) || got.Salt != want.Salt {
			t.Error("SetPassword did not store the password's key")
		}
		a, _ := e.dir.Account(ctx, "alice")
		if a.KVNO != 2 || len(a.Keys) != 4 || !a.PasswordLastSet.Equal(e.clock.Now()) {
			t.Errorf("after SetPassword: kvno %d, %d keys, set %v", a.KVNO, len(a.Keys), a.PasswordLastSet)
		}
		// History: every password of the last 24 is refused.
		for _, pw := range []string{"Second-pw-2", "Third-pw-3"} {
			if err := set(pw); err != nil {
				t.Fatal(err)
			}
		}
		for _, pw := range []string{"Initial-pw-0", "ääääääää", "Second-pw-2", "Third-pw-3"} {
			err := set(pw)
			if !errors.Is(err, directory.ErrPolicy) || !strings.Contains(err.Error(), "one of the last 24") {
				t.Errorf("reuse of %q: %v", pw, err)
			}
		}
		// A longer minimum, then a shorter history.
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{MinPasswordLength: 12}); err != nil {
			t.Fatal(err)
		}
		if err := set("Fourth-pw-4"); !errors.Is(err, directory.ErrPolicy) || !strings.Contains(err.Error(), "has 11 characters; this domain requires at least 12") {
			t.Errorf("11 characters under a minimum of 12: %v", err)
		}
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{MinPasswordLength: 1, PasswordHistory: 2}); err != nil {
			t.Fatal(err)
		}
		if err := set("Second-pw-2-x"); err != nil { // remembered now: Second-pw-2-x, Third-pw-3
			t.Fatal(err)
		}
		if err := set("Third-pw-3"); !errors.Is(err, directory.ErrPolicy) || !strings.Contains(err.Error(), "one of the last 2") {
			t.Errorf("the previous password under a history of 2: %v", err)
		}
		if err := set("Initial-pw-0"); err != nil {
			t.Errorf("a password older than the history: %v", err)
		}
		// Off: any password again.
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{PasswordHistory: directory.NoPasswordHistory}); err != nil {
			t.Fatal(err)
		}
		if err := set("Initial-pw-0"); err != nil {
			t.Errorf("the current password with the history off: %v", err)
		}
		// No password string in the store, ever.
		d := dump(t, e.store)
		for _, pw := range []string{"Initial-pw-0", "Second-pw-2", "Third-pw-3", "ääääääää"} {
			if strings.Contains(d, pw) {
				t.Errorf("the store holds the password %q", pw)
			}
		}
	})
}

// TestPasswordHistoryFromKeys checks that salted keys set directly (as hop
// account passwd does) enter the history, random keys do not, and that an
// account whose history is empty still refuses its current password.
func TestPasswordHistoryFromKeys(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{PasswordHistory: directory.NoPasswordHistory}); err != nil {
		t.Fatal(err)
	}
	e.create(&directory.Account{Name: "bob", Kind: directory.KindUser}, pwKeys(t, "bob", "Bobs-first-pw"))
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{PasswordHistory: 3}); err != nil {
		t.Fatal(err)
	}
	admin := e.dir.As(directory.Actor{Name: "Administrator"})
	// Created with the history off: none recorded, but the current key counts.
	if _, err := admin.SetPassword(ctx, "bob", "Bobs-first-pw", 0); !errors.Is(err, directory.ErrPolicy) {
		t.Errorf("the current password of an account without history: %v", err)
	}
	if _, err := e.admin().SetKeys(ctx, "bob", pwKeys(t, "bob", "Bobs-second-pw"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin().SetKeys(ctx, "bob", aesKeys(0x44, ""), 0); err != nil { // random keys
		t.Fatal(err)
	}
	if _, err := admin.SetPassword(ctx, "bob", "Bobs-second-pw", 0); !errors.Is(err, directory.ErrPolicy) {
		t.Errorf("a password set as keys: %v", err)
	}
	if _, err := admin.SetPassword(ctx, "bob", "Bobs-first-pw", 0); err != nil {
		t.Errorf("a password that was never recorded and is no longer current: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	e := actingEnv(t)
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{LockoutThreshold: 3}); err != nil {
		t.Fatal(err)
	}
	self := e.dir.As(directory.Actor{Name: "t$"})
	a, err := self.ChangePassword(ctx, "t$", "Old-password-1", "New-password-2")
	if err != nil {
		t.Fatal(err)
	}
	if a.KVNO != 2 {
		t.Errorf("kvno %d after a change, want 2", a.KVNO)
	}
	for _, k := range a.Keys {
		if k.Len() != 0 {
			t.Errorf("ChangePassword returned key material (%v)", k)
		}
	}
	if got, want := e.keyOf("t$"), pwKeys(t, "t$", "New-password-2")[0]; string(got.Material()) != string(want.Material()) {
		t.Error("the new password's key was not stored")
	}
	// The old password again is refused by the history.
	if _, err := self.ChangePassword(ctx, "t$", "New-password-2", "Old-password-1"); !errors.Is(err, directory.ErrPolicy) {
		t.Errorf("back to the old password: %v", err)
	}
	// A wrong current password is refused and counts towards lockout.
	for i := 1; i <= 3; i++ {
		before := e.keyOf("t$")
		_, err := self.ChangePassword(ctx, "t$", "Wrong-password", "Another-pw-9")
		if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "the current password given for t$ is wrong") {
			t.Fatalf("wrong password %d: %v", i, err)
		}
		if !e.keyOf("t$").Equal(before) {
			t.Fatal("a wrong current password changed the keys")
		}
		acct, _ := e.dir.Account(ctx, "t$")
		if acct.BadPwdCount != i {
			t.Errorf("after %d wrong passwords the count is %d", i, acct.BadPwdCount)
		}
	}
	// Locked out now: even the right password does not change it.
	_, err = self.ChangePassword(ctx, "t$", "New-password-2", "Another-pw-9")
	if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "locked out") {
		t.Errorf("change while locked out: %v", err)
	}
	e.clock.Advance(31 * time.Minute)
	if _, err := self.ChangePassword(ctx, "t$", "New-password-2", "Another-pw-9"); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
	// An account with random keys has no password to change.
	e.create(&directory.Account{Name: "r$", Kind: directory.KindComputer}, aesKeys(0x55, ""))
	_, err = e.dir.As(directory.Actor{Name: "r$"}).ChangePassword(ctx, "r$", "x-password", "New-password-3")
	if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "has no password") {
		t.Errorf("random keys: %v", err)
	}
}

// TestSelfPasswordInitial checks kpasswd's case: an account sets its own
// password only with an initial ticket, under the policy.
func TestSelfPasswordInitial(t *testing.T) {
	e := actingEnv(t)
	e.create(&directory.Account{Name: "carol", Kind: directory.KindUser}, pwKeys(t, "carol", "Carols-pw-1"))
	initial := e.dir.As(directory.Actor{Name: "carol", Initial: true})
	if _, err := initial.SetPassword(ctx, "carol", "short", 0); !errors.Is(err, directory.ErrPolicy) {
		t.Errorf("short password: %v", err)
	}
	if _, err := initial.SetPassword(ctx, "carol", "Carols-pw-1", 0); !errors.Is(err, directory.ErrPolicy) {
		t.Errorf("same password: %v", err)
	}
	if _, err := e.dir.As(directory.Actor{Name: "carol"}).SetPassword(ctx, "carol", "Carols-pw-2", 0); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("without an initial ticket: %v", err)
	}
	if _, err := initial.SetPassword(ctx, "carol", "Carols-pw-2", 0); err != nil {
		t.Errorf("with an initial ticket: %v", err)
	}
	if _, err := initial.SetPassword(ctx, "bob", "Carols-pw-3", 0); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("another account's password with an initial ticket: %v", err)
	}
}
