package keytab

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"hop/krb5"
)

// mitTools returns the paths of MIT krb5 programs. When one is missing the
// test is skipped, unless HOP_INTEROP=1 asks for the interoperability tests
// to run, in which case it fails.
func mitTools(t *testing.T, names ...string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			if os.Getenv("HOP_INTEROP") == "1" {
				t.Fatalf("HOP_INTEROP=1 but %s is not installed (apt-get install krb5-user krb5-kdc krb5-admin-server): %v", n, err)
			}
			t.Skipf("%s not installed (set HOP_INTEROP=1 to make this a failure)", n)
		}
		paths[n] = p
	}
	return paths
}

// mitEnv is a fixed environment for MIT programs: an empty profile, UTC
// and the C locale so that their output does not depend on the machine.
func mitEnv(t *testing.T) []string {
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(conf, []byte("[libdefaults]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"KRB5_CONFIG=" + conf, "TZ=UTC", "LC_ALL=C", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
}

// klistLine matches one key of `klist -k -t -e -K`:
// "   3 01/02/24 03:04:05 host/b@R (aes256-cts-hmac-sha1-96)  (0x0011…)".
var klistLine = regexp.MustCompile(`^\s*(\d+) (\d\d/\d\d/\d\d \d\d:\d\d:\d\d) (.+) \((?:DEPRECATED:)?([a-z0-9-]+)\)\s+\(0x([0-9a-f]+)\)$`)

// TestMITKlistReadsHopKeytab writes a keytab with hop and lists it with
// MIT's klist. The expected lines are written out by hand.
func TestMITKlistReadsHopKeytab(t *testing.T) {
	tools := mitTools(t, "klist")
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	kt := &Keytab{Entries: []Entry{
		{princ(t, "host/b.hop.test@HOP.TEST", krb5.NTSrvHst), ts, 3, krb5.AES256CTSHMACSHA196, key(0x11, 32)},
		{princ(t, "host/b.hop.test@HOP.TEST", krb5.NTSrvHst), ts, 3, krb5.AES128CTSHMACSHA196, key(0x12, 16)},
		{princ(t, "HTTP/web.hop.test@HOP.TEST", krb5.NTSrvInst), ts.Add(90 * time.Minute), 300, krb5.AES256CTSHMACSHA384192, key(0x13, 32)},
		{princ(t, "alice@HOP.TEST", krb5.NTPrincipal), ts, 1, krb5.RC4HMAC, key(0x14, 16)},
		{princ(t, "a/b/c@OTHER.TEST", krb5.NTPrincipal), ts, 70000, krb5.AES128CTSHMACSHA256128, key(0x15, 16)},
		{princ(t, `svc/we\@ird@HOP.TEST`, krb5.NTPrincipal), ts, 2, krb5.AES256CTSHMACSHA196, key(0x16, 32)},
	}}
	path := filepath.Join(t.TempDir(), "hop.keytab")
	if err := kt.Save(path); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"3", "01/02/24 03:04:05", "host/b.hop.test@HOP.TEST", "aes256-cts-hmac-sha1-96", strings.Repeat("11", 32)},
		{"3", "01/02/24 03:04:05", "host/b.hop.test@HOP.TEST", "aes128-cts-hmac-sha1-96", strings.Repeat("12", 16)},
		{"300", "01/02/24 04:34:05", "HTTP/web.hop.test@HOP.TEST", "aes256-cts-hmac-sha384-192", strings.Repeat("13", 32)},
		{"1", "01/02/24 03:04:05", "alice@HOP.TEST", "arcfour-hmac", strings.Repeat("14", 16)},
		{"70000", "01/02/24 03:04:05", "a/b/c@OTHER.TEST", "aes128-cts-hmac-sha256-128", strings.Repeat("15", 16)},
		{"2", "01/02/24 03:04:05", `svc/we\@ird@HOP.TEST`, "aes256-cts-hmac-sha1-96", strings.Repeat("16", 32)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tools["klist"], "-k", "-t", "-e", "-K", "FILE:"+path)
	cmd.Env = mitEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("klist: %v\n%s", err, out)
	}
	var got [][]string
	for _, line := range strings.Split(string(out), "\n") {
		if m := klistLine.FindStringSubmatch(line); m != nil {
			got = append(got, m[1:])
		}
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("klist listed\n%q\nwant\n%q\nfull output:\n%s", got, want, out)
	}
}
