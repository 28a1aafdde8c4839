package directory

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// CreateGroup adds a group, allocating its RID.
func (d *Directory) CreateGroup(ctx context.Context, name, description string) (*Group, error) {
	if err := validateGroupName(name); err != nil {
		return nil, err
	}
	if err := validateDescription("the description of group "+name, description); err != nil {
		return nil, err
	}
	g := &Group{Name: name, Description: description}
	err := d.update(ctx, func(t *txn) error {
		if what, err := t.nameTaken(name); err != nil {
			return err
		} else if what != "" {
			return exists("%s named %q already exists (names are unique regardless of case, across accounts and groups)", what, name)
		}
		rid, err := t.nextRID()
		if err != nil {
			return err
		}
		g.RID = rid
		return t.putGroup(g)
	})
	if err != nil {
		return nil, err
	}
	return g.clone(), nil
}

// Group returns the group named name (any case).
func (d *Directory) Group(ctx context.Context, name string) (*Group, error) {
	var g *Group
	err := d.view(ctx, func(t *txn) (err error) {
		g, err = t.group(name)
		return err
	})
	return g, err
}

// Groups returns every group, sorted by name (case-insensitively).
func (d *Directory) Groups(ctx context.Context) ([]*Group, error) {
	var out []*Group
	err := d.view(ctx, func(t *txn) error {
		out = out[:0]
		return t.ForEach(bucketGroups, func(k string, v []byte) error {
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
	slices.SortFunc(out, func(a, b *Group) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
	return out, nil
}

// AddMember adds the account or group named member to group. Groups nest,
// but not in cycles.
func (d *Directory) AddMember(ctx context.Context, group, member string) error {
	return d.update(ctx, func(t *txn) error {
		g, err := t.group(group)
		if err != nil {
			return err
		}
		name, isGroup, err := t.resolveMember(member)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, name) }) {
			return exists("%q is already a member of group %q", name, g.Name)
		}
		if len(g.Members) >= maxMembersPerGroup {
			return invalid("group %q already has %d members, the most allowed", g.Name, maxMembersPerGroup)
		}
		if isGroup {
			if cyc, err := t.contains(name, g.Name); err != nil {
				return err
			} else if cyc {
				return invalid("adding group %q to group %q would make a cycle: %q already contains %q (directly or through nested groups)", name, g.Name, name, g.Name)
			}
		}
		g.Members = append(g.Members, name)
		return t.putGroup(g)
	})
}

// RemoveMember removes member (any case) from group.
func (d *Directory) RemoveMember(ctx context.Context, group, member string) error {
	return d.update(ctx, func(t *txn) error {
		g, err := t.group(group)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(g.Members, func(m string) bool { return strings.EqualFold(m, member) })
		if i < 0 {
			return notFound("%q is not a member of group %q", member, g.Name)
		}
		g.Members = slices.Delete(g.Members, i, i+1)
		return t.putGroup(g)
	})
}

// DeleteGroup removes a group and its membership in other groups. Built-in
// groups (RID below 1000) cannot be deleted.
func (d *Directory) DeleteGroup(ctx context.Context, name string) error {
	return d.update(ctx, func(t *txn) error {
		g, err := t.group(name)
		if err != nil {
			return err
		}
		if g.RID < builtinRIDLimit {
			return invalid("%q is a built-in group (RID %d) and cannot be deleted", g.Name, g.RID)
		}
		if err := t.Delete(bucketGroups, fold(g.Name)); err != nil {
			return err
		}
		return t.removeFromAllGroups(g.Name)
	})
}

// resolveMember finds the account or group named name and returns its name
// as spelled in its record.
func (t *txn) resolveMember(name string) (string, bool, error) {
	a, err := t.account(name)
	if err == nil {
		return a.Name, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	g, err := t.group(name)
	if err == nil {
		return g.Name, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	return "", false, notFound("no account or group %q in the directory", name)
}

// contains reports whether group outer contains inner, directly or through
// nested groups. It visits each group at most once.
func (t *txn) contains(outer, inner string) (bool, error) {
	target := fold(inner)
	seen := map[string]bool{}
	queue := []string{fold(outer)}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if k == target {
			return true, nil
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		v, err := t.Get(bucketGroups, k)
		if err != nil {
			return false, err
		}
		if v == nil {
			continue // an account
		}
		g, err := decodeGroup(k, v)
		if err != nil {
			return false, err
		}
		for _, m := range g.Members {
			if fm := fold(m); !seen[fm] {
				queue = append(queue, fm)
			}
		}
	}
	return false, nil
}

// removeFromAllGroups drops name from every group's members.
func (t *txn) removeFromAllGroups(name string) error {
	var changed []*Group
	err := t.ForEach(bucketGroups, func(k string, v []byte) error {
		g, err := decodeGroup(k, v)
		if err != nil {
			return err
		}
		n := len(g.Members)
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return strings.EqualFold(m, name) })
		if len(g.Members) != n {
			changed = append(changed, g)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range changed {
		if err := t.putGroup(g); err != nil {
			return err
		}
	}
	return nil
}
