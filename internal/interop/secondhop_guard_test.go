package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondHopRemoteGuard: mode remote-guard (Remote Credential Guard).
// With no delegation setting in the domain at all, a nested hop exec to C,
// MIT's kvno and klist in the session on B work, each ticket obtained by
// the client on A and handed over short-lived; B holds neither alice's TGT
// nor its key (memory and disk); --allow-hop limits what A serves, and the
// refusal reaches the session with the reason; a chain A → B → C → B works
// with remote-guard on each hop, C's requests going through B's client to
// A; B's audit names each ticket.
func TestSecondHopRemoteGuard(t *testing.T) {
	l := secondHopLab(t)
	state := t.TempDir()
	alice := append(l.aliceEnv(t), "XDG_STATE_HOME="+state)

	s := l.startOnB(t, alice, "remote-guard", "guard", sessionInfo+l.nestedTry("nested")+
		"echo '== kvno'; kvno host/"+l.c.name+" 2>&1; echo \"rc=$?\"\n"+
		"echo '== tickets'; hop tickets --json 2>&1\n"+
		"echo '== klist'; klist 2>&1\nstep 1\n")
	s.waitStep(t, 1)
	// The session is open, its tickets obtained: nothing of the TGT on B,
	// in the agent nor in the session's processes.
	l.noTGTOnB(t, alice)
	ticket, key := l.tgtNeedles(t, alice)
	u, err := user.Lookup(l.alice)
	if err != nil {
		t.Fatal(err)
	}
	pids := processesOf(t, u.Uid)
	if len(pids) == 0 {
		t.Fatal("no process of the session's account on B")
	}
	for _, pid := range pids {
		if found := scanProcessMemory(t, pid, ticket, key); len(found) != 0 {
			t.Errorf("process %d of the session holds alice's TGT or its key (needles %v)", pid, found)
		}
	}
	s.next(t, 1)
	out, errOut, err := s.wait(t)
	if err != nil {
		t.Fatalf("the remote-guard session on B: %v\n%s%s", err, out, errOut)
	}
	got := tries(out)
	l.wantWorked(t, "remote-guard", got["nested"])
	mustContain(t, "kvno in the session", got["kvno"], "host/"+l.c.name+"@"+l.realm+": kvno = ", "rc=0")
	if strings.Contains(got["klist"], "krbtgt/") {
		t.Errorf("a TGT in the remote-guard session's cache:\n%s", got["klist"])
	}
	var listing struct {
		Tickets []struct {
			Server             string
			ValidFrom, Expires time.Time `json:"-"`
			RawFrom            string    `json:"valid_from"`
			RawExpires         string    `json:"expires"`
		}
	}
	if err := json.Unmarshal([]byte(got["tickets"]), &listing); err != nil || len(listing.Tickets) == 0 {
		t.Fatalf("hop tickets --json in the session: %v\n%s", err, got["tickets"])
	}
	for _, tk := range listing.Tickets {
		from, err1 := time.Parse(time.RFC3339, tk.RawFrom)
		until, err2 := time.Parse(time.RFC3339, tk.RawExpires)
		if err1 != nil || err2 != nil || until.Sub(from) > 10*time.Minute+time.Second {
			t.Errorf("a ticket handed over to B lasts %v (%s … %s), more than 10 minutes", until.Sub(from), tk.RawFrom, tk.RawExpires)
		}
	}
	// One ticket was asked of A: kvno found it in the session's cache.
	if evs := l.b.waitAudit(t, "broker.issued", "mode remote-guard", 1); len(evs) != 1 || !strings.Contains(evs[0].Reason, "to host/"+l.c.name+"@"+l.realm+": issued") {
		t.Errorf("B's audit log: broker.issued events in mode remote-guard: %+v", evs)
	}

	// --allow-hop: A serves only what the session is allowed.
	out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--delegate", "remote-guard", "--allow-hop", "cifs/*."+"example.test", "--", l.nestedTry("outside"))
	if err != nil {
		t.Fatalf("hop exec --allow-hop: %v\n%s%s", err, out, errOut)
	}
	l.wantRefused(t, "--allow-hop", tries(out)["outside"], "hop: "+l.c.name+": ", "host/"+l.c.name+" is not in the hops allowed for this session: --allow-hop cifs/*.example.test")

	// A's client log: what it served, and refused.
	served, errOut, err := l.run(t, alice, "", "audit", "--client")
	if err != nil {
		t.Fatalf("hop audit --client: %v\n%s", err, errOut)
	}
	mustContain(t, "hop audit --client", served, "guard.served", "guard.refused", "host/"+l.c.name+"@"+l.realm, "is not in the hops allowed for this session")

	// A → B → C → B, remote-guard on each hop.
	chain := "echo '== chain'; hop exec " + l.c.name + " --delegate remote-guard -- 'hop exec " + l.b.name + " -- id -un' 2>&1; echo \"rc=$?\"\n"
	out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--delegate", "remote-guard", "--", chain)
	if err != nil {
		t.Fatalf("the chain: %v\n%s%s", err, out, errOut)
	}
	l.wantWorked(t, "A → B → C → B", tries(out)["chain"])
}

// TestSecondHopRestrictedAdmin: mode restricted-admin, enabled on B for
// its admin group. alice (an admin) gets a session as B's local
// administrator whose second hop happens as B itself: MIT's klist shows
// host/b's cache, kvno gets C's ticket as host/b, and a nested hop exec to
// C is refused by C (host/b may not log on there) with the explanation
// that the session is restricted-admin. bob, not an admin, is refused.
func TestSecondHopRestrictedAdmin(t *testing.T) {
	l := secondHopLab(t, "restricted_admin = true\nadmin_groups = [\"Domain Admins\"]\n")
	hop(t, "", "group", "add-member", "Domain Admins", "alice", "--dir", l.domain.dir)
	alice := l.aliceEnv(t)
	script := "echo '== who'; id -un\n" +
		"echo '== kvno'; kvno host/" + l.c.name + " 2>&1; echo \"rc=$?\"\n" +
		"echo '== klist'; klist 2>&1\n" + l.nestedTry("nested")
	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--delegate", "restricted-admin", "--", script)
	if err != nil {
		t.Fatalf("hop exec --delegate restricted-admin: %v\n%s%s", err, out, errOut)
	}
	got := tries(out)
	if got["who"] != "root\n" {
		t.Errorf("the restricted-admin session runs as %q, want root", got["who"])
	}
	mustContain(t, "kvno as host/b", got["kvno"], "host/"+l.c.name+"@"+l.realm+": kvno = ", "rc=0")
	mustContain(t, "klist", got["klist"], "Default principal: host/"+l.b.name+"@"+l.realm)
	if strings.Contains(got["klist"], "alice") {
		t.Errorf("alice's name in the restricted-admin session's cache:\n%s", got["klist"])
	}
	l.wantRefused(t, "nested hop exec as host/b", got["nested"], "hop: "+l.c.name+": ",
		"(this session on "+l.b.name+" is restricted-admin: the hop ran as host/"+l.b.name+"@"+l.realm+", the host's own identity, not as alice@"+l.realm+")")

	out, errOut, err = l.run(t, l.bobEnv(t), "", "exec", l.b.name, "--delegate", "restricted-admin", "--", "echo ran")
	if err == nil || strings.Contains(out, "ran") || !strings.Contains(errOut, "--delegate restricted-admin is for members of Domain Admins (admin_groups of "+l.b.name+"): bob@"+l.realm+" is not one") {
		t.Errorf("bob: %v, stdout %q, stderr %q", err, out, errOut)
	}
}

// TestSecondHopCredSSP: mode credssp (fresh credentials). The client sends
// the password only to hosts its allow_fresh_credentials names, the agent
// takes it only with credssp = true, and neither for a sensitive account;
// then the session holds a TGT got with the password and reaches C.
func TestSecondHopCredSSP(t *testing.T) {
	l := secondHopLab(t, "credssp = true\n")
	alice := l.aliceEnv(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(alicePW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := l.nestedTry("nested") + "echo '== klist'; klist 2>&1\n"
	args := []string{"exec", l.b.name, "--delegate", "credssp", "--password-file", pw, "--", script}

	// No allow-list: refused on A.
	out, errOut, err := l.run(t, alice, "", args...)
	if err == nil || out != "" || !strings.Contains(errOut, "no host is allowed to receive it: list them in krb5.conf's [hop] section, e.g. allow_fresh_credentials = host/*.example.test") {
		t.Errorf("without allow_fresh_credentials: %v, stdout %q, stderr %q", err, out, errOut)
	}
	// An allow-list: a krb5.conf of A's own with it.
	conf, err := os.ReadFile(l.conf)
	if err != nil {
		t.Fatal(err)
	}
	aConf := filepath.Join(t.TempDir(), "krb5.conf")
	write := func(extra string) {
		if err := os.WriteFile(aConf, append(append([]byte{}, conf...), extra...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	withConf := append(append([]string{}, alice...), "KRB5_CONFIG="+aConf)
	write("\tallow_fresh_credentials = host/c.example.test, *\n")
	out, errOut, err = l.run(t, withConf, "", args...)
	if err == nil || !strings.Contains(errOut, `allow_fresh_credentials "*" in krb5.conf's [hop] section is ignored`) || !strings.Contains(errOut, "host/"+l.b.name+" is not in allow_fresh_credentials (host/c.example.test)") {
		t.Errorf("B not allowed: %v, stdout %q, stderr %q", err, out, errOut)
	}
	write("\tallow_fresh_credentials = host/*.example.test\n")
	out, errOut, err = l.run(t, withConf, "", args...)
	if err != nil {
		t.Fatalf("hop exec --delegate credssp: %v\n%s%s", err, out, errOut)
	}
	got := tries(out)
	l.wantWorked(t, "credssp", got["nested"])
	mustContain(t, "klist in the credssp session", got["klist"], "krbtgt/"+l.realm+"@"+l.realm)

	// A member of Protected Users, then a sensitive account: the agent
	// refuses, from the PAC.
	hop(t, "", "group", "add-member", "Protected Users", "alice", "--dir", l.domain.dir)
	withConf = append(append([]string{}, l.aliceEnv(t)...), "KRB5_CONFIG="+aConf)
	out, errOut, err = l.run(t, withConf, "", args...)
	if err == nil || strings.Contains(out, "alice") || !strings.Contains(errOut, "--delegate credssp refused: alice@"+l.realm+" is in Protected Users, whose credentials are never delegated") {
		t.Errorf("alice in Protected Users: %v, stdout %q, stderr %q", err, out, errOut)
	}
	hop(t, "", "group", "remove-member", "Protected Users", "alice", "--dir", l.domain.dir)
	l.setAccount(t, "alice", "--sensitive=true")
	alice = l.aliceEnv(t)
	withConf = append(append([]string{}, alice...), "KRB5_CONFIG="+aConf)
	out, errOut, err = l.run(t, withConf, "", args...)
	if err == nil || strings.Contains(out, "alice") || !strings.Contains(errOut, "--delegate credssp refused: alice@"+l.realm+" is sensitive and cannot be delegated") {
		t.Errorf("a sensitive alice: %v, stdout %q, stderr %q", err, out, errOut)
	}
}

// TestSecondHopDelegationPolicy: the domain's restriction (hop domain set
// --restrict-delegation), read by clients through the admin API: with
// require-remote-guard, --delegate constrained is refused on A naming the
// domain's policy, a krb5.conf of A's that says off does not loosen it,
// and without --delegate the session runs in remote-guard, a nested hop
// exec (which reads the policy too) with it.
func TestSecondHopDelegationPolicy(t *testing.T) {
	l := secondHopLab(t)
	hop(t, "", "domain", "set", "--restrict-delegation", "require-remote-guard", "--dir", l.domain.dir)
	alice := l.aliceEnv(t)
	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--delegate", "constrained", "--", "echo ran")
	if err == nil || strings.Contains(out, "ran") || !strings.Contains(errOut, "refused by the delegation policy require-remote-guard (the domain's policy (hop domain set --restrict-delegation)): only --delegate remote-guard is allowed, not constrained") {
		t.Errorf("constrained under require-remote-guard: %v, stdout %q, stderr %q", err, out, errOut)
	}
	conf, err := os.ReadFile(l.conf)
	if err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(loose, append(conf, "\trestrict_delegation = off\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = l.run(t, append(append([]string{}, alice...), "KRB5_CONFIG="+loose), "", "exec", l.b.name, "--delegate", "forward", "--", "echo ran")
	if err == nil || strings.Contains(out, "ran") || !strings.Contains(errOut, "refused by the delegation policy require-remote-guard") {
		t.Errorf("a local off does not loosen the domain's: %v, stdout %q, stderr %q", err, out, errOut)
	}
	out, errOut, err = l.run(t, alice, "", "exec", l.b.name, "--", l.nestedTry("default"))
	if err != nil {
		t.Fatalf("hop exec under require-remote-guard: %v\n%s%s", err, out, errOut)
	}
	l.wantWorked(t, "the policy's default mode", tries(out)["default"])
	if evs := l.b.waitAudit(t, "session.start", "", 1); len(evs) == 0 || !strings.Contains(evs[len(evs)-1].Flags, "mode=remote-guard") {
		t.Errorf("B's session.start events: %+v", evs)
	}
}

// TestSecondHopRemoteGuardConfirm: with --confirm the client on A asks its
// askpass program before each new target, naming the whole path; a "no"
// reaches the session as the refusal's reason, a "yes" serves the ticket.
func TestSecondHopRemoteGuardConfirm(t *testing.T) {
	l := secondHopLab(t)
	alice := l.aliceEnv(t)
	dir := t.TempDir()
	asked := filepath.Join(dir, "asked")
	for name, status := range map[string]int{"no": 1, "yes": 0} {
		script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$1\" >> %s\nexit %d\n", asked, status)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(askpass string) string {
		env := append(append([]string{}, alice...), "HOP_ASKPASS="+filepath.Join(dir, askpass))
		out, errOut, err := l.run(t, env, "", "exec", l.b.name, "--delegate", "remote-guard", "--confirm", "--", l.nestedTry("nested"))
		if err != nil {
			t.Fatalf("hop exec --confirm (%s): %v\n%s%s", askpass, err, out, errOut)
		}
		return tries(out)["nested"]
	}
	l.wantRefused(t, "askpass says no", run("no"), "hop: "+l.c.name+": ", "alice@"+l.realm+" on the first host declined (HOP_ASKPASS")
	l.wantWorked(t, "askpass says yes", run("yes"))
	q, err := os.ReadFile(asked)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "the question", string(q), "hop: allow alice@"+l.realm+" on ", ", via "+l.b.name+" (session ", "to get a ticket for host/"+l.c.name+"@"+l.realm+"?")

	// Without a program to ask with, --confirm refuses and says why.
	noAsk := append(append([]string{}, alice...), "HOP_ASKPASS=", "SSH_ASKPASS=")
	out, _, _ := l.run(t, noAsk, "", "exec", l.b.name, "--delegate", "remote-guard", "--confirm", "--", l.nestedTry("none"))
	// (hop runs here without a controlling terminal to ask on either.)
	l.wantRefused(t, "no askpass", tries(out)["none"], "hop: "+l.c.name+": ", "no HOP_ASKPASS or SSH_ASKPASS, no terminal")
}

// processesOf lists the pids of the processes whose real uid is uid, but
// the sleep of the session's step loop, which comes and goes too fast to
// scan.
func processesOf(t *testing.T, uid string) []int {
	t.Helper()
	m, _ := filepath.Glob("/proc/[0-9]*/status")
	var pids []int
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == uid && !strings.HasPrefix(string(b), "Name:\tsleep\n") {
				if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// TestSecondHopRemoteGuardUser: hop exec --user bob with remote-guard: A
// logs bob on with his password (bob's TGT stays in the hop process on A),
// the session on B is bob's, and the ticket B gets is bob's.
func TestSecondHopRemoteGuardUser(t *testing.T) {
	l := secondHopLab(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(bobPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := l.run(t, l.aliceEnv(t), "", "exec", l.b.name, "--user", "bob", "--password-file", pw, "--delegate", "remote-guard", "--",
		"echo \"$HOP_CLIENT\"; kvno host/"+l.c.name+" >/dev/null && klist | sed -n 's/^Default principal: //p'")
	if err != nil {
		t.Fatalf("hop exec --user bob: %v\n%s%s", err, out, errOut)
	}
	if want := "bob@" + l.realm + "\nbob@" + l.realm + "\n"; out != want {
		t.Errorf("hop exec --user bob: stdout %q, want %q", out, want)
	}
	if evs := l.b.waitAudit(t, "broker.issued", "bob@"+l.realm+" via "+l.b.name, 1); len(evs) != 1 {
		t.Errorf("B's audit: %+v", evs)
	}
}

// TestSecondHopThreeHops: A → B → C → D, remote-guard on every hop, D on
// 127.0.0.4: D's session runs as alice, each host's tickets coming from A
// through the hosts before it.
func TestSecondHopThreeHops(t *testing.T) {
	l := secondHopLab(t)
	d := l.addHostD(t)
	alice := l.aliceEnv(t)
	inner := "hop exec " + d.name + " -- id -un"
	middle := "hop exec " + l.c.name + " --delegate remote-guard -- " + shQuote(inner)
	out, errOut, err := l.run(t, alice, "", "exec", l.b.name, "--delegate", "remote-guard", "--", middle)
	if err != nil {
		t.Fatalf("A → B → C → D: %v\n%s%s", err, out, errOut)
	}
	if out != l.alice+"\n" {
		t.Errorf("A → B → C → D printed %q, want %q", out, l.alice+"\n")
	}
	for _, h := range []*labHost{l.b, l.c} {
		if evs := h.waitAudit(t, "broker.issued", "mode remote-guard", 1); len(evs) == 0 {
			t.Errorf("%s's audit log has no ticket obtained in mode remote-guard", h.name)
		}
	}
}
