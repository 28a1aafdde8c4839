package keytab

import (
	"fmt"
	"io"
	"os"
	"strings"

	"hop/internal/atomicfile"
)

// MaxFileSize bounds the size of a keytab file Load reads.
const MaxFileSize = 16 << 20

// filePath strips MIT's "FILE:" and "WRFILE:" type prefixes from a keytab
// name, so that names as found in KRB5_KTNAME work.
func filePath(name string) string {
	for _, p := range []string{"FILE:", "WRFILE:"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest
		}
	}
	return name
}

// Load reads and parses the keytab file at path (a plain path, or
// "FILE:path").
func Load(path string) (*Keytab, error) {
	f, err := os.Open(filePath(path))
	if err != nil {
		return nil, fmt.Errorf("keytab: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keytab: read %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("keytab: %s is larger than %d bytes", path, MaxFileSize)
	}
	k, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// Save writes the keytab to path (a plain path, or "FILE:path") with mode
// 0600. It writes a temporary file in the same directory, syncs it and
// renames it over path, so that readers see the old file or the new one,
// never a part of it.
func (k *Keytab) Save(path string) error {
	b, err := k.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filePath(path), b, 0o600); err != nil {
		return fmt.Errorf("keytab: save %s: %w", path, err)
	}
	return nil
}
