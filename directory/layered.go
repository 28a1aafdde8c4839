package directory

import "maps"

// layered is an immutable map as a Snapshot holds its large indexes: a
// base, shared by the snapshots a change makes from one another, under an
// overlay of the entries changed since, which each change copies. A
// snapshot therefore never copies a million-entry map for one change; the
// overlay folds into a new base (compaction) once it grows past
// overlayLimit.
type layered[K comparable, V any] struct {
	base map[K]V
	over map[K]ovEntry[V] // changed entries; live false: deleted
}

type ovEntry[V any] struct {
	v    V
	live bool
}

// overlayLimit is the size of an overlay that asks for a compaction (a
// variable for tests).
var overlayLimit = 4096

func (l *layered[K, V]) get(k K) (V, bool) {
	if len(l.over) > 0 {
		if o, ok := l.over[k]; ok {
			return o.v, o.live
		}
	}
	v, ok := l.base[k]
	return v, ok
}

// len counts the entries (for tests and sizing; not cheap).
func (l *layered[K, V]) len() int {
	n := len(l.base)
	for k, o := range l.over {
		_, inBase := l.base[k]
		switch {
		case o.live && !inBase:
			n++
		case !o.live && inBase:
			n--
		}
	}
	return n
}

// each calls fn for every entry, in no order.
func (l *layered[K, V]) each(fn func(K, V)) {
	for k, v := range l.base {
		if _, ok := l.over[k]; !ok {
			fn(k, v)
		}
	}
	for k, o := range l.over {
		if o.live {
			fn(k, o.v)
		}
	}
}

// with returns l with the changes applied (live false: delete), copying
// only the overlay.
func (l layered[K, V]) with(changes map[K]ovEntry[V]) layered[K, V] {
	if len(changes) == 0 {
		return l
	}
	over := make(map[K]ovEntry[V], len(l.over)+len(changes))
	maps.Copy(over, l.over)
	maps.Copy(over, changes)
	return layered[K, V]{base: l.base, over: over}
}

// merged returns a base holding what l holds.
func (l *layered[K, V]) merged() map[K]V {
	m := maps.Clone(l.base)
	if m == nil {
		m = map[K]V{}
	}
	for k, o := range l.over {
		if o.live {
			m[k] = o.v
		} else {
			delete(m, k)
		}
	}
	return m
}

// rebased returns l over base, which holds what from held: the overlay
// keeps the entries that changed after from. l must have been made from
// from by with, so that its overlay holds every key of from's.
func (l *layered[K, V]) rebased(base map[K]V, from *layered[K, V], same func(a, b V) bool) layered[K, V] {
	over := map[K]ovEntry[V]{}
	for k, o := range l.over {
		if f, ok := from.over[k]; ok && f.live == o.live && (!o.live || same(f.v, o.v)) {
			continue
		}
		over[k] = o
	}
	return layered[K, V]{base: base, over: over}
}
