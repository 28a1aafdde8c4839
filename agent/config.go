package agent

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"hop/krb5"
	"hop/remoting"
	"hop/sid"
)

// Defaults of the agent configuration.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxSessions = 64
	// DefaultMaxSessionsPerUser is max_sessions_per_user when the
	// configuration leaves it out (at most max_sessions).
	DefaultMaxSessionsPerUser = 16
	DefaultMaxConnections     = 128
	DefaultMaxAuthTries       = 6
	// DefaultMaxStartups is max_startups when the configuration leaves it
	// out (at most half of max_connections).
	DefaultMaxStartups = 32
	// DefaultMaxStartupsPerSource is max_startups_per_source when the
	// configuration leaves it out (at most max_startups).
	DefaultMaxStartupsPerSource = 10
	DefaultClockSkew            = 5 * time.Minute
	DefaultPath                 = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	DefaultListen               = "0.0.0.0:22"
	DefaultKeytab               = "/etc/krb5.keytab"
	DefaultHostKey              = "/etc/hop/ssh_host_ed25519_key"
	DefaultStateDir             = "/var/lib/hop-agent"
	DefaultAuditLog             = "/var/log/hop/agent-audit.log"
	DefaultTranscriptDir        = "/var/log/hop/transcripts"
	DefaultRuntimeDir           = "/run/hop-agent"

	// MaxSessionsPerConnection bounds the session channels open at once on
	// one SSH connection (OpenSSH's MaxSessions default).
	MaxSessionsPerConnection = 10
	// HandshakeTimeout bounds the SSH key exchange and authentication.
	HandshakeTimeout = 10 * time.Second
	// maxConfigSize bounds the configuration file read.
	maxConfigSize = 1 << 20
)

// Endpoint types.
const (
	TypeDefault = "default"
	TypeRunAs   = "runas"
	TypeJEA     = "jea"
)

// DefaultEndpoint is the endpoint of sessions that name none.
const DefaultEndpoint = remoting.DefaultEndpoint

// Duration is a time.Duration written as a Go duration string ("30m").
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write e.g. \"30m\" or \"1h\")", b)
	}
	*d = Duration(v)
	return nil
}

// Config is the agent's configuration (hop agent --config FILE). Zero
// values are the defaults Validate fills in.
type Config struct {
	// Host is the host's fully qualified name; the agent accepts tickets
	// for host/<Host>@Realm only.
	Host string `toml:"host"`
	// Realm defaults to krb5.conf's default_realm.
	Realm string `toml:"realm"`
	// Listen are the addresses served (default 0.0.0.0:22).
	Listen []string `toml:"listen"`
	// Keytab holds host/<Host>'s keys (default /etc/krb5.keytab).
	Keytab string `toml:"keytab"`
	// HostKey is the SSH host key (ed25519, PEM), generated if missing;
	// HostKey+".pub" is written next to it.
	HostKey string `toml:"host_key"`
	// StateDir keeps the group cache (default /var/lib/hop-agent).
	StateDir string `toml:"state_dir"`
	// AuditLog is the hash-chained audit log (default
	// /var/log/hop/agent-audit.log).
	AuditLog string `toml:"audit_log"`
	// AuditMaxSize is the size (bytes) at which the audit log is rotated,
	// AuditMaxFiles how many rotated files are kept (defaults
	// audit.DefaultMaxSize and audit.DefaultMaxFiles; a negative size
	// leaves rotation to logrotate).
	AuditMaxSize  int64 `toml:"audit_max_size"`
	AuditMaxFiles int   `toml:"audit_max_files"`
	// TranscriptDir holds JEA transcripts.
	TranscriptDir string `toml:"transcript_dir"`
	// RuntimeDir holds a folder per default session with its credential
	// broker's KCM socket and krb5.conf (package broker; default
	// /run/hop-agent, made 0755 at start if missing).
	RuntimeDir string `toml:"runtime_dir"`
	// LogonGroups and AdminGroups may log on: group names (resolved
	// through the admin API) or SID strings.
	LogonGroups []string `toml:"logon_groups"`
	AdminGroups []string `toml:"admin_groups"`
	// IdleTimeout closes a session without channel data either way.
	IdleTimeout Duration `toml:"idle_timeout"`
	// MaxSessions bounds the sessions running at once on the agent;
	// MaxSessionsPerUser those of one user (one principal), so that one
	// user cannot take them all (default DefaultMaxSessionsPerUser, at
	// most MaxSessions).
	MaxSessions        int `toml:"max_sessions"`
	MaxSessionsPerUser int `toml:"max_sessions_per_user"`
	// MaxConnections bounds the SSH connections open at once.
	MaxConnections int `toml:"max_connections"`
	// MaxStartups bounds the connections that have not authenticated yet
	// (key exchange and gssapi-with-mic in progress), as OpenSSH's
	// MaxStartups does, but a new connection beyond it takes the place of
	// the one that has waited longest rather than being refused: clients
	// that connect and never authenticate cannot hold every slot and lock
	// everyone out, since a real client authenticates in milliseconds. It
	// must be below MaxConnections (default: DefaultMaxStartups, at most
	// half of MaxConnections).
	MaxStartups int `toml:"max_startups"`
	// MaxStartupsPerSource bounds the unauthenticated connections from one
	// source address, in the same way: a new one from that address takes
	// the place of its longest-waiting one (default
	// DefaultMaxStartupsPerSource, at most MaxStartups).
	MaxStartupsPerSource int `toml:"max_startups_per_source"`
	// MaxAuthTries bounds the authentication attempts per connection.
	MaxAuthTries int `toml:"max_auth_tries"`
	// RefuseServiceAsserted refuses logons with tickets whose PAC carries
	// the SID S-1-18-2 (SERVICE_ASSERTED_IDENTITY): tickets a service got
	// in the user's name by protocol transition (S4U2Self, then S4U2Proxy
	// to host/<Host>) without the user taking part. Default false: allowed,
	// as Windows allows them, and recorded in the session.start audit
	// event. Set it when no service is meant to open sessions in users'
	// names: any service trusted for protocol transition to host/<Host>
	// could otherwise log on here as anyone it chooses.
	RefuseServiceAsserted bool `toml:"refuse_service_asserted"`
	// RestrictedAdmin allows --delegate restricted-admin (the counterpart
	// of Windows' DisableRestrictedAdmin = 0): members of AdminGroups may
	// open sessions that run as RestrictedAdminAccount and reach other
	// hosts as this host, nothing of theirs but the logon reaching it.
	RestrictedAdmin bool `toml:"restricted_admin"`
	// RestrictedAdminAccount is the local administrator account of
	// restricted-admin sessions (default root).
	RestrictedAdminAccount string `toml:"restricted_admin_account"`
	// CredSSP allows --delegate credssp: the user's password comes to
	// this host, which logs the user on with it (fresh credentials).
	CredSSP bool `toml:"credssp"`
	// ClockSkew is the clock skew allowed in authenticators (default 5m).
	ClockSkew Duration `toml:"clock_skew"`
	// Path is the fixed PATH of sessions.
	Path string `toml:"path"`
	// Krb5Conf is the krb5.conf to read (default: KRB5_CONFIG or
	// /etc/krb5.conf) for the default realm, the KDCs and the admin API.
	Krb5Conf string `toml:"krb5_conf"`
	// AdminURL is the admin API that resolves group names (default:
	// krb5.conf's [hop] admin_url).
	AdminURL string `toml:"admin_url"`
	// UserMap maps a principal ("carol@EXAMPLE.TEST") or a user name
	// ("carol") to a local account; default: the principal's user part.
	UserMap map[string]string `toml:"user_map"`

	// Endpoints are the session configurations by name; "default" always
	// exists.
	Endpoints map[string]*Endpoint `toml:"-"`

	// src and file are the text and path the configuration was read from
	// (ParseConfig, LoadConfig), to name a key's line in errors found
	// later (a keytab that cannot be read at start).
	src  []byte
	file string
}

// Endpoint is one session configuration.
type Endpoint struct {
	Name string
	// Type is TypeDefault, TypeRunAs or TypeJEA.
	Type string
	// Groups may use the endpoint (default: the logon and admin groups).
	Groups []string
	// RunAs is the local account of runas and JEA sessions.
	RunAs string
	// Keytab is the RunAs account's keytab (runas).
	Keytab string
	// Delegation lists the delegation modes a client may choose for the
	// endpoint's sessions (hop exec --delegate). Default: every mode for
	// a default endpoint; none for runas and JEA, whose sessions reach
	// other hosts as the endpoint's own identity, never the user's.
	Delegation []remoting.Mode

	jea *jeaEndpoint // TypeJEA only
}

// allows reports whether the endpoint's sessions may run in mode m.
func (e *Endpoint) allows(m remoting.Mode) bool { return slices.Contains(e.Delegation, m) }

// rawConfig is the file's shape: Config's keys plus the endpoint tables,
// decoded by type later.
type rawConfig struct {
	Config
	Endpoints map[string]toml.Primitive `toml:"endpoints"`
}

type endpointHeader struct {
	Type string `toml:"type"`
}

type defaultEndpointTOML struct {
	Type       string   `toml:"type"`
	Groups     []string `toml:"groups"`
	Delegation []string `toml:"delegation"`
}

type runAsEndpointTOML struct {
	Type       string   `toml:"type"`
	Groups     []string `toml:"groups"`
	RunAs      string   `toml:"run_as"`
	Keytab     string   `toml:"keytab"`
	Delegation []string `toml:"delegation"`
}

// delegationModes reads an endpoint's delegation key; nil when absent.
func delegationModes(names []string) ([]remoting.Mode, error) {
	if names == nil {
		return nil, nil
	}
	out := []remoting.Mode{}
	for _, n := range names {
		m, err := remoting.ParseMode(n)
		if err != nil {
			return nil, fmt.Errorf("delegation: %q is not a delegation mode: use %s", n, remoting.ModeNames())
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// LoadConfig reads and validates the configuration file at path. Unknown
// keys are errors that name the key and its line.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("agent: read %s: %w", path, err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	c.file = path
	return c, nil
}

// ParseConfig decodes a configuration (TOML) and validates it.
func ParseConfig(b []byte) (*Config, error) {
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("agent: configuration larger than %d bytes", maxConfigSize)
	}
	var raw rawConfig
	md, err := toml.Decode(string(b), &raw)
	if err != nil {
		return nil, fmt.Errorf("agent: configuration: %v", err)
	}
	c := raw.Config
	c.Endpoints = map[string]*Endpoint{}
	names := make([]string, 0, len(raw.Endpoints))
	for name := range raw.Endpoints {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		prim := raw.Endpoints[name]
		var h endpointHeader
		if err := md.PrimitiveDecode(prim, &h); err != nil {
			return nil, fmt.Errorf("agent: endpoint %q: %v", name, err)
		}
		e := &Endpoint{Name: name, Type: h.Type}
		switch h.Type {
		case TypeDefault:
			var d defaultEndpointTOML
			if err := md.PrimitiveDecode(prim, &d); err != nil {
				return nil, fmt.Errorf("agent: endpoint %q: %v", name, err)
			}
			e.Groups = d.Groups
			if e.Delegation, err = delegationModes(d.Delegation); err != nil {
				return nil, fmt.Errorf("agent: endpoint %q: %v%s", name, err, lineOf(b, "endpoints."+name+".delegation"))
			}
		case TypeRunAs:
			var r runAsEndpointTOML
			if err := md.PrimitiveDecode(prim, &r); err != nil {
				return nil, fmt.Errorf("agent: endpoint %q: %v", name, err)
			}
			e.Groups, e.RunAs, e.Keytab = r.Groups, r.RunAs, r.Keytab
			if e.Delegation, err = delegationModes(r.Delegation); err != nil {
				return nil, fmt.Errorf("agent: endpoint %q: %v%s", name, err, lineOf(b, "endpoints."+name+".delegation"))
			}
		case TypeJEA:
			j, err := decodeJEA(md, prim, name)
			if err != nil {
				return nil, fmt.Errorf("agent: endpoint %q: %w", name, err)
			}
			e.jea = j
			e.RunAs = j.runAs()
		case "":
			return nil, fmt.Errorf("agent: endpoint %q has no type: write type = \"default\", \"runas\" or \"jea\"%s", name, lineOf(b, "endpoints."+name))
		default:
			return nil, fmt.Errorf("agent: endpoint %q has type %q: want \"default\", \"runas\" or \"jea\"%s", name, h.Type, lineOf(b, "endpoints."+name+".type"))
		}
		c.Endpoints[name] = e
	}
	if und := md.Undecoded(); len(und) > 0 {
		var msgs []string
		for _, k := range und {
			msgs = append(msgs, fmt.Sprintf("unknown key %q%s", k.String(), lineOf(b, k.String())))
		}
		return nil, fmt.Errorf("agent: configuration: %s", strings.Join(msgs, "; "))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.src = b
	return &c, nil
}

// where says where the configuration sets the dotted key (see place),
// or that the value is the default when the file does not set it.
func (c *Config) where(key string) string {
	if c.src == nil {
		return c.place("")
	}
	line := lineOf(c.src, key)
	if line == "" {
		return " (the default: set " + key + " in " + c.fileOr() + ")"
	}
	return c.place(line)
}

// place turns lineOf's " on line N" into " (line N of FILE)", " (line
// N)" or " (in FILE)", "" when nothing is known.
func (c *Config) place(line string) string {
	line = strings.TrimPrefix(line, " on ")
	switch {
	case line != "" && c.file != "":
		return " (" + line + " of " + c.file + ")"
	case line != "":
		return " (" + line + ")"
	case c.file != "":
		return " (in " + c.file + ")"
	}
	return ""
}

// joinKey is the dotted key of its parts, those with a dot quoted.
func joinKey(parts []string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = p
		if strings.Contains(p, ".") {
			q[i] = strconv.Quote(p)
		}
	}
	return strings.Join(q, ".")
}

// endpointKey is the dotted key of an endpoint's table (its name quoted
// when it holds a dot).
func endpointKey(name string) string { return joinKey([]string{"endpoints", name}) }

// lineOf returns " on line N" for the line that defines the dotted key,
// found by following the table headers ([a.b], [[a.b]]) and the keys of
// the text, or "" if it cannot tell.
func lineOf(b []byte, key string) string {
	want := splitKey(key)
	var table []string
	for i, line := range bytes.Split(b, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			h := strings.Trim(strings.SplitN(s, "#", 2)[0], " \t")
			h = strings.TrimSpace(strings.Trim(h, "[]"))
			table = splitKey(h)
			if slices.Equal(table, want) {
				return fmt.Sprintf(" on line %d", i+1)
			}
			continue
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			continue
		}
		full := append(slices.Clone(table), splitKey(strings.TrimSpace(s[:eq]))...)
		if len(full) >= len(want) && slices.Equal(full[:len(want)], want) {
			return fmt.Sprintf(" on line %d", i+1)
		}
	}
	return ""
}

// lineOfValue finds the line where a key under prefix (a dotted key or
// table) holds the string value (quoted, alone or in an array, also one
// written over several lines). It returns that key and " on line N", or
// the prefix and lineOf's answer when it finds none.
func lineOfValue(b []byte, prefix, value string) (key, line string) {
	want := splitKey(prefix)
	quoted := func(s string) bool {
		return strings.Contains(s, `"`+value+`"`) || strings.Contains(s, `'`+value+`'`)
	}
	under := func(k []string) bool { return len(k) >= len(want) && slices.Equal(k[:len(want)], want) }
	var table, array []string // array: the key of an array still open
	for i, l := range bytes.Split(b, []byte("\n")) {
		s := strings.TrimSpace(string(l))
		switch {
		case s == "" || s[0] == '#':
			continue
		case array != nil:
			if under(array) && quoted(s) {
				return joinKey(array), fmt.Sprintf(" on line %d", i+1)
			}
			if strings.Contains(s, "]") {
				array = nil
			}
			continue
		case s[0] == '[':
			h := strings.Trim(strings.SplitN(s, "#", 2)[0], " \t")
			table = splitKey(strings.TrimSpace(strings.Trim(h, "[]")))
			continue
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			continue
		}
		full := append(slices.Clone(table), splitKey(strings.TrimSpace(s[:eq]))...)
		rest := strings.TrimSpace(s[eq+1:])
		if under(full) && quoted(rest) {
			return joinKey(full), fmt.Sprintf(" on line %d", i+1)
		}
		if strings.HasPrefix(rest, "[") && !strings.Contains(rest, "]") {
			array = full
		}
	}
	return prefix, lineOf(b, prefix)
}

// splitKey splits a dotted TOML key, honouring quotes.
func splitKey(k string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote byte
	)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// Validate fills in defaults and checks the configuration.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if c.RestrictedAdminAccount == "" {
		c.RestrictedAdminAccount = "root"
	}
	if !validUserName(c.RestrictedAdminAccount) {
		bad("restricted_admin_account %q is not a local account name", c.RestrictedAdminAccount)
	}
	if c.RestrictedAdmin && len(c.AdminGroups) == 0 {
		bad("restricted_admin = true needs admin_groups: only their members may open restricted-admin sessions")
	}
	c.Host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(c.Host)), ".")
	switch {
	case c.Host == "":
		bad("host is missing: give the host's fully qualified name, e.g. host = \"b.example.test\" (the SPN is host/<host>)")
	case !validHostName(c.Host):
		bad("host %q is not a DNS name", c.Host)
	}
	if c.Realm != "" {
		c.Realm = strings.ToUpper(c.Realm)
	}
	if len(c.Listen) == 0 {
		c.Listen = []string{DefaultListen}
	}
	for _, l := range c.Listen {
		if _, _, err := net.SplitHostPort(l); err != nil {
			bad("listen %q is not ADDR:PORT (e.g. \"0.0.0.0:22\" or \"127.0.0.2:2222\")", l)
		}
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.Keytab, DefaultKeytab)
	def(&c.HostKey, DefaultHostKey)
	def(&c.StateDir, DefaultStateDir)
	def(&c.AuditLog, DefaultAuditLog)
	def(&c.TranscriptDir, DefaultTranscriptDir)
	def(&c.RuntimeDir, DefaultRuntimeDir)
	def(&c.Path, DefaultPath)
	for _, p := range []struct{ key, v string }{{"keytab", c.Keytab}, {"host_key", c.HostKey}, {"state_dir", c.StateDir}, {"audit_log", c.AuditLog}, {"transcript_dir", c.TranscriptDir}, {"runtime_dir", c.RuntimeDir}} {
		if !filepath.IsAbs(p.v) {
			bad("%s %q must be an absolute path", p.key, p.v)
		}
	}
	for _, dir := range filepath.SplitList(c.Path) {
		if !filepath.IsAbs(dir) {
			bad("path %q: %q is not an absolute directory (a relative PATH entry runs programs from the session's working directory)", c.Path, dir)
		}
	}
	if len(c.LogonGroups)+len(c.AdminGroups) == 0 {
		bad("logon_groups and admin_groups are both empty: nobody could log on; name the groups, e.g. logon_groups = [\"b-remote-users\"], admin_groups = [\"b-admins\"]")
	}
	for _, g := range append(slices.Clone(c.LogonGroups), c.AdminGroups...) {
		if err := checkGroupRef(g); err != nil {
			bad("%v", err)
		}
	}
	if c.IdleTimeout < 0 {
		bad("idle_timeout must not be negative")
	} else if c.IdleTimeout == 0 {
		c.IdleTimeout = Duration(DefaultIdleTimeout)
	}
	if c.ClockSkew < 0 {
		bad("clock_skew must not be negative")
	} else if c.ClockSkew == 0 {
		c.ClockSkew = Duration(DefaultClockSkew)
	}
	for _, n := range []struct {
		key string
		v   *int
		def int
	}{{"max_sessions", &c.MaxSessions, DefaultMaxSessions}, {"max_connections", &c.MaxConnections, DefaultMaxConnections}, {"max_auth_tries", &c.MaxAuthTries, DefaultMaxAuthTries}} {
		switch {
		case *n.v < 0:
			bad("%s must not be negative", n.key)
		case *n.v == 0:
			*n.v = n.def
		}
	}
	switch {
	case c.MaxStartups < 0:
		bad("max_startups must not be negative")
	case c.MaxStartups == 0:
		c.MaxStartups = max(1, min(DefaultMaxStartups, c.MaxConnections/2))
	case c.MaxConnections > 1 && c.MaxStartups >= c.MaxConnections:
		bad("max_startups (%d) must be below max_connections (%d): unauthenticated connections must not be able to take every connection slot", c.MaxStartups, c.MaxConnections)
	}
	if c.AuditMaxFiles < 0 {
		bad("audit_max_files must not be negative")
	}
	switch {
	case c.MaxSessionsPerUser < 0:
		bad("max_sessions_per_user must not be negative")
	case c.MaxSessionsPerUser == 0:
		c.MaxSessionsPerUser = min(DefaultMaxSessionsPerUser, c.MaxSessions)
	case c.MaxSessions > 0 && c.MaxSessionsPerUser > c.MaxSessions:
		bad("max_sessions_per_user (%d) must not exceed max_sessions (%d)", c.MaxSessionsPerUser, c.MaxSessions)
	}
	switch {
	case c.MaxStartupsPerSource < 0:
		bad("max_startups_per_source must not be negative")
	case c.MaxStartupsPerSource == 0:
		c.MaxStartupsPerSource = max(1, min(DefaultMaxStartupsPerSource, c.MaxStartups))
	case c.MaxStartups > 0 && c.MaxStartupsPerSource > c.MaxStartups:
		bad("max_startups_per_source (%d) must not exceed max_startups (%d)", c.MaxStartupsPerSource, c.MaxStartups)
	}
	mapKeys := make([]string, 0, len(c.UserMap))
	for k := range c.UserMap {
		mapKeys = append(mapKeys, k)
	}
	sort.Strings(mapKeys)
	folded := map[string]string{}
	for _, k := range mapKeys {
		if v := c.UserMap[k]; !validUserName(v) {
			bad("user_map: %q maps to %q, which is not a local user name", k, v)
		}
		if prev, dup := folded[strings.ToLower(k)]; dup && strings.Contains(k, "@") {
			bad("user_map: %q and %q name the same principal (principals are compared ignoring case)", prev, k)
		}
		folded[strings.ToLower(k)] = k
	}
	if c.Endpoints == nil {
		c.Endpoints = map[string]*Endpoint{}
	}
	if _, ok := c.Endpoints[DefaultEndpoint]; !ok {
		c.Endpoints[DefaultEndpoint] = &Endpoint{Name: DefaultEndpoint, Type: TypeDefault}
	}
	names := make([]string, 0, len(c.Endpoints))
	for n := range c.Endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := c.Endpoints[n]
		e.Name = n
		if !validEndpointName(n) {
			bad("endpoint %q: names are letters, digits, '-', '_' and '.'", n)
		}
		if n == DefaultEndpoint && e.Type != TypeDefault {
			bad("endpoint %q must have type \"default\"", n)
		}
		for _, g := range e.Groups {
			if err := checkGroupRef(g); err != nil {
				bad("endpoint %q: %v", n, err)
			}
		}
		if e.Delegation == nil {
			e.Delegation = []remoting.Mode{remoting.ModeNone}
			if e.Type == TypeDefault {
				for _, m := range remoting.Modes {
					if m != remoting.ModeNone && (m != remoting.ModeRestrictedAdmin || c.RestrictedAdmin) && (m != remoting.ModeCredSSP || c.CredSSP) {
						e.Delegation = append(e.Delegation, m)
					}
				}
			}
		}
		if slices.Contains(e.Delegation, remoting.ModeRestrictedAdmin) && !c.RestrictedAdmin {
			bad("endpoint %q: delegation lists restricted-admin, which is off on this host: set restricted_admin = true to allow it", n)
		}
		if slices.Contains(e.Delegation, remoting.ModeCredSSP) && !c.CredSSP {
			bad("endpoint %q: delegation lists credssp, which is off on this host: set credssp = true to allow it", n)
		}
		if len(e.Delegation) == 0 {
			bad("endpoint %q: delegation lists no mode: give at least [\"none\"]", n)
		}
		switch e.Type {
		case TypeDefault:
		case TypeRunAs:
			for _, m := range e.Delegation {
				if m != remoting.ModeNone {
					bad("endpoint %q (runas): delegation %q: a RunAs session reaches other hosts as %s with its keytab, never with the user's credentials; only \"none\" is possible", n, m, e.RunAs)
				}
			}
			if e.RunAs == "" || !validUserName(e.RunAs) {
				bad("endpoint %q (runas) needs run_as, the local account sessions run as", n)
			}
			if e.Keytab != "" && !filepath.IsAbs(e.Keytab) {
				bad("endpoint %q: keytab %q must be an absolute path", n, e.Keytab)
			}
		case TypeJEA:
			if e.jea == nil {
				bad("endpoint %q (jea) has no policy", n)
			} else if e.RunAs == "" || !validUserName(e.RunAs) {
				bad("endpoint %q (jea) needs run_as, the local account its commands run as", n)
			}
		default:
			bad("endpoint %q has type %q: want \"default\", \"runas\" or \"jea\"", n, e.Type)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("agent: configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// SPN is the service principal the agent accepts tickets for.
func (c *Config) SPN() krb5.Principal {
	return krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", c.Host), Realm: krb5.Realm(c.Realm)}
}

// checkGroupRef checks a group named in the configuration: a SID string
// or a group name.
func checkGroupRef(g string) error {
	if isSIDRef(g) {
		if _, err := sid.Parse(g); err != nil {
			return fmt.Errorf("group %q: %v", g, err)
		}
		return nil
	}
	if g == "" || len(g) > 256 || strings.ContainsAny(g, "/\\\x00\n") {
		return fmt.Errorf("group %q is neither a group name nor a SID", g)
	}
	return nil
}

func isSIDRef(g string) bool { return len(g) > 2 && (g[0] == 'S' || g[0] == 's') && g[1] == '-' }

func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validUserName accepts POSIX-portable user names (and the '$' of machine
// accounts at the end).
func validUserName(u string) bool {
	if u == "" || len(u) > 64 || u[0] == '-' {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || (c == '$' && i == len(u)-1)) {
			return false
		}
	}
	return true
}

func validEndpointName(n string) bool {
	if n == "" || len(n) > remoting.MaxEndpointName {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
