package config

import (
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseCCacheName(t *testing.T) {
	for _, tt := range []struct {
		name, typ, residual string
	}{
		{"FILE:/tmp/krb5cc_0", "FILE", "/tmp/krb5cc_0"},
		{"/tmp/krb5cc_0", "FILE", "/tmp/krb5cc_0"},
		{"FILE:/tmp/a:b", "FILE", "/tmp/a:b"},
		{"C:\\krb5cc", "FILE", "C:\\krb5cc"}, // a drive letter
		{"DIR:/run/user/0/krb5cc", "DIR", "/run/user/0/krb5cc"},
		{"DIR::/run/user/0/krb5cc/tktAbc", "DIR", ":/run/user/0/krb5cc/tktAbc"},
		{"KEYRING:persistent:0", "KEYRING", "persistent:0"},
		{"KCM:0", "KCM", "0"},
		{"KCM:", "KCM", ""}, // the KCM server's default cache
		{"MEMORY:x", "MEMORY", "x"},
		{"FILE:", "FILE", ""},
	} {
		c, err := ParseCCacheName(tt.name)
		if err != nil || c.Type != tt.typ || c.Residual != tt.residual {
			t.Errorf("ParseCCacheName(%q) = %+v, %v; want %s %q", tt.name, c, err, tt.typ, tt.residual)
		}
	}
	// Types are case-sensitive; MIT knows no others on Linux.
	for _, name := range []string{"", "file:/tmp/x", "API:x", "MSLSA:", "/tmp/dir:x", "XYZ:abc"} {
		if c, err := ParseCCacheName(name); err == nil {
			t.Errorf("ParseCCacheName(%q) = %+v, want an error", name, c)
		}
	}
}

func TestCCachePath(t *testing.T) {
	dir := t.TempDir()
	coll := filepath.Join(dir, "coll")
	writeFiles(t, dir, map[string]string{
		"coll/primary":  "tktXyZ\n",
		"bad1/primary":  "notatkt\n",
		"bad2/primary":  "tkt/../x\n",
		"bad3/primary":  "tktnonewline",
		"bad4/primary":  "tkt" + strings.Repeat("a", 60) + "\n",
		"empty/.keep":   "",
		"ok-63/primary": "tkt" + strings.Repeat("a", 59) + "\n",
	})
	for _, tt := range []struct {
		name, want string
	}{
		{"FILE:/tmp/krb5cc_1000", "/tmp/krb5cc_1000"},
		{"/tmp/krb5cc_1000", "/tmp/krb5cc_1000"},
		{"DIR:" + coll, filepath.Join(coll, "tktXyZ")},
		{"DIR:" + filepath.Join(dir, "empty"), filepath.Join(dir, "empty", "tkt")},
		{"DIR:" + filepath.Join(dir, "ok-63"), filepath.Join(dir, "ok-63", "tkt"+strings.Repeat("a", 59))},
		{"DIR::" + coll + "/tktOther", coll + "/tktOther"},
	} {
		c, err := ParseCCacheName(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := c.Path(); err != nil || p != tt.want {
			t.Errorf("%s: Path() = %q, %v; want %q", tt.name, p, err, tt.want)
		}
	}
	for _, name := range []string{"FILE:", "DIR:", "DIR::",
		"DIR:" + filepath.Join(dir, "bad1"), "DIR:" + filepath.Join(dir, "bad2"),
		"DIR:" + filepath.Join(dir, "bad3"), "DIR:" + filepath.Join(dir, "bad4")} {
		c, err := ParseCCacheName(name)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := c.Path(); err == nil {
			t.Errorf("%s: Path() = %q, want an error", name, p)
		}
	}
	for _, name := range []string{"KEYRING:persistent:1000", "MEMORY:x"} {
		c, _ := ParseCCacheName(name)
		_, err := c.Path()
		if err == nil || !strings.Contains(err.Error(), "FILE, DIR and KCM") || !strings.Contains(err.Error(), "KRB5CCNAME=FILE:") {
			t.Errorf("%s: Path() error %v does not say what to do", name, err)
		}
	}
	// A KCM cache is supported, but held by a server, not a file.
	for _, name := range []string{"KCM:", "KCM:1000"} {
		c, _ := ParseCCacheName(name)
		if _, err := c.Path(); err == nil || !strings.Contains(err.Error(), "KCM server") {
			t.Errorf("%s: Path() error %v does not say a KCM server holds it", name, err)
		}
	}
}

func TestCCacheName(t *testing.T) {
	c := mustParse(t, "[libdefaults]\ndefault_ccache_name = FILE:%{TEMP}/cc_%{uid}_%{USERID}_%{euid}%{null}\n")
	for _, tt := range []struct {
		conf *Config
		env  map[string]string
		want string
	}{
		{&Config{}, nil, "FILE:/tmp/krb5cc_1000"},
		{nil, nil, "FILE:/tmp/krb5cc_1000"},
		{&Config{}, map[string]string{"KRB5CCNAME": "FILE:/x/%{uid}"}, "FILE:/x/%{uid}"}, // not expanded
		{&Config{}, map[string]string{"KRB5CCNAME": "/plain/path"}, "FILE:/plain/path"},
		{c, nil, "FILE:/tmp/cc_1000_1000_1000"},
		{c, map[string]string{"TMPDIR": "/var/tmp"}, "FILE:/var/tmp/cc_1000_1000_1000"},
		{c, map[string]string{"KRB5CCNAME": "DIR:/run/cc"}, "DIR:/run/cc"},
	} {
		got, err := tt.conf.CCacheName(env(tt.env), 1000)
		if err != nil || got.String() != tt.want {
			t.Errorf("CCacheName(%v) = %v, %v; want %s", tt.env, got, err, tt.want)
		}
	}
	// Fedora's default: a keyring, valid for MIT and refused by Path.
	k := mustParse(t, "[libdefaults]\ndefault_ccache_name = KEYRING:persistent:%{uid}\n")
	cc, err := k.CCacheName(env(nil), 42)
	if err != nil || cc.Type != "KEYRING" || cc.Residual != "persistent:42" {
		t.Errorf("KEYRING default: %+v, %v", cc, err)
	}
	if _, err := cc.Path(); err == nil {
		t.Error("KEYRING cache has a path")
	}
	for _, conf := range []string{"%{LIBDIR}/x", "/tmp/%{nope}", "/tmp/%{uid", "/tmp/%{}", "FOO:/x"} {
		c := mustParse(t, "[libdefaults]\ndefault_ccache_name = "+conf+"\n")
		if got, err := c.CCacheName(env(nil), 0); err == nil {
			t.Errorf("default_ccache_name = %s: %v, want an error", conf, got)
		}
	}
}

func TestExpandUsername(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		t.Skip(err)
	}
	got, err := ExpandPath("/tmp/%{username}-%{uid}", env(nil), uid)
	if want := "/tmp/" + u.Username + "-" + u.Uid; err != nil || got != want {
		t.Errorf("ExpandPath = %q, %v; want %q", got, err, want)
	}
	if _, err := ExpandPath("%{uid}", env(nil), -1); err == nil {
		t.Error("negative uid accepted")
	}
}

func TestKCMSocket(t *testing.T) {
	for _, tt := range []struct{ conf, want string }{
		{"", "/var/run/.heim_org.h5l.kcm-socket"}, // MIT 1.20's DEFAULT_KCM_SOCKET_PATH
		{"[libdefaults]\nkcm_socket = /run/hop/kcm.sock\n", "/run/hop/kcm.sock"},
		{"[libdefaults]\nkcm_socket = /a\nkcm_socket = /b\n", "/a"}, // the first value, as profile_get_string
	} {
		if got := mustParse(t, tt.conf).KCMSocket(); got != tt.want {
			t.Errorf("%q: KCMSocket() = %q, want %q", tt.conf, got, tt.want)
		}
	}
}
