package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Default ports of the servers a realm lists in [realms].
const (
	KDCPort     = 88  // RFC 4120 §7.2.3
	KadminPort  = 749 // MIT's kadmind
	KPasswdPort = 464 // RFC 3244
)

// Realms returns the realms that [realms] describes.
func (c *Config) Realms() []string {
	return c.Subsections("realms")
}

// KDCs returns the KDCs of realm from "kdc" in [realms], as addresses for
// net.Dial: "host:port", "[v6addr]:port", port 88 when not given. A realm
// with no kdc entry has none (hop does not look KDCs up in DNS). An entry
// hop cannot use is an error, as an entry MIT cannot parse makes MIT's
// lookup fail: see parseServer.
func (c *Config) KDCs(realm string) ([]string, error) {
	return c.servers(realm, "kdc", KDCPort)
}

// PrimaryKDCs returns primary_kdc of realm, or master_kdc (its name before
// MIT 1.19) when there is no primary_kdc, as KDCs does.
func (c *Config) PrimaryKDCs(realm string) ([]string, error) {
	if len(c.Values("realms", realm, "primary_kdc")) > 0 {
		return c.servers(realm, "primary_kdc", KDCPort)
	}
	return c.servers(realm, "master_kdc", KDCPort)
}

// AdminServers returns admin_server of realm (kadmind; port 749 when not
// given), as KDCs does.
func (c *Config) AdminServers(realm string) ([]string, error) {
	return c.servers(realm, "admin_server", KadminPort)
}

// KPasswdServers returns the password-change servers of realm: the
// kpasswd_server entries (port 464 when not given), or, when there are none,
// the admin_server hosts on port 464 whatever port admin_server names (MIT's
// locate_kpasswd; hop does not query DNS in between).
func (c *Config) KPasswdServers(realm string) ([]string, error) {
	if len(c.Values("realms", realm, "kpasswd_server")) > 0 {
		return c.servers(realm, "kpasswd_server", KPasswdPort)
	}
	admins, err := c.AdminServers(realm)
	if err != nil {
		return nil, err
	}
	for i, a := range admins {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		admins[i] = net.JoinHostPort(host, strconv.Itoa(KPasswdPort))
	}
	return admins, nil
}

func (c *Config) servers(realm, tag string, defPort int) ([]string, error) {
	var out []string
	for _, v := range c.Values("realms", realm, tag) {
		addr, err := parseServer(v, defPort)
		if err != nil {
			return nil, fmt.Errorf("config: [realms] %s: %s = %s: %w", realm, tag, v, err)
		}
		out = append(out, addr)
	}
	return out, nil
}

// parseServer parses a server entry as MIT's locate_srv_conf_1 and
// k5_parse_host_string do: "host" or "host:port", where the host ends at
// the first ':', space or tab (so "kdc = a b" names a alone), or
// "[address]" and "[address]:port" for IPv6. It returns "host:port" for
// net.Dial. MS-KKDCP URLs ("https://...") and UNIX socket paths ("/...")
// are valid for MIT but hop speaks neither: they are errors, as are a bare
// port, an empty host and port 0.
func parseServer(spec string, defPort int) (string, error) {
	switch {
	case strings.HasPrefix(spec, "/"):
		return "", errors.New("a UNIX socket path: hop reaches servers over UDP and TCP only")
	case strings.HasPrefix(spec, "https://"):
		return "", errors.New("an MS-KKDCP (HTTPS) proxy: hop does not speak MS-KKDCP; name the server's host:port")
	case spec == "" || spec[0] == ':':
		return "", errors.New("no host")
	}
	var host, port string
	hasPort := false
	if allDigits(spec) {
		return "", errors.New("a port without a host")
	}
	if end := strings.IndexByte(spec, ']'); spec[0] == '[' && end > 0 {
		host = spec[1:end]
		if rest := spec[end+1:]; strings.HasPrefix(rest, ":") {
			port, hasPort = rest[1:], true
		}
	} else {
		n := strings.IndexAny(spec, " \t:")
		if n < 0 {
			n = len(spec)
		}
		host = spec[:n]
		if n < len(spec) && spec[n] == ':' {
			port, hasPort = spec[n+1:], true
		}
	}
	if host == "" {
		return "", errors.New("no host")
	}
	p := defPort
	if hasPort {
		// strtoul in base 10: leading blanks and a '+' are accepted.
		digits := strings.TrimPrefix(skipBlanks(port), "+")
		if !allDigits(digits) {
			return "", fmt.Errorf("bad port %q", port)
		}
		n, err := strconv.ParseUint(digits, 10, 16)
		if err != nil || n == 0 {
			return "", fmt.Errorf("bad port %q", port)
		}
		p = int(n)
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanHost is MIT's clean_hostname: lower case, no trailing dot.
func cleanHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// isNumericAddress is MIT's k5_is_numeric_address: digits and exactly
// three dots (IPv4), or any colon (IPv6).
func isNumericAddress(host string) bool {
	if strings.IndexByte(host, ':') >= 0 {
		return true
	}
	if strings.Trim(host, "0123456789.") != "" {
		return false
	}
	return strings.Count(host, ".") == 3
}

// HostRealm returns the realm that [domain_realm] maps host to, as MIT's
// profile host-realm module does: for the host a.b.c it tries the tags
// "a.b.c", ".b.c", "b.c", ".c" and "c" in that order and takes the first
// that is set, so an exact name wins over a domain and a longer domain over
// a shorter one, and ".b.c" applies to the hosts under b.c but not to b.c
// itself. The host is lowered and loses a trailing dot first; IP addresses
// are never mapped. ok is false when no tag applies (MIT then asks the KDC
// for a referral).
func (c *Config) HostRealm(host string) (realm string, ok bool) {
	h := cleanHost(host)
	if h == "" || isNumericAddress(h) {
		return "", false
	}
	for p := h; ; {
		if r, ok := c.Value("domain_realm", p); ok {
			return r, true
		}
		if p[0] == '.' {
			p = p[1:]
		} else if i := strings.IndexByte(p, '.'); i >= 0 {
			p = p[i:]
		} else {
			return "", false
		}
		if p == "" {
			return "", false
		}
	}
}

// RealmOf returns the realm of host: HostRealm's mapping, else MIT's
// fallback (hostrealm_domain.c) without DNS: when [libdefaults]
// realm_try_domains is n >= 0, the first of the host name and its n parent
// domains, upper-cased, for which [realms] lists KDCs; else the host's
// domain (the name after its first dot) upper-cased; for a name without a
// dot or an IP address, the default realm. It is an error when none of
// these applies, or realm_try_domains is not an integer.
func (c *Config) RealmOf(host string) (string, error) {
	if r, ok := c.HostRealm(host); ok {
		return r, nil
	}
	h := cleanHost(host)
	if h == "" {
		return "", errors.New("config: RealmOf: empty host name")
	}
	if !isNumericAddress(h) {
		upper := strings.ToUpper(h)
		limit := -1
		if s, ok := c.Value("libdefaults", "realm_try_domains"); ok {
			n, err := parseInt(s)
			if err != nil {
				return "", fmt.Errorf("config: [libdefaults] realm_try_domains: %w", err)
			}
			limit = n
		}
		suffix := upper
		for ; limit >= 0; limit-- {
			dot := strings.IndexByte(suffix, '.')
			if dot < 0 {
				break
			}
			if kdcs, err := c.KDCs(suffix); err == nil && len(kdcs) > 0 {
				return suffix, nil
			}
			suffix = suffix[dot+1:]
		}
		if dot := strings.IndexByte(upper, '.'); dot >= 0 {
			return upper[dot+1:], nil
		}
	}
	if r, ok := c.DefaultRealm(); ok {
		return r, nil
	}
	return "", fmt.Errorf("config: no realm for host %q: map it in [domain_realm] or set [libdefaults] default_realm", host)
}
