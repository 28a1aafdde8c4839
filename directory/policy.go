package directory

import (
	"time"

	"hop/delegation"
	"hop/krb5"
	"hop/sid"
)

// Policy is the domain's Kerberos, account lockout, password and machine
// account policy. Zero values mean the defaults documented on each field;
// use WithDefaults to read the effective values.
type Policy struct {
	// MaxTicketLife is the longest lifetime of a ticket; default 10h (as
	// AD's "Maximum lifetime for user ticket").
	MaxTicketLife time.Duration
	// MaxRenewLife is the longest renewable lifetime; default 7 days.
	MaxRenewLife time.Duration
	// ClockSkew is the tolerated difference between clocks; default 5m.
	ClockSkew time.Duration
	// LockoutThreshold is the number of failed pre-authentications within
	// LockoutWindow that locks an account; 0 (the default, as in MIT
	// Kerberos) turns lockout off.
	LockoutThreshold int
	// LockoutWindow is the observation window of failures; default 30m.
	LockoutWindow time.Duration
	// LockoutDuration is how long a locked account stays locked; default 30m.
	LockoutDuration time.Duration
	// ProtectedUsersTGTLife is the TGT lifetime of members of Protected
	// Users; default 4h.
	ProtectedUsersTGTLife time.Duration

	// MinPasswordLength is the fewest characters (Unicode code points) a
	// new password may have; default 8, at most MaxPasswordLength. 1
	// accepts any non-empty password.
	MinPasswordLength int
	// PasswordHistory is how many passwords an account remembers,
	// including the current one, and refuses to take again; default 24
	// (AD's default and maximum). NoPasswordHistory turns the check off:
	// since the zero value means the default, "off" has its own value.
	PasswordHistory int
	// MachineAccountQuota is how many computer accounts an account that is
	// not a domain admin may create ([Acting.CreateAccount],
	// [Directory.JoinHost]); default 0: only Domain Admins create computer
	// accounts. AD's ms-DS-MachineAccountQuota defaults to 10, which hop
	// does not copy: a computer account is an account with an SPN whose
	// keys its creator knows and whose delegation list its creator manages,
	// the first step of the resource-based delegation abuses ("Wagging the
	// Dog", S4U2Self/S4U2Proxy from an attacker-made machine account) and of
	// relaying attacks that need one. Raise it knowingly.
	MachineAccountQuota int
	// RestrictDelegation is the domain-wide "Restrict delegation of
	// credentials to remote servers" for hop's clients (delegation.Restriction;
	// "" is off); a client's own setting may only make it stricter.
	RestrictDelegation delegation.Restriction
	// NameScripts lists the writing systems (Unicode script names, as
	// ParseNameScripts returns them: "Cyrillic,Greek") whose letters a new
	// account or group name may mix with Latin and with each other. By
	// default ("") a name keeps to one script, or to Latin with the scripts
	// of Chinese, Japanese and Korean names (UTS #39's highly restrictive
	// profile), since a mixed name such as "аlice" (a Cyrillic "а") passes
	// for another. A domain whose people's names mix Latin with another
	// script allows it here, knowing that names of those scripts can then
	// look alike. Existing names are kept when the list shrinks.
	NameScripts string
}

// NoPasswordHistory as Policy.PasswordHistory turns the password history
// off: any previous password may be taken again.
const NoPasswordHistory = -1

// Policy defaults.
const (
	DefaultMaxTicketLife         = 10 * time.Hour
	DefaultMaxRenewLife          = 7 * 24 * time.Hour
	DefaultClockSkew             = 5 * time.Minute
	DefaultLockoutWindow         = 30 * time.Minute
	DefaultLockoutDuration       = 30 * time.Minute
	DefaultProtectedUsersTGTLife = 4 * time.Hour
	DefaultMinPasswordLength     = 8
	DefaultPasswordHistory       = 24
)

// Password limits.
const (
	// MaxPasswordLength bounds a password, in bytes of UTF-8 (AD allows
	// 256 characters; hop counts bytes so that the key derivation's work
	// is bounded).
	MaxPasswordLength = 256
	// maxPasswordHistory is the longest password history (AD's limit).
	maxPasswordHistory = 24
	// maxMachineAccountQuota bounds MachineAccountQuota.
	maxMachineAccountQuota = 1_000_000
)

// Bounds Validate enforces.
const (
	maxLifeBound      = 100 * 365 * 24 * time.Hour
	maxClockSkew      = 24 * time.Hour
	maxLockoutTrigger = 1_000_000
)

// WithDefaults returns p with each zero field replaced by its default.
func (p Policy) WithDefaults() Policy {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MaxTicketLife, DefaultMaxTicketLife)
	def(&p.MaxRenewLife, DefaultMaxRenewLife)
	def(&p.ClockSkew, DefaultClockSkew)
	def(&p.LockoutWindow, DefaultLockoutWindow)
	def(&p.LockoutDuration, DefaultLockoutDuration)
	def(&p.ProtectedUsersTGTLife, DefaultProtectedUsersTGTLife)
	if p.MinPasswordLength == 0 {
		p.MinPasswordLength = DefaultMinPasswordLength
	}
	if p.PasswordHistory == 0 {
		p.PasswordHistory = DefaultPasswordHistory
	}
	return p
}

// historyLen is the effective number of passwords remembered: 0 when the
// history is off.
func (p Policy) historyLen() int {
	n := p.WithDefaults().PasswordHistory
	if n < 0 {
		return 0
	}
	return n
}

// Validate reports the first setting that cannot work.
func (p Policy) Validate() error {
	for _, f := range []struct {
		name string
		v    time.Duration
		max  time.Duration
	}{
		{"maximum ticket lifetime", p.MaxTicketLife, maxLifeBound},
		{"maximum renewable lifetime", p.MaxRenewLife, maxLifeBound},
		{"clock skew", p.ClockSkew, maxClockSkew},
		{"lockout observation window", p.LockoutWindow, maxLifeBound},
		{"lockout duration", p.LockoutDuration, maxLifeBound},
		{"Protected Users TGT lifetime", p.ProtectedUsersTGTLife, maxLifeBound},
	} {
		if f.v < 0 {
			return invalid("policy: %s %s is negative; use 0 for the default", f.name, f.v)
		}
		if f.v > f.max {
			return invalid("policy: %s %s is longer than %s", f.name, f.v, f.max)
		}
	}
	if p.LockoutThreshold < 0 || p.LockoutThreshold > maxLockoutTrigger {
		return invalid("policy: lockout threshold %d must be between 0 (off) and %d", p.LockoutThreshold, maxLockoutTrigger)
	}
	if p.MinPasswordLength < 0 || p.MinPasswordLength > MaxPasswordLength {
		return invalid("policy: minimum password length %d must be between 1 and %d (0 for the default, %d)", p.MinPasswordLength, MaxPasswordLength, DefaultMinPasswordLength)
	}
	if p.PasswordHistory < NoPasswordHistory || p.PasswordHistory > maxPasswordHistory {
		return invalid("policy: password history %d must be between 1 and %d passwords (0 for the default, %d; %d turns it off)", p.PasswordHistory, maxPasswordHistory, DefaultPasswordHistory, NoPasswordHistory)
	}
	if _, err := delegation.ParseRestriction(string(p.RestrictDelegation)); err != nil {
		return invalid("policy: %v", err)
	}
	if canon, err := ParseNameScripts(p.NameScripts); err != nil {
		return invalid("policy: name scripts: %v", err)
	} else if canon != p.NameScripts {
		return invalid("policy: name scripts %q are not in canonical form (%q); pass them through ParseNameScripts", p.NameScripts, canon)
	}
	if p.MachineAccountQuota < 0 || p.MachineAccountQuota > maxMachineAccountQuota {
		return invalid("policy: machine account quota %d must be between 0 (only Domain Admins create computer accounts) and %d", p.MachineAccountQuota, maxMachineAccountQuota)
	}
	e := p.WithDefaults()
	if e.MaxTicketLife < time.Minute {
		return invalid("policy: maximum ticket lifetime %s is shorter than a minute", e.MaxTicketLife)
	}
	if e.MaxRenewLife < e.MaxTicketLife {
		return invalid("policy: maximum renewable lifetime %s is shorter than the maximum ticket lifetime %s; raise the renewable lifetime or lower the ticket lifetime", e.MaxRenewLife, e.MaxTicketLife)
	}
	return nil
}

// Domain is the directory's domain: its realm, SID, NetBIOS name and policy.
type Domain struct {
	Realm       krb5.Realm // upper case, e.g. EXAMPLE.TEST
	SID         sid.SID    // S-1-5-21-a-b-c
	NetBIOSName string     // e.g. EXAMPLE
	Policy      Policy     // as set; call Policy.WithDefaults for effective values
	Created     time.Time
}
