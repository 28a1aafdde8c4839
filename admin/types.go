package admin

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"hop/internal/redact"
)

// Identity is who the server knows the caller as.
type Identity struct {
	Principal   string   `json:"principal"`
	Account     string   `json:"account"`
	DomainAdmin bool     `json:"domain_admin"`
	Groups      []string `json:"groups,omitempty"`
}

// Domain is the domain's record and effective policy.
type Domain struct {
	Realm   string    `json:"realm"`
	SID     string    `json:"sid"`
	NetBIOS string    `json:"netbios_name"`
	Created time.Time `json:"created"`
	Policy  Policy    `json:"policy"`
}

// Policy is the domain's effective policy, durations as Go durations
// ("10h0m0s").
type Policy struct {
	MaxTicketLife         string `json:"max_ticket_life"`
	MaxRenewLife          string `json:"max_renew_life"`
	ClockSkew             string `json:"clock_skew"`
	LockoutThreshold      int    `json:"lockout_threshold"`
	LockoutWindow         string `json:"lockout_window"`
	LockoutDuration       string `json:"lockout_duration"`
	ProtectedUsersTGTLife string `json:"protected_users_tgt_life"`
	MinPasswordLength     int    `json:"min_password_length"`
	PasswordHistory       int    `json:"password_history"`
	MachineAccountQuota   int    `json:"machine_account_quota"`
	RestrictDelegation    string `json:"restrict_delegation"`
	// NameScripts are the writing systems names may mix with Latin beyond
	// the default (directory.Policy.NameScripts); empty by default.
	NameScripts []string `json:"name_scripts"`
}

// DelegationPolicy is the domain's restriction of its clients' delegation
// modes (delegation.Restriction).
type DelegationPolicy struct {
	RestrictDelegation string `json:"restrict_delegation"`
}

// PolicyChange changes the fields that are not nil.
type PolicyChange struct {
	MaxTicketLife         *Duration `json:"max_ticket_life,omitempty"`
	MaxRenewLife          *Duration `json:"max_renew_life,omitempty"`
	ClockSkew             *Duration `json:"clock_skew,omitempty"`
	LockoutThreshold      *int      `json:"lockout_threshold,omitempty"`
	LockoutWindow         *Duration `json:"lockout_window,omitempty"`
	LockoutDuration       *Duration `json:"lockout_duration,omitempty"`
	ProtectedUsersTGTLife *Duration `json:"protected_users_tgt_life,omitempty"`
	MinPasswordLength     *int      `json:"min_password_length,omitempty"`
	PasswordHistory       *int      `json:"password_history,omitempty"`
	MachineAccountQuota   *int      `json:"machine_account_quota,omitempty"`
	RestrictDelegation    *string   `json:"restrict_delegation,omitempty"`
	// NameScripts replaces the list when not nil; an empty list restores
	// the default.
	NameScripts *[]string `json:"name_scripts,omitempty"`
}

// Key describes one of an account's keys (never its material).
type Key struct {
	EType string `json:"etype"`
	KVNO  uint32 `json:"kvno"`
	Salt  string `json:"salt,omitempty"`
}

// Delegation is an account's delegation settings as hop account show
// presents them.
type Delegation struct {
	TrustedForDelegation bool     `json:"trusted_for_delegation"`
	ProtocolTransition   bool     `json:"protocol_transition"`
	AllowedToDelegateTo  []string `json:"allowed_to_delegate_to"`
	AllowedToAct         []string `json:"allowed_to_act"`
	Sensitive            bool     `json:"sensitive"`
	ProtectedUsers       bool     `json:"protected_users"`
	NoAuthDataRequired   bool     `json:"no_auth_data_required"`
	ManagedBy            []string `json:"managed_by"`
	// UnknownSPNs are the SPNs of AllowedToDelegateTo that no account
	// holds yet: delegation to them works once one does.
	UnknownSPNs []string `json:"unknown_spns,omitempty"`
}

// Account is an account as the API shows it: everything but key material.
type Account struct {
	Name            string      `json:"name"`
	Kind            string      `json:"kind"`
	Principal       string      `json:"principal"`
	RID             uint32      `json:"rid"`
	SID             string      `json:"sid"`
	Revision        uint64      `json:"revision"`
	SPNs            []string    `json:"spns"`
	UPN             string      `json:"upn,omitempty"`
	DNSHostName     string      `json:"dns_host_name,omitempty"`
	Description     string      `json:"description,omitempty"`
	Disabled        bool        `json:"disabled"`
	Locked          bool        `json:"locked"`
	LockedUntil     *time.Time  `json:"locked_until,omitempty"`
	BadPwdCount     int         `json:"bad_password_count"`
	Expires         *time.Time  `json:"expires,omitempty"`
	PasswordLastSet *time.Time  `json:"password_last_set,omitempty"`
	PasswordExpires *time.Time  `json:"password_expires,omitempty"`
	PreauthRequired bool        `json:"preauth_required"`
	AllowRC4        bool        `json:"allow_rc4"`
	MaxTicketLife   string      `json:"max_ticket_life,omitempty"`
	MaxRenewLife    string      `json:"max_renew_life,omitempty"`
	KVNO            uint32      `json:"kvno"`
	Keys            []Key       `json:"keys"`
	OldKeys         []Key       `json:"old_keys,omitempty"`
	Groups          []string    `json:"groups,omitempty"`
	Delegation      *Delegation `json:"delegation,omitempty"`
	SSHHostKeys     []string    `json:"ssh_host_keys,omitempty"`
	Created         time.Time   `json:"created"`
	Modified        time.Time   `json:"modified"`
}

// State is "disabled", "locked", "expired" or "enabled" at now.
func (a *Account) State(now time.Time) string {
	switch {
	case a.Disabled:
		return "disabled"
	case a.Locked:
		return "locked"
	case a.Expires != nil && a.Expires.Before(now):
		return "expired"
	}
	return "enabled"
}

// NewAccount asks for a new account. Kind is "user", "computer" or
// "service". For a computer, Name is its DNS host name (b.example.test):
// the account is b$ with the SPNs host/b.example.test and host/b. Exactly
// one of Password and RandomKey is given, except for computers, which get
// random keys when neither is.
type NewAccount struct {
	Kind        string   `json:"kind"`
	Name        string   `json:"name"`
	UPN         string   `json:"upn,omitempty"`
	Description string   `json:"description,omitempty"`
	SPNs        []string `json:"spns,omitempty"`
	AllowRC4    bool     `json:"allow_rc4,omitempty"`
	Password    string   `json:"password,omitempty"`
	RandomKey   bool     `json:"random_key,omitempty"`
}

// AccountChange changes the fields that are set, all in one transaction.
// Times are RFC 3339, a date (2027-01-31) or "never".
type AccountChange struct {
	Description     *string   `json:"description,omitempty"`
	UPN             *string   `json:"upn,omitempty"`
	Expires         *string   `json:"expires,omitempty"`
	PasswordExpires *string   `json:"password_expires,omitempty"`
	PreauthRequired *bool     `json:"preauth_required,omitempty"`
	AllowRC4        *bool     `json:"allow_rc4,omitempty"`
	MaxTicketLife   *Duration `json:"max_ticket_life,omitempty"`
	MaxRenewLife    *Duration `json:"max_renew_life,omitempty"`
	Disabled        *bool     `json:"disabled,omitempty"`
	Unlock          bool      `json:"unlock,omitempty"`

	// Delegation settings, with the rules of directory.DelegationChange:
	// "none" alone clears a list.
	TrustedForDelegation *bool     `json:"trusted_for_delegation,omitempty"`
	ProtocolTransition   *bool     `json:"protocol_transition,omitempty"`
	Sensitive            *bool     `json:"sensitive,omitempty"`
	NoAuthDataRequired   *bool     `json:"no_auth_data_required,omitempty"`
	AllowedToDelegateTo  *[]string `json:"allowed_to_delegate_to,omitempty"`
	AllowedToAct         *[]string `json:"allowed_to_act,omitempty"`
	AllowedToActAdd      []string  `json:"allowed_to_act_add,omitempty"`
	AllowedToActRemove   []string  `json:"allowed_to_act_remove,omitempty"`
	ManagedBy            *[]string `json:"managed_by,omitempty"`
}

// IsZero reports whether c changes nothing.
func (c *AccountChange) IsZero() bool {
	return !c.Unlock && c.Description == nil && c.UPN == nil && c.Expires == nil && c.PasswordExpires == nil &&
		c.PreauthRequired == nil && c.AllowRC4 == nil && c.MaxTicketLife == nil && c.MaxRenewLife == nil &&
		c.Disabled == nil && !c.hasDelegation()
}

func (c *AccountChange) hasDelegation() bool {
	return c.TrustedForDelegation != nil || c.ProtocolTransition != nil || c.Sensitive != nil ||
		c.NoAuthDataRequired != nil || c.AllowedToDelegateTo != nil || c.AllowedToAct != nil ||
		len(c.AllowedToActAdd) > 0 || len(c.AllowedToActRemove) > 0 || c.ManagedBy != nil
}

// PasswordChange sets (Old empty: a reset by someone with the right) or
// changes (Old given: the account's own password) a password.
type PasswordChange struct {
	Old string `json:"old,omitempty"`
	New string `json:"new"`
}

// KeysRequest asks for an account's keys. Rotate gives the account new
// random keys first (its kvno increases); without it the current keys are
// returned, which only Domain Admins may read.
type KeysRequest struct {
	Rotate bool `json:"rotate,omitempty"`
}

// SecretKey is key material, sent only over TLS or loopback.
type SecretKey struct {
	Principal string `json:"principal"`
	EType     int32  `json:"etype"`
	KVNO      uint32 `json:"kvno"`
	Material  []byte `json:"material"`
}

// String describes the key without its material, e.g.
// "SecretKey{host/b@EXAMPLE.TEST etype 18 kvno 3, 32 bytes redacted}". Only
// the JSON form carries the material, on purpose: a keytab export.
func (k SecretKey) String() string {
	return fmt.Sprintf("SecretKey{%s etype %d kvno %d, %d bytes redacted}", k.Principal, k.EType, k.KVNO, len(k.Material))
}

// GoString is String, so that %#v does not print the material either.
func (k SecretKey) GoString() string { return "admin." + k.String() }

// Format prints String (GoString for %#v, quoted for %q) whatever the
// verb, so that no verb (%d, %x of the struct) reaches the material.
func (k SecretKey) Format(f fmt.State, verb rune) { redact.Format(f, verb, k.String(), k.GoString()) }

// Keys is an account's keys for a keytab: one entry per key type and
// principal name (the account's name and each of its SPNs).
type Keys struct {
	Account string      `json:"account"`
	KVNO    uint32      `json:"kvno"`
	Keys    []SecretKey `json:"keys"`
}

// Group is a group with its direct members.
type Group struct {
	Name        string   `json:"name"`
	RID         uint32   `json:"rid"`
	SID         string   `json:"sid"`
	Revision    uint64   `json:"revision"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members"`
	ManagedBy   []string `json:"managed_by,omitempty"`
	Privileged  bool     `json:"privileged,omitempty"`
}

// NewGroup asks for a new group.
type NewGroup struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// JoinTokenRequest asks for a one-time join token for a host.
type JoinTokenRequest struct {
	Host string   `json:"host"`
	TTL  Duration `json:"ttl,omitempty"`
}

// JoinToken is a one-time secret that lets a host join once before Expires.
type JoinToken struct {
	Host    string    `json:"host"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// JoinRequest joins a host: it creates the computer account (or gives an
// existing one new keys) and records the host's SSH public keys. Token is
// a join token; without it the caller's own rights apply.
type JoinRequest struct {
	Host        string   `json:"host"`
	SSHHostKeys []string `json:"ssh_host_keys"`
	Token       string   `json:"token,omitempty"`
}

// Joined is the result of a join: the account and its new keys.
type Joined struct {
	Account Account `json:"account"`
	Keys    Keys    `json:"keys"`
	Realm   string  `json:"realm"`
}

// Duration is a time.Duration in JSON as a Go duration string ("10h").
type Duration time.Duration

// MarshalJSON writes d as "1h30m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"10h\" or \"90m\"")
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration: use e.g. \"10h\" or \"90m\"", s)
	}
	*d = Duration(v)
	return nil
}

// ParseTime reads RFC 3339, a date (2027-01-31) or "never" (the zero time).
func ParseTime(s string) (time.Time, error) {
	if s == "never" || s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2027-01-31T00:00:00Z), a date (2027-01-31) or never", s)
}
