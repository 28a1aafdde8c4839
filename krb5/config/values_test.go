package config

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, files ...string) *Config {
	t.Helper()
	var fs []*File
	for i, body := range files {
		f, err := Parse("f"+string(rune('0'+i)), []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return New(fs...)
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"y", "yes", "true", "t", "1", "on", "YES", "True", "oN"} {
		if v, err := ParseBool(s); err != nil || !v {
			t.Errorf("ParseBool(%q) = %v, %v; want true", s, v, err)
		}
	}
	for _, s := range []string{"n", "no", "false", "nil", "0", "off", "NO", "Off", "NIL"} {
		if v, err := ParseBool(s); err != nil || v {
			t.Errorf("ParseBool(%q) = %v, %v; want false", s, v, err)
		}
	}
	// U+017F (long s) folds to 's' in Unicode, not for strcasecmp.
	for _, s := range []string{"", "2", "yess", "enabled", " yes", "ye\u017f", "tru"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q) succeeded", s)
		}
	}
}

// TestParseDurationMIT runs MIT's own tests of krb5_string_to_deltat
// (src/lib/krb5/krb/t_deltat.c).
func TestParseDurationMIT(t *testing.T) {
	const (
		DAY  = 24 * 3600
		HOUR = 3600
		MIN  = 60
	)
	good := []struct {
		s    string
		want int64
	}{
		{"3d", 3 * DAY}, {"3h", 3 * HOUR}, {"3m", 3 * MIN}, {"3s", 3},
		{"3d4m    42s", 3*DAY + 4*MIN + 42},
		{"3d-1h", 3*DAY - 1*HOUR},
		{"3d -1h", 3*DAY - HOUR},
		{"3d4h5m6s", 3*DAY + 4*HOUR + 5*MIN + 6},
		{"12345s", 12345},
		{"1m 12345s", MIN + 12345},
		{"1m12345s", MIN + 12345},
		{"3d 0m", 3 * DAY},
		{"3d 0m  ", 3 * DAY},
		{"3d \n\t 0m  ", 3 * DAY},
		{"42-13:42:47", 42*DAY + 13*HOUR + 42*MIN + 47},
		{"12:34", 12*HOUR + 34*MIN},
		{"1:02:03", 1*HOUR + 2*MIN + 3},
		{"3:4", 3*HOUR + 4*MIN},
		{"42", 42},
		{"2147483647s", 2147483647},
		{"24855d", 24855 * DAY},
		{"24855d 3h", 24855*DAY + 3*HOUR},
		{"24855d 11647s", 24855*DAY + 11647},
		{"24855d 194m 7s", 24855*DAY + 194*MIN + 7},
		{"24855d 3h 14m 7s", 24855*DAY + 3*HOUR + 14*MIN + 7},
		{"596523h", 596523 * HOUR},
		{"596523h 847s", 596523*HOUR + 847},
		{"596523h 14m 7s", 596523*HOUR + 14*MIN + 7},
		{"35791394m", 35791394 * MIN},
		{"35791394m7s", 35791394*MIN + 7},
		{"-2147483647s", -2147483647},
		{"-24855d", -24855 * DAY},
		{"-24855d -3h", -24855*DAY - 3*HOUR},
		{"-24855d -11647s", -24855*DAY - 11647},
		{"-24855d -194m -7s", -24855*DAY - 194*MIN - 7},
		{"-24855d -3h -14m -7s", -24855*DAY - 3*HOUR - 14*MIN - 7},
		{"-596523h", -596523 * HOUR},
		{"-596523h -847s", -596523*HOUR - 847},
		{"-596523h -848s", -596523*HOUR - 848},
		{"-596523h -14m -8s", -596523*HOUR - 14*MIN - 8},
		{"-35791394m", -35791394 * MIN},
		{"-35791394m7s", -35791394*MIN + 7},
		// From MIT's "Time duration" documentation (date_format.rst).
		{"36:00", 36 * HOUR}, {"8h30s", 8*HOUR + 30}, {"3600", HOUR},
		{"5:00", 5 * HOUR}, {"30m", 30 * MIN}, {"10d 0h 0m 0s", 10 * DAY},
		// What krb5.conf files say.
		{"10h", 10 * HOUR}, {"7d", 7 * DAY}, {"1d 2h", DAY + 2*HOUR},
		{"36000", 36000}, {"10:00:00", 10 * HOUR}, {" 10h", 10 * HOUR},
		// MIT's lexer ends the input at a byte it does not know.
		{"10hours", 10 * HOUR}, {"1day", DAY}, {"30min", 30 * MIN}, {"5x7", 5}, {"1d garbage", DAY},
	}
	for _, tt := range good {
		got, err := ParseDuration(tt.s)
		if err != nil || got != time.Duration(tt.want)*time.Second {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.s, got, err, time.Duration(tt.want)*time.Second)
		}
	}
	bad := []string{
		"3dd", "3d4m5h", "3: 4", "13:0003", "3:-4", "1-2",
		"2147483648s", "24856d", "24855d 100000000h", "24855d 4h",
		"24855d 11648s", "24855d 194m 8s", "24855d 195m", "24855d 19500000000m",
		"24855d 3h 14m 8s", "596524h", "596523h 848s", "596523h 14m 8s",
		"35791394m8s", "-24856d", "-24855d -100000000h", "-24855d -4h",
		"-24855d -11649s", "-24855d -194m -9s", "-24855d -195m",
		"-24855d -19500000000m", "-24855d -3h -14m -9s", "-596524h",
		"-596523h -849s", "-596523h -14m -9s", "-35791394m-9s",
		// More.
		"", "h", "x", "3600 ", "1 h", "1h 2d", "1s 1s", "1:100", "99999999999", "-", "1d1d",
	}
	for _, s := range bad {
		if got, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", s, got)
		} else if !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("ParseDuration(%q): error %q lacks the package prefix", s, err)
		}
	}
}

func TestLibDefaults(t *testing.T) {
	empty := &Config{}
	var nilConfig *Config
	for _, c := range []*Config{empty, nilConfig} {
		if _, ok := c.DefaultRealm(); ok {
			t.Error("default realm in an empty configuration")
		}
		if d, err := c.TicketLifetime("R"); err != nil || d != 24*time.Hour {
			t.Errorf("default ticket_lifetime = %v, %v", d, err)
		}
		if d, err := c.RenewLifetime("R"); err != nil || d != 0 {
			t.Errorf("default renew_lifetime = %v, %v", d, err)
		}
		if c.Forwardable("R") {
			t.Error("forwardable by default")
		}
		if !c.RDNS() {
			t.Error("rdns is true by default")
		}
		if v, err := c.DNSCanonicalizeHostname(); err != nil || v != DNSCanonTrue {
			t.Errorf("default dns_canonicalize_hostname = %v, %v", v, err)
		}
		if n, err := c.UDPPreferenceLimit(); err != nil || n != 1465 {
			t.Errorf("default udp_preference_limit = %d, %v", n, err)
		}
		if _, ok := c.DefaultCCacheName(); ok {
			t.Error("default_ccache_name in an empty configuration")
		}
	}

	c := mustParse(t, `[libdefaults]
	default_realm = EXAMPLE.TEST
	ticket_lifetime = 10h
	renew_lifetime = 7d
	forwardable = yes
	rdns = false
	dns_canonicalize_hostname = Fallback
	udp_preference_limit = 1
	default_ccache_name = KEYRING:persistent:%{uid}
	OTHER.TEST = {
		ticket_lifetime = 1:30
		forwardable = off
	}
`)
	if r, _ := c.DefaultRealm(); r != "EXAMPLE.TEST" {
		t.Errorf("DefaultRealm = %q", r)
	}
	for _, tt := range []struct {
		realm       string
		life, renew time.Duration
		forwardable bool
	}{
		{"EXAMPLE.TEST", 10 * time.Hour, 7 * 24 * time.Hour, true},
		{"OTHER.TEST", 90 * time.Minute, 7 * 24 * time.Hour, false},
		{"", 10 * time.Hour, 7 * 24 * time.Hour, true},
	} {
		life, err1 := c.TicketLifetime(tt.realm)
		renew, err2 := c.RenewLifetime(tt.realm)
		if err1 != nil || err2 != nil || life != tt.life || renew != tt.renew || c.Forwardable(tt.realm) != tt.forwardable {
			t.Errorf("realm %q: lifetime %v (%v), renew %v (%v), forwardable %v; want %v, %v, %v",
				tt.realm, life, err1, renew, err2, c.Forwardable(tt.realm), tt.life, tt.renew, tt.forwardable)
		}
	}
	if c.RDNS() {
		t.Error("rdns = false ignored")
	}
	if v, err := c.DNSCanonicalizeHostname(); err != nil || v != DNSCanonFallback {
		t.Errorf("dns_canonicalize_hostname = %v, %v; want fallback", v, err)
	}
	if n, err := c.UDPPreferenceLimit(); err != nil || n != 1 {
		t.Errorf("udp_preference_limit = %d, %v", n, err)
	}
	if s, _ := c.DefaultCCacheName(); s != "KEYRING:persistent:%{uid}" {
		t.Errorf("DefaultCCacheName = %q", s)
	}

	for _, tt := range []struct {
		conf string
		lim  int
	}{
		{"udp_preference_limit = -5", 1465},
		{"udp_preference_limit = 100000", 32700},
		{"udp_preference_limit = +1000", 1000},
		{"udp_preference_limit = \" 7\"", 7},
	} {
		c := mustParse(t, "[libdefaults]\n"+tt.conf+"\n")
		if n, err := c.UDPPreferenceLimit(); err != nil || n != tt.lim {
			t.Errorf("%s: %d, %v; want %d", tt.conf, n, err, tt.lim)
		}
	}

	bad := mustParse(t, `[libdefaults]
	ticket_lifetime = ten hours
	renew_lifetime = -1h
	forwardable = maybe
	rdns = maybe
	dns_canonicalize_hostname = sometimes
	udp_preference_limit = 1k
`)
	if _, err := bad.TicketLifetime(""); err == nil || !strings.Contains(err.Error(), "ticket_lifetime") {
		t.Errorf("bad ticket_lifetime: %v", err)
	}
	if _, err := bad.RenewLifetime(""); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative renew_lifetime: %v", err)
	}
	if bad.Forwardable("") {
		t.Error("forwardable = maybe is true; MIT takes it as false")
	}
	if !bad.RDNS() {
		t.Error("rdns = maybe is false; MIT takes the default, true")
	}
	if _, err := bad.DNSCanonicalizeHostname(); err == nil {
		t.Error("dns_canonicalize_hostname = sometimes accepted")
	}
	if _, err := bad.UDPPreferenceLimit(); err == nil {
		t.Error("udp_preference_limit = 1k accepted")
	}
}

func TestHopSettings(t *testing.T) {
	c := mustParse(t, `[hop]
	admin_url = https://global.example.test:8443
	admin_tls_pin = sha256//global
	agent_port = 2222
	agent_address = {
		b.example.test = 127.0.0.2:2222
	}
	admin_address = {
		global.example.test = 127.0.0.1
	}
	OTHER.TEST = {
		admin_url = https://other.example.test:8443
		agent_port = 22x
		agent_address = {
			c.other.test = 127.0.0.3:22
		}
	}
`, `[hop]
	admin_url = https://second-file.example.test
	admin_tls_pin = sha256//second
`)
	for _, tc := range []struct {
		realm          string
		url, pin, port string
		portNumber     int
		badPort        bool
		host, addr     string
		hasAddr        bool
	}{
		{"", "https://global.example.test:8443", "sha256//global", "2222", 2222, false, "b.example.test", "127.0.0.2:2222", true},
		{"EXAMPLE.TEST", "https://global.example.test:8443", "sha256//global", "2222", 2222, false, "b.example.test", "127.0.0.2:2222", true},
		{"OTHER.TEST", "https://other.example.test:8443", "sha256//global", "22x", 0, true, "c.other.test", "127.0.0.3:22", true},
		{"OTHER.TEST", "https://other.example.test:8443", "sha256//global", "22x", 0, true, "b.example.test", "127.0.0.2:2222", true},
		{"EXAMPLE.TEST", "https://global.example.test:8443", "sha256//global", "2222", 2222, false, "c.other.test", "", false},
	} {
		s := c.HopSettings(tc.realm)
		if s.AdminURL != tc.url || s.AdminTLSPin != tc.pin || s.AgentPort != tc.port {
			t.Errorf("HopSettings(%q) = %q %q %q; want %q %q %q", tc.realm, s.AdminURL, s.AdminTLSPin, s.AgentPort, tc.url, tc.pin, tc.port)
		}
		if n, err := s.AgentPortNumber(); n != tc.portNumber || (err != nil) != tc.badPort {
			t.Errorf("HopSettings(%q).AgentPortNumber() = %d, %v", tc.realm, n, err)
		}
		if a, ok := s.AgentAddress(tc.host); a != tc.addr || ok != tc.hasAddr {
			t.Errorf("HopSettings(%q).AgentAddress(%s) = %q, %v", tc.realm, tc.host, a, ok)
		}
	}
	for _, realm := range []string{"", "OTHER.TEST"} {
		if a, ok := c.HopSettings(realm).AdminAddress("global.example.test"); a != "127.0.0.1" || !ok {
			t.Errorf("HopSettings(%q).AdminAddress(global.example.test) = %q, %v; want 127.0.0.1", realm, a, ok)
		}
		if a, ok := c.HopSettings(realm).AdminAddress("other.example.test"); ok {
			t.Errorf("HopSettings(%q).AdminAddress(other.example.test) = %q; want none", realm, a)
		}
	}
	if s := mustParse(t, "[libdefaults]\n\tdefault_realm = A.TEST\n").HopSettings("A.TEST"); s.AdminURL != "" || s.AgentPort != "" {
		t.Errorf("no [hop]: %+v", s)
	}
	if n, err := (HopSettings{}).AgentPortNumber(); n != 0 || err != nil {
		t.Errorf("unset agent_port: %d, %v", n, err)
	}
}
