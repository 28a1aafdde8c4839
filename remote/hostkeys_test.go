package remote_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"hop/remote"
	"hop/remote/remotetest"
)

func TestHostKeyMustBeRegistered(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	other := remotetest.HostSigner(t, "someone-else").PublicKey()
	ctx := context.Background()

	// Another key is registered: refused, with both fingerprints.
	_, err := remote.Dial(ctx, host, f.options(s, other))
	var hk *remote.HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("Dial with another registered key = %v", err)
	}
	for _, want := range []string{
		"the SSH host key of b.example.test (" + ssh.FingerprintSHA256(s.HostKey) + ") is not the one registered in the directory (" + ssh.FingerprintSHA256(other) + ")",
		"hop host join", "not connecting",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if containsPrefix(s.Events(), "login") {
		t.Error("the client authenticated to a host it refused")
	}
	// The right key among others: accepted.
	c, err := remote.Dial(ctx, host, f.options(s, other, s.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// No key registered: refused before connecting.
	o := f.options(s)
	o.HostKeys = remote.DirectoryHostKeys{Directory: directory{host: nil}}
	if _, err := remote.Dial(ctx, host, o); err == nil || !strings.Contains(err.Error(), "no SSH host key is registered") {
		t.Errorf("no registered key: %v", err)
	}
	// Unknown to the directory.
	o.HostKeys = remote.DirectoryHostKeys{Directory: directory{}}
	if _, err := remote.Dial(ctx, host, o); err == nil || !strings.Contains(err.Error(), "no computer b.example.test") {
		t.Errorf("unknown host: %v", err)
	}
}
