package delegation

import (
	"fmt"
	"strings"
)

// Restriction is the policy "Restrict delegation of credentials to remote
// servers" brought to hop's clients: which delegation modes (hop exec
// --delegate) a client may use. A domain-wide value lives in the
// directory's policy; a client's own (krb5.conf [hop] restrict_delegation)
// may only make it stricter (Stricter).
type Restriction string

// The restrictions, from the loosest.
const (
	// RestrictOff: any mode the host allows.
	RestrictOff Restriction = "off"
	// RestrictPreferRemoteGuard: remote-guard unless another mode is asked
	// for, and never a mode that hands credentials to the host (forward,
	// credssp, a passed credential).
	RestrictPreferRemoteGuard Restriction = "prefer-remote-guard"
	// RestrictRequireRemoteGuard: remote-guard only.
	RestrictRequireRemoteGuard Restriction = "require-remote-guard"
	// RestrictRequireRestrictedAdmin: restricted-admin only.
	RestrictRequireRestrictedAdmin Restriction = "require-restricted-admin"
)

// Restrictions lists them, loosest first.
var Restrictions = []Restriction{RestrictOff, RestrictPreferRemoteGuard, RestrictRequireRemoteGuard, RestrictRequireRestrictedAdmin}

// ParseRestriction returns the restriction named s ("" is off).
func ParseRestriction(s string) (Restriction, error) {
	if s == "" {
		return RestrictOff, nil
	}
	for _, r := range Restrictions {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, len(Restrictions))
	for i, r := range Restrictions {
		names[i] = string(r)
	}
	return "", fmt.Errorf("%q is not a delegation restriction: use %s", s, strings.Join(names, ", "))
}

func (r Restriction) rank() int {
	switch r {
	case RestrictPreferRemoteGuard:
		return 1
	case RestrictRequireRemoteGuard, RestrictRequireRestrictedAdmin:
		return 2
	}
	return 0
}

// Stricter returns the stricter of r and o; two different requirements
// cannot both hold, and are an error.
func (r Restriction) Stricter(o Restriction) (Restriction, error) {
	switch {
	case r.rank() == 2 && o.rank() == 2 && r != o:
		return "", fmt.Errorf("the restrictions %s and %s cannot both hold", r, o)
	case o.rank() > r.rank():
		return o, nil
	}
	return r, nil
}

// exposing are the modes that hand the user's credentials to the host.
var exposing = map[string]bool{"forward": true, "credssp": true}

// Default returns the mode a client uses when none is asked for ("" for
// the host's default).
func (r Restriction) Default() string {
	switch r {
	case RestrictPreferRemoteGuard, RestrictRequireRemoteGuard:
		return "remote-guard"
	case RestrictRequireRestrictedAdmin:
		return "restricted-admin"
	}
	return ""
}

// Allows says why mode (a delegation mode's name, "" for the host's
// default none), with or without a credential passed into the session,
// is not allowed; "" when it is.
func (r Restriction) Allows(mode string, passCredential bool) string {
	switch r {
	case RestrictPreferRemoteGuard:
		if exposing[mode] {
			return "--delegate " + mode + " hands your credentials to the host"
		}
		if passCredential {
			return "--pass-credential hands a credential to the host"
		}
	case RestrictRequireRemoteGuard, RestrictRequireRestrictedAdmin:
		if want := r.Default(); mode != want {
			if mode == "" {
				mode = "none"
			}
			return "only --delegate " + want + " is allowed, not " + mode
		}
		if passCredential {
			return "--pass-credential hands a credential to the host"
		}
	}
	return ""
}
