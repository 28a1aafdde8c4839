package directory

import (
	"errors"
	"slices"
	"strings"
)

func sortGroups(gs []*Group) {
	slices.SortFunc(gs, func(a, b *Group) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
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
