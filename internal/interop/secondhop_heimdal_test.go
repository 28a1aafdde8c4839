package interop

import (
	"strings"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

// TestSecondHopHeimdal: Heimdal's programs in a session on B use the
// session's broker, though Heimdal's library always connects to its fixed
// KCM socket path (the agent, as root, gives the session a mount namespace
// where that path is the broker's socket). b$ is trusted for delegation
// and allowed to delegate to C's host.
//
// Heimdal's KCM client never sends RETRIEVE (lib/krb5/kcm.c has no
// retrieve operation; the library walks the cache instead), so the broker
// cannot obtain a ticket when a Heimdal program asks: in mode constrained
// Heimdal's kgetcred finds no TGT, and finds host/C's ticket once MIT's
// kvno had the broker obtain it. In mode forward the cache holds the
// forwarded TGT, and Heimdal's kgetcred asks the KDC with it and stores
// the ticket through the broker, where MIT's klist sees it.
func TestSecondHopHeimdal(t *testing.T) {
	h := thirdparty.RequireHeimdal(t)
	l := secondHopLab(t)
	l.delegableB(t)
	alice := l.aliceEnv(t)
	target := "host/" + l.c.name + "@" + l.realm
	tgt := "krbtgt/" + l.realm + "@" + l.realm
	// session runs Heimdal's tools in script on B in mode and returns the
	// outputs of its tries and the session's ID.
	session := func(t *testing.T, mode, script string) (map[string]string, string) {
		t.Helper()
		start := time.Now()
		out, errOut, err := l.onB(t, alice, mode, sessionInfo+"export "+strings.Join(h.Env, " ")+"\n"+script)
		t.Logf("the session on B (%v): %v\n%s%s", time.Since(start).Round(time.Millisecond), err, out, errOut)
		if err != nil {
			t.Fatalf("the session on B: %v", err)
		}
		return tries(out), sessionValue(out, "session")
	}

	t.Run("constrained", func(t *testing.T) {
		got, id := session(t, "constrained",
			programTry("heimdal klist", h.Klist)+
				programTry("heimdal kgetcred", h.Kgetcred, "host/"+l.c.name)+
				programTry("mit kvno", "kvno", "host/"+l.c.name)+
				programTry("heimdal kgetcred after kvno", h.Kgetcred, "host/"+l.c.name)+
				programTry("heimdal klist after", h.Klist))
		mustContain(t, "Heimdal's klist in the session on B", got["heimdal klist"], "Credentials cache: KCM:", "Principal: alice@"+l.realm, "rc=0\n")
		if strings.Contains(got["heimdal klist"], "host/") {
			t.Errorf("Heimdal's klist shows a ticket before any was asked for:\n%s", got["heimdal klist"])
		}
		if g := got["heimdal kgetcred"]; !strings.Contains(g, tgt) || strings.HasSuffix(g, "rc=0\n") {
			t.Errorf("Heimdal's kgetcred before kvno: %q, want it to find no TGT (%s) and fail", g, tgt)
		}
		mustContain(t, "MIT's kvno", got["mit kvno"], target+": kvno = ", "rc=0\n")
		if g := got["heimdal kgetcred after kvno"]; g != "rc=0\n" {
			t.Errorf("Heimdal's kgetcred after kvno: %q, want the broker's ticket, nothing printed and exit status 0", g)
		}
		mustContain(t, "Heimdal's klist after kvno", got["heimdal klist after"], "Principal: alice@"+l.realm, target, "rc=0\n")
		for name, o := range got {
			if strings.Contains(o, "krbtgt/") && name != "heimdal kgetcred" {
				t.Errorf("%s shows a TGT in a constrained session:\n%s", name, o)
			}
		}
		sub := "(session " + id + ", mode constrained, endpoint default) to " + target + ": issued"
		if evs := l.b.waitAudit(t, "broker.issued", sub, 1); len(evs) == 0 {
			t.Errorf("B's audit log: no broker.issued event %q", sub)
		}
	})

	t.Run("forward", func(t *testing.T) {
		got, _ := session(t, "forward",
			programTry("heimdal klist", h.Klist)+
				programTry("heimdal kgetcred", h.Kgetcred, "host/"+l.c.name)+
				programTry("heimdal klist after", h.Klist)+
				"echo '== mit klist'; klist\n")
		mustContain(t, "Heimdal's klist in the forward session", got["heimdal klist"], "Principal: alice@"+l.realm, tgt, "rc=0\n")
		if g := got["heimdal kgetcred"]; g != "rc=0\n" {
			t.Errorf("Heimdal's kgetcred with the forwarded TGT: %q, want nothing printed and exit status 0", g)
		}
		mustContain(t, "Heimdal's klist after kgetcred", got["heimdal klist after"], tgt, target, "rc=0\n")
		mustContain(t, "MIT's klist after Heimdal's kgetcred", got["mit klist"], "Default principal: alice@"+l.realm, target)
	})
}
