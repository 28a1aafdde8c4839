package directory_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/directory"
)

func TestJoinTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
		e.member("Domain Admins", "alice")
		alice := e.dir.As(directory.Actor{Name: "alice"})
		tok, exp, err := alice.CreateJoinToken(ctx, "B.Example.Test.", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !exp.Equal(e.clock.Now().Add(time.Hour)) {
			t.Errorf("default expiry %v, want an hour from now", exp)
		}
		body, ok := strings.CutPrefix(tok, "hop-join-")
		if !ok || len(body) != 52 || strings.Trim(body, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Errorf("token %q is not hop-join- and 52 base32 characters", tok)
		}
		// The store keeps no trace of the token but its SHA-256.
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(body))
		if err != nil || len(raw) != 32 {
			t.Fatalf("token body does not decode to 32 bytes: %v", err)
		}
		sum := sha256.Sum256(raw)
		d := dump(t, e.store)
		if strings.Contains(strings.ToLower(d), body[:20]) || strings.Contains(d, hex.EncodeToString(raw)) || strings.Contains(d, string(raw)) {
			t.Error("the store holds the token")
		}
		if !strings.Contains(d, "join-tokens/"+hex.EncodeToString(sum[:])+"=") {
			t.Error("the store does not hold the token's SHA-256")
		}
		k1, k2 := hostKey(t, 1), hostKey(t, 2)
		req := directory.JoinRequest{FQDN: "b.example.test", SSHHostKeys: []string{k1, k2, k1}, Keys: aesKeys(0x31, "")}
		// Wrong host: refused, and the token stays good.
		_, err = e.dir.JoinHost(ctx, directory.Actor{}, tok, directory.JoinRequest{FQDN: "c.example.test", Keys: aesKeys(1, "")})
		if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "is for host b.example.test, not c.example.test") {
			t.Errorf("token for another host: %v", err)
		}
		// A join that fails for another reason leaves the token unused.
		e.create(&directory.Account{Name: "squat", Kind: directory.KindService, SPNs: []string{"host/b"}}, nil)
		if _, err := e.dir.JoinHost(ctx, directory.Actor{}, tok, req); !errors.Is(err, directory.ErrExists) || !strings.Contains(err.Error(), `belongs to account "squat"`) {
			t.Errorf("join whose SPN another account holds: %v", err)
		}
		if err := e.admin().DeleteAccount(ctx, "squat", 0); err != nil {
			t.Fatal(err)
		}
		// The token works, in any case and with spaces around it.
		a, err := e.dir.JoinHost(ctx, directory.Actor{}, "  "+strings.ToUpper(tok)+"\n", req)
		if err != nil {
			t.Fatalf("join with the token: %v", err)
		}
		want := []string{strings.TrimSuffix(k1, " root@host"), strings.TrimSuffix(k2, " root@host")}
		if a.Name != "b$" || a.Kind != directory.KindComputer || a.DNSHostName != "b.example.test" ||
			!slices.Equal(a.SPNs, []string{"host/b.example.test", "host/b"}) || !slices.Equal(a.SSHHostKeys, want) || a.KVNO != 1 {
			t.Errorf("joined account %+v", a)
		}
		if a.CreatorSID != e.sidOf("alice") || !slices.Equal(a.ManagedBy, e.sids("alice")) {
			t.Errorf("the token's creator is not the account's creator and manager: %v %v", a.CreatorSID, a.ManagedBy)
		}
		for _, k := range a.Keys {
			if k.Len() != 0 {
				t.Error("JoinHost returned key material")
			}
		}
		if got := e.snap().HostKeys("B.EXAMPLE.TEST."); !slices.Equal(got, want) {
			t.Errorf("HostKeys = %q, want %q", got, want)
		}
		if got := e.snap().HostKeys("b"); got != nil {
			t.Errorf("HostKeys of the short name = %q, want none", got)
		}
		// Used once.
		_, err = e.dir.JoinHost(ctx, directory.Actor{}, tok, req)
		if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "was used already") {
			t.Errorf("second use: %v", err)
		}
		// Expired.
		tok2, _, err := alice.CreateJoinToken(ctx, "b.example.test", 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Minute)
		_, err = e.dir.JoinHost(ctx, directory.Actor{}, tok2, req)
		if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "expired on") {
			t.Errorf("expired token: %v", err)
		}
		// Unknown and malformed tokens.
		forged := "hop-join-" + strings.Repeat("a", 52)
		if _, err := e.dir.JoinHost(ctx, directory.Actor{}, forged, req); !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "not known") {
			t.Errorf("unknown token: %v", err)
		}
		for _, bad := range []string{"hop-join-abc", "x" + tok[1:], tok + "a", strings.Repeat("a", 200), "hop-join-" + strings.Repeat("1", 52)} {
			if _, err := e.dir.JoinHost(ctx, directory.Actor{}, bad, req); !errors.Is(err, directory.ErrInvalid) {
				t.Errorf("malformed token %q: %v", bad, err)
			}
		}
		// A re-join with a new token rotates the keys and replaces the
		// host keys.
		tok3, _, err := alice.CreateJoinToken(ctx, "b.example.test", 0)
		if err != nil {
			t.Fatal(err)
		}
		k3 := hostKey(t, 3)
		a, err = e.dir.JoinHost(ctx, directory.Actor{}, tok3, directory.JoinRequest{FQDN: "b.example.test", SSHHostKeys: []string{k3}, Keys: aesKeys(0x32, "")})
		if err != nil {
			t.Fatal(err)
		}
		if a.KVNO != 2 || !slices.Equal(a.SSHHostKeys, []string{strings.TrimSuffix(k3, " root@host")}) {
			t.Errorf("re-join: kvno %d, host keys %q", a.KVNO, a.SSHHostKeys)
		}
		if k, ok := e.snap().Account("b$"); !ok || len(k.OldKeys) != 2 {
			t.Error("re-join did not keep the previous keys for tickets already issued")
		}
	})
}

func TestJoinTokenRights(t *testing.T) {
	e := actingEnv(t)
	for _, c := range []struct {
		ttl time.Duration
		ok  bool
	}{{0, true}, {time.Minute, true}, {7 * 24 * time.Hour, true}, {59 * time.Second, false}, {7*24*time.Hour + time.Second, false}, {-time.Hour, false}} {
		_, exp, err := e.dir.As(directory.LocalAdmin).CreateJoinToken(ctx, "x.example.test", c.ttl)
		switch {
		case c.ok && err != nil:
			t.Errorf("ttl %v: %v", c.ttl, err)
		case !c.ok && !errors.Is(err, directory.ErrInvalid):
			t.Errorf("ttl %v: %v, want refused as invalid", c.ttl, err)
		case c.ok && c.ttl != 0 && !exp.Equal(e.clock.Now().Add(c.ttl)):
			t.Errorf("ttl %v: expires %v", c.ttl, exp)
		}
	}
	for _, h := range []string{"sixteen-chars-xx.example.test", "", "bad_host.example.test", "-x.example.test"} {
		if _, _, err := e.dir.As(directory.LocalAdmin).CreateJoinToken(ctx, h, 0); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("host %q: %v, want invalid", h, err)
		}
	}
	if _, _, err := e.dir.As(directory.LocalAdmin).CreateJoinToken(ctx, "fifteen-chars-x.example.test", 0); err != nil {
		t.Errorf("a 15-character label: %v", err)
	}
	// A manager's token re-joins the account it manages; the host joins
	// with the manager's rights, which it checks again at the join.
	mgr := e.dir.As(directory.Actor{Name: "mgr"})
	tok, _, err := mgr.CreateJoinToken(ctx, "t.example.test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mgr.CreateJoinToken(ctx, "other.example.test", 0); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("a manager's token for a new host: %v", err)
	}
	if err := e.admin().DeleteAccount(ctx, "mgr", 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.dir.JoinHost(ctx, directory.Actor{}, tok, directory.JoinRequest{FQDN: "t.example.test", Keys: aesKeys(2, "")})
	if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "no longer exists") {
		t.Errorf("a token whose creator is gone: %v", err)
	}
	// A computer account of another host, or a service account, is not joined.
	e.create(&directory.Account{Name: "u$", Kind: directory.KindService}, nil)
	for host, why := range map[string]string{"t.other.test": "belongs to host t.example.test", "u.example.test": "is a service, not a computer"} {
		_, err := e.dir.JoinHost(ctx, directory.LocalAdmin, "", directory.JoinRequest{FQDN: host, Keys: aesKeys(2, "")})
		if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), why) {
			t.Errorf("join %s: %v, want %q", host, err, why)
		}
	}
	if _, err := e.dir.JoinHost(ctx, directory.LocalAdmin, "", directory.JoinRequest{FQDN: "n.example.test"}); !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("join without keys: %v", err)
	}
}

func TestHostKeyValidation(t *testing.T) {
	ed := hostKey(t, 9)
	rsaKey := func(bits int) string {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ssh.NewPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return string(ssh.MarshalAuthorizedKey(pub))
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	cert := &ssh.Certificate{Key: signer.PublicKey(), CertType: ssh.HostCert, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	certLine := string(ssh.MarshalAuthorizedKey(cert))
	for _, c := range []struct {
		name string
		keys []string
		ok   bool
	}{
		{"ed25519 with a comment", []string{ed}, true},
		{"rsa 2048", []string{rsaKey(2048)}, true},
		{"rsa 1024", []string{rsaKey(1024)}, false},
		{"options", []string{`command="x" ` + ed}, false},
		{"two lines", []string{ed + "\n" + ed}, false},
		{"comment line first", []string{"# x\n" + ed}, false},
		{"garbage", []string{"ssh-ed25519 AAAA!!"}, false},
		{"empty", []string{""}, false},
		{"certificate", []string{certLine}, false},
		{"dsa", []string{dsaKey()}, false},
		{"seventeen keys", slices.Repeat([]string{ed}, 17), false},
		{"too long", []string{ed + " " + strings.Repeat("c", 8192)}, false},
	} {
		e := newEnv(t, storeKinds[0].open)
		_, err := e.dir.JoinHost(ctx, directory.LocalAdmin, "", directory.JoinRequest{FQDN: "h.example.test", SSHHostKeys: c.keys, Keys: aesKeys(1, "")})
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", c.name, err)
		}
	}
}

func TestHostKeysAmbiguous(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	k := []string{hostKey(t, 1)}
	for _, n := range []string{"w1$", "w2$"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindComputer, DNSHostName: "web.example.test", SSHHostKeys: k}, nil)
	}
	if got := e.snap().HostKeys("web.example.test"); got != nil {
		t.Errorf("two accounts claim the host, yet HostKeys = %q", got)
	}
	if err := e.admin().DeleteAccount(ctx, "w2$", 0); err != nil {
		t.Fatal(err)
	}
	if got := e.snap().HostKeys("web.example.test"); len(got) != 1 {
		t.Errorf("one claimant: HostKeys = %q", got)
	}
	if _, err := e.admin().UpdateAccount(ctx, "w1$", 0, func(a *directory.Account) error { a.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := e.snap().HostKeys("web.example.test"); got != nil {
		t.Errorf("a disabled host's keys: %q", got)
	}
	// Host keys are for computers.
	_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: "svc", Kind: directory.KindService, SSHHostKeys: k}, nil)
	if !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("a service with SSH host keys: %v", err)
	}
}

// dsaKey returns an authorized_keys line of a DSA key whose parameters
// have the sizes SSH allows (1024-bit P, 160-bit Q).
func dsaKey() string {
	one := big.NewInt(1)
	p := new(big.Int).Add(new(big.Int).Lsh(one, 1023), one)
	q := new(big.Int).Add(new(big.Int).Lsh(one, 159), one)
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{ssh.KeyAlgoDSA, p, q, big.NewInt(2), big.NewInt(3)})
	return ssh.KeyAlgoDSA + " " + base64.StdEncoding.EncodeToString(blob)
}
