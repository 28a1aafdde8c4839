package kcm

import (
	"bytes"
	"crypto/subtle"
	"slices"

	"hop/krb5"
	"hop/krb5/ccache"
)

// Matches reports whether c is a credential the tag m asks for under the
// flags (TCMatch…) of RETRIEVE and REMOVE_CRED, as Heimdal's and MIT's
// caches compare them: the principals the tag has always, the other fields
// only when a flag asks for them.
func (m *Match) Matches(flags uint32, c *ccache.Credential) bool {
	if m.Client != nil && !samePrincipal(*m.Client, c.Client, flags&TCDontMatchRealm == 0) {
		return false
	}
	if m.Server != nil && !samePrincipal(*m.Server, c.Server, flags&(TCDontMatchRealm|TCMatchSrvNameOnly) == 0) {
		return false
	}
	if flags&TCMatchKeyType != 0 && m.KeyType != c.KeyType {
		return false
	}
	if flags&TCMatchFlagsExact != 0 && m.Flags != c.Flags {
		return false
	}
	if flags&TCMatchFlags != 0 && c.Flags&m.Flags != m.Flags {
		return false
	}
	if flags&TCMatchTimesExact != 0 && !(m.AuthTime.Equal(c.AuthTime) && m.StartTime.Equal(c.StartTime) &&
		m.EndTime.Equal(c.EndTime) && m.RenewTill.Equal(c.RenewTill)) {
		return false
	}
	if flags&TCMatchTimes != 0 {
		if !m.RenewTill.IsZero() && c.RenewTill.Before(m.RenewTill) {
			return false
		}
		if !m.EndTime.IsZero() && c.EndTime.Before(m.EndTime) {
			return false
		}
	}
	if flags&TCMatchAuthData != 0 && !slices.EqualFunc(m.AuthData, c.AuthData, func(a, b ccache.AuthData) bool {
		return a.Type == b.Type && bytes.Equal(a.Data, b.Data)
	}) {
		return false
	}
	if flags&TCMatch2ndTkt != 0 && subtle.ConstantTimeCompare(m.SecondTicket, c.SecondTicket) != 1 &&
		len(m.SecondTicket)+len(c.SecondTicket) > 0 {
		return false
	}
	if flags&TCMatchIsSKey != 0 && m.IsSKey != c.IsSKey {
		return false
	}
	return true
}

func samePrincipal(a, b krb5.Principal, realm bool) bool {
	return a.Name.Equal(b.Name) && (!realm || a.Realm.Equal(b.Realm))
}

// isConfig reports whether p names one of MIT's configuration entries.
func isConfig(p krb5.Principal) bool { return p.Realm == ccache.ConfigRealm }
