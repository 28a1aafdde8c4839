package remote

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
)

// HostKeySource gives the SSH host keys a host may present: the keys
// registered for it, never what the host itself claims.
type HostKeySource interface {
	// Keys returns the keys registered for the host named fqdn; none is
	// not an error (Dial then refuses to connect).
	Keys(ctx context.Context, fqdn string) ([]ssh.PublicKey, error)
}

// HostKeyLister reads a host's registered SSH host keys, one
// authorized_keys-format line each ("ssh-ed25519 AAAA… comment"), as
// hop/admin.Client.HostKeys does.
type HostKeyLister interface {
	HostKeys(ctx context.Context, host string) ([]string, error)
}

// DirectoryHostKeys is the HostKeySource of the directory: the keys that
// hop host join registered for the host, read through the admin API.
type DirectoryHostKeys struct {
	Directory HostKeyLister
}

// MaxHostKeys bounds how many keys a HostKeySource's answer may hold.
const MaxHostKeys = 64

// Keys implements HostKeySource.
func (d DirectoryHostKeys) Keys(ctx context.Context, fqdn string) ([]ssh.PublicKey, error) {
	if d.Directory == nil {
		return nil, fmt.Errorf("remote: DirectoryHostKeys without a directory")
	}
	lines, err := d.Directory.HostKeys(ctx, fqdn)
	if err != nil {
		return nil, fmt.Errorf("reading the SSH host keys of %s from the directory: %w", fqdn, err)
	}
	if len(lines) > MaxHostKeys {
		return nil, fmt.Errorf("the directory holds %d SSH host keys for %s, more than %d", len(lines), fqdn, MaxHostKeys)
	}
	var keys []ssh.PublicKey
	for _, l := range lines {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(l))
		if err != nil {
			// A line this client cannot read (an algorithm it does not
			// know) cannot match either; the others still may.
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Fingerprint is the SHA-256 fingerprint of key as OpenSSH prints it
// ("SHA256:…", unpadded base64).
func Fingerprint(key ssh.PublicKey) string { return ssh.FingerprintSHA256(key) }

// HostKeyError refuses a host whose SSH host key is not one registered for
// it.
type HostKeyError struct {
	Host       string
	Presented  ssh.PublicKey
	Registered []ssh.PublicKey
	// Source names where the registered keys come from ("the directory",
	// "/home/alice/.ssh/known_hosts_hop").
	Source string
}

func (e *HostKeyError) Error() string {
	fps := make([]string, len(e.Registered))
	for i, k := range e.Registered {
		fps[i] = Fingerprint(k)
	}
	src := e.Source
	if src == "" {
		src = "the directory"
	}
	return fmt.Sprintf("the SSH host key of %s (%s) is not the one registered in %s (%s): the host may have been re-installed (re-join it: hop host join) or someone is in the middle; not connecting",
		e.Host, Fingerprint(e.Presented), src, strings.Join(fps, ", "))
}

// hostKeyCallback accepts exactly the keys in registered.
func hostKeyCallback(host, source string, registered []ssh.PublicKey) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		m := key.Marshal()
		for _, r := range registered {
			if bytes.Equal(m, r.Marshal()) {
				return nil
			}
		}
		return &HostKeyError{Host: host, Presented: key, Registered: registered, Source: source}
	}
}

// hostKeyAlgorithms are the host key signature algorithms that can
// verify with one of keys, so that the agent presents a registered key when
// it has one.
func hostKeyAlgorithms(keys []ssh.PublicKey) []string {
	var algs []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algs = append(algs, a)
		}
	}
	for _, k := range keys {
		switch t := k.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		default:
			add(t)
		}
	}
	return algs
}
