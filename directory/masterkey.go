package directory

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"hop/internal/redact"
)

// MasterKey is the 256-bit key that seals long-term keys in the store
// (AES-256-GCM). It never prints; keep its stash file readable by its owner
// only.
type MasterKey struct {
	raw  [masterKeyLen]byte
	aead cipher.AEAD
}

const (
	masterKeyLen    = 32
	masterKeyHeader = "hop-master-key-v1"
	// maxStashSize bounds what LoadMasterKey reads.
	maxStashSize = 1024
	sealVersion  = 1
	gcmNonceLen  = 12
)

// NewMasterKey returns a fresh master key read from rand (crypto/rand.Reader
// when rand is nil).
func NewMasterKey(rand io.Reader) (*MasterKey, error) {
	rand = randOrDefault(rand)
	var k [masterKeyLen]byte
	if _, err := io.ReadFull(rand, k[:]); err != nil {
		return nil, fmt.Errorf("directory: generate master key: %w", err)
	}
	defer clear(k[:])
	return newMasterKey(k[:])
}

func newMasterKey(k []byte) (*MasterKey, error) {
	if len(k) != masterKeyLen {
		return nil, invalid("a master key is %d bytes, not %d", masterKeyLen, len(k))
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("directory: master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("directory: master key: %w", err)
	}
	m := &MasterKey{aead: aead}
	copy(m.raw[:], k)
	return m, nil
}

// LoadMasterKey reads a master key stash written by [MasterKey.Save]. It
// refuses a file that group or others may read or write.
func LoadMasterKey(path string) (*MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Kind: ErrNotFound, Msg: fmt.Sprintf("no master key stash at %s (hop domain init creates one; pass the right path)", path), Err: err}
		}
		return nil, fmt.Errorf("directory: open master key stash: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("directory: master key stash: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, invalid("master key stash %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, invalid("master key stash %s has mode %04o: group or others may access it; run chmod 600 %s (and consider the key exposed if others could read it)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStashSize+1))
	if err != nil {
		return nil, fmt.Errorf("directory: read master key stash: %w", err)
	}
	defer clear(data)
	m, err := parseMasterKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, nil
}

// parseMasterKey decodes the stash format: the header line, then the key in
// standard base64 on one line.
func parseMasterKey(data []byte) (*MasterKey, error) {
	if len(data) > maxStashSize {
		return nil, invalid("master key stash is larger than %d bytes; it is not a hop master key stash", maxStashSize)
	}
	header, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || string(header) != masterKeyHeader {
		return nil, invalid("not a hop master key stash (it must begin with %q)", masterKeyHeader)
	}
	line, rest, _ := bytes.Cut(rest, []byte("\n"))
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, invalid("master key stash has trailing data")
	}
	var k [masterKeyLen + 2]byte
	defer clear(k[:])
	if base64.StdEncoding.DecodedLen(len(line)) > len(k) {
		return nil, invalid("master key stash holds a key of the wrong length")
	}
	n, err := base64.StdEncoding.Decode(k[:], line)
	if err != nil || n != masterKeyLen {
		return nil, invalid("master key stash holds no valid %d-byte key", masterKeyLen)
	}
	return newMasterKey(k[:n])
}

// Save writes the key to a new file at path, mode 0600. It never overwrites
// an existing file.
func (m *MasterKey) Save(path string) error {
	raw, err := m.export()
	if err != nil {
		return err
	}
	defer clear(raw)
	buf := make([]byte, 0, len(masterKeyHeader)+1+base64.StdEncoding.EncodedLen(len(raw))+1)
	buf = append(buf, masterKeyHeader...)
	buf = append(buf, '\n')
	buf = base64.StdEncoding.AppendEncode(buf, raw)
	buf = append(buf, '\n')
	defer clear(buf)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return &Error{Kind: ErrExists, Msg: fmt.Sprintf("a file already exists at %s; hop never overwrites a master key stash (move it away first if it is really unused)", path), Err: err}
		}
		return fmt.Errorf("directory: create master key stash: %w", err)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("directory: write master key stash: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("directory: write master key stash: %w", err)
	}
	return f.Close()
}

// export returns a copy of the raw key.
func (m *MasterKey) export() ([]byte, error) {
	if m == nil || m.aead == nil {
		return nil, invalid("master key is not set")
	}
	return bytes.Clone(m.raw[:]), nil
}

// String, GoString and Format never print the key.
func (m MasterKey) String() string                { return "directory.MasterKey(redacted)" }
func (m MasterKey) GoString() string              { return m.String() }
func (m MasterKey) Format(f fmt.State, verb rune) { redact.Format(f, verb, m.String(), m.GoString()) }

// seal encrypts plaintext bound to aad: version || nonce || ciphertext+tag.
func (m *MasterKey) seal(rand io.Reader, aad, plaintext []byte) ([]byte, error) {
	if m == nil || m.aead == nil {
		return nil, invalid("master key is not set")
	}
	out := make([]byte, 1+gcmNonceLen, 1+gcmNonceLen+len(plaintext)+m.aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("directory: seal: read random nonce: %w", err)
	}
	return m.aead.Seal(out, out[1:1+gcmNonceLen], plaintext, aad), nil
}

var errUnseal = errors.New("does not decrypt under the master key")

// open reverses seal.
func (m *MasterKey) open(aad, sealed []byte) ([]byte, error) { return m.openAppend(nil, aad, sealed) }

// openAppend is open appending the plaintext to dst.
func (m *MasterKey) openAppend(dst, aad, sealed []byte) ([]byte, error) {
	if m == nil || m.aead == nil {
		return nil, invalid("master key is not set")
	}
	if len(sealed) < 1+gcmNonceLen+m.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	pt, err := m.aead.Open(dst, sealed[1:1+gcmNonceLen], sealed[1+gcmNonceLen:], aad)
	if err != nil {
		return nil, errUnseal
	}
	return pt, nil
}
