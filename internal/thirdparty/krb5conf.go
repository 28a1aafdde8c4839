package thirdparty

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Enctypes lists the encryption types the client configurations permit, in
// order of preference (MIT's default order): the AES types of RFC 3962 and
// RFC 8009. Single DES, 3DES and RC4 are left out, as hop's KDC leaves them
// out by default.
var Enctypes = []string{
	"aes256-cts-hmac-sha1-96",
	"aes128-cts-hmac-sha1-96",
	"aes256-cts-hmac-sha384-192",
	"aes128-cts-hmac-sha256-128",
}

// Krb5Conf returns a krb5.conf for clients of realm, whose KDCs are kdcs
// ("host:port", "[::1]:port"), usable by MIT and Heimdal alike: realm is the
// default realm, nothing is looked up in DNS (no KDC or realm discovery, no
// reverse lookups, no host name canonicalization), tickets are forwardable
// and addressless, and the AES encryption types of Enctypes are permitted.
// UDP is tried first for small messages as by default (udp_preference_limit
// is left alone). Pass the environment from ClientEnv to avoid replay-cache
// files.
func Krb5Conf(realm string, kdcs ...string) string {
	return Krb5ConfRealms(realm, map[string][]string{realm: kdcs})
}

// Krb5ConfRealms is Krb5Conf for several realms (cross-realm tests):
// realms maps each realm to its KDCs; defaultRealm is the default realm.
// It panics on a realm or KDC that would break the file's syntax.
func Krb5ConfRealms(defaultRealm string, realms map[string][]string) string {
	check := func(what, s string) {
		if s == "" || strings.ContainsAny(s, " \t\r\n{}=#;\"'") {
			panic(fmt.Sprintf("thirdparty: Krb5Conf: bad %s %q", what, s))
		}
	}
	check("realm", defaultRealm)
	var b strings.Builder
	et := strings.Join(Enctypes, " ")
	fmt.Fprintf(&b, `# Made by hop's internal/thirdparty for a test: client configuration only.
[libdefaults]
	default_realm = %s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	allow_weak_crypto = false
	permitted_enctypes = %s
	default_tkt_enctypes = %s
	default_tgs_enctypes = %s
	default_etypes = %s
	forwardable = true
	noaddresses = true
	kdc_timesync = 1
	ccache_type = 4

[realms]
`, defaultRealm, et, et, et, et)
	names := make([]string, 0, len(realms))
	for r := range realms {
		names = append(names, r)
	}
	slices.Sort(names)
	for _, r := range names {
		check("realm", r)
		fmt.Fprintf(&b, "\t%s = {\n", r)
		for _, k := range realms[r] {
			check("KDC address", k)
			fmt.Fprintf(&b, "\t\tkdc = %s\n", k)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("\n[domain_realm]\n")
	return b.String()
}

// WriteKrb5Conf writes Krb5Conf(realm, kdcs...) into a new file under
// t.TempDir() and returns its path.
func WriteKrb5Conf(t testing.TB, realm string, kdcs ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(p, []byte(Krb5Conf(realm, kdcs...)), 0o644); err != nil {
		t.Fatalf("thirdparty: write krb5.conf: %v", err)
	}
	return p
}

// FixedEnv is a whole environment under which MIT's tools print the same
// on every machine, for tests that compare their output with hop's: an
// empty krb5.conf (a new file under t.TempDir()), UTC and the C locale, PATH
// and a new HOME. With Run, later entries of the process's own environment
// are replaced by these.
func FixedEnv(t testing.TB) []string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(conf, []byte("[libdefaults]\n"), 0o600); err != nil {
		t.Fatalf("thirdparty: write krb5.conf: %v", err)
	}
	return []string{"KRB5_CONFIG=" + conf, "TZ=UTC", "LC_ALL=C", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
}
