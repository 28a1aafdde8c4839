package directory

import (
	"slices"
	"time"

	"hop/krb5"
	"hop/sid"
)

// Account is a user, computer or service account. Accounts handed out by a
// [Snapshot] are shared and must be treated as read-only.
type Account struct {
	// Name is the sAMAccountName as entered ("alice", "b$", "svc-web",
	// "krbtgt", "Administrator"); unique case-insensitively.
	Name        string
	Kind        Kind
	RID         uint32   // relative identifier, allocated by the directory
	SPNs        []string // service principal names, unique in the domain
	DNSHostName string   // computers only, e.g. b.example.test
	UPN         string   // optional user principal name, e.g. alice@example.test
	Description string

	Disabled        bool
	Expires         time.Time // zero = never
	PasswordLastSet time.Time
	PasswordExpires time.Time // zero = never
	// NoPreauthRequired is "Do not require Kerberos preauthentication";
	// the zero value requires it.
	NoPreauthRequired bool
	// AllowRC4 allows rc4-hmac keys for this account (off by default).
	// KeyFor never returns an rc4-hmac key while it is off.
	AllowRC4 bool
	// MaxTicketLife and MaxRenewLife lower the domain's limits for this
	// account; 0 = the domain policy.
	MaxTicketLife, MaxRenewLife time.Duration
	// PrimaryGroupRID is the RID of the account's primary group
	// (primaryGroupID): Domain Users (513) for users and
	// services, Domain Computers (515) for computers, Domain Controllers
	// (516) for domain controllers, Domain Guests (514) for Guest. It is
	// chosen when the account is created (0 there = the default for its
	// kind) and goes in the PAC as its primary group ([MS-PAC] §2.5).
	PrimaryGroupRID uint32

	// Delegation settings (see "Delegation" in the package documentation).
	// The zero values are the secure default: no delegation from this
	// account, delegation of it allowed, a PAC in its tickets. They change
	// only through [Acting.SetDelegation], which checks the rights of
	// whoever asks.

	// TrustedForDelegation is unconstrained delegation: services of this
	// account receive the client's forwarded TGT (userAccountControl
	// TRUSTED_FOR_DELEGATION, [MS-ADTS] §2.2.16; the KDC sets
	// OK-AS-DELEGATE in its service tickets, [MS-KILE] §3.3.5.1).
	TrustedForDelegation bool
	// TrustedToAuthForDelegation allows protocol transition: this account
	// may obtain forwardable S4U2Self tickets and use them in S4U2Proxy
	// ([MS-SFU] §3.2.5.1.2; TRUSTED_TO_AUTH_FOR_DELEGATION).
	TrustedToAuthForDelegation bool
	// AllowedToDelegateTo is classic constrained delegation: the SPNs this
	// account may obtain tickets to on a client's behalf with S4U2Proxy
	// (msDS-AllowedToDelegateTo; ServicesAllowedToSendForwardedTicketsTo
	// in [MS-SFU] §3.2.5.2.1). The SPNs need not
	// exist; [Snapshot.UnknownSPNs] reports those that do not.
	AllowedToDelegateTo []string
	// AllowedToActOnBehalfOf is resource-based constrained delegation on
	// this account as the resource: the SIDs of the accounts and groups
	// (membership counts, transitively) that may delegate to it
	// (msDS-AllowedToActOnBehalfOfOtherIdentity, [MS-ADA2] §2.210; [MS-SFU]
	// §3.2.5.2).
	AllowedToActOnBehalfOf []sid.SID
	// Sensitive is "account is sensitive and cannot be delegated"
	// (NOT_DELEGATED; DelegationNotAllowed in [MS-KILE] §3.3.5.1): no
	// delegation of any kind for this account as a client. Membership of
	// Protected Users has the same effect ([Snapshot.IsSensitive]).
	Sensitive bool
	// NoAuthDataRequired means the account's service tickets carry no PAC
	// (NO_AUTH_DATA_REQUIRED, [MS-ADTS] §2.2.16).
	NoAuthDataRequired bool
	// ManagedBy lists the SIDs of the accounts and groups that manage this
	// account: they, and Domain Admins, may reset its password or keys,
	// edit its SPNs and set its AllowedToActOnBehalfOf (the counterpart of
	// write access to a computer object in AD, which its creator holds) —
	// unless the account is protected ([Snapshot.ProtectedBy]). Only Domain
	// Admins set it. The creator of a computer account manages it.
	ManagedBy []sid.SID

	// CreatorSID is the SID of the account that created this one through
	// [Acting.CreateAccount] or [Directory.JoinHost] (mS-DS-CreatorSID,
	// [MS-ADA2] §2.376), counted against the creator's
	// Policy.MachineAccountQuota; zero when the domain administrator on the
	// directory's host created it.
	CreatorSID sid.SID

	// SSHHostKeys are the host's SSH public keys, registered when it joins
	// ([Directory.JoinHost]), in authorized_keys form without options or
	// comments ("ssh-ed25519 AAAA…"). Computers only.
	SSHHostKeys []string

	// Revision counts the changes made to the account: it is 1 when the
	// account is created and goes up by one with every change, so that a
	// change can be made conditional on what the caller read (ErrConflict).
	// The KDC's failed-logon bookkeeping (RecordPreauthFailure,
	// ClearPreauthFailures) does not count, so that an edit never fails
	// because someone mistyped a password meanwhile.
	Revision uint64

	KVNO    uint32 // the current key version
	Keys    []Key  // current keys, one per encryption type, all with KVNO
	OldKeys []Key  // the two previous generations, newest first

	// history is the sealed password history: the aes256-cts-hmac-sha1-96
	// keys of the last passwords, newest first (see password.go). It is
	// opened only when a new password is checked.
	history []historyRecord

	BadPwdCount int       // failed pre-authentications in the current window
	BadPwdTime  time.Time // the last failure
	LockedUntil time.Time // locked out until then (zero = not locked)

	Created, Modified time.Time
}

// Principal returns the account's Kerberos name: the NT-PRINCIPAL name equal
// to the sAMAccountName, in realm.
func (a *Account) Principal(realm krb5.Realm) krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, a.Name), Realm: realm}
}

// SID returns the account's SID in the domain whose SID is domain.
func (a *Account) SID(domain sid.SID) sid.SID { return domain.Append(a.RID) }

// KeyFor returns the account's key of type e at kvno (0 = the current kvno).
// It never returns an rc4-hmac key unless AllowRC4 is set.
func (a *Account) KeyFor(e krb5.EncType, kvno uint32) (Key, bool) {
	if e == krb5.RC4HMAC && !a.AllowRC4 {
		return Key{}, false
	}
	if kvno == 0 || kvno == a.KVNO {
		for _, k := range a.Keys {
			if k.EncType == e {
				return k, true
			}
		}
		return Key{}, false
	}
	for _, k := range a.OldKeys {
		if k.EncType == e && k.KVNO == kvno {
			return k, true
		}
	}
	return Key{}, false
}

// IsLocked reports whether the account is locked out at now.
func (a *Account) IsLocked(now time.Time) bool {
	return !a.LockedUntil.IsZero() && now.Before(a.LockedUntil)
}

// clone returns a deep copy (key material is immutable and shared).
func (a *Account) clone() *Account {
	c := *a
	c.SPNs = slices.Clone(a.SPNs)
	c.Keys = slices.Clone(a.Keys)
	c.OldKeys = slices.Clone(a.OldKeys)
	c.AllowedToDelegateTo = slices.Clone(a.AllowedToDelegateTo)
	c.AllowedToActOnBehalfOf = slices.Clone(a.AllowedToActOnBehalfOf)
	c.ManagedBy = slices.Clone(a.ManagedBy)
	c.SSHHostKeys = slices.Clone(a.SSHHostKeys)
	c.history = slices.Clone(a.history)
	return &c
}

// withoutSecrets returns a copy whose keys keep their type, kvno and salt
// but not their material, and without the password history: what an actor
// reading the directory over the network may see.
func (a *Account) withoutSecrets() *Account {
	c := a.clone()
	c.history = nil
	for i := range c.Keys {
		c.Keys[i].material = nil
	}
	for i := range c.OldKeys {
		c.OldKeys[i].material = nil
	}
	return c
}

// validate checks everything but the keys.
func (a *Account) validate() error {
	if !a.Kind.Valid() {
		return invalid("account %q has no valid kind; it must be user, computer or service", a.Name)
	}
	if err := validateAccountName(a.Name, a.Kind); err != nil {
		return err
	}
	if len(a.SPNs) > maxSPNsPerAccount {
		return invalid("account %q has %d SPNs; at most %d are allowed", a.Name, len(a.SPNs), maxSPNsPerAccount)
	}
	seen := make(map[string]bool, len(a.SPNs))
	for _, s := range a.SPNs {
		if err := validateSPN(s); err != nil {
			return err
		}
		if seen[fold(s)] {
			return exists("account %q lists SPN %q twice", a.Name, s)
		}
		seen[fold(s)] = true
	}
	if a.DNSHostName != "" {
		if a.Kind != KindComputer {
			return invalid("account %q is a %s; only computer accounts have a DNS host name", a.Name, a.Kind)
		}
		if err := validateHostname(a.DNSHostName); err != nil {
			return err
		}
	}
	if a.UPN != "" {
		if err := validateUPN(a.UPN); err != nil {
			return err
		}
	}
	if err := validateDescription("the description of "+a.Name, a.Description); err != nil {
		return err
	}
	if a.MaxTicketLife < 0 || a.MaxRenewLife < 0 {
		return invalid("account %q has a negative ticket lifetime limit; use 0 for the domain policy", a.Name)
	}
	if a.BadPwdCount < 0 {
		return invalid("account %q has a negative failed-logon count", a.Name)
	}
	if a.PrimaryGroupRID != 0 && !validPrimaryGroup(a.Kind, a.PrimaryGroupRID) {
		return invalid("account %q cannot have primary group RID %d; use %s", a.Name, a.PrimaryGroupRID, primaryGroupChoices(a.Kind))
	}
	if len(a.SSHHostKeys) > 0 && a.Kind != KindComputer {
		return invalid("account %q is a %s; only computer accounts have SSH host keys", a.Name, a.Kind)
	}
	if _, err := normalizeHostKeys(a.SSHHostKeys); err != nil {
		return err
	}
	return a.validateDelegation()
}

// maxKeysPerGeneration bounds the keys of one kvno.
const maxKeysPerGeneration = 8

// validateKeys checks a new generation of keys for account a.
func validateKeys(a *Account, keys []Key) error {
	if len(keys) > maxKeysPerGeneration {
		return invalid("%d keys given for %q; at most %d (one per encryption type)", len(keys), a.Name, maxKeysPerGeneration)
	}
	seen := make(map[krb5.EncType]bool, len(keys))
	for _, k := range keys {
		n, ok := keyLen(k.EncType)
		if !ok {
			return invalid("key type %s is not stored by hop; use aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, aes128-cts-hmac-sha256-128, aes256-cts-hmac-sha384-192 or rc4-hmac", k.EncType)
		}
		if len(k.material) != n {
			return invalid("a %s key is %d bytes, not %d", k.EncType, n, len(k.material))
		}
		if seen[k.EncType] {
			return invalid("two %s keys given for %q; give one key per encryption type", k.EncType, a.Name)
		}
		seen[k.EncType] = true
		if k.EncType == krb5.RC4HMAC && !a.AllowRC4 {
			return invalid("account %q does not allow rc4-hmac keys; allow RC4 for it first (hop account set %s --allow-rc4) or leave the rc4-hmac key out", a.Name, a.Name)
		}
		if len(k.Salt) > maxUPNLen*2 {
			return invalid("the salt of a %s key is longer than %d bytes", k.EncType, maxUPNLen*2)
		}
	}
	return nil
}

// Group is a security group. Members are account or group names (groups
// nest). Groups handed out by a [Snapshot] must be treated as read-only.
type Group struct {
	Name        string
	RID         uint32
	Description string
	Members     []string // as the member names are spelled in their own records
	// ManagedBy lists the SIDs of the accounts and groups that may add and
	// remove members (AD's managedBy with "Manager can update membership
	// list"), unless the group is privileged ([Snapshot.ProtectedBy]).
	// Only Domain Admins set it ([Acting.SetGroupManagers]).
	ManagedBy []sid.SID
	// Revision counts the changes to the group, as Account.Revision does.
	Revision uint64
}

// SID returns the group's SID in the domain whose SID is domain.
func (g *Group) SID(domain sid.SID) sid.SID { return domain.Append(g.RID) }

func (g *Group) clone() *Group {
	c := *g
	c.Members = slices.Clone(g.Members)
	c.ManagedBy = slices.Clone(g.ManagedBy)
	return &c
}
