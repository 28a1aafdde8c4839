package agent

import (
	"strings"
	"testing"
)

// TestSSHUserNotTheAccount: the SSH user name does not choose the account;
// when the name accepted (the user's own name, the principal) is not the
// account the session runs as, session.start says which name was asked.
func TestSSHUserNotTheAccount(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, c := range []struct{ user, flag string }{
		{"alice", ",ssh-user=alice"},                           // user_map: alice runs as f.alice
		{"alice@EXAMPLE.TEST", ",ssh-user=alice@EXAMPLE.TEST"}, // the principal's full name
		{f.alice, ""}, // the account itself
	} {
		r := f.dial(t, c.user, &gssClient{cred: f.ticket(t, "alice", alicePW)})
		if r.err != nil {
			t.Fatalf("ssh %s@: %v (banner %q)", c.user, r.err, r.banner)
		}
		if got := run(t, r.client, "id -un", "", nil); got.stdout != f.alice+"\n" {
			t.Errorf("ssh %s@: the session ran as %q, want %s", c.user, got.stdout, f.alice)
		}
		r.client.Close()
		starts := f.eventsOf("session.start")
		flags := starts[len(starts)-1].Flags
		if c.flag != "" && !strings.HasSuffix(flags, c.flag) || c.flag == "" && strings.Contains(flags, "ssh-user") {
			t.Errorf("ssh %s@: session.start flags %q, want the suffix %q", c.user, flags, c.flag)
		}
	}
	// Any other name is refused, with the name to use.
	r := f.dial(t, "root", &gssClient{cred: f.ticket(t, "alice", alicePW)})
	if r.err == nil || !strings.Contains(r.banner, `you authenticated as alice@EXAMPLE.TEST but asked to log on as "root"; use your own name (alice) as the SSH user`) {
		t.Errorf("ssh root@: %v, banner %q", r.err, r.banner)
	}
}

func TestFlagValue(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", "a,b": `"a,b"`, "a=b": `"a=b"`, "": `""`, "alice@EXAMPLE.TEST": "alice@EXAMPLE.TEST"} {
		if got := flagValue(in); got != want {
			t.Errorf("flagValue(%q) = %s, want %s", in, got, want)
		}
	}
}
