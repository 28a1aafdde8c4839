package directory

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/audit"
	"hop/sid"
)

// Host join. A host joins the domain ("hop host join --server URL --name
// b.example.test") with the rights of whoever runs it — a domain admin, or
// a manager of the host's existing computer account re-joining it — or
// with a one-time join token that a domain admin (or such a manager)
// created for that host beforehand. Joining creates the computer account
// b$ with DNSHostName b.example.test and the SPNs host/b.example.test and
// host/b, with the keys the host made, and records the host's SSH public
// keys; re-joining gives the existing account new keys (kvno + 1) and
// replaces its SSH host keys. The SPNs are those of hop account
// add-computer; AD also adds RestrictedKrbHost/…, which only Windows uses.

// Join token lifetimes.
const (
	DefaultJoinTokenTTL = time.Hour
	MinJoinTokenTTL     = time.Minute
	MaxJoinTokenTTL     = 7 * 24 * time.Hour
)

// Limits on join input.
const (
	joinTokenPrefix  = "hop-join-"
	joinTokenBytes   = 32
	maxJoinTokenLen  = 128 // bytes of a token as given
	maxJoinTokens    = 10_000
	joinTokenKeep    = 24 * time.Hour // how long a spent or expired token is remembered, to say so
	maxNetBIOSName   = 15             // characters of a computer's NetBIOS name, hence of its sAMAccountName before "$"
	maxHostKeys      = 16             // SSH host keys per host
	maxHostKeyLen    = 8192           // bytes of one authorized_keys line
	minRSAHostKeyLen = 2048           // bits
)

var joinTokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// joinTokenRecord is a join token as stored: never the token, only its
// SHA-256 (the record's key).
type joinTokenRecord struct {
	Host       string    `json:"host"`                // the FQDN, lower case
	CreatorSID sid.SID   `json:"creatorSID,omitzero"` // zero: the local domain administrator
	Creator    string    `json:"creator"`             // the creator's name then, for messages
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
	Used       time.Time `json:"used,omitzero"`
}

// JoinRequest is what a joining host sends.
type JoinRequest struct {
	// FQDN is the host's DNS name, e.g. b.example.test; its first label
	// names the computer account (b$), so it has at most 15 characters.
	FQDN string
	// SSHHostKeys are the host's SSH public keys as authorized_keys lines
	// ("ssh-ed25519 AAAA… comment"), without options. Stored without the
	// comments; they replace the account's SSH host keys.
	SSHHostKeys []string
	// Keys are the account's new keys, which the host made (RandomKeys) and
	// writes to its keytab.
	Keys []Key
}

// joinHostName checks a host's DNS name and returns it in lower case
// without a final dot, with the name of its computer account.
func joinHostName(h string) (fqdn, account string, err error) {
	fqdn = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
	if fqdn == "" {
		return "", "", invalid("no host name given; give the host's DNS name, e.g. b.example.test")
	}
	if err := validateHostname(fqdn); err != nil {
		return "", "", err
	}
	short, _, _ := strings.Cut(fqdn, ".")
	if len(short) > maxNetBIOSName {
		return "", "", invalid("host name %s: its first label %q has %d characters, and a computer account's name (the host's NetBIOS name) has at most %d; rename the host, or have a domain admin create its account by hand (hop account add-computer)",
			fqdn, short, len(short), maxNetBIOSName)
	}
	account = short + "$"
	if err := validateAccountName(account, KindComputer); err != nil {
		return "", "", err
	}
	return fqdn, account, nil
}

// hostSPNs are the SPNs of a joined host.
func hostSPNs(fqdn string) []string {
	short, _, _ := strings.Cut(fqdn, ".")
	if short == fqdn {
		return []string{"host/" + fqdn}
	}
	return []string{"host/" + fqdn, "host/" + short}
}

func encodeJoinToken(raw []byte) string {
	return joinTokenPrefix + strings.ToLower(joinTokenEncoding.EncodeToString(raw))
}

// parseJoinToken decodes a token as printed by CreateJoinToken (any case,
// surrounding spaces ignored) to its random bytes.
func parseJoinToken(s string) ([]byte, error) {
	bad := invalid("this is not a hop join token (one looks like %s followed by %d letters and digits); copy it again from hop host token create",
		joinTokenPrefix, joinTokenEncoding.EncodedLen(joinTokenBytes))
	if len(s) > maxJoinTokenLen {
		return nil, bad
	}
	s = strings.TrimSpace(s)
	body, ok := strings.CutPrefix(strings.ToLower(s), joinTokenPrefix)
	if !ok || len(body) != joinTokenEncoding.EncodedLen(joinTokenBytes) {
		return nil, bad
	}
	raw, err := joinTokenEncoding.DecodeString(strings.ToUpper(body))
	if err != nil || len(raw) != joinTokenBytes || encodeJoinToken(raw) != joinTokenPrefix+body {
		return nil, bad // the last character must be canonical: one token, one spelling
	}
	return raw, nil
}

// joinTokenKey is the store key of a token: the hex SHA-256 of its bytes.
func joinTokenKey(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// tokenID names a token in messages and audit events: a prefix of its
// hash, which tells nothing about the token.
func tokenID(key string) string { return "token " + key[:12] }

func (t *txn) joinToken(key string) (*joinTokenRecord, error) {
	v, err := t.Get(bucketJoinTokens, key)
	if err != nil || v == nil {
		return nil, err
	}
	var r joinTokenRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, corrupt(bucketJoinTokens, key, err)
	}
	return &r, nil
}

func (t *txn) putJoinToken(key string, r *joinTokenRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return t.Put(bucketJoinTokens, key, v)
}

// pruneJoinTokens forgets the tokens that expired more than joinTokenKeep
// ago and returns how many remain.
func (t *txn) pruneJoinTokens(now time.Time) (int, error) {
	var old []string
	n := 0
	err := t.ForEach(bucketJoinTokens, func(k string, v []byte) error {
		var r joinTokenRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return corrupt(bucketJoinTokens, k, err)
		}
		if now.Sub(r.Expires) > joinTokenKeep {
			old = append(old, k)
		} else {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := t.Delete(bucketJoinTokens, k); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// CreateJoinToken creates a one-time token with which the host named host
// (its DNS name) may join once within ttl (0: DefaultJoinTokenTTL; at
// least MinJoinTokenTTL, at most MaxJoinTokenTTL), with the actor's rights:
// Domain Admins may create one for any host; the managers of the host's
// existing computer account, for that host (to re-join it); an account
// within its machine account quota, for a new host. The token is 32
// random bytes, printed in base32 after "hop-join-"; the directory keeps
// only its SHA-256. The audit event names it by a prefix of that hash.
func (x *Acting) CreateJoinToken(ctx context.Context, host string, ttl time.Duration) (string, time.Time, error) {
	fqdn, name, err := joinHostName(host)
	if err != nil {
		return "", time.Time{}, err
	}
	if ttl == 0 {
		ttl = DefaultJoinTokenTTL
	}
	if ttl < MinJoinTokenTTL || ttl > MaxJoinTokenTTL {
		return "", time.Time{}, invalid("a join token lives from %s to %s, not %s", MinJoinTokenTTL, "7 days", ttl)
	}
	var raw [joinTokenBytes]byte
	if _, err := io.ReadFull(x.d.rand, raw[:]); err != nil {
		return "", time.Time{}, errorf(ErrInvalid, "make a join token: %v", err)
	}
	key := joinTokenKey(raw[:])
	var exp time.Time
	err = x.do(ctx, "host.token.create", fqdn, func(z *authz, ev *event) error {
		a, err := z.t.account(name)
		switch {
		case errors.Is(err, ErrNotFound):
			spec := &Account{Name: name, Kind: KindComputer, DNSHostName: fqdn, PrimaryGroupRID: RIDDomainComputers}
			if err := z.mayCreate(spec); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := checkJoinAccount(a, fqdn); err != nil {
				return err
			}
			if err := z.mayManage(a, "create a join token for host "+fqdn+" (it would give "+a.Name+" new keys)", false); err != nil {
				return err
			}
		}
		now := x.d.now()
		n, err := z.t.pruneJoinTokens(now)
		if err != nil {
			return err
		}
		if n >= maxJoinTokens {
			return invalid("%d join tokens are outstanding, the most the directory keeps; wait for some to expire", n)
		}
		exp = now.Add(ttl)
		r := &joinTokenRecord{Host: fqdn, CreatorSID: z.actorSID(), Creator: z.who(), Created: now, Expires: exp}
		if err := z.t.putJoinToken(key, r); err != nil {
			return err
		}
		ev.changes = []audit.Change{{Field: "join-token", New: tokenID(key) + " expires " + renderTime(exp)}}
		return nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return encodeJoinToken(raw[:]), exp, nil
}

// checkJoinAccount refuses to join host fqdn as account a when a is not a
// computer or belongs to another host.
func checkJoinAccount(a *Account, fqdn string) error {
	if a.Kind != KindComputer {
		return invalid("account %s is a %s, not a computer, so host %s cannot join as it", a.Name, a.Kind, fqdn)
	}
	if a.DNSHostName != "" && fold(a.DNSHostName) != fqdn {
		return invalid("account %s belongs to host %s, not %s; two hosts cannot share a computer account", a.Name, a.DNSHostName, fqdn)
	}
	return nil
}

// JoinHost joins the host req.FQDN to the domain (see "Host join" above):
// with token, a join token for that host (the actor, who presents it, may
// be the zero Actor), whose creator's rights apply and who becomes the
// new account's creator and manager; without one, with actor's rights:
// Domain Admins (create or re-join), the managers of the existing account
// (re-join), an account within its machine account quota (create). A
// token for another host, an expired or spent token is refused
// ([ErrAccessDenied]) and stays as it was; a join that fails changes
// nothing, the token included.
func (d *Directory) JoinHost(ctx context.Context, actor Actor, token string, req JoinRequest) (*Account, error) {
	fqdn, name, err := joinHostName(req.FQDN)
	if err != nil {
		return nil, err
	}
	hostKeys, err := normalizeHostKeys(req.SSHHostKeys)
	if err != nil {
		return nil, err
	}
	if len(req.Keys) == 0 {
		return nil, invalid("no keys given for host %s; the host makes its own (RandomKeys) and keeps them in its keytab", fqdn)
	}
	var key string
	if token != "" {
		raw, err := parseJoinToken(token)
		if err != nil {
			return nil, err
		}
		key = joinTokenKey(raw)
	}
	spec, err := d.newAccount(&Account{Name: name, Kind: KindComputer, DNSHostName: fqdn, SPNs: hostSPNs(fqdn), SSHHostKeys: hostKeys}, req.Keys)
	if err != nil {
		return nil, err
	}
	x := d.As(actor)
	var out *Account
	err = x.do(ctx, "host.join", fqdn, func(z *authz, ev *event) error {
		eff := z
		now := d.now()
		var tok *joinTokenRecord
		if key != "" {
			var err error
			if tok, err = z.t.joinToken(key); err != nil {
				return err
			}
			if eff, err = z.t.tokenActor(tok, key, fqdn, now); err != nil {
				return err
			}
			ev.actor = eff.who()
			ev.reason = "with join " + tokenID(key) + " created by " + tok.Creator + " on " + renderTime(tok.Created)
			if !actor.Local && actor.Name != "" {
				ev.reason += ", presented by " + z.who()
			}
		}
		old, err := z.t.account(name)
		switch {
		case errors.Is(err, ErrNotFound):
			c := spec.clone()
			if err := eff.mayCreate(c); err != nil {
				return err
			}
			if err := eff.insertAccount(c, eff.actorSID()); err != nil {
				return err
			}
			out = c
			if ev.changes, err = z.accountChanges(nil, c); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := checkJoinAccount(old, fqdn); err != nil {
				return err
			}
			if err := eff.mayManage(old, "re-join host "+fqdn+" (give "+old.Name+" new keys)", false); err != nil {
				return err
			}
			a, err := z.t.rotate(old, req.Keys)
			if err != nil {
				return err
			}
			if err := z.t.pushHistory(a, a.Keys, z.dom.Policy.historyLen()); err != nil {
				return err
			}
			a.SSHHostKeys = hostKeys
			if a.DNSHostName == "" {
				a.DNSHostName = fqdn
			}
			for _, s := range hostSPNs(fqdn) {
				if !slices.ContainsFunc(a.SPNs, func(h string) bool { return strings.EqualFold(h, s) }) {
					a.SPNs = append(a.SPNs, s)
				}
			}
			if err := a.validate(); err != nil {
				return err
			}
			if err := z.t.putAccount(a, old); err != nil {
				return err
			}
			out = a
			if ev.changes, err = z.accountChanges(old, a); err != nil {
				return err
			}
		}
		if tok != nil {
			tok.Used = now
			return z.t.putJoinToken(key, tok)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.withoutSecrets(), nil
}

// JoinHost is d.JoinHost(ctx, x.Actor(), token, req).
func (x *Acting) JoinHost(ctx context.Context, token string, req JoinRequest) (*Account, error) {
	return x.d.JoinHost(ctx, x.actor, token, req)
}

// tokenActor checks the join token tok (stored under key) for host fqdn
// at now and returns the rights of its creator, with which the host joins.
func (t *txn) tokenActor(tok *joinTokenRecord, key, fqdn string, now time.Time) (*authz, error) {
	again := "; create a new one with: hop host token create " + fqdn
	switch {
	case tok == nil:
		return nil, denied("this join token is not known: it was mistyped, or it expired more than a day ago%s", again)
	case !tok.Used.IsZero():
		return nil, denied("this join token (%s) was used already, on %s, and a join token works once%s", tokenID(key), renderTime(tok.Used), again)
	case !now.Before(tok.Expires):
		return nil, denied("this join token (%s) expired on %s%s", tokenID(key), renderTime(tok.Expires), again)
	case tok.Host != fqdn:
		return nil, denied("this join token (%s) is for host %s, not %s", tokenID(key), tok.Host, fqdn)
	}
	creator := LocalAdmin
	if !tok.CreatorSID.IsZero() {
		dom, err := t.domain()
		if err != nil {
			return nil, err
		}
		n, ok, err := t.nameOfSID(dom, tok.CreatorSID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, denied("the account that created this join token (%s, %s) no longer exists%s", tokenID(key), tok.Creator, again)
		}
		creator = Actor{Name: n}
	}
	z, err := t.authorize(creator)
	if err != nil {
		return nil, err
	}
	if z.r.why != "" {
		return nil, denied("the join token (%s) acts for %s, who may no longer act: %s%s", tokenID(key), tok.Creator, z.r.why, again)
	}
	return z, nil
}

// normalizeHostKeys checks SSH host public keys given as authorized_keys
// lines and returns them as "type base64", without options or comments,
// each once. It refuses certificates, DSA keys and RSA keys shorter than
// 2048 bits.
func normalizeHostKeys(lines []string) ([]string, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	if len(lines) > maxHostKeys {
		return nil, invalid("%d SSH host keys given; at most %d are kept per host", len(lines), maxHostKeys)
	}
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		bad := func(why string) error {
			return invalid("SSH host key %d %s; give the host's public keys as in its /etc/ssh/ssh_host_*_key.pub files", i+1, why)
		}
		if len(l) > maxHostKeyLen {
			return nil, bad("is longer than 8192 bytes")
		}
		if strings.ContainsAny(strings.TrimSpace(l), "\r\n") {
			return nil, bad("spans several lines; give one key per entry")
		}
		pub, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(l))
		switch {
		case err != nil:
			return nil, bad("is not an SSH public key line (" + err.Error() + ")")
		case len(options) > 0:
			return nil, bad("has options (" + strings.Join(options, ",") + "); a host key has none")
		case len(strings.TrimSpace(string(rest))) > 0:
			return nil, bad("is followed by more text")
		}
		if _, ok := pub.(*ssh.Certificate); ok {
			return nil, bad("is a certificate; give the host's plain public key")
		}
		switch pub.Type() {
		case ssh.KeyAlgoDSA:
			return nil, bad("is a DSA key, which OpenSSH no longer accepts")
		case ssh.KeyAlgoRSA:
			if ck, ok := pub.(ssh.CryptoPublicKey); ok {
				if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < minRSAHostKeyLen {
					return nil, bad("is an RSA key shorter than 2048 bits")
				}
			}
		}
		n := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// HostKeys returns the SSH host keys registered for the host whose DNS
// name is fqdn (any case, a final dot ignored), in authorized_keys form:
// for known_hosts files and for the remoting client checking the host.
// It returns nil when no enabled computer account has that DNS name, or
// when more than one claims it (no key is better than an ambiguous one).
func (s *Snapshot) HostKeys(fqdn string) []string {
	if len(fqdn) > maxHostnameLen+1 {
		return nil
	}
	as, _ := s.hosts.get(fold(strings.TrimSuffix(fqdn, ".")))
	if len(as) != 1 {
		return nil
	}
	a, ok := s.accountByKey(as[0])
	if !ok || a.Disabled {
		return nil
	}
	return slices.Clone(a.SSHHostKeys)
}
