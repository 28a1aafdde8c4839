package adminserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"hop/admin"

	"hop/delegation"
	"hop/directory"
	"hop/kdc"
	"hop/krb5"
)

// Local is the Service acting on a directory for one actor: the hop CLI on
// the directory's host (as directory.LocalAdmin), or the admin server for
// each authenticated caller. The directory checks every right.
type Local struct {
	Dir   *directory.Directory
	Actor directory.Actor
	// Principal is the caller's Kerberos name, for Whoami ("" for LocalAdmin).
	Principal string
	// AuditLog reads the audit log for Audit (nil: Audit reports that this
	// server keeps none).
	AuditLog func(ctx context.Context, q admin.AuditQuery) ([]json.RawMessage, error)
	// Now defaults to time.Now.
	Now func() time.Time
}

var _ admin.Service = (*Local)(nil)

func (l *Local) as() *directory.Acting { return l.Dir.As(l.Actor) }

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Whoami names the actor and its groups.
func (l *Local) Whoami(ctx context.Context) (*admin.Identity, error) {
	isAdmin, err := l.as().IsDomainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	id := &admin.Identity{Principal: l.Principal, Account: l.Actor.String(), DomainAdmin: isAdmin}
	if l.Actor.Local {
		return id, nil
	}
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range snap.GroupsOf(l.Actor.Name) {
		id.Groups = append(id.Groups, g.Name)
	}
	return id, nil
}

// Domain returns the domain and its policy.
func (l *Local) Domain(ctx context.Context) (*admin.Domain, error) {
	dom, err := l.as().Domain(ctx)
	if err != nil {
		return nil, err
	}
	v := DomainView(dom)
	return &v, nil
}

// SetPolicy changes the policy (Domain Admins).
func (l *Local) SetPolicy(ctx context.Context, c admin.PolicyChange) (*admin.Domain, error) {
	dom, err := l.as().Domain(ctx)
	if err != nil {
		return nil, err
	}
	p := dom.Policy
	dur := func(dst *time.Duration, v *admin.Duration) {
		if v != nil {
			*dst = time.Duration(*v)
		}
	}
	dur(&p.MaxTicketLife, c.MaxTicketLife)
	dur(&p.MaxRenewLife, c.MaxRenewLife)
	dur(&p.ClockSkew, c.ClockSkew)
	dur(&p.LockoutWindow, c.LockoutWindow)
	dur(&p.LockoutDuration, c.LockoutDuration)
	dur(&p.ProtectedUsersTGTLife, c.ProtectedUsersTGTLife)
	set(&p.LockoutThreshold, c.LockoutThreshold)
	set(&p.MinPasswordLength, c.MinPasswordLength)
	set(&p.PasswordHistory, c.PasswordHistory)
	set(&p.MachineAccountQuota, c.MachineAccountQuota)
	if c.RestrictDelegation != nil {
		p.RestrictDelegation = delegation.Restriction(*c.RestrictDelegation)
	}
	if c.NameScripts != nil {
		scripts, err := directory.ParseNameScripts(strings.Join(*c.NameScripts, ","))
		if err != nil {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "name scripts: " + err.Error()}
		}
		p.NameScripts = scripts
	}
	if err := p.Validate(); err != nil {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: err.Error()}
	}
	dom, err = l.as().SetPolicy(ctx, p)
	if err != nil {
		return nil, err
	}
	v := DomainView(dom)
	return &v, nil
}

// Accounts lists accounts, of kind if not empty.
func (l *Local) Accounts(ctx context.Context, kind string) ([]admin.Account, error) {
	var want directory.Kind
	if kind != "" {
		k, err := directory.ParseKind(kind)
		if err != nil {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: err.Error()}
		}
		want = k
	}
	accts, err := l.as().Accounts(ctx)
	if err != nil {
		return nil, err
	}
	dom, err := l.Dir.Domain(ctx)
	if err != nil {
		return nil, err
	}
	out := []admin.Account{}
	for _, a := range accts {
		if kind == "" || a.Kind == want {
			out = append(out, AccountView(dom, a, l.now()))
		}
	}
	return out, nil
}

// Account returns one account with its groups and delegation settings.
func (l *Local) Account(ctx context.Context, name string) (*admin.Account, error) {
	a, err := l.as().Account(ctx, name)
	if err != nil {
		return nil, err
	}
	return l.fullView(ctx, a)
}

func (l *Local) fullView(ctx context.Context, a *directory.Account) (*admin.Account, error) {
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	v := AccountView(snap.Domain(), a, l.now())
	for _, g := range snap.GroupsOf(a.Name) {
		v.Groups = append(v.Groups, g.Name)
	}
	d := DelegationView(snap, a)
	v.Delegation = &d
	return &v, nil
}

// CreateAccount creates an account (see NewAccount).
func (l *Local) CreateAccount(ctx context.Context, n admin.NewAccount) (*admin.Account, error) {
	kind, err := directory.ParseKind(n.Kind)
	if err != nil {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: err.Error()}
	}
	spec := &directory.Account{Kind: kind, Name: n.Name, UPN: n.UPN, Description: n.Description, AllowRC4: n.AllowRC4, SPNs: n.SPNs}
	random := n.RandomKey
	if kind == directory.KindComputer {
		fqdn, short, err := ComputerName(n.Name)
		if err != nil {
			return nil, err
		}
		spec.Name, spec.DNSHostName = short+"$", fqdn
		spec.SPNs = append([]string{"host/" + fqdn}, n.SPNs...)
		if short != fqdn {
			spec.SPNs = append([]string{"host/" + fqdn, "host/" + short}, n.SPNs...)
		}
		if n.Password == "" {
			random = true
		}
	}
	if kind == directory.KindService && len(spec.SPNs) == 0 {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "a service account needs at least one SPN (e.g. HTTP/web.example.test)"}
	}
	if random == (n.Password != "") {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "give either a password or random keys for " + spec.Name + ", not both or neither"}
	}
	if n.Password != "" {
		if err := l.Dir.CheckNewPassword(ctx, n.Password); err != nil {
			return nil, err
		}
	}
	keys, err := l.keys(ctx, spec.Name, n.Password, n.AllowRC4)
	if err != nil {
		return nil, err
	}
	a, err := l.as().CreateAccount(ctx, spec, keys)
	if err != nil {
		return nil, err
	}
	return l.fullView(ctx, a)
}

// keys derives keys from password, or makes random ones when it is empty.
func (l *Local) keys(ctx context.Context, name, password string, rc4 bool) ([]directory.Key, error) {
	etypes := directory.DefaultETypes(rc4)
	if password == "" {
		return directory.RandomKeys(etypes, nil)
	}
	dom, err := l.Dir.Domain(ctx)
	if err != nil {
		return nil, err
	}
	return directory.PasswordKeys(dom.Realm, name, password, etypes)
}

// ComputerName checks a computer's DNS name and returns it (lower case,
// without a final dot) and its first label, which names the account.
func ComputerName(host string) (fqdn, short string, err error) {
	fqdn = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	short, _, _ = strings.Cut(fqdn, ".")
	if short == "" || strings.HasSuffix(short, "$") {
		return "", "", &directory.Error{Kind: directory.ErrInvalid, Msg: fmt.Sprintf("%q is not a host name: give the computer's DNS name, e.g. b.example.test (the account b$ is derived from it)", host)}
	}
	return fqdn, short, nil
}

// UpdateAccount applies c in one transaction.
func (l *Local) UpdateAccount(ctx context.Context, name string, rev uint64, c admin.AccountChange) (*admin.Account, error) {
	if c.IsZero() {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "the change is empty: give at least one setting"}
	}
	var exp, pwExp time.Time
	var err error
	if c.Expires != nil {
		if exp, err = admin.ParseTime(*c.Expires); err != nil {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "expires: " + err.Error()}
		}
	}
	if c.PasswordExpires != nil {
		if pwExp, err = admin.ParseTime(*c.PasswordExpires); err != nil {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "password_expires: " + err.Error()}
		}
	}
	for _, d := range []*admin.Duration{c.MaxTicketLife, c.MaxRenewLife} {
		if d != nil && *d < 0 {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "lifetimes cannot be negative"}
		}
	}
	fn := func(a *directory.Account) error {
		if c.Disabled != nil {
			if a.RID == directory.RIDKrbtgt && !*c.Disabled {
				return &directory.Error{Kind: directory.ErrInvalid, Msg: "krbtgt stays disabled as a client, as in Active Directory; it still issues tickets"}
			}
			a.Disabled = *c.Disabled
		}
		set(&a.Description, c.Description)
		set(&a.UPN, c.UPN)
		if c.Expires != nil {
			a.Expires = exp
		}
		if c.PasswordExpires != nil {
			a.PasswordExpires = pwExp
		}
		if c.PreauthRequired != nil {
			a.NoPreauthRequired = !*c.PreauthRequired
		}
		set(&a.AllowRC4, c.AllowRC4)
		if c.MaxTicketLife != nil {
			a.MaxTicketLife = time.Duration(*c.MaxTicketLife)
		}
		if c.MaxRenewLife != nil {
			a.MaxRenewLife = time.Duration(*c.MaxRenewLife)
		}
		if c.Unlock {
			a.LockedUntil, a.BadPwdCount, a.BadPwdTime = time.Time{}, 0, time.Time{}
		}
		return nil
	}
	general := c.Description != nil || c.UPN != nil || c.Expires != nil || c.PasswordExpires != nil ||
		c.PreauthRequired != nil || c.AllowRC4 != nil || c.MaxTicketLife != nil || c.MaxRenewLife != nil ||
		c.Disabled != nil || c.Unlock
	if !general {
		fn = nil
	}
	a, err := l.as().Update(ctx, name, rev, fn, delegationChange(c))
	if err != nil {
		return nil, err
	}
	return l.fullView(ctx, a)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func delegationChange(c admin.AccountChange) directory.DelegationChange {
	return directory.DelegationChange{
		TrustedForDelegation:       c.TrustedForDelegation,
		TrustedToAuthForDelegation: c.ProtocolTransition,
		Sensitive:                  c.Sensitive,
		NoAuthDataRequired:         c.NoAuthDataRequired,
		AllowedToDelegateTo:        c.AllowedToDelegateTo,
		AllowedToAct:               c.AllowedToAct,
		AllowedToActAdd:            c.AllowedToActAdd,
		AllowedToActRemove:         c.AllowedToActRemove,
		ManagedBy:                  c.ManagedBy,
	}
}

// DeleteAccount deletes an account (Domain Admins).
func (l *Local) DeleteAccount(ctx context.Context, name string, rev uint64) error {
	return l.as().DeleteAccount(ctx, name, rev)
}

// SetPassword resets (c.Old empty) or changes a password.
func (l *Local) SetPassword(ctx context.Context, name string, rev uint64, c admin.PasswordChange) (*admin.Account, error) {
	var (
		a   *directory.Account
		err error
	)
	if c.Old != "" {
		if rev != 0 {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "a password change with the old password takes no revision"}
		}
		a, err = l.as().ChangePassword(ctx, name, c.Old, c.New)
	} else {
		a, err = l.as().SetPassword(ctx, name, c.New, rev)
	}
	if err != nil {
		return nil, err
	}
	return l.fullView(ctx, a)
}

// AccountKeys returns an account's keys for a keytab, rotating them first
// when r.Rotate.
func (l *Local) AccountKeys(ctx context.Context, name string, rev uint64, r admin.KeysRequest) (*admin.Keys, error) {
	x := l.as()
	if r.Rotate {
		cur, err := x.Account(ctx, name)
		if err != nil {
			return nil, err
		}
		if cur.Kind == directory.KindUser {
			return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: fmt.Sprintf("%s is a user: users have passwords, not random keys (set one with hop account passwd %s)", cur.Name, cur.Name)}
		}
		keys, err := directory.RandomKeys(directory.DefaultETypes(cur.AllowRC4), nil)
		if err != nil {
			return nil, err
		}
		if _, err := x.SetKeys(ctx, name, keys, rev); err != nil {
			return nil, err
		}
	} else if rev != 0 {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "reading keys takes no revision (only rotating them does)"}
	}
	a, err := x.AccountKeys(ctx, name)
	if err != nil {
		return nil, err
	}
	dom, err := l.Dir.Domain(ctx)
	if err != nil {
		return nil, err
	}
	return KeysOf(dom.Realm, a, !r.Rotate), nil
}

// KeysOf lists a's keys under its own principal and each of its SPNs, with
// the previous generations when withOld.
func KeysOf(realm krb5.Realm, a *directory.Account, withOld bool) *admin.Keys {
	names := []string{a.Principal(realm).String()}
	for _, s := range a.SPNs {
		names = append(names, s+"@"+string(realm))
	}
	keys := a.Keys
	if withOld {
		keys = append(append([]directory.Key(nil), a.Keys...), a.OldKeys...)
	}
	out := &admin.Keys{Account: a.Name, KVNO: a.KVNO, Keys: []admin.SecretKey{}}
	for _, n := range names {
		for _, k := range keys {
			out.Keys = append(out.Keys, admin.SecretKey{Principal: n, EType: int32(k.EncType), KVNO: k.KVNO, Material: k.Material()})
		}
	}
	return out
}

// AddSPN adds spn to an account.
func (l *Local) AddSPN(ctx context.Context, name string, rev uint64, spn string) (*admin.Account, error) {
	a, err := l.as().AddSPN(ctx, name, spn, rev)
	if err != nil {
		return nil, err
	}
	return l.fullView(ctx, a)
}

// RemoveSPN removes spn from an account.
func (l *Local) RemoveSPN(ctx context.Context, name string, rev uint64, spn string) (*admin.Account, error) {
	a, err := l.as().RemoveSPN(ctx, name, spn, rev)
	if err != nil {
		return nil, err
	}
	return l.fullView(ctx, a)
}

// Groups lists the groups.
func (l *Local) Groups(ctx context.Context) ([]admin.Group, error) {
	gs, err := l.as().Groups(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := []admin.Group{}
	for _, g := range gs {
		out = append(out, GroupView(snap, g))
	}
	return out, nil
}

// Group returns one group.
func (l *Local) Group(ctx context.Context, name string) (*admin.Group, error) {
	g, err := l.as().Group(ctx, name)
	if err != nil {
		return nil, err
	}
	return l.groupView(ctx, g)
}

func (l *Local) groupView(ctx context.Context, g *directory.Group) (*admin.Group, error) {
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	v := GroupView(snap, g)
	return &v, nil
}

// CreateGroup creates a group (Domain Admins).
func (l *Local) CreateGroup(ctx context.Context, n admin.NewGroup) (*admin.Group, error) {
	g, err := l.as().CreateGroup(ctx, n.Name, n.Description)
	if err != nil {
		return nil, err
	}
	return l.groupView(ctx, g)
}

// DeleteGroup deletes a group (Domain Admins).
func (l *Local) DeleteGroup(ctx context.Context, name string, rev uint64) error {
	return l.as().DeleteGroup(ctx, name, rev)
}

// AddMember adds member to group.
func (l *Local) AddMember(ctx context.Context, group string, rev uint64, member string) (*admin.Group, error) {
	g, err := l.as().AddMember(ctx, group, member, rev)
	if err != nil {
		return nil, err
	}
	return l.groupView(ctx, g)
}

// RemoveMember removes member from group.
func (l *Local) RemoveMember(ctx context.Context, group string, rev uint64, member string) (*admin.Group, error) {
	g, err := l.as().RemoveMember(ctx, group, member, rev)
	if err != nil {
		return nil, err
	}
	return l.groupView(ctx, g)
}

// SetGroupManagers replaces a group's managers (Domain Admins).
func (l *Local) SetGroupManagers(ctx context.Context, group string, rev uint64, managers []string) (*admin.Group, error) {
	g, err := l.as().SetGroupManagers(ctx, group, managers, rev)
	if err != nil {
		return nil, err
	}
	return l.groupView(ctx, g)
}

// Explain runs the KDC's delegation decision for the given names. Any
// enabled account may ask, as any may read the settings it is made from.
func (l *Local) Explain(ctx context.Context, user, service, target string, s4u2self bool) (*delegation.Explanation, error) {
	if user == "" || service == "" || target == "" {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: "explain needs a user, a service and a target"}
	}
	if _, err := l.as().Domain(ctx); err != nil {
		return nil, err
	}
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	ex, err := kdc.Explain(snap, user, service, target, s4u2self)
	if err != nil {
		return nil, &directory.Error{Kind: directory.ErrNotFound, Msg: err.Error()}
	}
	return ex, nil
}

// CreateJoinToken makes a one-time join token.
func (l *Local) CreateJoinToken(ctx context.Context, r admin.JoinTokenRequest) (*admin.JoinToken, error) {
	tok, exp, err := l.as().CreateJoinToken(ctx, r.Host, time.Duration(r.TTL))
	if err != nil {
		return nil, err
	}
	fqdn, _, err := ComputerName(r.Host)
	if err != nil {
		return nil, err
	}
	return &admin.JoinToken{Host: fqdn, Token: tok, Expires: exp.UTC()}, nil
}

// Join creates or re-keys a host's computer account with fresh random
// keys, which it returns for the host's keytab.
func (l *Local) Join(ctx context.Context, r admin.JoinRequest) (*admin.Joined, error) {
	keys, err := directory.RandomKeys(directory.DefaultETypes(false), nil)
	if err != nil {
		return nil, err
	}
	a, err := l.Dir.JoinHost(ctx, l.Actor, r.Token, directory.JoinRequest{FQDN: r.Host, SSHHostKeys: r.SSHHostKeys, Keys: keys})
	if err != nil {
		return nil, err
	}
	dom, err := l.Dir.Domain(ctx)
	if err != nil {
		return nil, err
	}
	// a carries no key material; the keys just stored are keys.
	withKeys := *a
	withKeys.Keys = keys
	for i := range withKeys.Keys {
		withKeys.Keys[i].KVNO = a.KVNO
	}
	withKeys.OldKeys = nil
	v := AccountView(dom, a, l.now())
	return &admin.Joined{Account: v, Keys: *KeysOf(dom.Realm, &withKeys, false), Realm: string(dom.Realm)}, nil
}

// DelegationPolicy returns the domain's restriction of its clients'
// delegation modes; any caller may read it, an anonymous one too
// (an anonymous GET /v1/domain/delegation-policy).
func (l *Local) DelegationPolicy(ctx context.Context) (*admin.DelegationPolicy, error) {
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &admin.DelegationPolicy{RestrictDelegation: restriction(snap.Domain().Policy.RestrictDelegation)}, nil
}

// HostKeys returns a host's registered SSH host keys. They are public,
// as a known_hosts file is: any caller may read them, an anonymous one
// too (IsAnonymousHostKeys).
func (l *Local) HostKeys(ctx context.Context, host string) ([]string, error) {
	fqdn, _, err := ComputerName(host)
	if err != nil {
		return nil, err
	}
	snap, err := l.Dir.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	keys := snap.HostKeys(fqdn)
	if len(keys) == 0 {
		return nil, &directory.Error{Kind: directory.ErrNotFound, Msg: fmt.Sprintf("no SSH host keys are registered for %s: join it with hop host join", fqdn)}
	}
	return keys, nil
}

// Audit reads the audit log (Domain Admins).
func (l *Local) Audit(ctx context.Context, q admin.AuditQuery) ([]json.RawMessage, error) {
	if err := l.as().MayReadAudit(ctx); err != nil {
		return nil, err
	}
	if l.AuditLog == nil {
		return nil, &directory.Error{Kind: directory.ErrNotFound, Msg: "this server keeps no audit log it can read"}
	}
	if q.Limit == 0 {
		q.Limit = admin.DefaultAuditLimit
	}
	if q.Limit < 0 || q.Limit > admin.MaxAuditLimit {
		return nil, &directory.Error{Kind: directory.ErrInvalid, Msg: fmt.Sprintf("the limit goes from 1 to %d", admin.MaxAuditLimit)}
	}
	return l.AuditLog(ctx, q)
}
