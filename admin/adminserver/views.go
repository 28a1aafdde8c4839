package adminserver

import (
	"strings"
	"time"

	"hop/admin"
	"hop/delegation"

	"hop/directory"
)

// DomainView presents a domain with its effective policy.
func DomainView(d *directory.Domain) admin.Domain {
	p := d.Policy.WithDefaults()
	return admin.Domain{
		Realm: string(d.Realm), SID: d.SID.String(), NetBIOS: d.NetBIOSName, Created: d.Created.UTC(),
		Policy: admin.Policy{
			MaxTicketLife: p.MaxTicketLife.String(), MaxRenewLife: p.MaxRenewLife.String(),
			ClockSkew: p.ClockSkew.String(), LockoutThreshold: p.LockoutThreshold,
			LockoutWindow: p.LockoutWindow.String(), LockoutDuration: p.LockoutDuration.String(),
			ProtectedUsersTGTLife: p.ProtectedUsersTGTLife.String(),
			MinPasswordLength:     p.MinPasswordLength, PasswordHistory: p.PasswordHistory,
			MachineAccountQuota: p.MachineAccountQuota, RestrictDelegation: restriction(p.RestrictDelegation),
			NameScripts: nameScripts(p.NameScripts),
		},
	}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func optDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func keyViews(keys []directory.Key) []admin.Key {
	out := make([]admin.Key, 0, len(keys))
	for _, k := range keys {
		out = append(out, admin.Key{EType: k.EncType.String(), KVNO: k.KVNO, Salt: k.Salt})
	}
	return out
}

// AccountView presents a, as it is at now, without groups or delegation.
func AccountView(dom *directory.Domain, a *directory.Account, now time.Time) admin.Account {
	v := admin.Account{
		Name: a.Name, Kind: a.Kind.String(), Principal: a.Principal(dom.Realm).String(), RID: a.RID,
		SID: a.SID(dom.SID).String(), Revision: a.Revision, SPNs: append([]string{}, a.SPNs...), UPN: a.UPN,
		DNSHostName: a.DNSHostName, Description: a.Description, Disabled: a.Disabled, Locked: a.IsLocked(now),
		BadPwdCount: a.BadPwdCount, Expires: optTime(a.Expires), PasswordLastSet: optTime(a.PasswordLastSet),
		PasswordExpires: optTime(a.PasswordExpires), PreauthRequired: !a.NoPreauthRequired, AllowRC4: a.AllowRC4,
		MaxTicketLife: optDuration(a.MaxTicketLife), MaxRenewLife: optDuration(a.MaxRenewLife),
		KVNO: a.KVNO, Keys: keyViews(a.Keys), OldKeys: keyViews(a.OldKeys),
		SSHHostKeys: append([]string(nil), a.SSHHostKeys...),
		Created:     a.Created.UTC(), Modified: a.Modified.UTC(),
	}
	if v.Locked {
		v.LockedUntil = optTime(a.LockedUntil)
	}
	return v
}

// DelegationView presents a's delegation settings, principals by name.
func DelegationView(snap *directory.Snapshot, a *directory.Account) admin.Delegation {
	return admin.Delegation{
		TrustedForDelegation: a.TrustedForDelegation,
		ProtocolTransition:   a.TrustedToAuthForDelegation,
		AllowedToDelegateTo:  append([]string{}, a.AllowedToDelegateTo...),
		AllowedToAct:         append([]string{}, snap.NamesOf(a.AllowedToActOnBehalfOf)...),
		Sensitive:            a.Sensitive,
		ProtectedUsers:       snap.InProtectedUsers(a.Name),
		NoAuthDataRequired:   a.NoAuthDataRequired,
		ManagedBy:            append([]string{}, snap.NamesOf(a.ManagedBy)...),
		UnknownSPNs:          snap.UnknownSPNs(a.AllowedToDelegateTo),
	}
}

// GroupView presents g.
func GroupView(snap *directory.Snapshot, g *directory.Group) admin.Group {
	return admin.Group{
		Name: g.Name, RID: g.RID, SID: g.SID(snap.Domain().SID).String(), Revision: g.Revision,
		Description: g.Description, Members: append([]string{}, g.Members...),
		ManagedBy:  snap.NamesOf(g.ManagedBy),
		Privileged: snap.ProtectedBy(g.Name) != "",
	}
}

// restriction presents a delegation restriction ("" is off).
func restriction(r delegation.Restriction) string {
	if r == "" {
		return string(delegation.RestrictOff)
	}
	return string(r)
}

// nameScripts is Policy.NameScripts as a list; empty, not null, by default.
func nameScripts(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
