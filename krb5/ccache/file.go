package ccache

import (
	"fmt"
	"io"
	"os"
	"strings"

	"hop/internal/atomicfile"
)

// MaxFileSize bounds the size of a cache file Load reads.
const MaxFileSize = 64 << 20

// filePath turns a cache name as found in KRB5CCNAME into a path: "FILE:"
// is stripped; other cache types (KEYRING:, DIR:, KCM:, MEMORY:…) are not
// files and are refused. A name without a type is a path.
func filePath(name string) (string, error) {
	if rest, ok := strings.CutPrefix(name, "FILE:"); ok {
		return rest, nil
	}
	if i := strings.IndexByte(name, ':'); i > 0 && !strings.ContainsRune(name[:i], '/') {
		return "", fmt.Errorf("ccache: %q is a %s cache; only FILE: caches can be read and written (set KRB5CCNAME=FILE:/path)", name, name[:i+1])
	}
	return name, nil
}

// Load reads and parses the credential cache file at path (a plain path,
// or "FILE:path").
func Load(path string) (*Cache, error) {
	p, err := filePath(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("ccache: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("ccache: read %s: %w", p, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("ccache: %s is larger than %d bytes", p, MaxFileSize)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, p)
	}
	return c, nil
}

// Save writes the cache to path (a plain path, or "FILE:path") with mode
// 0600. It writes a temporary file in the same directory, syncs it and
// renames it over path, so that readers (klist, GSS-API programs) see the
// old cache or the new one, never a part of it.
func (c *Cache) Save(path string) error {
	p, err := filePath(path)
	if err != nil {
		return err
	}
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p, b, 0o600); err != nil {
		return fmt.Errorf("ccache: save %s: %w", p, err)
	}
	return nil
}
