package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hop/internal/testrealm"
	"hop/internal/thirdparty"
	"hop/krb5/config"
)

const (
	realm   = "EXAMPLE.TEST"
	alicePW = "Alice-Pass-1"
)

// startKDC serves a hop realm with the user alice on a loopback port and
// returns its address ("127.0.0.1:port", UDP and TCP).
func startKDC(t *testing.T) string {
	t.Helper()
	l := testrealm.Start(t)
	l.AddUser(t, "alice", alicePW)
	return l.Addr
}

// clientLibdefaults is the [libdefaults] of thirdparty.Krb5Conf.
func clientLibdefaults() string {
	conf := thirdparty.Krb5Conf(realm)
	return conf[:strings.Index(conf, "[realms]")]
}

// TestMITReadsWhatHopReads gives MIT's kinit krb5.conf files with a [hop]
// section, includes and syntax MIT accepts or refuses, and checks that
// kinit reaches hop's KDC exactly when this package, reading the same
// files, says it should: the file parses and lists the KDC for the realm.
func TestMITReadsWhatHopReads(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	addr := startKDC(t)
	dead := fmt.Sprintf("127.0.0.1:%d", thirdparty.FreeLoopbackPort(t, "127.0.0.1"))
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	base := clientLibdefaults()
	realms := func(kdcs ...string) string {
		s := "[realms]\n\t" + realm + " = {\n"
		for _, k := range kdcs {
			s += "\t\tkdc = " + k + "\n"
		}
		return s + "\t}\n"
	}
	hop := "[hop]\n\tadmin_url = https://127.0.0.1:8443\n\t" + realm + " = {\n\t\tadmin_url = https://kdc.example.test:8443\n\t\tnested = {\n\t\t\tdeeper = yes\n\t\t}\n\t}\n"
	files := map[string]string{
		"d/10-realms.conf": realms(addr),
		"d/20-hop":         hop,
		"d/broken~":        "[broken\n", // not read: an editor backup
		"d/.hidden.conf":   "[broken\n",
		"realms.conf":      realms(addr),
		"dead.conf":        realms(dead),
		"final-dead.conf":  "[realms]\n\t" + realm + " = {\n\t\tkdc = " + dead + "\n\t}*\n",
		"base.conf":        base,
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(p(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		conf string   // the main file's contents
		more []string // further KRB5_CONFIG entries
		// wantOK is what this test's author expects; the check is that
		// MIT and this package agree, and with this.
		wantOK bool
	}{
		{"plain with [hop]", base + realms(addr) + hop, nil, true},
		{"include and includedir", base + "include " + p("realms.conf") + "\nincludedir " + p("d") + "\n", nil, true},
		{"includedir only", base + "includedir " + p("d") + "\n", nil, true},
		{"missing include", base + realms(addr) + "include " + p("nope.conf") + "\n", nil, false},
		{"missing includedir", base + realms(addr) + "includedir " + p("nope") + "\n", nil, false},
		{"CRLF", strings.ReplaceAll(base+realms(addr)+hop, "\n", "\r\n"), nil, true},
		{"text before the first section", "just some words\n" + base + realms(addr), nil, true},
		{"unclosed subsection at the end", base + realms(addr) + "[hop]\n\tx = {\n\t\ty = 1\n", nil, true},
		{"quoted KDC", base + "[realms]\n\t" + realm + " = {\n\t\tkdc = \"" + addr + "\"\n\t}\n", nil, true},
		{"KDC then a word", base + "[realms]\n\t" + realm + " = {\n\t\tkdc = " + addr + " backup\n\t}\n", nil, false},
		{"KDC host then a word", base + "[realms]\n\t" + realm + " = {\n\t\tkdc = 127.0.0.1 " + addr + "\n\t}\n", nil, false},
		{"comment after a section header", strings.Replace(base, "[libdefaults]", "[libdefaults] # client", 1) + realms(addr), nil, false},
		{"extra closing brace", base + realms(addr) + "}\n", nil, false},
		{"missing opening brace", base + "[realms]\n\t" + realm + " =\n\t\tkdc = " + addr + "\n", nil, false},
		{"relation without =", base + realms(addr) + "[hop]\n\tjust words\n", nil, false},
		{"brace on its own line", base + "[realms]\n\t" + realm + " =\n\t{\n\t\tkdc = " + addr + "\n\t}\n", nil, true},
		{"missing files in KRB5_CONFIG are skipped", base + realms(addr), []string{p("nope.conf")}, true},
		{"a second file adds KDCs", base + realms(dead), []string{p("realms.conf")}, true},
		{"a final subsection hides the second file", base + "include " + p("final-dead.conf") + "\n", []string{p("realms.conf")}, false},
		{"the first file's KDC without final", base + "include " + p("dead.conf") + "\n", []string{p("realms.conf")}, true},
		{"a directory in KRB5_CONFIG", base, []string{p("d")}, true},
		{"an include with a trailing blank", base + "include " + p("realms.conf") + " \n", nil, false},
		{"an indented first section header is ignored", "\t" + realms(addr), []string{p("base.conf")}, false},
		{"an indented later section header is read", "[x]\n\t" + realms(addr), []string{p("base.conf")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			main := filepath.Join(t.TempDir(), "krb5.conf")
			if err := os.WriteFile(main, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			paths := append([]string{main}, tt.more...)
			spec := strings.Join(paths, ":")

			// What this package reads.
			hopOK, why := false, ""
			c, err := config.Load(func(k string) string {
				if k == "KRB5_CONFIG" {
					return spec
				}
				return ""
			})
			if err != nil {
				why = err.Error()
			} else if kdcs, err := c.KDCs(realm); err != nil {
				why = err.Error()
			} else {
				hopOK = slices.Contains(kdcs, addr)
				why = fmt.Sprintf("KDCs %q", kdcs)
			}

			// What MIT does with the same files.
			ccache := filepath.Join(t.TempDir(), "cc")
			env := thirdparty.ClientEnv(spec, ccache)
			out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", kinit, "alice@"+realm)
			mitOK := err == nil
			if mitOK != hopOK || mitOK != tt.wantOK {
				t.Fatalf("MIT kinit ok = %v, hop reads ok = %v (%s), want %v\nkinit: %v\n%s%s", mitOK, hopOK, why, tt.wantOK, err, out, errOut)
			}
			if !mitOK {
				return
			}
			out, errOut, err = thirdparty.Run(t, env, "", klist)
			if err != nil || !strings.Contains(out, "alice@"+realm) {
				t.Fatalf("klist: %v\n%s%s", err, out, errOut)
			}
			if strings.Contains(tt.conf, "admin_url") || slices.Contains(tt.more, p("d")) || strings.Contains(tt.conf, "includedir") {
				if v := c.HopSettings(realm).AdminURL; v != "https://kdc.example.test:8443" {
					t.Errorf("HopSettings(%s).AdminURL = %q", realm, v)
				}
			}
		})
	}
}

// TestHeimdalIgnoresHopSection checks that Heimdal's kinit takes a
// krb5.conf with a [hop] section (subsections, nested ones) as MIT does.
func TestHeimdalIgnoresHopSection(t *testing.T) {
	h := thirdparty.RequireHeimdal(t)
	addr := startKDC(t)
	conf := clientLibdefaults() + "[realms]\n\t" + realm + " = {\n\t\tkdc = " + addr + "\n\t}\n" +
		"[hop]\n\tadmin_url = https://127.0.0.1:8443\n\t" + realm + " = {\n\t\tadmin_url = https://kdc.example.test:8443\n\t\tnested = {\n\t\t\tdeeper = yes\n\t\t}\n\t}\n"
	path := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.LoadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if v := c.HopSettings(realm).AdminURL; v != "https://kdc.example.test:8443" {
		t.Fatalf("HopSettings(%s).AdminURL = %q", realm, v)
	}
	env := append(thirdparty.ClientEnv(path, filepath.Join(t.TempDir(), "cc")), h.Env...)
	if out, errOut, err := thirdparty.Run(t, env, alicePW+"\n", h.Kinit, "--password-file=STDIN", "alice@"+realm); err != nil {
		t.Fatalf("Heimdal kinit: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := thirdparty.Run(t, env, "", h.Klist); err != nil || !strings.Contains(out, "alice@"+realm) {
		t.Fatalf("Heimdal klist: %v\n%s%s", err, out, errOut)
	}
}
