package directory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/audit"
	"hop/delegation"
	"hop/sid"
)

// The fields of audit events for directory changes, rendered as the hop
// CLI shows them: booleans "true"/"false", times RFC 3339 or "never",
// lists joined by ", ", principals by name. Keys show as their kvno, SSH
// host keys as their SHA-256 fingerprints, passwords not at all.

// accountField renders one field of an account: its value, and whether
// that is the field's zero value (which a created or deleted account does
// not list).
type accountField struct {
	name   string
	render func(a *Account) (string, bool)
	// equal, when set, says cheaply that two accounts' values are equal,
	// sparing their rendering (names of SIDs, key fingerprints).
	equal func(a, b *Account) bool
}

func boolField(name string, get func(a *Account) bool) accountField {
	return accountField{name: name, render: func(a *Account) (string, bool) { v := get(a); return strconv.FormatBool(v), !v }}
}

func textField(name string, get func(a *Account) string) accountField {
	return accountField{name: name, render: func(a *Account) (string, bool) { v := get(a); return v, v == "" }}
}

func listField(name string, get func(a *Account) []string) accountField {
	return accountField{name: name, render: func(a *Account) (string, bool) { v := get(a); return strings.Join(v, ", "), len(v) == 0 }}
}

// sidsField renders a list of SIDs as names.
func sidsField(name string, get func(a *Account) []sid.SID, names func([]sid.SID) []string) accountField {
	return accountField{
		name:   name,
		render: func(a *Account) (string, bool) { v := get(a); return strings.Join(names(v), ", "), len(v) == 0 },
		equal:  func(a, b *Account) bool { return slices.Equal(get(a), get(b)) },
	}
}

func timeField(name string, get func(a *Account) time.Time) accountField {
	return accountField{name: name, render: func(a *Account) (string, bool) { v := get(a); return renderTime(v), v.IsZero() }}
}

func durationField(name string, get func(a *Account) time.Duration) accountField {
	return accountField{name: name, render: func(a *Account) (string, bool) {
		v := get(a)
		if v == 0 {
			return "", true
		}
		return v.String(), false
	}}
}

func renderTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// renderKeys describes an account's current keys: "kvno 3" ("" without
// keys).
func renderKeys(a *Account) string {
	if len(a.Keys) == 0 {
		return ""
	}
	return "kvno " + strconv.FormatUint(uint64(a.KVNO), 10)
}

// fingerprints renders SSH host keys as "ssh-ed25519 SHA256:…".
func fingerprints(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k))
		if err != nil {
			out = append(out, "(unreadable key)")
			continue
		}
		out = append(out, pub.Type()+" "+ssh.FingerprintSHA256(pub))
	}
	return out
}

// accountChanges lists the fields that differ between old and new (either
// may be nil: a created or a deleted account).
func (z *authz) accountChanges(old, new *Account) ([]audit.Change, error) {
	var nameErr error
	names := func(sids []sid.SID) []string {
		n, err := z.sidNames(sids)
		if err != nil && nameErr == nil {
			nameErr = err
		}
		return n
	}
	fields := []accountField{
		textField("kind", func(a *Account) string { return a.Kind.String() }),
		textField("rid", func(a *Account) string { return strconv.FormatUint(uint64(a.RID), 10) }),
		textField("primary-group", func(a *Account) string {
			if n, ok := primaryGroupNames[a.PrimaryGroupRID]; ok {
				return n
			}
			return strconv.FormatUint(uint64(a.PrimaryGroupRID), 10)
		}),
		listField("spns", func(a *Account) []string { return a.SPNs }),
		textField("dns-host-name", func(a *Account) string { return a.DNSHostName }),
		textField("upn", func(a *Account) string { return a.UPN }),
		textField("description", func(a *Account) string { return a.Description }),
		boolField("disabled", func(a *Account) bool { return a.Disabled }),
		timeField("expires", func(a *Account) time.Time { return a.Expires }),
		timeField("password-expires", func(a *Account) time.Time { return a.PasswordExpires }),
		{name: "preauth-required", render: func(a *Account) (string, bool) {
			return strconv.FormatBool(!a.NoPreauthRequired), !a.NoPreauthRequired
		}},
		boolField("allow-rc4", func(a *Account) bool { return a.AllowRC4 }),
		durationField("max-ticket-life", func(a *Account) time.Duration { return a.MaxTicketLife }),
		durationField("max-renew-life", func(a *Account) time.Duration { return a.MaxRenewLife }),
		boolField("trusted-for-delegation", func(a *Account) bool { return a.TrustedForDelegation }),
		boolField("protocol-transition", func(a *Account) bool { return a.TrustedToAuthForDelegation }),
		listField("allowed-to-delegate-to", func(a *Account) []string { return a.AllowedToDelegateTo }),
		sidsField("allowed-to-act", func(a *Account) []sid.SID { return a.AllowedToActOnBehalfOf }, names),
		boolField("sensitive", func(a *Account) bool { return a.Sensitive }),
		boolField("no-auth-data-required", func(a *Account) bool { return a.NoAuthDataRequired }),
		sidsField("managed-by", func(a *Account) []sid.SID { return a.ManagedBy }, names),
		sidsField("creator", func(a *Account) []sid.SID {
			if a.CreatorSID.IsZero() {
				return nil
			}
			return []sid.SID{a.CreatorSID}
		}, names),
		{name: "ssh-host-keys", render: func(a *Account) (string, bool) {
			return strings.Join(fingerprints(a.SSHHostKeys), ", "), len(a.SSHHostKeys) == 0
		}, equal: func(a, b *Account) bool { return slices.Equal(a.SSHHostKeys, b.SSHHostKeys) }},
		textField("keys", renderKeys),
		{name: "locked-until", render: func(a *Account) (string, bool) {
			if a.LockedUntil.IsZero() {
				return "", true
			}
			return renderTime(a.LockedUntil), false
		}},
		{name: "failed-logons", render: func(a *Account) (string, bool) {
			return strconv.Itoa(a.BadPwdCount), a.BadPwdCount == 0
		}},
	}
	var out []audit.Change
	for _, f := range fields {
		if f.equal != nil && old != nil && new != nil && f.equal(old, new) {
			continue
		}
		var o, n string
		var oz, nz bool
		if old != nil {
			o, oz = f.render(old)
		}
		if new != nil {
			n, nz = f.render(new)
		}
		switch {
		case old == nil && nz, new == nil && oz:
			continue
		case old == nil:
			o = ""
		case new == nil:
			n = ""
		}
		if o != n {
			out = append(out, audit.Change{Field: f.name, Old: o, New: n})
		}
	}
	return out, nameErr
}

// groupChanges lists the fields that differ between old and new (either
// may be nil).
func (z *authz) groupChanges(old, new *Group) ([]audit.Change, error) {
	var nameErr error
	render := func(g *Group) []string {
		if g == nil {
			return make([]string, 4)
		}
		managers, err := z.sidNames(g.ManagedBy)
		if err != nil && nameErr == nil {
			nameErr = err
		}
		return []string{strconv.FormatUint(uint64(g.RID), 10), g.Description, strings.Join(g.Members, ", "), strings.Join(managers, ", ")}
	}
	o, n := render(old), render(new)
	var out []audit.Change
	for i, name := range []string{"rid", "description", "members", "managed-by"} {
		if o[i] != n[i] {
			out = append(out, audit.Change{Field: name, Old: o[i], New: n[i]})
		}
	}
	return out, nameErr
}

// policyChanges lists the policy settings that differ, as their effective
// values.
func policyChanges(old, new Policy) []audit.Change {
	render := func(p Policy) []string {
		e := p.WithDefaults()
		lockout, history := "off", "off"
		if e.LockoutThreshold > 0 {
			lockout = strconv.Itoa(e.LockoutThreshold)
		}
		if n := p.historyLen(); n > 0 {
			history = strconv.Itoa(n)
		}
		return []string{
			e.MaxTicketLife.String(), e.MaxRenewLife.String(), e.ClockSkew.String(), lockout,
			e.LockoutWindow.String(), e.LockoutDuration.String(), e.ProtectedUsersTGTLife.String(),
			strconv.Itoa(e.MinPasswordLength), history, strconv.Itoa(e.MachineAccountQuota),
			restriction(e.RestrictDelegation), nameScriptsText(e.NameScripts),
		}
	}
	o, n := render(old), render(new)
	var out []audit.Change
	for i, name := range []string{"max-ticket-life", "max-renew-life", "clock-skew", "lockout-threshold",
		"lockout-window", "lockout-duration", "protected-users-tgt-life", "min-password-length",
		"password-history", "machine-account-quota", "restrict-delegation", "name-scripts"} {
		if o[i] != n[i] {
			out = append(out, audit.Change{Field: name, Old: o[i], New: n[i]})
		}
	}
	return out
}

// keysReason describes what AccountKeys handed out.
func keysReason(a *Account) string {
	types := make([]string, len(a.Keys))
	for i, k := range a.Keys {
		types[i] = k.EncType.String()
	}
	return fmt.Sprintf("keys read for a keytab: kvno %d (%s)", a.KVNO, strings.Join(types, ", "))
}

// sidNames names sids for audit events as t.names does, cheaply: the
// actor and the groups are at hand, and the accounts are read (once per
// transaction) only for a SID that is neither.
func (z *authz) sidNames(sids []sid.SID) ([]string, error) {
	if len(sids) == 0 {
		return nil, nil
	}
	out := make([]string, len(sids))
	for i, s := range sids {
		rid := s.RID()
		switch {
		case z.dom.SID.Append(rid) != s:
			out[i] = s.String()
			continue
		case z.r.account != nil && z.r.account.RID == rid:
			out[i] = z.r.account.Name
			continue
		}
		if z.m != nil {
			if g, ok := z.m.byRID[rid]; ok {
				out[i] = g.Name
				continue
			}
		}
		if z.ridNames == nil {
			z.ridNames = map[uint32]string{}
			for _, bucket := range []string{bucketAccounts, bucketGroups} {
				err := z.t.ForEach(bucket, func(k string, v []byte) error {
					var h principalHeader
					if err := json.Unmarshal(v, &h); err != nil {
						return corrupt(bucket, k, err)
					}
					z.ridNames[h.RID] = h.Name
					return nil
				})
				if err != nil {
					return nil, err
				}
			}
		}
		if n, ok := z.ridNames[rid]; ok {
			out[i] = n
		} else {
			out[i] = s.String()
		}
	}
	return out, nil
}

// restriction renders a delegation restriction ("" is off).
func restriction(r delegation.Restriction) string {
	if r == "" {
		return string(delegation.RestrictOff)
	}
	return string(r)
}

// nameScriptsText is Policy.NameScripts as the audit log shows it.
func nameScriptsText(s string) string {
	if s == "" {
		return "default"
	}
	return s
}
