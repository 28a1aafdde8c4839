package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/internal/atomicfile"
)

// UnreachableError is a HostKeyLister's failure to reach the directory,
// as opposed to an answer from it; HostKeyCache then serves the keys it
// kept.
type UnreachableError struct {
	// Where names what could not be reached ("the admin server
	// https://kdc.example.test:8749").
	Where string
	Err   error
}

func (e *UnreachableError) Error() string {
	return "cannot reach " + e.Where + ": " + e.Err.Error()
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Bounds on a HostKeyCache file.
const (
	MaxHostKeyCacheSize  = 4 << 20
	MaxHostKeyCacheHosts = 10_000
)

// HostKeyCache is a HostKeySource that reads through Directory (a
// DirectoryHostKeys) and keeps a copy of each answer in the file Path,
// which serves, with a warning naming its age, only while the directory
// cannot be reached (an *UnreachableError). Whenever the directory
// answers, its answer is used and replaces the copy (no keys removes it),
// so a key kept is never trusted for a host the directory now says has
// other keys.
type HostKeyCache struct {
	Directory HostKeySource
	// Path is the cache file (JSON, mode 0600, written atomically).
	Path string
	// Now is the clock of the copies' ages (nil: time.Now).
	Now func() time.Time
	// Warn receives the warning when a copy serves (nil: none).
	Warn func(msg string)

	mu     sync.Mutex
	loaded bool
	hosts  map[string]cachedHostKeys
}

// cachedHostKeys is one host's entry in the cache file.
type cachedHostKeys struct {
	Read time.Time `json:"read"`
	Keys []string  `json:"keys"` // authorized_keys lines
}

// hostKeyCacheFile is the cache file's content.
type hostKeyCacheFile struct {
	Hosts map[string]cachedHostKeys `json:"hosts"`
}

// String names the source in messages.
func (c *HostKeyCache) String() string { return sourceName(c.Directory) }

func (c *HostKeyCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Keys implements HostKeySource.
func (c *HostKeyCache) Keys(ctx context.Context, fqdn string) ([]ssh.PublicKey, error) {
	keys, err := c.Directory.Keys(ctx, fqdn)
	if err == nil {
		c.store(fqdn, keys)
		return keys, nil
	}
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		return nil, err
	}
	e, ok := c.lookup(fqdn)
	if !ok {
		return nil, fmt.Errorf("%w; no copy of its keys was kept from an earlier read", err)
	}
	var out []ssh.PublicKey
	for _, l := range e.Keys {
		if k, _, _, _, perr := ssh.ParseAuthorizedKey([]byte(l)); perr == nil {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w; the copy of its keys kept in %s holds none this client can read", err, c.Path)
	}
	c.warn(fmt.Sprintf("%v; using the SSH host keys of %s as read from the directory %s ago (kept in %s)", ue, fqdn, age(c.now().Sub(e.Read)), c.Path))
	return out, nil
}

// ResolveHost implements HostResolver: the directory's answer, else, while
// it cannot be reached, the one host of the copy whose first label is
// short.
func (c *HostKeyCache) ResolveHost(ctx context.Context, short string) (string, error) {
	r, ok := c.Directory.(HostResolver)
	if !ok {
		return "", fmt.Errorf("give the host's DNS name (e.g. %s.example.test)", short)
	}
	fqdn, err := r.ResolveHost(ctx, short)
	if err == nil || !errors.As(err, new(*UnreachableError)) {
		return fqdn, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.load()
	var names []string
	for h := range c.hosts {
		if strings.HasPrefix(h, short+".") {
			names = append(names, h)
		}
	}
	if len(names) != 1 {
		return "", err
	}
	return names[0], nil
}

// age prints d for a person: "45s", "12m", "3h", "3h12m", "9 days".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (c *HostKeyCache) warn(msg string) {
	if c.Warn != nil {
		c.Warn(msg)
	}
}

func (c *HostKeyCache) lookup(fqdn string) (cachedHostKeys, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.load()
	e, ok := c.hosts[fqdn]
	return e, ok
}

// load reads the file once; a file that is missing or unreadable is an
// empty cache. c.mu is held.
func (c *HostKeyCache) load() {
	if c.loaded {
		return
	}
	c.loaded = true
	c.hosts = map[string]cachedHostKeys{}
	f, err := os.Open(c.Path)
	if err != nil {
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxHostKeyCacheSize+1))
	if err != nil || len(b) > MaxHostKeyCacheSize {
		return
	}
	c.hosts = parseHostKeyCache(b)
}

// parseHostKeyCache decodes a cache file, leaving out what is out of
// bounds: hosts beyond MaxHostKeyCacheHosts, entries with more than
// MaxHostKeys keys, names that are not lower-case DNS names.
func parseHostKeyCache(b []byte) map[string]cachedHostKeys {
	var f hostKeyCacheFile
	hosts := map[string]cachedHostKeys{}
	if json.Unmarshal(b, &f) != nil {
		return hosts
	}
	for h, e := range f.Hosts {
		if len(hosts) >= MaxHostKeyCacheHosts {
			break
		}
		if name, port, err := SplitHost(h); err != nil || port != 0 || name != h || len(e.Keys) == 0 || len(e.Keys) > MaxHostKeys {
			continue
		}
		hosts[h] = e
	}
	return hosts
}

// store records the directory's answer for fqdn and writes the file; a
// failure to write only loses the copy.
func (c *HostKeyCache) store(fqdn string, keys []ssh.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.load()
	if len(keys) == 0 {
		if _, ok := c.hosts[fqdn]; !ok {
			return
		}
		delete(c.hosts, fqdn)
	} else {
		e := cachedHostKeys{Read: c.now().UTC()}
		for _, k := range keys {
			e.Keys = append(e.Keys, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
		}
		if _, ok := c.hosts[fqdn]; !ok && len(c.hosts) >= MaxHostKeyCacheHosts {
			return
		}
		c.hosts[fqdn] = e
	}
	b, err := json.MarshalIndent(hostKeyCacheFile{Hosts: c.hosts}, "", "  ")
	if err != nil || len(b) > MaxHostKeyCacheSize {
		return
	}
	if os.MkdirAll(filepath.Dir(c.Path), 0o700) == nil {
		atomicfile.WriteFile(c.Path, append(b, '\n'), 0o600)
	}
}
