package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"hop/audit"
	"hop/sid"
)

// Acting performs the directory's operations for one actor: the
// authenticated account of a network request, or [LocalAdmin]. Each method
//
//   - checks, in the same transaction as the change, that the actor holds
//     the right (see "Authorization" in the package documentation); a
//     refusal wraps [ErrAccessDenied] and names the missing right;
//   - checks the revision the caller read, when it gives one (ifRev; 0 =
//     unconditional): a mismatch is [ErrConflict] and changes nothing;
//   - makes the whole change or none of it;
//   - emits one audit event to Options.Audit: Type "directory.<op>" (for
//     example "directory.account.password.set"), the actor, the target and
//     each changed field's old and new value as the hop CLI shows them, never
//     a key or a password (a key change shows as "kvno 3" → "kvno 4"); a
//     refusal emits "directory.denied" with the reason.
//
// Objects it returns carry no secrets: keys keep their type, kvno and salt
// but not their material ([Acting.AccountKeys] is the one exception).
// An Acting is cheap; make one per request with [Directory.As].
type Acting struct {
	d     *Directory
	actor Actor
}

// As returns the directory's operations performed by actor.
func (d *Directory) As(a Actor) *Acting { return &Acting{d: d, actor: a} }

// Actor returns who acts.
func (x *Acting) Actor() Actor { return x.actor }

// authz is an actor's rights in one transaction, with what deciding needs.
type authz struct {
	t     *txn
	actor Actor
	dom   *Domain
	m     *membership // the whole group graph, loaded only when needed (graph)
	r     rightsOf

	ridNames map[uint32]string // every account's and group's name by RID, read once when needed (sidNames)
}

func (t *txn) authorize(actor Actor) (*authz, error) {
	dom, err := t.domain()
	if err != nil {
		return nil, err
	}
	r, err := t.rights(actor, dom)
	if err != nil {
		return nil, err
	}
	return &authz{t: t, actor: actor, dom: dom, r: r}, nil
}

// who names the actor in messages and audit events: the account as its
// record spells it.
func (z *authz) who() string {
	switch {
	case z.actor.Local:
		return z.actor.String()
	case z.r.account != nil:
		return z.r.account.Name
	case strings.TrimSpace(z.actor.Name) == "":
		return "an unnamed actor"
	}
	return z.actor.Name
}

// actorSID is the actor's SID; zero for LocalAdmin and unknown actors.
func (z *authz) actorSID() sid.SID {
	if z.r.account == nil {
		return sid.SID{}
	}
	return z.r.account.SID(z.dom.SID)
}

// isSelf reports whether the actor is account x.
func (z *authz) isSelf(x *Account) bool { return z.r.account != nil && z.r.account.RID == x.RID }

// manages reports whether the actor (an enabled account) or one of its
// groups is in list.
func (z *authz) manages(list []sid.SID) bool {
	if z.r.why != "" {
		return false
	}
	for _, s := range z.r.sids {
		for _, l := range list {
			if l == s {
				return true
			}
		}
	}
	return false
}

// graph returns the group graph, loading it if need be.
func (z *authz) graph() (*membership, error) {
	if z.m == nil {
		m, err := z.t.membership()
		if err != nil {
			return nil, err
		}
		z.m = m
	}
	return z.m, nil
}

// protectedAccount says why x is protected ("" if it is not), as
// protectedAccount does on a loaded group graph.
func (z *authz) protectedAccount(x *Account) (string, error) {
	if slices.Contains(protectedAccountRIDs, x.RID) {
		return "the built-in account " + x.Name, nil
	}
	groups, err := z.t.closureOf(x.Name, x.PrimaryGroupRID)
	if err != nil {
		return "", err
	}
	for _, g := range groups {
		if isPrivilegedGroup(g) {
			return "a member of " + g.Name, nil
		}
	}
	return "", nil
}

// protectedGroup says why g is privileged ("" if it is not), as
// protectedGroup does on a loaded group graph.
func (z *authz) protectedGroup(g *Group) (string, error) {
	if isPrivilegedGroup(g) {
		return "the privileged group " + g.Name, nil
	}
	groups, err := z.t.closureOf(g.Name, 0)
	if err != nil {
		return "", err
	}
	for _, p := range groups {
		if isPrivilegedGroup(p) {
			return "a member of " + p.Name, nil
		}
	}
	return "", nil
}

// admins names the enabled Domain Admins, for messages.
func (z *authz) admins() string {
	m, err := z.graph()
	if err != nil {
		return "their list cannot be read: " + err.Error()
	}
	return z.t.listAdmins(m)
}

// mayRead refuses actors that hold no rights at all: reading the directory
// needs an enabled account, as AD's Authenticated Users read.
func (z *authz) mayRead() error {
	if z.r.admin || z.r.why == "" {
		return nil
	}
	return denied("%s may not read the directory: %s", z.who(), z.r.why)
}

// needAdmin allows Domain Admins only.
func (z *authz) needAdmin(right string) error {
	if z.r.admin {
		return nil
	}
	msg := fmt.Sprintf("%s may not %s: only Domain Admins may (%s); ask one of them, or the domain administrator on the directory's host",
		z.who(), right, z.admins())
	if z.r.why != "" {
		msg += "; besides, " + z.r.why
	}
	return denied("%s", msg)
}

// mayManage allows Domain Admins and the managers of account x, unless x
// is protected; and x itself when self is true and the actor proved its
// password in this request (Actor.Initial). right completes "NAME may not
// ...", e.g. "set the password of alice".
func (z *authz) mayManage(x *Account, right string, self bool) error {
	if z.r.admin {
		return nil
	}
	who := z.who()
	if z.r.why != "" {
		return denied("%s may not %s: %s", who, right, z.r.why)
	}
	isSelf := z.isSelf(x)
	if isSelf && self {
		if z.actor.Initial {
			return nil
		}
		return denied("%s may not %s without proving its current password in the same request: use kpasswd (its ticket is an initial one, RFC 3244 §2) or give the current password", who, right)
	}
	protected, err := z.protectedAccount(x)
	if err != nil {
		return err
	}
	if !isSelf && z.manages(x.ManagedBy) {
		if protected == "" {
			return nil
		}
		return denied("%s manages %s but may not %s: %s is %s, and only Domain Admins may change protected accounts (as AdminSDHolder protects them, [MS-ADTS] §3.1.1.6.1.2)",
			who, x.Name, right, x.Name, protected)
	}
	if protected != "" {
		return denied("%s may not %s: %s is %s, so only Domain Admins may (%s)", who, right, x.Name, protected, z.admins())
	}
	managers, err := z.t.names(z.dom, x.ManagedBy)
	if err != nil {
		return err
	}
	list := "none"
	if len(managers) > 0 {
		list = strings.Join(managers, ", ")
	}
	msg := fmt.Sprintf("%s may not %s: only Domain Admins and the managers of %s (%s) may", who, right, x.Name, list)
	if isSelf {
		msg += "; an account does not manage itself (ask a domain admin or a manager of " + x.Name + ")"
	} else {
		msg += fmt.Sprintf("; a domain admin can make %s a manager with: hop account set %s --managed-by %s",
			who, shellQuote(x.Name), shellQuote(strings.Join(append(managers, who), ",")))
	}
	return denied("%s", msg)
}

// mayManageGroup allows Domain Admins and the managers of group g, unless
// g is privileged (or nested in a privileged group).
func (z *authz) mayManageGroup(g *Group, right string) error {
	if z.r.admin {
		return nil
	}
	who := z.who()
	if z.r.why != "" {
		return denied("%s may not %s: %s", who, right, z.r.why)
	}
	p, err := z.protectedGroup(g)
	if err != nil {
		return err
	}
	if p != "" {
		return denied("%s may not %s: %s is %s, and only Domain Admins change the members of privileged groups ([MS-ADTS] §3.1.1.6.1.2; %s)",
			who, right, g.Name, p, z.admins())
	}
	if z.manages(g.ManagedBy) {
		return nil
	}
	managers, err := z.t.names(z.dom, g.ManagedBy)
	if err != nil {
		return err
	}
	list := "none"
	if len(managers) > 0 {
		list = strings.Join(managers, ", ")
	}
	return denied("%s may not %s: only Domain Admins and the managers of group %s (%s) may; a domain admin can make %s a manager of it (hop group set-managers %s %s)",
		who, right, g.Name, list, who, shellQuote(g.Name), shellQuote(strings.Join(append(managers, who), ",")))
}

// checkRev refuses a change conditional on revision ifRev of an object now
// at revision rev.
func checkRev(what, name string, ifRev, rev uint64) error {
	if ifRev == 0 || ifRev == rev {
		return nil
	}
	return errorf(ErrConflict, "%s %s changed since you read it (revision %d, now %d): read it again and retry", what, name, ifRev, rev)
}

// admit lets a change to the object what (an account or a group) named
// name, now at revision rev, go ahead: it names the object as ev's target,
// then checks the actor's right with may and the revision the caller read
// (ifRev, as checkRev does).
func (z *authz) admit(ev *event, what, name string, ifRev, rev uint64, may func() error) error {
	ev.target = name
	if err := may(); err != nil {
		return err
	}
	return checkRev(what, name, ifRev, rev)
}

// event is what an operation reports in its audit event.
type event struct {
	actor   string // overrides the actor's name (a join token's creator)
	target  string
	changes []audit.Change
	reason  string
}

// do runs fn for op in one write transaction and emits its event: the
// change when fn succeeds and writes, a denial when it refuses. fn returns
// errNoChange to write nothing (and emit nothing).
func (x *Acting) do(ctx context.Context, op, target string, fn func(z *authz, ev *event) error) error {
	var ev event
	who := x.actor.String()
	noChange := false
	err := x.d.update(ctx, func(t *txn) error {
		ev = event{target: target}
		z, err := t.authorize(x.actor)
		if err != nil {
			return err
		}
		who = z.who()
		err = fn(z, &ev)
		noChange = errors.Is(err, errNoChange)
		if err == nil {
			// The change's event commits with it (outbox.go).
			actor := who
			if ev.actor != "" {
				actor = ev.actor
			}
			t.record(audit.Event{Time: x.d.now(), Type: "directory." + op, Actor: actor, Target: ev.target, Changes: ev.changes, Reason: ev.reason})
		}
		return err
	})
	if ev.actor != "" {
		who = ev.actor
	}
	if err != nil {
		// A refusal: no change, and its event (a denial) is emitted as is.
		x.d.emitChange(op, who, ev, err, noChange)
	}
	return err
}

// read runs fn for op in one read transaction; it emits a denial, and the
// event fn fills when emit is set.
func (x *Acting) read(ctx context.Context, op, target string, emit bool, fn func(z *authz, ev *event) error) error {
	var ev event
	who := x.actor.String()
	err := x.d.view(ctx, func(t *txn) error {
		ev = event{target: target}
		z, err := t.authorize(x.actor)
		if err != nil {
			return err
		}
		who = z.who()
		return fn(z, &ev)
	})
	x.d.emitChange(op, who, ev, err, !emit)
	return err
}

// emitChange emits the audit event of op: the change, or a denial.
func (d *Directory) emitChange(op, who string, ev event, err error, noChange bool) {
	switch {
	case err == nil && !noChange:
		d.sink.Emit(audit.Event{Time: d.now(), Type: "directory." + op, Actor: who, Target: ev.target, Changes: ev.changes, Reason: ev.reason})
	case errors.Is(err, ErrAccessDenied):
		msg := err.Error()
		var e *Error
		if errors.As(err, &e) {
			msg = e.Msg
		}
		d.sink.Emit(audit.Event{Time: d.now(), Type: "directory.denied", Actor: who, Target: ev.target, Reason: op + ": " + msg})
	}
}

// Account returns the account named name (any case), without key
// material. The actor needs an enabled account.
func (x *Acting) Account(ctx context.Context, name string) (*Account, error) {
	var out *Account
	err := x.read(ctx, "account.read", name, false, func(z *authz, _ *event) error {
		if err := z.mayRead(); err != nil {
			return err
		}
		a, err := z.t.account(name)
		out = a
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.withoutSecrets(), nil
}

// Accounts returns every account, sorted by name, without key material.
// The actor needs an enabled account.
func (x *Acting) Accounts(ctx context.Context) ([]*Account, error) {
	var out []*Account
	err := x.read(ctx, "account.read", "", false, func(z *authz, _ *event) error {
		if err := z.mayRead(); err != nil {
			return err
		}
		out = out[:0]
		return z.t.ForEach(bucketAccounts, func(k string, v []byte) error {
			a, err := decodeAccount(x.d.mk, k, v)
			if err != nil {
				return err
			}
			out = append(out, a.withoutSecrets())
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortAccounts(out)
	return out, nil
}

// Group returns the group named name (any case). The actor needs an
// enabled account.
func (x *Acting) Group(ctx context.Context, name string) (*Group, error) {
	var out *Group
	err := x.read(ctx, "group.read", name, false, func(z *authz, _ *event) error {
		if err := z.mayRead(); err != nil {
			return err
		}
		g, err := z.t.group(name)
		out = g
		return err
	})
	return out, err
}

// Groups returns every group, sorted by name. The actor needs an enabled
// account.
func (x *Acting) Groups(ctx context.Context) ([]*Group, error) {
	var out []*Group
	err := x.read(ctx, "group.read", "", false, func(z *authz, _ *event) error {
		if err := z.mayRead(); err != nil {
			return err
		}
		out = out[:0]
		return z.t.ForEach(bucketGroups, func(k string, v []byte) error {
			g, err := decodeGroup(k, v)
			if err != nil {
				return err
			}
			out = append(out, g)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortGroups(out)
	return out, nil
}

// Domain returns the domain record. The actor needs an enabled account.
func (x *Acting) Domain(ctx context.Context) (*Domain, error) {
	var out *Domain
	err := x.read(ctx, "domain.read", "", false, func(z *authz, _ *event) error {
		out = z.dom
		return z.mayRead()
	})
	return out, err
}

// IsDomainAdmin reports whether the actor holds every right: LocalAdmin
// or an enabled member of Domain Admins.
func (x *Acting) IsDomainAdmin(ctx context.Context) (bool, error) {
	var admin bool
	err := x.d.view(ctx, func(t *txn) error {
		z, err := t.authorize(x.actor)
		admin = err == nil && z.r.admin
		return err
	})
	return admin, err
}

// MayReadAudit checks that the actor may read the audit log: Domain Admins
// only. A refusal is audited like any other.
func (x *Acting) MayReadAudit(ctx context.Context) error {
	return x.read(ctx, "audit.read", "the audit log", false, func(z *authz, ev *event) error {
		return z.needAdmin("read the audit log")
	})
}

// storeAccount writes a over old, its previous state, and records the
// change of every field in ev.
func (z *authz) storeAccount(old, a *Account, ev *event) error {
	if err := z.t.putAccount(a, old); err != nil {
		return err
	}
	var err error
	ev.changes, err = z.accountChanges(old, a)
	return err
}
