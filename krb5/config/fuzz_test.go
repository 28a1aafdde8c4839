package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParse parses arbitrary bytes as krb5.conf: it must never panic, and
// a file that parses must read back the same from its dump, and every
// accessor must cope with whatever values it holds.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"mit/krb5.conf", "mit/config-files-krb5.conf", "mit/test.ini", "mit/final6.ini", "debian-krb5.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[a]*\nx* = 1\nR = {\n\tk = \"v\\n\"\n}*\nS =\n{\n}\n[a]\nx = 2\n"))
	f.Add([]byte("[libdefaults]\r\n default_realm = EXAMPLE.TEST\r\n ticket_lifetime = 1d 2h\r\n[realms]\r\n EXAMPLE.TEST = {\r\n  kdc = [::1]:88\r\n }\r\n[domain_realm]\r\n .example.test = EXAMPLE.TEST\r\n"))
	f.Add([]byte("[hop]\n\tadmin_url = https://kdc:8443\n\tEXAMPLE.TEST = {\n\t\tadmin_url = x\n\t}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: fuzz.conf") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		d := dump(file)
		again, err := Parse("dump", []byte(d))
		if err != nil {
			for _, line := range strings.Split(d, "\n") {
				if len(line) > MaxLineLength {
					return // quoting made a line too long
				}
			}
			t.Fatalf("the dump does not parse: %v\n%q\nfrom %q", err, d, data)
		}
		if d2 := dump(again); d2 != d {
			t.Fatalf("dump changed on reparse:\n%q\nthen\n%q\nfrom %q", d, d2, data)
		}
		exercise(New(file))
	})
}

// exercise calls every accessor on c, for every realm it names.
func exercise(c *Config) {
	realm, _ := c.DefaultRealm()
	realms := append(c.Realms(), realm, "")
	realms = append(realms, c.Subsections("libdefaults")...)
	for _, r := range realms {
		c.KDCs(r)
		c.PrimaryKDCs(r)
		c.AdminServers(r)
		c.KPasswdServers(r)
		c.TicketLifetime(r)
		c.RenewLifetime(r)
		c.Forwardable(r)
		hs := c.HopSettings(r)
		hs.AgentPortNumber()
		hs.AgentAddress("b.example.test")
	}
	for _, tag := range c.Subsections("domain_realm") {
		c.RealmOf("host" + tag)
	}
	for _, h := range []string{"a.b.example.test", "localhost", "10.0.0.1", "::1", "x."} {
		c.RealmOf(h)
	}
	c.RDNS()
	c.DNSCanonicalizeHostname()
	c.UDPPreferenceLimit()
	if cc, err := c.CCacheName(func(string) string { return "" }, 1000); err == nil && cc.Type == "FILE" {
		cc.Path()
	}
}

// FuzzParseDuration parses arbitrary strings as durations: no panic, and
// a result within krb5_deltat's 32 bits that reads back the same written as
// seconds.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10h", "1d 2h", "36000", "10:00:00", "1-02:03:04", "-24855d -3h", "3d \n\t 0m  ", "10hours", "2147483647s", "1:2:3:4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		secs := int64(d / time.Second)
		if secs > maxTime || secs < minTime || d%time.Second != 0 {
			t.Fatalf("ParseDuration(%q) = %v, beyond krb5_deltat", s, d)
		}
		if secs == minTime {
			return // "-2147483648" overflows MIT's lexer (t_deltat.c)
		}
		d2, err := ParseDuration(strconv.FormatInt(secs, 10))
		if err != nil || d2 != d {
			t.Fatalf("ParseDuration(%q) = %v, but %d reads as %v, %v", s, d, secs, d2, err)
		}
	})
}

func BenchmarkParseDebian(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "debian-krb5.conf"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("krb5.conf", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKDCs(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "debian-krb5.conf"))
	if err != nil {
		b.Fatal(err)
	}
	f, err := Parse("krb5.conf", data)
	if err != nil {
		b.Fatal(err)
	}
	c := New(f)
	for b.Loop() {
		if _, err := c.KDCs("ATHENA.MIT.EDU"); err != nil {
			b.Fatal(err)
		}
	}
}
