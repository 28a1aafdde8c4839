package secrets_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"hop/admin"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/gssapi"
	"hop/krb5/kcm"
	"hop/krb5/keytab"
	"hop/krb5/service"
	"hop/krb5/wire"
)

// secretByte fills every key and password of the table. Its renderings
// (raw, "a5a5" in hex, "165 165" in decimal, "0xa5" in Go syntax, `\xa5`
// quoted, "paWl" in base64) appear in no redacted description below.
const secretByte = 0xA5

func secret(n int) []byte { return bytes.Repeat([]byte{secretByte}, n) }

// verbs are the fmt verbs every secret-holding type must survive.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"}

// leaks lists what would show that the secret printed: the raw bytes and
// their renderings in hex (%x, %X), Go syntax (%#v of a []byte), Go escapes
// (%q), decimal (%v, %d of a []byte) and base64 (JSON's encoding of a
// []byte).
func leaks(out string) []string {
	var found []string
	lower := strings.ToLower(out)
	for _, s := range []string{"a5a5", "0xa5", `\xa5`, "165 165"} {
		if strings.Contains(lower, s) {
			found = append(found, s)
		}
	}
	for _, s := range []string{
		string(secret(2)),
		base64.StdEncoding.EncodeToString(secret(3)),
		base64.URLEncoding.EncodeToString(secret(3)),
	} {
		if strings.Contains(out, s) {
			found = append(found, fmt.Sprintf("%q", s))
		}
	}
	return found
}

func TestNoVerbPrintsASecret(t *testing.T) {
	const aes256 = krb5.AES256CTSHMACSHA196
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "EXAMPLE.TEST"}
	tgs := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Realm: "EXAMPLE.TEST"}
	when := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	ck, err := crypto.NewKey(aes256, secret(32))
	if err != nil {
		t.Fatal(err)
	}
	mk, err := directory.NewMasterKey(bytes.NewReader(secret(32))) // its 32 bytes are the pattern
	if err != nil {
		t.Fatal(err)
	}
	dk := directory.NewKeyMaterial(aes256, "EXAMPLE.TESTalice", secret(32))
	ek := wire.EncryptionKey{Type: aes256, Value: secret(32)}
	sk := admin.SecretKey{Principal: "alice@EXAMPLE.TEST", EType: int32(aes256), KVNO: 2, Material: secret(32)}
	kte := keytab.Entry{Principal: alice, Timestamp: when, KVNO: 2, EncType: aes256, Key: secret(32)}
	ccc := ccache.Credential{Client: alice, Server: tgs, KeyType: aes256, Key: secret(32), EndTime: when, Ticket: secret(40)}
	cc := client.Credential{Client: alice, Server: tgs, SessionKey: ck, EndTime: when}
	pw := wire.ChangePasswdData{NewPasswd: secret(16), TargName: &alice.Name, TargRealm: alice.Realm}
	password := string(secret(16))
	token := base64.RawURLEncoding.EncodeToString(secret(24)) // as hop's join tokens look

	// embeds has a secret-holding type embedded: its Format is promoted.
	type embeds struct {
		directory.Key
		Note string
	}
	// embedsTwo embeds two, so that neither Format is promoted and fmt
	// prints each field.
	type embedsTwo struct {
		admin.SecretKey
		keytab.Entry
	}
	// holds carries secrets in named fields, a slice, a map and pointers,
	// as the structs that hold them do.
	type holds struct {
		Admin   admin.SecretKey
		Dir     directory.Key
		Entries []keytab.Entry
		ByName  map[string]wire.EncryptionKey
		Cache   ccache.Credential
		Passwd  wire.ChangePasswdData
		Crypto  *crypto.Key
		Client  *client.Credential
	}
	h := holds{Admin: sk, Dir: dk, Entries: []keytab.Entry{kte}, ByName: map[string]wire.EncryptionKey{"k": ek}, Cache: ccc, Passwd: pw, Crypto: ck, Client: &cc}

	for _, tc := range []struct {
		name string
		v    any
	}{
		{"admin.SecretKey", sk},
		{"*admin.SecretKey", &sk},
		{"admin.Keys", admin.Keys{Account: "alice", KVNO: 2, Keys: []admin.SecretKey{sk, sk}}},
		{"admin.NewAccount", admin.NewAccount{Kind: "user", Name: "alice", Password: password}},
		{"admin.PasswordChange", admin.PasswordChange{Old: password, New: password}},
		{"*admin.PasswordChange", &admin.PasswordChange{Old: password, New: password}},
		{"admin.JoinToken", admin.JoinToken{Host: "b.example.test", Token: token, Expires: when}},
		{"admin.JoinRequest", admin.JoinRequest{Host: "b.example.test", Token: token}},
		{"directory.Key", dk},
		{"directory.Account", &directory.Account{Name: "alice", Kind: directory.KindUser, Keys: []directory.Key{dk}, OldKeys: []directory.Key{dk}}},
		{"directory.JoinRequest", directory.JoinRequest{FQDN: "b.example.test", Keys: []directory.Key{dk}}},
		{"*directory.MasterKey", mk},
		{"directory.MasterKey", *mk},
		{"*crypto.Key", ck},
		{"wire.EncryptionKey", ek},
		{"*wire.EncryptionKey", &ek},
		{"wire.EncTicketPart", wire.EncTicketPart{Key: ek, CRealm: alice.Realm, CName: alice.Name}},
		{"wire.EncKDCRepPart", &wire.EncKDCRepPart{Key: ek}},
		{"wire.Authenticator", &wire.Authenticator{CName: alice.Name, SubKey: &ek}},
		{"wire.EncAPRepPart", &wire.EncAPRepPart{SubKey: &ek}},
		{"wire.KRBCredInfo", wire.KRBCredInfo{Key: ek}},
		{"wire.ChangePasswdData", pw},
		{"*wire.ChangePasswdData", &pw},
		{"keytab.Entry", kte},
		{"*keytab.Keytab", &keytab.Keytab{Entries: []keytab.Entry{kte, kte}}},
		{"ccache.Credential", ccc},
		{"*ccache.Cache", &ccache.Cache{Version: 4, Credentials: []ccache.Credential{ccc}}},
		{"kcm.Match", kcm.Match{Client: &alice, Server: &tgs, KeyType: aes256, Key: secret(32), Ticket: secret(40), SecondTicket: secret(40)}},
		{"*kcm.Match", &kcm.Match{Server: &tgs, KeyType: aes256, Key: secret(32), Ticket: secret(40)}},
		{"kcm.Request", kcm.Request{Op: kcm.OpReplace, Name: "1000", Principal: alice, Credentials: []ccache.Credential{ccc}, Credential: &ccc}},
		{"*kcm.Reply", &kcm.Reply{Credential: &ccc, Credentials: []ccache.Credential{ccc}}},
		{"kcm.Cache", kcm.Cache{Name: "1000", Principal: alice, Entries: []kcm.Entry{{Credential: ccc}}}},
		{"*kcm.Cache", &kcm.Cache{Name: "1000", Principal: alice, Entries: []kcm.Entry{{Credential: ccc}}}},
		{"kcm.Entry", kcm.Entry{Credential: ccc}},
		{"client.Credential", cc},
		{"*client.Credential", &cc},
		{"*service.Accepted", &service.Accepted{Client: alice, Server: tgs, SessionKey: ck, Subkey: ck}},
		{"gssapi.DelegatedCredential", gssapi.DelegatedCredential{Info: []wire.KRBCredInfo{{Key: ek}}}},
		{"a struct that embeds one", embeds{Key: dk, Note: "n"}},
		{"a struct that embeds two", embedsTwo{sk, kte}},
		{"a struct that holds them", h},
		{"a pointer to it", &h},
	} {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, tc.v)
			if out == "" {
				t.Errorf("%s with %s prints nothing", tc.name, verb)
			}
			if found := leaks(out); len(found) > 0 {
				t.Errorf("%s with %s prints its secret (%s): %s", tc.name, verb, strings.Join(found, ", "), out)
			}
		}
	}
}

// TestLeaksSeesTheSecret checks the check: every verb applied to the bare
// bytes, or to a struct that holds them, is caught, and so is their base64.
func TestLeaksSeesTheSecret(t *testing.T) {
	for _, v := range []any{secret(32), struct{ Key []byte }{secret(32)}} {
		for _, verb := range verbs {
			if out := fmt.Sprintf(verb, v); len(leaks(out)) == 0 {
				t.Errorf("leaks misses %s of %T: %s", verb, v, out)
			}
		}
	}
	if out := base64.StdEncoding.EncodeToString(secret(32)); len(leaks(out)) == 0 {
		t.Errorf("leaks misses the base64 %s", out)
	}
}
