package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"hop/internal/atomicfile"
	"hop/pac"
	"hop/sid"
)

// ResolveInterval is how often group names are resolved again.
const ResolveInterval = 5 * time.Minute

// groupCacheFile is the last good name → SID mapping, in the state dir.
const groupCacheFile = "groups.json"

// maxGroupCache bounds the cache file read.
const maxGroupCache = 4 << 20

// GroupResolver finds the SID of a directory group by name (the admin
// API's GET /v1/groups/NAME). A name the directory does not have is an
// error that matches ErrNoSuchGroup; any other error means the directory
// could not say.
type GroupResolver interface {
	GroupSID(ctx context.Context, name string) (string, error)
}

// ErrNoSuchGroup is the error of a GroupResolver for a group the directory
// does not have.
var ErrNoSuchGroup = errors.New("agent: no such group")

// groups maps the group names of the configuration to SIDs, refreshing
// them every ResolveInterval and keeping the last good mapping in the
// state dir, so that the agent starts while the admin server is down.
type groups struct {
	resolver GroupResolver
	cache    string // the cache file, "" for none
	logger   *slog.Logger

	mu    sync.Mutex
	names map[string]string // folded name → SID string; "" = unresolved
}

func newGroups(r GroupResolver, stateDir string, logger *slog.Logger) *groups {
	g := &groups{resolver: r, logger: logger, names: map[string]string{}}
	if stateDir != "" {
		g.cache = filepath.Join(stateDir, groupCacheFile)
	}
	return g
}

func fold(s string) string { return strings.ToLower(s) }

// load reads the cache file.
func (g *groups) load() error {
	if g.cache == "" {
		return nil
	}
	b, err := os.ReadFile(g.cache)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: group cache: %w", err)
	}
	if len(b) > maxGroupCache {
		return fmt.Errorf("agent: group cache %s is larger than %d bytes", g.cache, maxGroupCache)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("agent: group cache %s: %v", g.cache, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, v := range m {
		if _, err := sid.Parse(v); err != nil {
			continue
		}
		if g.names[fold(k)] == "" {
			g.names[fold(k)] = v
		}
	}
	return nil
}

func (g *groups) save() error {
	if g.cache == "" {
		return nil
	}
	g.mu.Lock()
	m := map[string]string{}
	for k, v := range g.names {
		if v != "" {
			m[k] = v
		}
	}
	g.mu.Unlock()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(g.cache), 0o700); err != nil {
		return fmt.Errorf("agent: state dir: %w", err)
	}
	if err := atomicfile.WriteFile(g.cache, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("agent: group cache: %w", err)
	}
	return nil
}

// add registers names to resolve (SID strings are skipped).
func (g *groups) add(names ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range names {
		if !isSIDRef(n) {
			if _, ok := g.names[fold(n)]; !ok {
				g.names[fold(n)] = ""
			}
		}
	}
}

// refresh resolves every registered name. A name the server does not
// resolve keeps its cached SID. It returns the names left unresolved
// (no SID known) and, among all names, those the directory says do not
// exist (folded).
func (g *groups) refresh(ctx context.Context) (unresolved, missing []string, err error) {
	g.mu.Lock()
	names := make([]string, 0, len(g.names))
	for k := range g.names {
		names = append(names, k)
	}
	g.mu.Unlock()
	sort.Strings(names)
	var errs []error
	changed := false
	for _, n := range names {
		sid, rerr := g.resolve(ctx, n)
		if rerr != nil {
			errs = append(errs, fmt.Errorf("group %s: %w", n, rerr))
			if errors.Is(rerr, ErrNoSuchGroup) {
				missing = append(missing, n)
			}
			g.mu.Lock()
			if g.names[n] == "" {
				unresolved = append(unresolved, n)
			}
			g.mu.Unlock()
			continue
		}
		g.mu.Lock()
		if g.names[n] != sid {
			g.names[n], changed = sid, true
		}
		g.mu.Unlock()
	}
	if changed {
		if serr := g.save(); serr != nil {
			g.logger.Warn("cannot keep the group cache", "err", serr)
		}
	}
	return unresolved, missing, errors.Join(errs...)
}

func (g *groups) resolve(ctx context.Context, name string) (string, error) {
	if g.resolver == nil {
		return "", errors.New("no admin API to resolve group names (set admin_url, or name groups by SID)")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := g.resolver.GroupSID(ctx, name)
	if err != nil {
		return "", err
	}
	if _, err := sid.Parse(s); err != nil {
		return "", fmt.Errorf("the admin API gave %q for its SID: %v", s, err)
	}
	return s, nil
}

// sid returns the SID of a configured group reference (a SID string or
// a name), and whether it is known. A name not registered before is
// registered and resolved now.
func (g *groups) sid(ctx context.Context, ref string) (sid.SID, bool) {
	if isSIDRef(ref) {
		s, err := sid.Parse(ref)
		return s, err == nil
	}
	g.mu.Lock()
	v, known := g.names[fold(ref)]
	g.mu.Unlock()
	if !known {
		g.add(ref)
		if s, err := g.resolve(ctx, fold(ref)); err == nil {
			g.mu.Lock()
			g.names[fold(ref)] = s
			g.mu.Unlock()
			if err := g.save(); err != nil {
				g.logger.Warn("cannot keep the group cache", "err", err)
			}
			v = s
		} else {
			g.logger.Warn("cannot resolve a group name", "group", ref, "err", err)
		}
	}
	if v == "" {
		return sid.SID{}, false
	}
	s, err := sid.Parse(v)
	return s, err == nil
}

// run refreshes the names every interval until ctx ends.
func (g *groups) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if un, _, err := g.refresh(ctx); err != nil && ctx.Err() == nil {
				g.logger.Warn("resolving group names", "err", err, "unresolved", strings.Join(un, ","))
			}
		}
	}
}

// groupRef is a group name the configuration gives, and the key (or
// the endpoint's table, for a JEA endpoint's groups) that gives it.
type groupRef struct{ key, name string }

// groupRefs are the group names of the configuration (SIDs left out).
func (c *Config) groupRefs() []groupRef {
	var out []groupRef
	add := func(key string, names []string) {
		for _, n := range names {
			if !isSIDRef(n) {
				out = append(out, groupRef{key, n})
			}
		}
	}
	add("logon_groups", c.LogonGroups)
	add("admin_groups", c.AdminGroups)
	for _, e := range sortedEndpoints(c) {
		add(endpointKey(e.Name)+".groups", e.Groups)
		add(endpointKey(e.Name), e.jeaGroups())
	}
	return out
}

// unknownGroups is the configuration error for the groups the directory
// says it does not have (missing: folded names), nil when there are none.
func (c *Config) unknownGroups(missing []string) error {
	gone := map[string]bool{}
	for _, m := range missing {
		gone[fold(m)] = true
	}
	var msgs []string
	for _, r := range c.groupRefs() {
		if !gone[fold(r.name)] {
			continue
		}
		key, line := r.key, ""
		if c.src != nil {
			key, line = lineOfValue(c.src, r.key, r.name)
		}
		msgs = append(msgs, fmt.Sprintf("%s names the group %q%s, which the directory does not have: correct the name (hop group list shows the groups) or create the group (hop group create %s)",
			key, r.name, c.place(line), r.name))
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("agent: configuration: %s", strings.Join(slices.Compact(msgs), "; "))
}

// pacSIDs are the SIDs a PAC's LOGON_INFO gives its client: the user,
// the primary group, every group (hop's KDC lists nested ones), the
// extra SIDs and the resource groups ([MS-PAC] §2.5).
func pacSIDs(v *pac.ValidationInfo) map[sid.SID]bool {
	m := map[sid.SID]bool{}
	if v == nil {
		return m
	}
	dom := v.LogonDomainID
	if !dom.IsZero() {
		if v.UserID != 0 {
			m[dom.Append(v.UserID)] = true
		}
		if v.PrimaryGroupID != 0 {
			m[dom.Append(v.PrimaryGroupID)] = true
		}
		for _, gm := range v.Groups {
			m[dom.Append(gm.RID)] = true
		}
	}
	for _, x := range v.ExtraSIDs {
		m[x.SID] = true
	}
	if v.ResourceGroupDomainSID != nil {
		for _, gm := range v.ResourceGroups {
			m[v.ResourceGroupDomainSID.Append(gm.RID)] = true
		}
	}
	return m
}
