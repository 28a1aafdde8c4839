package config

// HopSection is the section of krb5.conf that holds hop's own settings. MIT
// and Heimdal ignore it.
const HopSection = "hop"

// Hop returns the first value of key in [hop].
func (c *Config) Hop(key string) (string, bool) {
	return c.Value(HopSection, key)
}

// HopRealm returns the value of key for realm: from the subsection of [hop]
// named after the realm first, then from [hop] itself, the way per-realm
// [libdefaults] settings are read:
//
//	[hop]
//		admin_url = https://kdc.example.test:8443
//		OTHER.TEST = {
//			admin_url = https://kdc.other.test:8443
//		}
func (c *Config) HopRealm(realm, key string) (string, bool) {
	if realm != "" {
		if v, ok := c.Value(HopSection, realm, key); ok {
			return v, true
		}
	}
	return c.Hop(key)
}

// HopValues returns every value of key in [hop] (a repeated setting).
func (c *Config) HopValues(key string) []string {
	return c.Values(HopSection, key)
}
