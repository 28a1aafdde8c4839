package agent

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// maxHostKeyFile bounds the host key file read.
const maxHostKeyFile = 64 << 10

// LoadOrCreateHostKey returns the SSH host key at path. If there is no
// file, it generates an ed25519 key (from rnd, default crypto/rand) and
// writes it (OpenSSH PEM, mode 0600; parent directories 0755). In both
// cases it writes path+".pub" (an authorized_keys line, the form hop host
// join --ssh-key registers) if that file is missing or differs. A key
// file readable by group or others is refused, as sshd refuses it.
func LoadOrCreateHostKey(path string, rnd io.Reader) (ssh.Signer, error) {
	signer, err := loadHostKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		signer, err = createHostKey(path, rnd)
	}
	if err != nil {
		return nil, err
	}
	pub := ssh.MarshalAuthorizedKey(signer.PublicKey())
	if old, err := os.ReadFile(path + ".pub"); err != nil || string(old) != string(pub) {
		if err := os.WriteFile(path+".pub", pub, 0o644); err != nil {
			return nil, fmt.Errorf("agent: write the host public key: %w", err)
		}
	}
	return signer, nil
}

func loadHostKey(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("agent: host key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("agent: the host key %s has mode %04o: it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxHostKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("agent: read the host key: %w", err)
	}
	if len(b) > maxHostKeyFile {
		return nil, fmt.Errorf("agent: the host key %s is larger than %d bytes", path, maxHostKeyFile)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("agent: the host key %s: %v (move it away to have a new one generated)", path, err)
	}
	return s, nil
}

func createHostKey(path string, rnd io.Reader) (ssh.Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	_, priv, err := ed25519.GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("agent: generate the host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, fmt.Errorf("agent: encode the host key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: create the host key: %w", err)
	}
	_, werr := f.Write(pem.EncodeToMemory(block))
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("agent: write the host key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}
