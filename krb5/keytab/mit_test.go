package keytab

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/krb5test"
)

// klistLine matches one key of `klist -k -t -e -K`:
// "   3 01/02/24 03:04:05 host/b@R (aes256-cts-hmac-sha1-96)  (0x0011…)".
var klistLine = regexp.MustCompile(`^\s*(\d+) (\d\d/\d\d/\d\d \d\d:\d\d:\d\d) (.+) \((?:DEPRECATED:)?([a-z0-9-]+)\)\s+\(0x([0-9a-f]+)\)$`)

// TestMITKlistReadsHopKeytab writes a keytab with hop and lists it with
// MIT's klist. The expected lines are written out by hand.
func TestMITKlistReadsHopKeytab(t *testing.T) {
	klist := thirdparty.Require(t, "klist")
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	key := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	kt := &Keytab{Entries: []Entry{
		{krb5test.Principal(t, "host/b.hop.test@HOP.TEST", krb5.NTSrvHst), ts, 3, krb5.AES256CTSHMACSHA196, key(0x11, 32)},
		{krb5test.Principal(t, "host/b.hop.test@HOP.TEST", krb5.NTSrvHst), ts, 3, krb5.AES128CTSHMACSHA196, key(0x12, 16)},
		{krb5test.Principal(t, "HTTP/web.hop.test@HOP.TEST", krb5.NTSrvInst), ts.Add(90 * time.Minute), 300, krb5.AES256CTSHMACSHA384192, key(0x13, 32)},
		{krb5test.Principal(t, "alice@HOP.TEST", krb5.NTPrincipal), ts, 1, krb5.RC4HMAC, key(0x14, 16)},
		{krb5test.Principal(t, "a/b/c@OTHER.TEST", krb5.NTPrincipal), ts, 70000, krb5.AES128CTSHMACSHA256128, key(0x15, 16)},
		{krb5test.Principal(t, `svc/we\@ird@HOP.TEST`, krb5.NTPrincipal), ts, 2, krb5.AES256CTSHMACSHA196, key(0x16, 32)},
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
	out, stderr, err := thirdparty.Run(t, thirdparty.FixedEnv(t), "", klist, "-k", "-t", "-e", "-K", "FILE:"+path)
	if err != nil {
		t.Fatalf("klist: %v\n%s%s", err, out, stderr)
	}
	var got [][]string
	for _, line := range strings.Split(out, "\n") {
		if m := klistLine.FindStringSubmatch(line); m != nil {
			got = append(got, m[1:])
		}
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("klist listed\n%q\nwant\n%q\nfull output:\n%s", got, want, out)
	}
}
