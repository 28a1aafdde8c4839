package ccache

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"hop/krb5"
)

// Address is a client address in a credential (RFC 4120 §5.2.5).
type Address struct {
	Type uint16
	Data []byte
}

// AuthData is an authorization-data element of a credential (RFC 4120 §5.2.6).
type AuthData struct {
	Type uint16
	Data []byte
}

// Credential is a ticket with its session key, or an MIT configuration
// entry (see IsConfig).
type Credential struct {
	Client, Server krb5.Principal
	KeyType        krb5.EncType
	Key            []byte // session key; never printed

	AuthTime, StartTime, EndTime, RenewTill time.Time // zero: absent

	IsSKey       bool // the ticket is encrypted in another ticket's session key (ENC-TKT-IN-SKEY)
	Flags        krb5.Flags
	Addresses    []Address
	AuthData     []AuthData
	Ticket       []byte // DER Ticket (or a configuration value); never printed
	SecondTicket []byte
}

// ConfigRealm and ConfigName mark MIT's configuration entries: their
// server principal is ConfigName/key[/principal]@ConfigRealm.
const (
	ConfigRealm krb5.Realm = "X-CACHECONF:"
	ConfigName             = "krb5_ccache_conf_data"
)

// IsConfig reports whether c is an MIT configuration entry rather than a
// ticket. The realm comparison is exact, as MIT's is.
func (c *Credential) IsConfig() bool {
	return c.Server.Realm == ConfigRealm && len(c.Server.Name.Components) >= 2 &&
		c.Server.Name.Components[0] == ConfigName
}

// String describes the credential without its key or ticket, e.g.
// "alice@EXAMPLE.TEST -> krbtgt/EXAMPLE.TEST@EXAMPLE.TEST aes256-cts-hmac-sha1-96
// [forwardable,initial] until 2024-01-02T03:04:05Z", or for a configuration
// entry "config fast_avail(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST)".
func (c Credential) String() string {
	if c.IsConfig() {
		comps := c.Server.Name.Components
		s := "config " + comps[1]
		if len(comps) > 2 {
			s += "(" + strings.Join(comps[2:], "/") + ")"
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s %s [%s]", c.Client, c.Server, c.KeyType, krb5.TicketFlagString(c.Flags))
	if !c.EndTime.IsZero() {
		b.WriteString(" until ")
		b.WriteString(c.EndTime.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Cache is the content of a credential cache file.
type Cache struct {
	// Version is the file format version, 3 or 4. Parse sets it; Marshal
	// writes version 4 when it is 0.
	Version int
	// TimeOffset is the KDC's clock minus the client's, from the version 4
	// header's deltatime field; HasTimeOffset says whether the field is
	// (to be) present. MIT writes it when it has measured the offset.
	TimeOffset    time.Duration
	HasTimeOffset bool
	Default       krb5.Principal // the cache's owner
	Credentials   []Credential   // in file order, configuration entries included
}

func samePrincipal(a, b krb5.Principal) bool {
	return a.Name.Equal(b.Name) && a.Realm.Equal(b.Realm)
}

// Add stores cred, replacing any credentials for the same server principal
// (components equal, realm ignoring case); the first one is replaced in
// place and any others are removed. Otherwise cred is appended.
func (c *Cache) Add(cred Credential) {
	out := c.Credentials[:0]
	replaced := false
	for _, old := range c.Credentials {
		if samePrincipal(old.Server, cred.Server) {
			if replaced {
				continue
			}
			old, replaced = cred, true
		}
		out = append(out, old)
	}
	clear(c.Credentials[len(out):]) // drop references to removed credentials
	c.Credentials = out
	if !replaced {
		c.Credentials = append(c.Credentials, cred)
	}
}

// Find returns a copy of the last credential (the most recently added, as
// MIT appends) whose server principal is server: components equal, realm
// ignoring case. The copy shares its byte slices with the cache.
func (c *Cache) Find(server krb5.Principal) (*Credential, bool) {
	for i := len(c.Credentials) - 1; i >= 0; i-- {
		if samePrincipal(c.Credentials[i].Server, server) {
			found := c.Credentials[i]
			return &found, true
		}
	}
	return nil, false
}

// configServer is the server principal of the configuration entry for key,
// associated with principal p unless p is zero.
func configServer(key string, p krb5.Principal) krb5.Principal {
	comps := []string{ConfigName, key}
	if !p.Name.IsZero() {
		comps = append(comps, p.String())
	}
	return krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, comps...), Realm: ConfigRealm}
}

// Config returns the value of the configuration entry key, associated with
// principal p (zero for none), as MIT's krb5_cc_get_config does.
func (c *Cache) Config(key string, p krb5.Principal) ([]byte, bool) {
	server := configServer(key, p)
	for i := len(c.Credentials) - 1; i >= 0; i-- {
		cr := &c.Credentials[i]
		if cr.IsConfig() && cr.Server.Name.Equal(server.Name) {
			return bytes.Clone(cr.Ticket), true
		}
	}
	return nil, false
}

// SetConfig stores value under the configuration key, associated with
// principal p (zero for none), as MIT's krb5_cc_set_config does: the client
// is the default principal and every other field is zero. A nil value
// removes the entry.
func (c *Cache) SetConfig(key string, p krb5.Principal, value []byte) {
	server := configServer(key, p)
	if value == nil {
		out := c.Credentials[:0]
		for _, cr := range c.Credentials {
			if !(cr.IsConfig() && cr.Server.Name.Equal(server.Name)) {
				out = append(out, cr)
			}
		}
		clear(c.Credentials[len(out):])
		c.Credentials = out
		return
	}
	c.Add(Credential{Client: c.Default, Server: server, Ticket: bytes.Clone(value)})
}
