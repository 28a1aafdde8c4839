package cli

import (
	"flag"
	"strings"

	"hop/admin"
)

// delegationFlags are hop account set's delegation settings (issue 3; the
// seed's Set-ADComputer/Set-ADAccountControl equivalents).
type delegationFlags struct {
	trusted, protocolTransition, sensitive, noAuthData bool
	delegateTo, allowedToAct, managedBy                stringList
}

func (v *delegationFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&v.trusted, "trusted-for-delegation", false, "unconstrained delegation: services of this account receive clients' forwarded TGTs (Domain Admins only; dangerous)")
	fs.BoolVar(&v.protocolTransition, "protocol-transition", false, "TRUSTED_TO_AUTH_FOR_DELEGATION: forwardable S4U2Self tickets for constrained delegation (Domain Admins only)")
	fs.Var(&v.delegateTo, "allowed-to-delegate-to", "classic constrained delegation: the `SPNS` this account may delegate to, comma separated; none clears (Domain Admins only)")
	fs.Var(&v.allowedToAct, "allowed-to-act", "resource-based constrained delegation on this account: the `PRINCIPALS` that may delegate to it; none clears; +NAME adds and -NAME removes one (its managers or Domain Admins)")
	fs.BoolVar(&v.sensitive, "sensitive", false, "account is sensitive and cannot be delegated")
	fs.BoolVar(&v.noAuthData, "no-auth-data-required", false, "this service's tickets carry no PAC")
	fs.Var(&v.managedBy, "managed-by", "the `PRINCIPALS` that manage this account and may set its --allowed-to-act; none clears (Domain Admins only)")
}

// change turns the flags that were given (set) into an account change.
func (v *delegationFlags) change(set map[string]bool) admin.AccountChange {
	var c admin.AccountChange
	boolFlag := func(name string, val bool) *bool {
		if !set[name] {
			return nil
		}
		return &val
	}
	list := func(name string, l stringList) *[]string {
		if !set[name] {
			return nil
		}
		out := []string{}
		for _, s := range l {
			if !strings.EqualFold(s, "none") {
				out = append(out, s)
			}
		}
		return &out
	}
	c.TrustedForDelegation = boolFlag("trusted-for-delegation", v.trusted)
	c.ProtocolTransition = boolFlag("protocol-transition", v.protocolTransition)
	c.Sensitive = boolFlag("sensitive", v.sensitive)
	c.NoAuthDataRequired = boolFlag("no-auth-data-required", v.noAuthData)
	c.AllowedToDelegateTo = list("allowed-to-delegate-to", v.delegateTo)
	c.ManagedBy = list("managed-by", v.managedBy)
	if set["allowed-to-act"] {
		var replace []string
		for _, s := range v.allowedToAct {
			switch {
			case strings.HasPrefix(s, "+"):
				c.AllowedToActAdd = append(c.AllowedToActAdd, s[1:])
			case strings.HasPrefix(s, "-"):
				c.AllowedToActRemove = append(c.AllowedToActRemove, s[1:])
			case strings.EqualFold(s, "none"):
				replace = []string{}
			default:
				replace = append(replace, s)
			}
		}
		if replace != nil {
			c.AllowedToAct = &replace
		}
	}
	return c
}
