package remote

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// MaxKnownHostsSize bounds a known_hosts file KnownHostsFile reads.
const MaxKnownHostsSize = 4 << 20

// KnownHostsFile is the HostKeySource of an OpenSSH known_hosts file, such
// as the one hop known-hosts prints from the directory (sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"). A line applies to the host when one of its comma-separated
// patterns names it and no negated pattern (!pattern) does. Patterns are
// host names (compared ignoring case, with * and ? wildcards), [host]:port,
// and hashed names (|1|salt|hash, HMAC-SHA1). Unlike OpenSSH, a plain name
// applies whatever the port, because hop known-hosts names hosts without
// one; [host]:port applies only to Port (to any port when Port is 0).
// Lines marked @revoked remove their key; @cert-authority lines and keys of
// unknown algorithms are skipped.
type KnownHostsFile struct {
	Path string
	Port int
}

// Keys implements HostKeySource.
func (k KnownHostsFile) Keys(_ context.Context, fqdn string) ([]ssh.PublicKey, error) {
	b, err := k.read()
	if err != nil {
		return nil, err
	}
	return parseKnownHosts(b, fqdn, k.Port), nil
}

// read reads the file, at most MaxKnownHostsSize bytes.
func (k KnownHostsFile) read() ([]byte, error) {
	f, err := os.Open(k.Path)
	if err != nil {
		return nil, fmt.Errorf("the known_hosts file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKnownHostsSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the known_hosts file %s: %w", k.Path, err)
	}
	if len(b) > MaxKnownHostsSize {
		return nil, fmt.Errorf("the known_hosts file %s is larger than %d bytes", k.Path, MaxKnownHostsSize)
	}
	return b, nil
}

// parseKnownHosts returns the keys of data's lines that apply to host on
// port (0: any), without the revoked ones, at most MaxHostKeys.
func parseKnownHosts(data []byte, host string, port int) []ssh.PublicKey {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var keys, revoked []ssh.PublicKey
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 || bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
		if err != nil || key == nil || marker == "cert-authority" || !hostsMatch(hosts, host, port) {
			continue
		}
		if marker == "revoked" {
			revoked = append(revoked, key)
			continue
		}
		if len(keys) < MaxHostKeys {
			keys = append(keys, key)
		}
	}
	out := keys[:0]
	for _, k := range keys {
		bad := false
		for _, r := range revoked {
			bad = bad || bytes.Equal(k.Marshal(), r.Marshal())
		}
		if !bad {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// hostsMatch says whether a known_hosts line's patterns apply to host.
func hostsMatch(patterns []string, host string, port int) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if patternMatches(p, host, port) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

func patternMatches(p, host string, port int) bool {
	if strings.HasPrefix(p, "|1|") {
		return hashedMatches(p, host, port)
	}
	if strings.HasPrefix(p, "[") {
		h, ps, ok := strings.Cut(p[1:], "]:")
		if !ok {
			return false
		}
		n, err := strconv.Atoi(ps)
		if err != nil || (port != 0 && n != port) {
			return false
		}
		p = h
	}
	return wildcard(strings.ToLower(p), host)
}

// hashedMatches checks a |1|salt|hash name (OpenSSH HashKnownHosts) against
// host and, with a port, [host]:port.
func hashedMatches(p, host string, port int) bool {
	parts := strings.Split(p[3:], "|")
	if len(parts) != 2 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[0])
	sum, err2 := base64.StdEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	names := []string{host}
	if port != 0 {
		names = append(names, "["+host+"]:"+strconv.Itoa(port))
	}
	for _, n := range names {
		m := hmac.New(sha1.New, salt)
		m.Write([]byte(n))
		if hmac.Equal(m.Sum(nil), sum) {
			return true
		}
	}
	return false
}

// wildcard matches s against a pattern with * (any run) and ? (any one
// byte), in time linear in len(p)*len(s) at worst.
func wildcard(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
