package config

import (
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	for _, tt := range []struct {
		spec, want string
	}{
		{"kdc.example.test", "kdc.example.test:88"},
		{"kdc.example.test:750", "kdc.example.test:750"},
		{"KDC.Example.Test", "KDC.Example.Test:88"},
		{"10.0.0.1", "10.0.0.1:88"},
		{"10.0.0.1:8888", "10.0.0.1:8888"},
		{"[::1]", "[::1]:88"},
		{"[::1]:8888", "[::1]:8888"},
		{"[fe80::1%eth0]:88", "[fe80::1%eth0]:88"},
		{"[::1]junk", "[::1]:88"},   // MIT ignores what follows ']' without ':'
		{"host1 host2", "host1:88"}, // the host ends at a blank
		{"host\tother", "host:88"},  // or a tab
		{"host: 750", "host:750"},   // strtoul skips blanks
		{"host:+750", "host:750"},   // and takes a sign
		{"host:65535", "host:65535"},
	} {
		got, err := parseServer(tt.spec, 88)
		if err != nil || got != tt.want {
			t.Errorf("parseServer(%q) = %q, %v; want %q", tt.spec, got, err, tt.want)
		}
	}
	for _, spec := range []string{
		"", ":88", "88", "host:", "host:x", "host:65536", "host:-1", "host:0", "host:88 x",
		"fe80::1", "[]:88", "https://kdc.example.test/KdcProxy", "/run/krb5kdc.sock",
	} {
		if got, err := parseServer(spec, 88); err == nil {
			t.Errorf("parseServer(%q) = %q, want an error", spec, got)
		}
	}
}

func TestServers(t *testing.T) {
	c := mustParse(t, `[realms]
	EXAMPLE.TEST = {
		kdc = kdc1.example.test
		kdc = [2001:db8::1]:1088
		admin_server = admin.example.test
		primary_kdc = kdc1.example.test
		master_kdc = old.example.test
	}
	OLD.TEST = {
		kdc = k.old.test
		master_kdc = m.old.test:89
		admin_server = a.old.test:7749
		admin_server = [::1]
	}
	PW.TEST = {
		kpasswd_server = pw.test
		kpasswd_server = pw2.test:1464
		admin_server = a.pw.test
	}
	BAD.TEST = {
		kdc = good.bad.test
		kdc = https://proxy.bad.test/KdcProxy
	}
`, `[realms]
	EXAMPLE.TEST = {
		kdc = kdc2.example.test
	}
`)
	check := func(name string, got []string, err error, want string) {
		t.Helper()
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s = %q, %v; want %s", name, got, err, want)
		}
	}
	kdcs, err := c.KDCs("EXAMPLE.TEST")
	check("KDCs(EXAMPLE.TEST)", kdcs, err, "kdc1.example.test:88,[2001:db8::1]:1088,kdc2.example.test:88")
	kdcs, err = c.KDCs("NOWHERE.TEST")
	check("KDCs(NOWHERE.TEST)", kdcs, err, "")
	kdcs, err = c.KDCs("example.test")
	check("KDCs(example.test)", kdcs, err, "") // realms are case-sensitive
	admins, err := c.AdminServers("EXAMPLE.TEST")
	check("AdminServers", admins, err, "admin.example.test:749")
	prim, err := c.PrimaryKDCs("EXAMPLE.TEST")
	check("PrimaryKDCs", prim, err, "kdc1.example.test:88")
	prim, err = c.PrimaryKDCs("OLD.TEST")
	check("PrimaryKDCs(master_kdc)", prim, err, "m.old.test:89")
	pw, err := c.KPasswdServers("OLD.TEST")
	check("KPasswdServers(admin_server)", pw, err, "a.old.test:464,[::1]:464")
	pw, err = c.KPasswdServers("PW.TEST")
	check("KPasswdServers", pw, err, "pw.test:464,pw2.test:1464")
	pw, err = c.KPasswdServers("NOWHERE.TEST")
	check("KPasswdServers(none)", pw, err, "")
	if _, err := c.KDCs("BAD.TEST"); err == nil || !strings.Contains(err.Error(), "MS-KKDCP") || !strings.Contains(err.Error(), "BAD.TEST") {
		t.Errorf("KDCs(BAD.TEST): %v, want an error naming the realm and MS-KKDCP", err)
	}
	if got := strings.Join(c.Realms(), ","); got != "BAD.TEST,EXAMPLE.TEST,OLD.TEST,PW.TEST" {
		t.Errorf("Realms() = %s", got)
	}
}

func TestRealmOf(t *testing.T) {
	// The [domain_realm] example of MIT's krb5.conf(5).
	c := mustParse(t, `[libdefaults]
	default_realm = DEFAULT.TEST
[domain_realm]
	crash.mit.edu = TEST.ATHENA.MIT.EDU
	.dev.mit.edu = TEST.ATHENA.MIT.EDU
	mit.edu = ATHENA.MIT.EDU
`)
	for _, tt := range []struct {
		host, realm string
		mapped      bool
	}{
		{"crash.mit.edu", "TEST.ATHENA.MIT.EDU", true},
		{"CRASH.MIT.EDU.", "TEST.ATHENA.MIT.EDU", true},
		{"x.dev.mit.edu", "TEST.ATHENA.MIT.EDU", true},
		{"a.b.dev.mit.edu", "TEST.ATHENA.MIT.EDU", true},
		{"dev.mit.edu", "ATHENA.MIT.EDU", true}, // ".dev.mit.edu" is for hosts under it only
		{"www.mit.edu", "ATHENA.MIT.EDU", true},
		{"mit.edu", "ATHENA.MIT.EDU", true},
		{"host.example.org", "EXAMPLE.ORG", false}, // the domain, upper-cased
		{"example.org", "ORG", false},
		{"localhost", "DEFAULT.TEST", false},  // no dot: the default realm
		{"18.7.22.69", "DEFAULT.TEST", false}, // addresses are never mapped
		{"::1", "DEFAULT.TEST", false},
	} {
		r, ok := c.HostRealm(tt.host)
		if ok != tt.mapped || (ok && r != tt.realm) {
			t.Errorf("HostRealm(%q) = %q, %v", tt.host, r, ok)
		}
		if r, err := c.RealmOf(tt.host); err != nil || r != tt.realm {
			t.Errorf("RealmOf(%q) = %q, %v; want %q", tt.host, r, err, tt.realm)
		}
	}
	// Without a default realm, a short name has no realm.
	if r, err := (&Config{}).RealmOf("localhost"); err == nil {
		t.Errorf("RealmOf(localhost) without a default realm = %q", r)
	}
	if _, err := c.RealmOf(""); err == nil {
		t.Error("RealmOf(\"\") succeeded")
	}

	// realm_try_domains: the host name and then n parent domains are
	// tried as realms that [realms] lists KDCs for.
	for _, tt := range []struct {
		try, want string
	}{
		{"", "B.EXAMPLE.TEST"},
		{"-1", "B.EXAMPLE.TEST"},
		{"0", "B.EXAMPLE.TEST"},
		{"1", "B.EXAMPLE.TEST"},
		{"2", "EXAMPLE.TEST"},
		{"9", "EXAMPLE.TEST"},
	} {
		conf := "[libdefaults]\n"
		if tt.try != "" {
			conf += "realm_try_domains = " + tt.try + "\n"
		}
		conf += "[realms]\nEXAMPLE.TEST = {\nkdc = k\n}\nTEST = {\nkdc = k2\n}\n"
		c := mustParse(t, conf)
		if r, err := c.RealmOf("a.b.example.test"); err != nil || r != tt.want {
			t.Errorf("realm_try_domains = %q: RealmOf = %q, %v; want %s", tt.try, r, err, tt.want)
		}
	}
	bad := mustParse(t, "[libdefaults]\nrealm_try_domains = lots\n")
	if _, err := bad.RealmOf("a.b.test"); err == nil {
		t.Error("realm_try_domains = lots accepted")
	}
}

func TestFinalAcrossFiles(t *testing.T) {
	// A final [realms] subsection in the first file hides the KDCs of
	// the second, as MIT does for KRB5_CONFIG=first:second.
	first := "[realms]\nR = {\nkdc = first\n}*\nS = {\nkdc = s1\n}\n"
	second := "[realms]\nR = {\nkdc = second\n}\nS = {\nkdc = s2\n}\n"
	c := mustParse(t, first, second)
	if k, _ := c.KDCs("R"); strings.Join(k, ",") != "first:88" {
		t.Errorf("KDCs(R) = %q, want the first file's only", k)
	}
	if k, _ := c.KDCs("S"); strings.Join(k, ",") != "s1:88,s2:88" {
		t.Errorf("KDCs(S) = %q, want both files'", k)
	}
	// A final [domain_realm] section hides the second file's mappings;
	// Subsections stops at a final subsection too.
	c = mustParse(t, "[domain_realm]*\na.test = A\n[realms]\nX = {\n}*\n", "[domain_realm]\nb.test = B\n[realms]\nY = {\n}\n")
	if r, ok := c.HostRealm("b.test"); ok {
		t.Errorf("HostRealm(b.test) = %q from a file after a final section", r)
	}
	if got := strings.Join(c.Realms(), ","); got != "X" {
		t.Errorf("Realms() = %s, want X", got)
	}
}
