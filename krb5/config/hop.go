package config

import (
	"fmt"
	"strconv"
)

// HopSection is the section of krb5.conf that holds hop's own settings. MIT
// and Heimdal ignore it.
const HopSection = "hop"

// The keys of [hop]. HopSettings is their one reader.
const (
	hopAdminURL     = "admin_url"
	hopAdminTLSPin  = "admin_tls_pin"
	hopAdminAddress = "admin_address"
	hopAgentPort    = "agent_port"
	hopAgentAddress = "agent_address"
	hopAllowHop     = "allow_hop"
	hopAllowFresh   = "allow_fresh_credentials"
	hopRestrict     = "restrict_delegation"
)

// HopSettings are hop's settings for one realm, from krb5.conf's [hop]
// section. Each is read from the subsection of [hop] named after the realm
// first, then from [hop] itself, the way per-realm [libdefaults] settings
// are read:
//
//	[hop]
//		admin_url = https://kdc.example.test:8443
//		admin_tls_pin = sha256//BASE64
//		admin_address = {
//			kdc.example.test = 127.0.0.1
//		}
//		agent_port = 2222
//		allow_hop = cifs/*.example.test,host/*.example.test
//		agent_address = {
//			b.example.test = 127.0.0.2:2222
//		}
//		OTHER.TEST = {
//			admin_url = https://kdc.other.test:8443
//		}
//
// A setting that is absent is "".
type HopSettings struct {
	// AdminURL is the admin server's URL (admin_url), for hop's directory
	// commands, host-key lookups and the agent's group resolution.
	AdminURL string
	// AdminTLSPin pins the admin server's TLS key (admin_tls_pin), in
	// curl's --pinnedpubkey format: sha256//BASE64.
	AdminTLSPin string
	// AgentPort is the agents' TCP port as written (agent_port); see
	// AgentPortNumber.
	AgentPort string
	// AllowHop is the default of hop exec --allow-hop (allow_hop): the
	// services the client serves tickets for in mode remote-guard, comma
	// separated patterns.
	AllowHop string
	// AllowFreshCredentials are the hosts hop exec --delegate credssp may
	// send the user's password to (allow_fresh_credentials; the
	// counterpart of the Group Policy "Allow delegating fresh
	// credentials"): comma-separated host/NAME patterns. Empty: none.
	AllowFreshCredentials string
	// RestrictDelegation is this client's "Restrict delegation of
	// credentials to remote servers" (restrict_delegation): off,
	// prefer-remote-guard, require-remote-guard or
	// require-restricted-admin; it can only make the domain's stricter.
	RestrictDelegation string

	cfg   *Config
	realm string
}

// HopSettings returns hop's settings for realm ("" for [hop] alone).
func (c *Config) HopSettings(realm string) HopSettings {
	s := HopSettings{cfg: c, realm: realm}
	s.AdminURL, _ = c.hopValue(realm, hopAdminURL)
	s.AdminTLSPin, _ = c.hopValue(realm, hopAdminTLSPin)
	s.AgentPort, _ = c.hopValue(realm, hopAgentPort)
	s.AllowHop, _ = c.hopValue(realm, hopAllowHop)
	s.AllowFreshCredentials, _ = c.hopValue(realm, hopAllowFresh)
	s.RestrictDelegation, _ = c.hopValue(realm, hopRestrict)
	return s
}

// AgentPortNumber returns agent_port as a port number, 0 when it is not
// set.
func (s HopSettings) AgentPortNumber() (int, error) {
	if s.AgentPort == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s.AgentPort)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("agent_port %q in krb5.conf's [hop] section is not a port number", s.AgentPort)
	}
	return n, nil
}

// AgentAddress returns the address to connect to for the agent of the
// host named fqdn (agent_address = { FQDN = ADDRESS }), if one is set.
func (s HopSettings) AgentAddress(fqdn string) (string, bool) {
	return s.cfg.hopValue(s.realm, hopAgentAddress, fqdn)
}

// AdminAddress returns the address (without a port) to connect to for
// the admin server named host, instead of resolving the name
// (admin_address = { HOST = ADDRESS }), if one is set: for an admin_url
// whose name is not in DNS. The port is the URL's.
func (s HopSettings) AdminAddress(host string) (string, bool) {
	return s.cfg.hopValue(s.realm, hopAdminAddress, host)
}

// hopValue returns the value at path (a key, or a subsection and a key)
// for realm: from the subsection of [hop] named after the realm first,
// then from [hop] itself.
func (c *Config) hopValue(realm string, path ...string) (string, bool) {
	if realm != "" {
		if v, ok := c.Value(append([]string{HopSection, realm}, path...)...); ok {
			return v, true
		}
	}
	return c.Value(append([]string{HopSection}, path...)...)
}
