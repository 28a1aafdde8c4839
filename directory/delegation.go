package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hop/sid"
)

// Actor is who asks for a change. The hop CLI acting on the directory's
// store directly is the domain administrator ([LocalAdmin]); a request that
// arrives over the network names the authenticated account.
type Actor struct {
	// Name is the sAMAccountName of the account that asks; ignored when
	// Local is set.
	Name string
	// Local is the domain administrator on the directory's host.
	Local bool
	// Initial means the actor proved its password in this request: it
	// authenticated with an INITIAL ticket, one obtained from the AS
	// exchange rather than with a TGT (RFC 3244 §2; RFC 4120 §2.1). An
	// account may set its own password ([Acting.SetPassword]) only then.
	Initial bool
}

// LocalAdmin is the domain administrator acting on the directory's store
// directly: it may change everything.
var LocalAdmin = Actor{Local: true}

func (a Actor) String() string {
	if a.Local {
		return "the local domain administrator"
	}
	return a.Name
}

// DelegationChange is a change of an account's delegation settings; a nil
// field (or an empty add/remove list) leaves the setting as it is.
//
// In every list of names, the single entry "none" (any case) clears the
// list, as $null does in Set-ADComputer; a principal really named "none" is
// given by its SID. Principals are account or group names (any case) or SID
// strings ("S-1-5-21-…-1105") of accounts and groups of the domain.
type DelegationChange struct {
	TrustedForDelegation, TrustedToAuthForDelegation, Sensitive, NoAuthDataRequired *bool
	// AllowedToDelegateTo replaces the account's KCD SPN list (empty: clear).
	AllowedToDelegateTo *[]string
	// AllowedToAct replaces the account's RBCD list (empty: clear).
	AllowedToAct *[]string
	// AllowedToActAdd and AllowedToActRemove add principals to and remove
	// them from the RBCD list; they cannot be combined with AllowedToAct.
	AllowedToActAdd, AllowedToActRemove []string
	// ManagedBy replaces the account's managers (empty: clear).
	ManagedBy *[]string
}

// IsZero reports whether c changes nothing.
func (c DelegationChange) IsZero() bool {
	return c.TrustedForDelegation == nil && c.TrustedToAuthForDelegation == nil && c.Sensitive == nil &&
		c.NoAuthDataRequired == nil && c.AllowedToDelegateTo == nil && c.AllowedToAct == nil &&
		len(c.AllowedToActAdd) == 0 && len(c.AllowedToActRemove) == 0 && c.ManagedBy == nil
}

// Limits on delegation settings.
const (
	maxDelegateTo     = maxSPNsPerAccount // SPNs in AllowedToDelegateTo
	maxPrincipalList  = 1024              // SIDs in AllowedToActOnBehalfOf and in ManagedBy
	maxPrincipalInput = 1024              // bytes of one principal name given to SetDelegation
)

// A delegation setting, for rights checks and messages.
type setting int

const (
	settingUnconstrained setting = iota
	settingProtocolTransition
	settingConstrained
	settingSensitive
	settingNoAuthData
	settingManagedBy
	settingRBCD
)

var settingNames = [...]string{
	settingUnconstrained:      "unconstrained delegation (trusted for delegation)",
	settingProtocolTransition: "protocol transition (trusted to authenticate for delegation)",
	settingConstrained:        "constrained delegation (allowed-to-delegate-to SPNs)",
	settingSensitive:          `"account is sensitive and cannot be delegated"`,
	settingNoAuthData:         "no-auth-data-required (tickets without a PAC)",
	settingManagedBy:          "the managers (managed-by)",
	settingRBCD:               "resource-based delegation",
}

func (s setting) String() string { return settingNames[s] }

// settings lists what c changes, the Domain Admins-only settings first.
func (c DelegationChange) settings() []setting {
	var out []setting
	for _, s := range []struct {
		set bool
		s   setting
	}{
		{c.TrustedForDelegation != nil, settingUnconstrained},
		{c.TrustedToAuthForDelegation != nil, settingProtocolTransition},
		{c.AllowedToDelegateTo != nil, settingConstrained},
		{c.Sensitive != nil, settingSensitive},
		{c.NoAuthDataRequired != nil, settingNoAuthData},
		{c.ManagedBy != nil, settingManagedBy},
		{c.AllowedToAct != nil || len(c.AllowedToActAdd) > 0 || len(c.AllowedToActRemove) > 0, settingRBCD},
	} {
		if s.set {
			out = append(out, s.s)
		}
	}
	return out
}

// check validates the shape of c before anything is read.
func (c DelegationChange) check() error {
	if c.AllowedToAct != nil && (len(c.AllowedToActAdd) > 0 || len(c.AllowedToActRemove) > 0) {
		return invalid("replace the resource-based delegation list or add and remove principals, not both at once")
	}
	for _, l := range []struct {
		what string
		v    []string
		max  int
	}{
		{"allowed-to-delegate-to SPNs", deref(c.AllowedToDelegateTo), maxDelegateTo},
		{"principals allowed to delegate", deref(c.AllowedToAct), maxPrincipalList},
		{"principals to add", c.AllowedToActAdd, maxPrincipalList},
		{"principals to remove", c.AllowedToActRemove, maxPrincipalList},
		{"managers", deref(c.ManagedBy), maxPrincipalList},
	} {
		if len(l.v) > l.max {
			return invalid("%d %s given; at most %d are allowed", len(l.v), l.what, l.max)
		}
		for _, n := range l.v {
			if strings.TrimSpace(n) == "" {
				return invalid("an empty name among the %s", l.what)
			}
			if len(n) > maxPrincipalInput {
				return invalid("a name among the %s is longer than %d bytes", l.what, maxPrincipalInput)
			}
		}
	}
	for _, a := range c.AllowedToActAdd {
		for _, r := range c.AllowedToActRemove {
			if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(r)) {
				return invalid("%q is both added to and removed from the resource-based delegation list", a)
			}
		}
	}
	return nil
}

func deref(p *[]string) []string {
	if p == nil {
		return nil
	}
	return *p
}

// isNone reports whether list is the single word "none", which clears.
func isNone(list []string) bool {
	return len(list) == 1 && strings.EqualFold(strings.TrimSpace(list[0]), "none")
}

// MayChange reports whether actor may make change c to the account named
// account, without making it: nil if so, an error wrapping
// [ErrAccessDenied] that says who may if not ([ErrNotFound] if there is no
// such account). The rules, as in AD:
//   - [LocalAdmin] and the members of Domain Admins (directly, through
//     nested groups or as their primary group) may change every setting;
//   - the resource-based delegation list (AllowedToAct, AllowedToActAdd,
//     AllowedToActRemove) may also be changed by the account's managers
//     (ManagedBy, directly or through a group) — but never by the account
//     itself, and not on a protected account (a member of a privileged
//     group, [Snapshot.ProtectedBy]);
//   - a disabled, expired or unknown actor may change nothing.
//
// MayChange checks rights only; SetDelegation also validates the values.
func (d *Directory) MayChange(ctx context.Context, actor Actor, account string, c DelegationChange) error {
	return d.view(ctx, func(t *txn) error {
		old, err := t.account(account)
		if err != nil {
			return err
		}
		return t.mayChange(actor, old, c)
	})
}

// rightsOf is what an actor holds in one transaction.
type rightsOf struct {
	admin   bool
	account *Account  // nil for LocalAdmin
	sids    []sid.SID // the actor's SID and its groups' SIDs
	why     string    // why an actor holds no rights at all ("" if it may hold some)
}

func (t *txn) rights(actor Actor, dom *Domain) (rightsOf, error) {
	if actor.Local {
		return rightsOf{admin: true}, nil
	}
	if strings.TrimSpace(actor.Name) == "" {
		return rightsOf{why: "the request names no account"}, nil
	}
	a, err := t.account(actor.Name)
	if errors.Is(err, ErrNotFound) {
		return rightsOf{why: fmt.Sprintf("there is no account %q in the directory", actor.Name)}, nil
	}
	if err != nil {
		return rightsOf{}, err
	}
	if a.Disabled {
		return rightsOf{account: a, why: "account " + a.Name + " is disabled"}, nil
	}
	if now := t.d.now(); !a.Expires.IsZero() && !now.Before(a.Expires) {
		return rightsOf{account: a, why: "account " + a.Name + " expired on " + a.Expires.UTC().Format(time.RFC3339)}, nil
	}
	r := rightsOf{account: a, sids: []sid.SID{a.SID(dom.SID)}}
	groups, err := t.closureOf(a.Name, a.PrimaryGroupRID)
	if err != nil {
		return rightsOf{}, err
	}
	for _, g := range groups {
		r.sids = append(r.sids, g.SID(dom.SID))
		if g.RID == RIDDomainAdmins {
			r.admin = true
		}
	}
	return r, nil
}

// mayChange applies the rules of MayChange to account x.
func (t *txn) mayChange(actor Actor, x *Account, c DelegationChange) error {
	if len(c.settings()) == 0 || actor.Local {
		return nil
	}
	z, err := t.authorize(actor)
	if err != nil {
		return err
	}
	return z.mayChangeDelegation(x, c)
}

// mayChangeDelegation applies the rules of MayChange to account x.
func (z *authz) mayChangeDelegation(x *Account, c DelegationChange) error {
	settings := c.settings()
	if len(settings) == 0 || z.r.admin {
		return nil
	}
	t, dom, r, actor := z.t, z.dom, z.r, z.actor
	who := actor.Name
	if r.account != nil {
		who = r.account.Name
	}
	on := x.Name
	self := r.account != nil && r.account.RID == x.RID
	if self {
		on = "itself"
	}
	for _, s := range settings {
		if s == settingRBCD {
			continue
		}
		msg := fmt.Sprintf("%s may not change %s on %s: only Domain Admins may (%s); ask one of them, or the domain administrator on the directory's host",
			who, s, on, z.admins())
		if r.why != "" {
			msg += "; besides, " + r.why
		}
		return denied("%s", msg)
	}
	// Resource-based delegation: Domain Admins and the managers of x,
	// unless x is protected.
	if r.why == "" && !self && z.manages(x.ManagedBy) {
		p, err := z.protectedAccount(x)
		if err != nil {
			return err
		}
		if p == "" {
			return nil
		}
		return denied("%s manages %s but may not set %s on it: %s is %s, and only Domain Admins may change protected accounts (as AdminSDHolder protects them, [MS-ADTS] §3.1.1.6.1.2)",
			who, x.Name, settingRBCD, x.Name, p)
	}
	if p, err := z.protectedAccount(x); err != nil {
		return err
	} else if p != "" && r.why == "" && !self {
		return denied("%s may not set %s on %s: %s is %s, so only Domain Admins may (%s)", who, settingRBCD, x.Name, x.Name, p, z.admins())
	}
	managers, err := t.names(dom, x.ManagedBy)
	if err != nil {
		return err
	}
	list := "none"
	if len(managers) > 0 {
		list = strings.Join(managers, ", ")
	}
	msg := fmt.Sprintf("%s may not set %s on %s: only Domain Admins and the managers of %s (%s) may", who, settingRBCD, on, x.Name, list)
	switch {
	case r.why != "":
		msg += "; " + r.why
	case self:
		msg += "; an account never manages its own delegation (ask a domain admin or a manager of " + x.Name + ")"
	default:
		msg += fmt.Sprintf("; a domain admin can make %s a manager with: hop account set %s --managed-by %s",
			who, shellQuote(x.Name), shellQuote(strings.Join(append(managers, who), ",")))
	}
	return denied("%s", msg)
}

// listAdmins names the enabled accounts in Domain Admins, for messages: at
// most five, then how many more.
func (t *txn) listAdmins(m *membership) string {
	const show = 5
	var names []string
	more := 0
	for _, n := range m.members(NameDomainAdmins) {
		if len(names) == show {
			more++
			continue
		}
		if a, err := t.account(n); err == nil && !a.Disabled {
			names = append(names, a.Name)
		}
	}
	switch {
	case len(names) == 0:
		return "it has no enabled members"
	case more > 0:
		return fmt.Sprintf("members: %s and %d more", strings.Join(names, ", "), more)
	}
	return "members: " + strings.Join(names, ", ")
}

// shellQuote quotes s for a POSIX shell unless it is made only of letters,
// digits and -_.,/:=+ and of "$" that end a name (which the shell leaves
// alone).
func shellQuote(s string) string {
	plain := s != ""
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		switch {
		case isAlnum(rune(c)) || strings.IndexByte("-_.,/:=+", c) >= 0:
		case c == '$' && (i == len(s)-1 || s[i+1] == ','):
		default:
			plain = false
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// membership loads the group graph.
func (t *txn) membership() (*membership, error) {
	groups := map[string]*Group{}
	err := t.ForEach(bucketGroups, func(k string, v []byte) error {
		g, err := decodeGroup(k, v)
		if err != nil {
			return err
		}
		groups[k] = g
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newMembership(groups), nil
}

// principal is an account or group as a delegation list names it.
type principal struct {
	Name string
	SID  sid.SID
}

// principalHeader is the part of an account or group record that names it.
type principalHeader struct {
	Name string `json:"name"`
	RID  uint32 `json:"rid"`
}

// principal resolves name, an account or group name (any case) or the SID
// string of one, to the account or group.
func (t *txn) principal(dom *Domain, name string) (principal, error) {
	name = strings.TrimSpace(name)
	if sid, err := sid.Parse(name); err == nil {
		n, ok, err := t.nameOfSID(dom, sid)
		if err != nil {
			return principal{}, err
		}
		if ok {
			return principal{Name: n, SID: sid}, nil
		}
	}
	for _, bucket := range []string{bucketAccounts, bucketGroups} {
		v, err := t.Get(bucket, fold(name))
		if err != nil {
			return principal{}, err
		}
		if v == nil {
			continue
		}
		var h principalHeader
		if err := json.Unmarshal(v, &h); err != nil {
			return principal{}, corrupt(bucket, fold(name), err)
		}
		return principal{Name: h.Name, SID: dom.SID.Append(h.RID)}, nil
	}
	return principal{}, notFound("no account or group %q in the directory (list them with hop account list and hop group list)", name)
}

// nameOfSID finds the account or group whose SID is sid.
func (t *txn) nameOfSID(dom *Domain, sid sid.SID) (string, bool, error) {
	if dom.SID.Append(sid.RID()) != sid {
		return "", false, nil
	}
	var found string
	stop := errors.New("found")
	for _, bucket := range []string{bucketAccounts, bucketGroups} {
		err := t.ForEach(bucket, func(k string, v []byte) error {
			var h principalHeader
			if err := json.Unmarshal(v, &h); err != nil {
				return corrupt(bucket, k, err)
			}
			if h.RID == sid.RID() {
				found = h.Name
				return stop
			}
			return nil
		})
		if errors.Is(err, stop) {
			return found, true, nil
		}
		if err != nil {
			return "", false, err
		}
	}
	return "", false, nil
}

// names returns the names of sids, for messages: the account or group
// name, or the SID string of one that no longer exists.
func (t *txn) names(dom *Domain, sids []sid.SID) ([]string, error) {
	if len(sids) == 0 {
		return nil, nil
	}
	byRID := map[uint32]string{}
	for _, bucket := range []string{bucketAccounts, bucketGroups} {
		err := t.ForEach(bucket, func(k string, v []byte) error {
			var h principalHeader
			if err := json.Unmarshal(v, &h); err != nil {
				return corrupt(bucket, k, err)
			}
			byRID[h.RID] = h.Name
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]string, len(sids))
	for i, s := range sids {
		if n, ok := byRID[s.RID()]; ok && dom.SID.Append(s.RID()) == s {
			out[i] = n
		} else {
			out[i] = s.String()
		}
	}
	return out, nil
}

// resolve turns a list of names into SIDs, without duplicates, in the
// order given.
func (t *txn) resolve(dom *Domain, names []string) ([]sid.SID, error) {
	var out []sid.SID
	for _, n := range names {
		p, err := t.principal(dom, n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p.SID) {
			out = append(out, p.SID)
		}
	}
	return out, nil
}

// applyDelegation applies c to a (a copy, not yet stored).
func (t *txn) applyDelegation(a *Account, c DelegationChange) error {
	dom, err := t.domain()
	if err != nil {
		return err
	}
	for _, b := range []struct {
		p   *bool
		dst *bool
	}{
		{c.TrustedForDelegation, &a.TrustedForDelegation},
		{c.TrustedToAuthForDelegation, &a.TrustedToAuthForDelegation},
		{c.Sensitive, &a.Sensitive},
		{c.NoAuthDataRequired, &a.NoAuthDataRequired},
	} {
		if b.p != nil {
			*b.dst = *b.p
		}
	}
	if c.AllowedToDelegateTo != nil {
		spns, err := spnList(*c.AllowedToDelegateTo)
		if err != nil {
			return err
		}
		a.AllowedToDelegateTo = spns
	}
	self := a.SID(dom.SID)
	if c.ManagedBy != nil {
		a.ManagedBy = nil
		if l := *c.ManagedBy; !isNone(l) {
			sids, err := t.resolve(dom, l)
			if err != nil {
				return err
			}
			if slices.Contains(sids, self) {
				return invalid("%s cannot manage itself: its managers may allow any account to delegate to it", a.Name)
			}
			a.ManagedBy = sids
		}
	}
	if c.AllowedToAct != nil {
		a.AllowedToActOnBehalfOf = nil
		if l := *c.AllowedToAct; !isNone(l) {
			sids, err := t.resolve(dom, l)
			if err != nil {
				return err
			}
			a.AllowedToActOnBehalfOf = sids
		}
	}
	if len(c.AllowedToActAdd) > 0 {
		add, err := t.resolve(dom, c.AllowedToActAdd)
		if err != nil {
			return err
		}
		for _, s := range add {
			if slices.Contains(a.AllowedToActOnBehalfOf, s) {
				n, _ := t.names(dom, []sid.SID{s})
				return exists("%s may already delegate to %s", n[0], a.Name)
			}
			a.AllowedToActOnBehalfOf = append(a.AllowedToActOnBehalfOf, s)
		}
	}
	for _, name := range c.AllowedToActRemove {
		var who sid.SID
		name = strings.TrimSpace(name)
		if s, err := sid.Parse(name); err == nil && slices.Contains(a.AllowedToActOnBehalfOf, s) {
			who = s // a SID string matches even when its account is gone
		} else {
			p, err := t.principal(dom, name)
			if err != nil {
				return err
			}
			who = p.SID
		}
		i := slices.Index(a.AllowedToActOnBehalfOf, who)
		if i < 0 {
			has, err := t.names(dom, a.AllowedToActOnBehalfOf)
			if err != nil {
				return err
			}
			list := "none"
			if len(has) > 0 {
				list = strings.Join(has, ", ")
			}
			return notFound("%s may not delegate to %s, so it cannot be removed (the list has: %s)", name, a.Name, list)
		}
		a.AllowedToActOnBehalfOf = slices.Delete(a.AllowedToActOnBehalfOf, i, i+1)
	}
	if len(a.AllowedToActOnBehalfOf) == 0 {
		a.AllowedToActOnBehalfOf = nil
	}
	return nil
}

// spnList validates a KCD target list and removes case-insensitive
// duplicates, keeping the first spelling; "none" or an empty list clears.
func spnList(in []string) ([]string, error) {
	if isNone(in) {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if err := validateSPN(s); err != nil {
			return nil, err
		}
		if k := fold(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// hasDelegation reports whether any delegation setting of a differs from
// the zero value.
func (a *Account) hasDelegation() bool {
	return a.TrustedForDelegation || a.TrustedToAuthForDelegation || a.Sensitive || a.NoAuthDataRequired ||
		len(a.AllowedToDelegateTo) > 0 || len(a.AllowedToActOnBehalfOf) > 0 || len(a.ManagedBy) > 0
}

// sameDelegation reports whether a and b have the same delegation settings.
func sameDelegation(a, b *Account) bool {
	return a.TrustedForDelegation == b.TrustedForDelegation &&
		a.TrustedToAuthForDelegation == b.TrustedToAuthForDelegation &&
		a.Sensitive == b.Sensitive && a.NoAuthDataRequired == b.NoAuthDataRequired &&
		slices.Equal(a.AllowedToDelegateTo, b.AllowedToDelegateTo) &&
		slices.Equal(a.AllowedToActOnBehalfOf, b.AllowedToActOnBehalfOf) &&
		slices.Equal(a.ManagedBy, b.ManagedBy)
}

// validateDelegation checks the structure of the delegation settings.
func (a *Account) validateDelegation() error {
	if len(a.AllowedToDelegateTo) > maxDelegateTo {
		return invalid("account %q may delegate to %d SPNs; at most %d are allowed", a.Name, len(a.AllowedToDelegateTo), maxDelegateTo)
	}
	seen := make(map[string]bool, len(a.AllowedToDelegateTo))
	for _, s := range a.AllowedToDelegateTo {
		if err := validateSPN(s); err != nil {
			return err
		}
		if seen[fold(s)] {
			return invalid("account %q lists the delegation target %q twice", a.Name, s)
		}
		seen[fold(s)] = true
	}
	for _, l := range []struct {
		what string
		v    []sid.SID
	}{{"principals allowed to delegate to it", a.AllowedToActOnBehalfOf}, {"managers", a.ManagedBy}} {
		if len(l.v) > maxPrincipalList {
			return invalid("account %q has %d %s; at most %d are allowed", a.Name, len(l.v), l.what, maxPrincipalList)
		}
		for i, s := range l.v {
			if s.IsZero() {
				return invalid("account %q lists an empty SID among its %s", a.Name, l.what)
			}
			if slices.Contains(l.v[:i], s) {
				return invalid("account %q lists %s twice among its %s", a.Name, s, l.what)
			}
		}
	}
	return nil
}
