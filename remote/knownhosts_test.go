package remote_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"hop/remote"
	"hop/remote/remotetest"
)

func TestKnownHostsFile(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	other := remotetest.HostSigner(t, "someone-else").PublicKey()
	line := func(names string, k ssh.PublicKey) string {
		return names + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	for _, tc := range []struct {
		name, file string
		ok         bool
	}{
		{"hop known-hosts output", line("b.example.test,b", s.HostKey) + "\n", true},
		{"with port", line(fmt.Sprintf("[b.example.test]:%d", s.Port), s.HostKey), true},
		{"other port", line("[b.example.test]:1", s.HostKey), false},
		{"wildcard", "# comment\n\n" + line("*.example.test", s.HostKey), true},
		{"negated", line("*.example.test,!b.example.test", s.HostKey), false},
		{"hashed", line(knownhosts.HashHostname(host), s.HostKey), true},
		{"hashed with port", line(knownhosts.HashHostname(knownhosts.Normalize(fmt.Sprintf("%s:%d", host, s.Port))), s.HostKey), true},
		{"hashed other", line(knownhosts.HashHostname("c.example.test"), s.HostKey), false},
		{"other key", line("b.example.test", other), false},
		{"other host", line("c.example.test", s.HostKey), false},
		{"revoked", line("b.example.test", s.HostKey) + "\n@revoked " + line("*", s.HostKey), false},
		{"garbage then key", "b.example.test ssh-unknown AAAA\nnonsense\n" + line("B.Example.Test", s.HostKey), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			o := f.options(s)
			o.HostKeys = remote.KnownHostsFile{Path: path, Port: s.Port}
			c, err := remote.Dial(context.Background(), host, o)
			if tc.ok != (err == nil) {
				t.Fatalf("Dial = %v, want success %v", err, tc.ok)
			}
			if err == nil {
				c.Close()
			} else if !strings.Contains(err.Error(), path) {
				t.Errorf("the error %q does not name the file", err)
			}
		})
	}
}
