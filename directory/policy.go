package directory

import (
	"time"

	"hop/krb5"
)

// Policy is the domain's Kerberos and account lockout policy. Zero values
// mean the defaults documented on each field; use WithDefaults to read the
// effective values.
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
}

// Policy defaults.
const (
	DefaultMaxTicketLife         = 10 * time.Hour
	DefaultMaxRenewLife          = 7 * 24 * time.Hour
	DefaultClockSkew             = 5 * time.Minute
	DefaultLockoutWindow         = 30 * time.Minute
	DefaultLockoutDuration       = 30 * time.Minute
	DefaultProtectedUsersTGTLife = 4 * time.Hour
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
	return p
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
	SID         SID        // S-1-5-21-a-b-c
	NetBIOSName string     // e.g. EXAMPLE
	Policy      Policy     // as set; call Policy.WithDefaults for effective values
	Created     time.Time
}
