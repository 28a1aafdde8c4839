package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Short host names. A joined host has the computer account named after
// its first label (b$ for b.example.test), with the SPNs host/<fqdn> and
// host/<short>, and hop known-hosts names it "b.example.test,b". A client
// given "b" resolves it the same way, to the DNS name registered for that
// account, and then does everything with the DNS name: the registered host
// keys, the service ticket (host/b.example.test) and agent_address.

// HostResolver is an optional capability of a HostKeySource: the DNS name
// registered for the host whose short name (first label) is short.
type HostResolver interface {
	ResolveHost(ctx context.Context, short string) (fqdn string, err error)
}

// HostNamer is an optional capability of a HostKeyLister: the DNS name of
// the computer account named short+"$", "" when there is none, as
// hop/admin's Account gives it.
type HostNamer interface {
	HostName(ctx context.Context, short string) (string, error)
}

// ResolveHost returns host ("b", "b:2222" or "b.example.test") with a
// short name replaced by the DNS name src resolves it to, the port kept.
// A name with a dot is returned as SplitHost canonicalises it.
func ResolveHost(ctx context.Context, src HostKeySource, host string) (string, error) {
	name, port, err := SplitHost(host)
	if err != nil {
		return "", err
	}
	if strings.Contains(name, ".") {
		return joinPort(name, port), nil
	}
	r, ok := src.(HostResolver)
	if !ok {
		return "", &Error{Host: name, Msg: "give the host's DNS name (e.g. " + name + ".example.test): " + sourceName(src) + " cannot resolve a short name"}
	}
	fqdn, err := r.ResolveHost(ctx, name)
	if err != nil {
		return "", &Error{Host: name, Msg: "cannot resolve the short name: " + err.Error() + unreachableHint(err), Err: err}
	}
	fqdn, _, err = SplitHost(fqdn)
	if err != nil || !strings.HasPrefix(fqdn, name+".") {
		return "", &Error{Host: name, Msg: fmt.Sprintf("%s resolves it to %q, which is not a DNS name starting with %s.", sourceName(src), fqdn, name)}
	}
	return joinPort(fqdn, port), nil
}

func joinPort(name string, port int) string {
	if port == 0 {
		return name
	}
	return net.JoinHostPort(name, strconv.Itoa(port))
}

// ResolveHost implements HostResolver through the directory's computer
// accounts (Directory must be a HostNamer).
func (d DirectoryHostKeys) ResolveHost(ctx context.Context, short string) (string, error) {
	n, ok := d.Directory.(HostNamer)
	if !ok {
		return "", fmt.Errorf("give the host's DNS name (e.g. %s.example.test)", short)
	}
	fqdn, err := n.HostName(ctx, short)
	if err != nil {
		return "", fmt.Errorf("reading the computer account %s$ from the directory: %w", short, err)
	}
	if fqdn == "" {
		return "", fmt.Errorf("the directory has no joined host named %s (no computer account %s$ with a DNS name): check the name, or give the host's DNS name", short, short)
	}
	return fqdn, nil
}

// ResolveHost implements HostResolver: the DNS name on the file's lines
// for short, as hop known-hosts writes them ("b.example.test,b"): a plain
// pattern of a line that applies to short whose first label is short.
func (k KnownHostsFile) ResolveHost(_ context.Context, short string) (string, error) {
	b, err := k.read()
	if err != nil {
		return "", err
	}
	names := knownHostNames(b, short)
	switch len(names) {
	case 0:
		return "", fmt.Errorf("no line of %s names %s with its DNS name (as hop known-hosts writes it: b.example.test,b); give the host's DNS name", k.Path, short)
	case 1:
		return names[0], nil
	}
	return "", fmt.Errorf("%s names several hosts %s: %s; give the DNS name", k.Path, short, strings.Join(names, ", "))
}

// knownHostNames returns the DNS names (short.…) on data's lines that
// apply to short, each once, at most MaxHostKeys.
func knownHostNames(data []byte, short string) []string {
	short = strings.ToLower(short)
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if len(names) >= MaxHostKeys {
			break
		}
		_, hosts, _, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil || !hostsMatch(hosts, short, 0) {
			continue
		}
		for _, p := range hosts {
			p = strings.ToLower(p)
			if h, _, ok := strings.Cut(strings.TrimPrefix(p, "["), "]:"); ok && strings.HasPrefix(p, "[") {
				p = h
			}
			if strings.HasPrefix(p, short+".") && !strings.ContainsAny(p, "*?[]!|") {
				if !slices.Contains(names, p) {
					names = append(names, p)
				}
			}
		}
	}
	return names
}

// unreachableHint is what to do when err is that the directory cannot be
// reached.
func unreachableHint(err error) string {
	if errors.As(err, new(*UnreachableError)) {
		return "; give --known-hosts FILE (hop known-hosts > FILE writes one where the directory can be reached)"
	}
	return ""
}
