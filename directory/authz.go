package directory

import "hop/sid"

// The Snapshot's answers for the KDC's authorization decisions: the SIDs in
// a PAC, "sensitive" and Protected Users, resource-based delegation. They are
// computed for an account the first time it is asked about, and kept with
// its entry, so that the calls after the first allocate nothing.

// accountAuthz is what the snapshot keeps for one account.
type accountAuthz struct {
	epoch     uint64 // the snapshot epoch it was computed in
	a         *Account
	sids      []sid.SID // SIDs(): the account, its primary group, its other groups by RID
	protected bool      // in Protected Users, directly or through nested groups
}

// noAuthz is the answer for an unknown account.
var noAuthz = &accountAuthz{}

// authzOf finds account's accountAuthz (the name in any case; ASCII names
// are found without allocating), computing it the first time.
func (s *Snapshot) authzOf(account string) *accountAuthz {
	e := s.entry(account)
	if e == nil {
		return noAuthz
	}
	if z := e.az.Load(); z != nil && z.epoch == s.epoch {
		return z
	}
	a := e.account()
	groups := closure(s, a.Name, a.PrimaryGroupRID)
	z := &accountAuthz{epoch: s.epoch, a: a, sids: make([]sid.SID, 0, 2+len(groups))}
	z.sids = append(z.sids, a.SID(s.domain.SID))
	if _, ok := s.groups.byRID[a.PrimaryGroupRID]; ok {
		z.sids = append(z.sids, s.domain.SID.Append(a.PrimaryGroupRID))
	}
	for _, g := range groups {
		if g.RID == RIDProtectedUsers {
			z.protected = true
		}
		if g.RID != a.PrimaryGroupRID {
			z.sids = append(z.sids, g.SID(s.domain.SID))
		}
	}
	e.az.Store(z)
	return z
}

// SIDs returns the SIDs that stand for account in a PAC ([MS-PAC] §2.5):
// first the account's own SID, then its primary group's (Domain Users,
// Domain Computers, ...), then every other group it belongs to, directly or
// through nested groups, by RID; each SID once. It returns nil for an
// unknown account. The slice is shared: do not modify it.
func (s *Snapshot) SIDs(account string) []sid.SID { return s.authzOf(account).sids }

// InProtectedUsers reports whether account is in Protected Users, directly
// or through nested groups ([MS-KILE] §3.3.5.1).
func (s *Snapshot) InProtectedUsers(account string) bool { return s.authzOf(account).protected }

// IsSensitive reports whether account may not be delegated: it is marked
// sensitive (NOT_DELEGATED) or is in Protected Users ([MS-KILE] §3.3.5.1).
func (s *Snapshot) IsSensitive(account string) bool {
	z := s.authzOf(account)
	return z.protected || z.a != nil && z.a.Sensitive
}

// AllowedToAct decides resource-based constrained delegation ([MS-SFU]
// §3.2.5.2): whether requester may obtain tickets to resource on behalf of
// other users, because one of requester's SIDs (see [Snapshot.SIDs]) is in
// resource's AllowedToActOnBehalfOf. It returns the SID of the list that
// matched, the requester's own before its groups'; false and the zero SID
// when none does or either account is unknown.
func (s *Snapshot) AllowedToAct(resource, requester string) (bool, sid.SID) {
	r := s.authzOf(resource).a
	if r == nil || len(r.AllowedToActOnBehalfOf) == 0 {
		return false, sid.SID{}
	}
	sids := s.authzOf(requester).sids
	list := r.AllowedToActOnBehalfOf
	for i := range sids {
		rid := sids[i].RID()
		for j := range list {
			if list[j].RID() == rid && list[j] == sids[i] {
				return true, sids[i]
			}
		}
	}
	return false, sid.SID{}
}

// domainRID returns the RID of sid when sid is a SID of the domain.
func (s *Snapshot) domainRID(sid sid.SID) (uint32, bool) {
	if s.domain == nil || sid.IsZero() {
		return 0, false
	}
	rid := sid.RID()
	return rid, s.domain.SID.Append(rid) == sid
}

// AccountBySID returns the account whose SID is sid.
func (s *Snapshot) AccountBySID(sid sid.SID) (*Account, bool) {
	rid, ok := s.domainRID(sid)
	if !ok {
		return nil, false
	}
	if k, ok := s.rids.get(rid); ok {
		return s.accountByKey(k)
	}
	return nil, false
}

// GroupBySID returns the group whose SID is sid.
func (s *Snapshot) GroupBySID(sid sid.SID) (*Group, bool) {
	rid, ok := s.domainRID(sid)
	if !ok {
		return nil, false
	}
	g, ok := s.groups.byRID[rid]
	return g, ok
}

// NameOf names sid for messages: the name of its account or group, or the
// SID string when it is neither (a deleted principal, another domain's).
func (s *Snapshot) NameOf(sid sid.SID) string {
	if a, ok := s.AccountBySID(sid); ok {
		return a.Name
	}
	if g, ok := s.GroupBySID(sid); ok {
		return g.Name
	}
	return sid.String()
}

// NamesOf is NameOf of each SID, for showing a delegation list.
func (s *Snapshot) NamesOf(sids []sid.SID) []string {
	if len(sids) == 0 {
		return nil
	}
	out := make([]string, len(sids))
	for i, sid := range sids {
		out[i] = s.NameOf(sid)
	}
	return out
}

// IsDomainAdmin reports whether account is in Domain Admins, directly,
// through nested groups or as its primary group.
func (s *Snapshot) IsDomainAdmin(account string) bool {
	if s.domain == nil {
		return false
	}
	da := s.domain.SID.Append(RIDDomainAdmins)
	for _, sid := range s.authzOf(account).sids {
		if sid == da {
			return true
		}
	}
	return false
}

// UnknownSPNs returns the SPNs of spns that no account of the directory has
// (case-insensitively), in their order: constrained delegation may name
// them, as AD allows, but a warning is due.
func (s *Snapshot) UnknownSPNs(spns []string) []string {
	var out []string
	for _, spn := range spns {
		if _, ok := s.spns.get(fold(spn)); !ok {
			out = append(out, spn)
		}
	}
	return out
}
