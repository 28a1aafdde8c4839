package directory

import (
	"context"
	"slices"
	"strings"

	"hop/sid"
)

// CreateGroup adds a group, allocating its RID: Domain Admins only.
func (x *Acting) CreateGroup(ctx context.Context, name, description string) (*Group, error) {
	if err := validateGroupName(name); err != nil {
		return nil, err
	}
	if err := validateDescription("the description of group "+name, description); err != nil {
		return nil, err
	}
	var out *Group
	err := x.do(ctx, "group.create", name, func(z *authz, ev *event) error {
		if err := z.needAdmin("create group " + name); err != nil {
			return err
		}
		g, err := z.insertGroup(name, description)
		if err != nil {
			return err
		}
		out = g
		ev.changes, err = z.groupChanges(nil, g)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.clone(), nil
}

// insertGroup stores a new group (name and description already
// validated): it checks the name against the existing ones (and the
// domain's scripts) and allocates the RID.
func (z *authz) insertGroup(name, description string) (*Group, error) {
	if err := checkScripts("group", name, z.dom.Policy.NameScripts); err != nil {
		return nil, err
	}
	g := &Group{Name: name, Description: description}
	if what, err := z.t.nameTaken(name); err != nil {
		return nil, err
	} else if what != "" {
		return nil, exists("%s named %q already exists (names are unique regardless of case, across accounts and groups)", what, name)
	}
	if other, err := z.t.lookAlike(name); err != nil {
		return nil, err
	} else if other != "" {
		return nil, exists("%q is the same name as the existing %q once compared as Windows compares names (Unicode compatibility forms and case): choose another", name, other)
	}
	rid, err := z.t.nextRID()
	if err != nil {
		return nil, err
	}
	g.RID = rid
	return g, z.t.putGroup(g)
}

// DeleteGroup removes a group and its membership in other groups: Domain
// Admins only. Built-in groups (RID below 1000) cannot be deleted.
func (x *Acting) DeleteGroup(ctx context.Context, name string, ifRev uint64) error {
	return x.do(ctx, "group.delete", name, func(z *authz, ev *event) error {
		g, err := z.loadGroup(name, ifRev, ev, byAdmins("delete group"))
		if err != nil {
			return err
		}
		if g.RID < builtinRIDLimit {
			return invalid("%q is a built-in group (RID %d) and cannot be deleted", g.Name, g.RID)
		}
		if ev.changes, err = z.groupChanges(g, nil); err != nil {
			return err
		}
		if err := z.t.unindexName(g.Name); err != nil {
			return err
		}
		if err := z.t.Delete(bucketGroups, fold(g.Name)); err != nil {
			return err
		}
		return z.t.removeFromAllGroups(g.Name)
	})
}

// AddMember adds the account or group named member to group: Domain
// Admins may; so may the group's managers, unless the group is privileged
// (Domain Admins, Domain Controllers, Protected Users and the others of
// [Snapshot.ProtectedBy], or a group nested in one). Groups nest, but not
// in cycles.
func (x *Acting) AddMember(ctx context.Context, group, member string, ifRev uint64) (*Group, error) {
	return x.changeGroup(ctx, "group.member.add", group, ifRev, byManagers("add members to group"), func(z *authz, g *Group) error {
		return z.t.addMembers(g, []string{member}, nil)
	})
}

// addMembers adds the accounts or groups named members to g (not yet
// stored), refusing one already listed, a full group and a cycle of
// groups. known maps the folded names of accounts this transaction
// created to their names, sparing their lookup (nil: none).
func (t *txn) addMembers(g *Group, members []string, known map[string]string) error {
	var listed map[string]bool // g's members, folded, when more than one is added
	if len(members) > 1 {
		listed = make(map[string]bool, len(g.Members)+len(members))
		for _, m := range g.Members {
			listed[fold(m)] = true
		}
	}
	for _, member := range members {
		name, isGroup := known[fold(member)], false
		if name == "" {
			var err error
			if name, isGroup, err = t.resolveMember(member); err != nil {
				return err
			}
		}
		if listed != nil && listed[fold(name)] || listed == nil && slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, name) }) {
			return exists("%q is already a member of group %q", name, g.Name)
		}
		if limit := memberLimit(g.RID); len(g.Members) >= limit {
			return invalid("group %q already has %d members, the most allowed", g.Name, limit)
		}
		if isGroup {
			if cyc, err := t.contains(name, g.Name); err != nil {
				return err
			} else if cyc {
				return invalid("adding group %q to group %q would make a cycle: %q already contains %q (directly or through nested groups)", name, g.Name, name, g.Name)
			}
		}
		g.Members = append(g.Members, name)
		if listed != nil {
			listed[fold(name)] = true
		}
	}
	return nil
}

// RemoveMember removes member (any case) from group, with the rights of
// AddMember.
func (x *Acting) RemoveMember(ctx context.Context, group, member string, ifRev uint64) (*Group, error) {
	return x.changeGroup(ctx, "group.member.remove", group, ifRev, byManagers("remove members from group"), func(z *authz, g *Group) error {
		i := slices.IndexFunc(g.Members, func(m string) bool { return strings.EqualFold(m, member) })
		if i < 0 {
			return notFound("%q is not a member of group %q", member, g.Name)
		}
		g.Members = slices.Delete(g.Members, i, i+1)
		return nil
	})
}

// SetGroupManagers replaces the managers of group (accounts or groups, by
// name or SID string; empty or "none" clears): Domain Admins only.
func (x *Acting) SetGroupManagers(ctx context.Context, group string, managers []string, ifRev uint64) (*Group, error) {
	if len(managers) > maxPrincipalList {
		return nil, invalid("%d managers given; at most %d are allowed", len(managers), maxPrincipalList)
	}
	for _, n := range managers {
		if strings.TrimSpace(n) == "" || len(n) > maxPrincipalInput {
			return nil, invalid("an empty or overlong name among the managers")
		}
	}
	return x.changeGroup(ctx, "group.managers.set", group, ifRev, byAdmins("change the managers of group"), func(z *authz, g *Group) error {
		var sids []sid.SID
		if !isNone(managers) {
			var err error
			if sids, err = z.t.resolve(z.dom, managers); err != nil {
				return err
			}
		}
		if slices.Equal(sids, g.ManagedBy) {
			return errNoChange
		}
		g.ManagedBy = sids
		return nil
	})
}

// byAdmins lets only Domain Admins make a change to a group; right
// completes "NAME may not ...", before the group's name.
func byAdmins(right string) func(*authz, *Group) error {
	return func(z *authz, g *Group) error { return z.needAdmin(right + " " + g.Name) }
}

// byManagers lets Domain Admins and the group's managers make a change, as
// mayManageGroup does; right is as for byAdmins.
func byManagers(right string) func(*authz, *Group) error {
	return func(z *authz, g *Group) error { return z.mayManageGroup(g, right+" "+g.Name) }
}

// loadGroup reads the group named name for a change and admits it: the
// group becomes ev's target, and the actor's right (may) and the revision
// the caller read (ifRev; 0: any) are checked.
func (z *authz) loadGroup(name string, ifRev uint64, ev *event, may func(*authz, *Group) error) (*Group, error) {
	g, err := z.t.group(name)
	if err != nil {
		return nil, err
	}
	return g, z.admit(ev, "group", g.Name, ifRev, g.Revision, func() error { return may(z, g) })
}

// storeGroup writes g over old, its previous state (nil for a new group),
// and records the change of every field in ev.
func (z *authz) storeGroup(old, g *Group, ev *event) error {
	if err := z.t.putGroup(g); err != nil {
		return err
	}
	var err error
	ev.changes, err = z.groupChanges(old, g)
	return err
}

// changeGroup is the one store step of a change op to the group named
// name: in one transaction it loads the group (loadGroup, with may and
// ifRev), lets change modify a copy, writes the copy and records the
// change of every field (storeGroup). change returns errNoChange to write
// nothing; the group is then returned as it was.
func (x *Acting) changeGroup(ctx context.Context, op, name string, ifRev uint64, may func(*authz, *Group) error, change func(z *authz, g *Group) error) (*Group, error) {
	var out *Group
	err := x.do(ctx, op, name, func(z *authz, ev *event) error {
		old, err := z.loadGroup(name, ifRev, ev, may)
		if err != nil {
			return err
		}
		out = old
		g := old.clone()
		if err := change(z, g); err != nil {
			return err
		}
		out = g
		return z.storeGroup(old, g, ev)
	})
	if err != nil {
		return nil, err
	}
	return out.clone(), nil
}

// SetPolicy replaces the domain policy: Domain Admins only.
func (x *Acting) SetPolicy(ctx context.Context, p Policy) (*Domain, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out *Domain
	err := x.do(ctx, "domain.policy.set", "", func(z *authz, ev *event) error {
		dom := *z.dom
		ev.target = string(dom.Realm)
		if err := z.needAdmin("change the policy of domain " + string(dom.Realm)); err != nil {
			return err
		}
		old := dom.Policy
		dom.Policy = p
		out = &dom
		if old == p {
			return errNoChange
		}
		ev.changes = policyChanges(old, p)
		return z.t.putDomain(&dom)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
