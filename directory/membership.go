package directory

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// Primary groups ([MS-PAC] §2.5, PrimaryGroupId): the built-in groups an
// account may have as its primary group.
var primaryGroupNames = map[uint32]string{
	RIDDomainUsers:       NameDomainUsers,
	RIDDomainGuests:      NameDomainGuests,
	RIDDomainComputers:   NameDomainComputers,
	RIDDomainControllers: NameDomainControllers,
}

// defaultPrimaryGroup is the primary group an account of kind k with RID rid
// gets when none is chosen, as in AD: Domain Computers for computers, Domain
// Guests for the built-in Guest, Domain Users for everyone else.
func defaultPrimaryGroup(k Kind, rid uint32) uint32 {
	switch {
	case k == KindComputer:
		return RIDDomainComputers
	case rid == RIDGuest:
		return RIDDomainGuests
	}
	return RIDDomainUsers
}

// validPrimaryGroup reports whether an account of kind k may have the group
// with RID rid as its primary group: computers Domain Computers or Domain
// Controllers, users and services Domain Users or Domain Guests.
func validPrimaryGroup(k Kind, rid uint32) bool {
	if k == KindComputer {
		return rid == RIDDomainComputers || rid == RIDDomainControllers
	}
	return rid == RIDDomainUsers || rid == RIDDomainGuests
}

func primaryGroupChoices(k Kind) string {
	if k == KindComputer {
		return "515 (Domain Computers) or 516 (Domain Controllers) for a computer"
	}
	return "513 (Domain Users) or 514 (Domain Guests) for a " + k.String()
}

// membership is the group graph: which groups list each member.
type membership struct {
	groups   map[string]*Group   // by folded name
	byRID    map[uint32]*Group   // by RID
	memberOf map[string][]*Group // folded member name → groups listing it, in name order
}

// newMembership indexes groups (keyed by folded name).
func newMembership(groups map[string]*Group) *membership {
	m := &membership{groups: groups, byRID: make(map[uint32]*Group, len(groups)), memberOf: map[string][]*Group{}}
	sorted := make([]*Group, 0, len(groups))
	for _, g := range groups {
		sorted = append(sorted, g)
	}
	slices.SortFunc(sorted, func(a, b *Group) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
	for _, g := range sorted {
		if _, dup := m.byRID[g.RID]; !dup {
			m.byRID[g.RID] = g
		}
		for _, mem := range g.Members {
			k := fold(mem)
			if !slices.Contains(m.memberOf[k], g) {
				m.memberOf[k] = append(m.memberOf[k], g)
			}
		}
	}
	return m
}

// groupGraph is a group graph as closure walks it: the groups a
// transaction loaded (membership), or a Snapshot's.
type groupGraph interface {
	// listedIn calls add with each group listing the member whose folded
	// name is key.
	listedIn(key string, add func(*Group))
	// groupByRID returns the group with RID rid.
	groupByRID(rid uint32) (*Group, bool)
}

func (m *membership) listedIn(key string, add func(*Group)) {
	for _, g := range m.memberOf[key] {
		add(g)
	}
}

func (m *membership) groupByRID(rid uint32) (*Group, bool) {
	g, ok := m.byRID[rid]
	return g, ok
}

// closure returns the groups name belongs to in gr: the group with RID
// primary (0: none) and every group listing name, and the groups those
// belong to, transitively; each group once, sorted by RID. Cycles, which
// the directory refuses to create, do not loop: each group is visited
// once.
func closure(gr groupGraph, name string, primary uint32) []*Group {
	var out []*Group
	seen := map[*Group]bool{}
	add := func(g *Group) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	if g, ok := gr.groupByRID(primary); ok && primary != 0 {
		add(g)
	}
	gr.listedIn(fold(name), add)
	for i := 0; i < len(out); i++ {
		gr.listedIn(fold(out[i].Name), add)
	}
	slices.SortFunc(out, func(a, b *Group) int { return cmp.Compare(a.RID, b.RID) })
	return out
}

// closureOf returns the groups name (an account or a group) belongs to, as
// membership.closure does, without loading the whole group graph: level by
// level, it decodes only the groups whose records mention a name of the
// level (the primary group, which lists nearly everyone, it takes by RID).
// Its work grows with the size of the group records, not with the number of
// memberships.
func (t *txn) closureOf(name string, primary uint32) ([]*Group, error) {
	var out []*Group
	seen := map[string]bool{fold(name): true}
	frontier := []string{name}
	if pn, ok := primaryGroupNames[primary]; ok {
		v, err := t.Get(bucketGroups, fold(pn))
		if err != nil {
			return nil, err
		}
		if v != nil {
			seen[fold(pn)] = true
			out = append(out, &Group{Name: pn, RID: primary})
			frontier = append(frontier, pn)
		}
	}
	for len(frontier) > 0 {
		level := make(map[string]bool, len(frontier))
		needles := make([][]byte, 0, len(frontier))
		for _, n := range frontier {
			level[fold(n)] = true
			q, err := json.Marshal(n) // as encodeGroup spells a member
			if err != nil {
				return nil, err
			}
			needles = append(needles, bytes.ToLower(q))
		}
		var next []string
		err := t.ForEach(bucketGroups, func(k string, v []byte) error {
			if seen[k] {
				return nil
			}
			low := bytes.ToLower(v)
			if !slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(low, n) }) {
				return nil
			}
			g, err := decodeGroup(k, v)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(g.Members, func(m string) bool { return level[fold(m)] }) {
				return nil // the name appears elsewhere in the record
			}
			seen[k] = true
			out = append(out, &Group{Name: g.Name, RID: g.RID})
			next = append(next, g.Name)
			return nil
		})
		if err != nil {
			return nil, err
		}
		frontier = next
	}
	slices.SortFunc(out, func(a, b *Group) int { return cmp.Compare(a.RID, b.RID) })
	return out, nil
}

// members returns the accounts in group (folded name), directly or through
// nested groups, in the order found; each once.
func (m *membership) members(group string) []string {
	var out []string
	seenG := map[string]bool{}
	seenA := map[string]bool{}
	queue := []string{fold(group)}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		g, ok := m.groups[k]
		if !ok || seenG[k] {
			continue
		}
		seenG[k] = true
		for _, mem := range g.Members {
			fm := fold(mem)
			if _, isGroup := m.groups[fm]; isGroup {
				queue = append(queue, fm)
			} else if !seenA[fm] {
				seenA[fm] = true
				out = append(out, mem)
			}
		}
	}
	return out
}
