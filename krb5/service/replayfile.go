package service

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"hop/internal/atomicfile"
)

// The replay cache file: a header, then one record per accepted
// authenticator, appended as it is accepted: its key (16 bytes) and its
// expiry (Unix nanoseconds, 8 bytes, big-endian). A record cut short by a
// crash is ignored.
var replayFileMagic = []byte("hop-rcache-1\n\x00\x00\x00")

const replayRecord = 16 + 8

// maxReplayFile bounds the file read at start (the cache's limit of
// records, and some).
const maxReplayFile = int64(len("hop-rcache-1\n\x00\x00\x00")) + 2*DefaultReplayLimit*replayRecord

// Persist makes c remember what it accepted across restarts of the
// process, as MIT's file replay cache does: it reads the unexpired
// entries of the file at path (created if missing, mode 0600), then
// appends each entry it accepts, before the authenticator is accepted.
// Without it, an authenticator captured before a restart could be replayed
// after it, within the clock skew. The file is rewritten without its
// expired entries at start and whenever it holds four times the live
// entries. A file that is not a replay cache is an error (nothing is
// overwritten); a cache the file cannot be written to refuses
// authenticators (fail closed).
func (c *ReplayCache) Persist(path string, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.file != nil {
		return errors.New("service: the replay cache is persisted already")
	}
	b, err := readReplayFile(path)
	if err != nil {
		return err
	}
	t := now.UnixNano()
	for len(b) >= replayRecord {
		var k replayKey
		copy(k[:], b[:16])
		if exp := int64(binary.BigEndian.Uint64(b[16:24])); exp >= t && len(c.seen) < c.limit {
			c.seen[k] = max(c.seen[k], exp)
			c.minExpiry = min(c.minExpiry, exp)
		}
		b = b[replayRecord:]
	}
	c.path = path
	return c.rewrite()
}

// readReplayFile returns the records of the replay cache file at path
// (none when it does not exist).
func readReplayFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("service: replay cache: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxReplayFile+1))
	if err != nil {
		return nil, fmt.Errorf("service: replay cache %s: %w", path, err)
	}
	if int64(len(b)) > maxReplayFile {
		return nil, fmt.Errorf("service: replay cache %s is larger than %d bytes: not hop's; move it away", path, maxReplayFile)
	}
	rest, ok := bytes.CutPrefix(b, replayFileMagic)
	if !ok {
		return nil, fmt.Errorf("service: %s is not a hop replay cache: move it away or name another file", path)
	}
	return rest, nil
}

// rewrite writes the live entries to a new file that replaces the old one,
// and opens it for appending. c.mu is held.
func (c *ReplayCache) rewrite() error {
	buf := bytes.NewBuffer(append([]byte(nil), replayFileMagic...))
	for k, exp := range c.seen {
		buf.Write(k[:])
		buf.Write(binary.BigEndian.AppendUint64(nil, uint64(exp)))
	}
	if err := atomicfile.WriteFile(c.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("service: replay cache: %w", err)
	}
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("service: replay cache: %w", err)
	}
	if c.file != nil {
		c.file.Close()
	}
	c.file, c.written = f, len(c.seen)
	return nil
}

// record appends an accepted entry to the file, compacting it when it
// holds four times the live entries. c.mu is held.
func (c *ReplayCache) record(k replayKey, exp int64) error {
	if c.file == nil {
		return nil
	}
	if c.written >= 4*len(c.seen) && c.written > 1024 {
		if err := c.rewrite(); err != nil {
			return err
		}
	}
	var rec [replayRecord]byte
	copy(rec[:16], k[:])
	binary.BigEndian.PutUint64(rec[16:], uint64(exp))
	if _, err := c.file.Write(rec[:]); err != nil {
		return fmt.Errorf("service: replay cache %s: %w", filepath.Base(c.path), err)
	}
	c.written++
	return nil
}

// Close closes the replay cache's file, if it has one.
func (c *ReplayCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.file == nil {
		return nil
	}
	err := c.file.Close()
	c.file = nil
	return err
}
