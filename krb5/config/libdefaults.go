package config

import (
	"fmt"
	"time"
)

// MIT's defaults for the [libdefaults] settings read here.
const (
	DefaultTicketLifetime     = 24 * time.Hour // ticket_lifetime
	DefaultUDPPreferenceLimit = 1465           // udp_preference_limit
	// MaxUDPPreferenceLimit is the largest udp_preference_limit MIT uses;
	// larger values are lowered to it.
	MaxUDPPreferenceLimit = 32700
	// DefaultKCMSocket is kcm_socket's default in MIT 1.20 on Linux, the
	// path Heimdal's library has built in.
	DefaultKCMSocket = "/var/run/.heim_org.h5l.kcm-socket"
)

// DefaultRealm returns [libdefaults] default_realm. hop does not look the
// realm up in DNS when it is not set.
func (c *Config) DefaultRealm() (string, bool) {
	r, ok := c.Value("libdefaults", "default_realm")
	return r, ok && r != ""
}

// LibDefault returns a [libdefaults] setting as MIT's
// krb5int_libdefault_string reads the per-realm ones: from the subsection
// named after realm first ("[libdefaults] EXAMPLE.TEST = { forwardable =
// true }"), then from [libdefaults] itself. An empty realm reads
// [libdefaults] only.
func (c *Config) LibDefault(realm, tag string) (string, bool) {
	if realm != "" {
		if v, ok := c.Value("libdefaults", realm, tag); ok {
			return v, true
		}
	}
	return c.Value("libdefaults", tag)
}

// lifetime reads a per-realm duration setting.
func (c *Config) lifetime(realm, tag string, def time.Duration) (time.Duration, error) {
	s, ok := c.LibDefault(realm, tag)
	if !ok {
		return def, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("config: [libdefaults] %s: %w", tag, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("config: [libdefaults] %s: %q is negative", tag, s)
	}
	return d, nil
}

// TicketLifetime returns ticket_lifetime for initial tickets of realm
// (per-realm as LibDefault; default one day). A value MIT cannot parse is
// an error, as it makes kinit fail; so is a negative one.
func (c *Config) TicketLifetime(realm string) (time.Duration, error) {
	return c.lifetime(realm, "ticket_lifetime", DefaultTicketLifetime)
}

// RenewLifetime returns renew_lifetime for initial tickets of realm
// (per-realm; default 0: no renewable tickets asked for).
func (c *Config) RenewLifetime(realm string) (time.Duration, error) {
	return c.lifetime(realm, "renew_lifetime", 0)
}

// Forwardable returns forwardable for initial tickets of realm (per-realm;
// default false). As in MIT (krb5int_libdefault_boolean), a value that is
// not a known true word is false.
func (c *Config) Forwardable(realm string) bool {
	s, ok := c.LibDefault(realm, "forwardable")
	if !ok {
		return false
	}
	v, err := ParseBool(s)
	return err == nil && v
}

// RDNS returns rdns: whether host names are canonicalized with reverse
// lookups too (default true; an unparsable value is the default, as in MIT).
func (c *Config) RDNS() bool {
	s, ok := c.Value("libdefaults", "rdns")
	if !ok {
		return true
	}
	v, err := ParseBool(s)
	if err != nil {
		return true
	}
	return v
}

// DNSCanon is the value of dns_canonicalize_hostname.
type DNSCanon int

const (
	// DNSCanonTrue: canonicalize host names with DNS (MIT's default).
	DNSCanonTrue DNSCanon = iota
	// DNSCanonFalse: use host names as given.
	DNSCanonFalse
	// DNSCanonFallback: use the name as given, and canonicalize with DNS
	// only if the KDC does not know that name (MIT 1.18 and later).
	DNSCanonFallback
)

func (d DNSCanon) String() string {
	switch d {
	case DNSCanonTrue:
		return "true"
	case DNSCanonFalse:
		return "false"
	case DNSCanonFallback:
		return "fallback"
	}
	return fmt.Sprintf("DNSCanon(%d)", int(d))
}

// DNSCanonicalizeHostname returns dns_canonicalize_hostname (default true).
// A value that is neither a boolean nor "fallback" is an error, as it makes
// MIT's krb5_init_context fail.
func (c *Config) DNSCanonicalizeHostname() (DNSCanon, error) {
	s, ok := c.Value("libdefaults", "dns_canonicalize_hostname")
	if !ok {
		return DNSCanonTrue, nil
	}
	if v, err := ParseBool(s); err == nil {
		if v {
			return DNSCanonTrue, nil
		}
		return DNSCanonFalse, nil
	}
	if asciiEqualFold(s, "fallback") {
		return DNSCanonFallback, nil
	}
	return 0, fmt.Errorf("config: [libdefaults] dns_canonicalize_hostname: %q is not true, false or fallback", s)
}

// UDPPreferenceLimit returns udp_preference_limit: requests up to this many
// bytes go over UDP first, larger ones over TCP first (default 1465; a
// negative value is the default and values above MaxUDPPreferenceLimit are
// lowered to it, as in MIT). A value that is not an integer is an error.
func (c *Config) UDPPreferenceLimit() (int, error) {
	s, ok := c.Value("libdefaults", "udp_preference_limit")
	if !ok {
		return DefaultUDPPreferenceLimit, nil
	}
	n, err := parseInt(s)
	if err != nil {
		return 0, fmt.Errorf("config: [libdefaults] udp_preference_limit: %w", err)
	}
	switch {
	case n < 0:
		return DefaultUDPPreferenceLimit, nil
	case n > MaxUDPPreferenceLimit:
		return MaxUDPPreferenceLimit, nil
	}
	return n, nil
}

// DefaultCCacheName returns default_ccache_name as written, before the
// expansion of its %{...} parameters (see CCacheName).
func (c *Config) DefaultCCacheName() (string, bool) {
	return c.Value("libdefaults", "default_ccache_name")
}

// KCMSocket returns kcm_socket: the unix socket of the KCM server that
// holds KCM: credential caches (default DefaultKCMSocket). MIT reads it
// as written, without parameter expansion.
func (c *Config) KCMSocket() string {
	if s, ok := c.Value("libdefaults", "kcm_socket"); ok && s != "" {
		return s
	}
	return DefaultKCMSocket
}
