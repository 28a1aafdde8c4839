package directory

import (
	"context"
	cryptorand "crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"hop/internal/redact"
	"hop/krb5"
	"hop/krb5/crypto"
)

// defaultETypes are the key types hop gives an account: the AES types of
// RFC 3962 and RFC 8009, strongest first.
var defaultETypes = []krb5.EncType{
	krb5.AES256CTSHMACSHA384192, krb5.AES128CTSHMACSHA256128,
	krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196,
}

// DefaultETypes returns the key types hop gives an account: the four AES
// types, and rc4-hmac too when allowRC4 (Account.AllowRC4) is set.
func DefaultETypes(allowRC4 bool) []krb5.EncType {
	out := slices.Clone(defaultETypes)
	if allowRC4 {
		out = append(out, krb5.RC4HMAC)
	}
	return out
}

// PasswordKeys derives the keys of account name in realm from password,
// one per type of etypes, with the default salt of its NT-PRINCIPAL name
// (RFC 4120 §4: the realm followed by the name) and each type's default
// string-to-key parameters (RFC 3962 §4, RFC 8009 §4, RFC 4757 §2). It is
// how hop has always derived account keys, so the keys it gives match
// those kinit derives.
func PasswordKeys(realm krb5.Realm, name, password string, etypes []krb5.EncType) ([]Key, error) {
	salt := passwordSalt(realm, name)
	keys := make([]Key, 0, len(etypes))
	for _, e := range etypes {
		k, err := deriveKey(e, password, salt)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func passwordSalt(realm krb5.Realm, name string) string {
	return crypto.DefaultSalt(krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: realm})
}

func deriveKey(e krb5.EncType, password, salt string) (Key, error) {
	k, err := crypto.StringToKey(e, password, salt, nil)
	if err != nil {
		return Key{}, errorf(ErrInvalid, "derive a %s key: %v", e, err)
	}
	m := k.Material()
	defer clear(m)
	return NewKeyMaterial(e, salt, m), nil
}

// RandomKeys returns fresh random keys, one per type of etypes, read from
// rand (crypto/rand when nil), without a salt: for computers, services,
// krbtgt and kadmin, whose keys no one types.
func RandomKeys(etypes []krb5.EncType, rand io.Reader) ([]Key, error) {
	keys := make([]Key, 0, len(etypes))
	for _, e := range etypes {
		// A random key is its random bytes (random-to-key is the identity
		// for the types the directory keeps, RFC 3962 §6, RFC 8009 §5), read
		// here rather than through crypto.RandomKey, which also derives
		// the key's working keys: hop domain populate makes millions.
		if n, ok := keyLen(e); ok && crypto.Supported(e) {
			m := make([]byte, n)
			if rand == nil {
				rand = cryptorand.Reader
			}
			if _, err := io.ReadFull(rand, m); err != nil {
				return nil, errorf(ErrInvalid, "make a random %s key: %v", e, err)
			}
			keys = append(keys, Key{EncType: e, material: m})
			continue
		}
		k, err := crypto.RandomKey(e, rand)
		if err != nil {
			return nil, errorf(ErrInvalid, "make a random %s key: %v", e, err)
		}
		m := k.Material()
		keys = append(keys, NewKeyMaterial(e, "", m))
		clear(m)
	}
	return keys, nil
}

// Password history. An account remembers the aes256-cts-hmac-sha1-96 key
// of each of its last Policy.PasswordHistory passwords (the current one
// included), sealed under the master key like its other keys, and refuses
// a new password whose key equals one of them: with the same salt, the
// same password gives the same key (RFC 3962 §4), so no password is
// stored. These are not the OldKeys, which exist to decrypt tickets and
// last two generations whatever the policy. Keys set directly (SetKeys,
// CreateAccount) enter the history when they have a salt, as
// password-derived keys do; random keys have none and do not.

// historyEType is the key type the password history keeps.
const historyEType = krb5.AES256CTSHMACSHA196

func historyAAD(name string, salt string) []byte {
	n := fold(name)
	b := make([]byte, 0, 48+len(n)+len(salt))
	b = append(b, "hop directory password history v1"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
	b = append(b, n...)
	b = binary.BigEndian.AppendUint32(b, uint32(historyEType))
	b = binary.BigEndian.AppendUint32(b, uint32(len(salt)))
	b = append(b, salt...)
	return b
}

// pushHistory records in a's history the salted aes256-cts-hmac-sha1-96
// key among keys, if there is one, and keeps the newest n entries.
func (t *txn) pushHistory(a *Account, keys []Key, n int) error {
	if n <= 0 {
		a.history = nil
		return nil
	}
	for _, k := range keys {
		if k.EncType != historyEType || k.Salt == "" {
			continue
		}
		sealed, err := t.d.mk.seal(t.d.rand, historyAAD(a.Name, k.Salt), k.material)
		if err != nil {
			return err
		}
		a.history = append([]historyRecord{{EType: int32(historyEType), Salt: k.Salt, Sealed: sealed}}, a.history...)
		break
	}
	if len(a.history) > n {
		a.history = slices.Clone(a.history[:n])
	}
	return nil
}

// usedBefore reports whether the password whose aes256-cts-hmac-sha1-96
// keys (by salt) are in derived is one of the last n passwords of a: an
// entry of its history, or its current key. derive makes a missing salt's
// key. Every remembered key is compared, in constant time.
func (t *txn) usedBefore(a *Account, n int, derived map[string][]byte, derive func(salt string) ([]byte, error)) (bool, error) {
	if n <= 0 {
		return false, nil
	}
	type entry struct {
		salt string
		key  []byte
	}
	var remembered []entry
	if k, ok := a.KeyFor(historyEType, 0); ok && k.Salt != "" {
		remembered = append(remembered, entry{k.Salt, k.material})
	}
	for i, h := range a.history {
		if i == n {
			break
		}
		m, err := t.d.mk.open(historyAAD(a.Name, h.Salt), h.Sealed)
		if err != nil {
			return false, corrupt(bucketAccounts, fold(a.Name), errors.New("a password history entry does not open"))
		}
		remembered = append(remembered, entry{h.Salt, m})
	}
	used := 0
	for _, r := range remembered {
		k, ok := derived[r.salt]
		if !ok {
			var err error
			if k, err = derive(r.salt); err != nil {
				return false, err
			}
			derived[r.salt] = k
		}
		used |= subtle.ConstantTimeCompare(k, r.key)
	}
	return used == 1, nil
}

// checkPasswordText refuses what no password may be.
func checkPasswordText(pw string) error {
	switch {
	case pw == "":
		return policy("the new password is empty; choose a non-empty password")
	case len(pw) > MaxPasswordLength:
		return policy("the new password is %d bytes long; at most %d are allowed", len(pw), MaxPasswordLength)
	case !utf8.ValidString(pw):
		return invalid("the new password is not valid UTF-8")
	case strings.ContainsRune(pw, 0):
		return invalid("the new password contains a NUL character")
	}
	return nil
}

// checkMinLength applies Policy.MinPasswordLength.
func checkMinLength(p Policy, pw string) error {
	min := p.WithDefaults().MinPasswordLength
	if n := utf8.RuneCountInString(pw); n < min {
		return policy("the new password has %d characters; this domain requires at least %d (hop domain set --min-password-length)", n, min)
	}
	return nil
}

// passwordPrep is the work done before a password change's transaction:
// the key derivations, which take milliseconds each and must not hold the
// store's write lock.
type passwordPrep struct {
	name     string // the account's name as its record spells it
	realm    krb5.Realm
	allowRC4 bool
	keys     []Key             // the new password's keys
	history  map[string][]byte // the new password's aes256-cts-hmac-sha1-96 key, by salt
	password string
	// ChangePassword: the old password's key, of the type and salt of the
	// current key it is checked against.
	old Key
}

// String, GoString and Format never print the password or its keys.
func (p passwordPrep) String() string {
	return "directory.passwordPrep{" + p.name + ", password and keys redacted}"
}
func (p passwordPrep) GoString() string { return p.String() }
func (p passwordPrep) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, p.String(), p.GoString())
}

// errStale means an account changed between a password change's
// preparation and its transaction in a way that needs new derivations.
var errStale = errors.New("directory: account changed during the password change")

// preparePassword authorizes the actor with may (in a read transaction, so
// that an actor without the right makes the directory derive nothing),
// applies the length policy and derives the new password's keys. When old
// is not nil it derives *old's key too, for ChangePassword.
func (x *Acting) preparePassword(ctx context.Context, op, name, password string, old *string, may func(z *authz, a *Account) error) (*passwordPrep, error) {
	if err := checkPasswordText(password); err != nil {
		return nil, err
	}
	if old != nil && (len(*old) > MaxPasswordLength || *old == "") {
		return nil, invalid("the current password is empty or longer than %d bytes", MaxPasswordLength)
	}
	var prep passwordPrep
	var salts []string
	err := x.read(ctx, op, name, false, func(z *authz, ev *event) error {
		a, err := z.loadAccount(name, 0, ev, may)
		if err != nil {
			return err
		}
		if err := onlyRandomKeys(a); err != nil {
			return err
		}
		if err := checkMinLength(z.dom.Policy, password); err != nil {
			return err
		}
		prep = passwordPrep{name: a.Name, realm: z.dom.Realm, allowRC4: a.AllowRC4, password: password}
		if old != nil {
			k, ok := passwordKeyOf(a)
			if !ok {
				return denied("%s has no password (its keys are random), so none can be changed; ask a domain admin or a manager of %s to set one", a.Name, a.Name)
			}
			prep.old = Key{EncType: k.EncType, KVNO: k.KVNO, Salt: k.Salt}
		}
		n := z.dom.Policy.historyLen()
		if k, ok := a.KeyFor(historyEType, 0); ok && k.Salt != "" && n > 0 {
			salts = append(salts, k.Salt)
		}
		for i, h := range a.history {
			if i < n && !slices.Contains(salts, h.Salt) {
				salts = append(salts, h.Salt)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if prep.keys, err = PasswordKeys(prep.realm, prep.name, password, DefaultETypes(prep.allowRC4)); err != nil {
		return nil, err
	}
	prep.history = map[string][]byte{}
	for _, k := range prep.keys {
		if k.EncType == historyEType {
			prep.history[k.Salt] = k.material
		}
	}
	for _, s := range salts {
		if _, ok := prep.history[s]; ok {
			continue
		}
		k, err := deriveKey(historyEType, password, s)
		if err != nil {
			return nil, err
		}
		prep.history[s] = k.material
	}
	if old != nil {
		k, err := deriveKey(prep.old.EncType, *old, prep.old.Salt)
		if err != nil {
			return nil, err
		}
		prep.old.material = k.material
	}
	return &prep, nil
}

// passwordKeyOf returns the current key of a that a password made: one
// with a salt, aes256-cts-hmac-sha1-96 first (the cheapest to derive
// among the strongest).
func passwordKeyOf(a *Account) (Key, bool) {
	for _, e := range []krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196, krb5.AES256CTSHMACSHA384192, krb5.AES128CTSHMACSHA256128} {
		if k, ok := a.KeyFor(e, 0); ok && k.Salt != "" {
			return k, true
		}
	}
	return Key{}, false
}

// onlyRandomKeys refuses a password for the accounts whose keys must stay
// random: krbtgt and kadmin.
func onlyRandomKeys(a *Account) error {
	if a.RID == RIDKrbtgt || a.RID == RIDKadmin {
		return invalid("%s takes only random keys, never a password (hop account passwd %s --random-key)", a.Name, a.Name)
	}
	return nil
}

// applyPassword is the transaction half of SetPassword and ChangePassword:
// it checks that prep still fits old, applies the history policy and
// stores the new keys.
func (z *authz) applyPassword(old *Account, prep *passwordPrep) (*Account, error) {
	if old.Name != prep.name || old.AllowRC4 != prep.allowRC4 || !z.dom.Realm.Equal(prep.realm) {
		return nil, errStale
	}
	if err := onlyRandomKeys(old); err != nil {
		return nil, err
	}
	p := z.dom.Policy
	if err := checkMinLength(p, prep.password); err != nil {
		return nil, err
	}
	n := p.historyLen()
	used, err := z.t.usedBefore(old, n, prep.history, func(salt string) ([]byte, error) {
		k, err := deriveKey(historyEType, prep.password, salt)
		return k.material, err
	})
	if err != nil {
		return nil, err
	}
	if used {
		return nil, policy("the new password was used before (one of the last %d): choose a new one", n)
	}
	a, err := z.t.rotate(old, prep.keys)
	if err != nil {
		return nil, err
	}
	if err := z.t.pushHistory(a, a.Keys, n); err != nil {
		return nil, err
	}
	return a, nil
}

// rotate returns a copy of old with keys as its new generation: the kvno
// goes up by one, the current keys join OldKeys (which keeps the last two
// generations), and PasswordLastSet becomes now.
func (t *txn) rotate(old *Account, keys []Key) (*Account, error) {
	if old.KVNO == math.MaxUint32 {
		return nil, invalid("account %q has reached the largest kvno; create a new account", old.Name)
	}
	a := old.clone()
	kvno := old.KVNO + 1
	ks, err := newGeneration(a, keys, kvno)
	if err != nil {
		return nil, err
	}
	a.OldKeys = keepGenerations(append(slices.Clone(old.Keys), old.OldKeys...), oldGenerations)
	a.Keys, a.KVNO = ks, kvno
	now := t.d.now()
	a.PasswordLastSet, a.Modified = now, now
	return a, nil
}

// maySetPassword is SetPassword's right: Domain Admins, the account's
// managers unless it is protected, and the account itself in an initial
// request.
func maySetPassword(z *authz, a *Account) error {
	return z.mayManage(a, "set the password of "+a.Name, true)
}

// SetPassword sets the password of the account named name: its keys
// become those the password gives (PasswordKeys, the types of
// DefaultETypes), a new generation (kvno + 1). Domain Admins may; so may
// the account's managers unless it is protected; and the account itself
// when the actor proved its password in this request (Actor.Initial: a
// kpasswd change with an INITIAL ticket, RFC 3244 §2). The domain's
// password policy applies to everyone: a password shorter than
// MinPasswordLength or among the last PasswordHistory is refused with
// [ErrPolicy]. krbtgt and kadmin take random keys only.
func (x *Acting) SetPassword(ctx context.Context, name, password string, ifRev uint64) (*Account, error) {
	const op = "account.password.set"
	for attempt := 0; ; attempt++ {
		prep, err := x.preparePassword(ctx, op, name, password, nil, maySetPassword)
		if err != nil {
			return nil, err
		}
		var out *Account
		err = x.do(ctx, op, name, func(z *authz, ev *event) error {
			old, err := z.loadAccount(name, ifRev, ev, maySetPassword)
			if err != nil {
				return err
			}
			a, err := z.applyPassword(old, prep)
			if err != nil {
				return err
			}
			out = a
			return z.storeAccount(old, a, ev)
		})
		if errors.Is(err, errStale) && attempt < 2 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out.withoutSecrets(), nil
	}
}

// ChangePassword changes the password of the account named name from old
// to new: the account itself may, proving its current password (compared
// as the key it gives, in constant time), as may LocalAdmin. A wrong
// current password is refused with [ErrAccessDenied] and counts as a
// failed logon against the lockout policy, as a failed pre-authentication
// does (RecordPreauthFailure): otherwise the change would be a way to guess
// passwords that lockout does not slow down. A locked-out account may not
// change its password until the lockout ends. The password policy applies
// as for SetPassword.
func (x *Acting) ChangePassword(ctx context.Context, name, old, new string) (*Account, error) {
	const op = "account.password.change"
	may := func(z *authz, a *Account) error {
		if z.actor.Local {
			return nil
		}
		if z.r.why != "" {
			return denied("%s may not change the password of %s: %s", z.who(), a.Name, z.r.why)
		}
		if !z.isSelf(a) {
			return denied("%s may change only its own password this way; to reset the password of %s, set it (hop account passwd %s), which needs Domain Admins or a manager of %s",
				z.who(), a.Name, shellQuote(a.Name), a.Name)
		}
		if now := x.d.now(); a.IsLocked(now) {
			return denied("account %s is locked out after repeated failed logons until %s; wait, or ask an administrator to unlock it (hop account set %s --unlock)",
				a.Name, a.LockedUntil.UTC().Format("2006-01-02T15:04:05Z07:00"), shellQuote(a.Name))
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		prep, err := x.preparePassword(ctx, op, name, new, &old, may)
		if err != nil {
			return nil, err
		}
		var out *Account
		wrong := false
		err = x.do(ctx, op, name, func(z *authz, ev *event) error {
			a, err := z.loadAccount(name, 0, ev, may)
			if err != nil {
				return err
			}
			cur, ok := a.KeyFor(prep.old.EncType, 0)
			if !ok || cur.Salt != prep.old.Salt || cur.KVNO != prep.old.KVNO {
				return errStale
			}
			if subtle.ConstantTimeCompare(cur.material, prep.old.material) != 1 {
				wrong = true
				return denied("the current password given for %s is wrong; nothing was changed", a.Name)
			}
			na, err := z.applyPassword(a, prep)
			if err != nil {
				return err
			}
			if err := z.t.putAccount(na, a); err != nil {
				return err
			}
			out = na
			ev.changes, err = z.accountChanges(a, na)
			return err
		})
		if errors.Is(err, errStale) && attempt < 2 {
			continue
		}
		if wrong {
			if _, lerr := x.d.RecordPreauthFailure(ctx, prep.name); lerr != nil {
				return nil, errors.Join(err, lerr)
			}
		}
		if err != nil {
			return nil, err
		}
		return out.withoutSecrets(), nil
	}
}

// CheckNewPassword applies the domain's password rules that do not depend
// on an account's history (length, text) to pw: for an account about to
// be created with a password. The error is [ErrPolicy] or [ErrInvalid].
func (d *Directory) CheckNewPassword(ctx context.Context, pw string) error {
	if err := checkPasswordText(pw); err != nil {
		return err
	}
	dom, err := d.Domain(ctx)
	if err != nil {
		return err
	}
	return checkMinLength(dom.Policy, pw)
}

// CheckPassword is CheckNewPassword under policy p, before there is a
// directory to read it from: for Administrator's password when a domain
// is created (the zero Policy is the defaults).
func CheckPassword(p Policy, pw string) error {
	if err := checkPasswordText(pw); err != nil {
		return err
	}
	return checkMinLength(p, pw)
}
