package lab

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/internal/testio"
)

// TestBrief: a KDC refusal comes down to its rule and words; other
// refusals lose hop's and the host's prefixes.
func TestBrief(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"c.lab.test: the KDC refused to let host/b.lab.test reach host/c.lab.test on behalf of sam@LAB.TEST (session on b.lab.test, --delegate constrained): KDC_ERR_BADOPTION: delegation of sam@LAB.TEST by b$ to host/c.lab.test refused (sensitive-user, STATUS_ACCOUNT_RESTRICTION): sam is sensitive and cannot be delegated (hop account set sam --sensitive=false to allow it); see why with: hop delegation explain",
			"KDC: sensitive-user: sam is sensitive and cannot be delegated"},
		{"refused: hop: b.lab.test: --delegate forward refused here, on this host: the TGT is not forwardable", "--delegate forward refused: the TGT is not forwardable"},
		{"hop: --delegate restricted-admin is for members of helpdesk", "--delegate restricted-admin is for members of helpdesk"},
		{"", ""},
	} {
		if got := Brief(c.in); got != c.want {
			t.Errorf("Brief(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSecondHop reads the probe's sections: a hop that worked, one that
// failed, and a failed hop login --credential, which is the reason.
func TestSecondHop(t *testing.T) {
	for _, c := range []struct {
		sections     map[string]string
		ok           bool
		saw, because string
	}{
		{map[string]string{"c": "alice@LAB.TEST\nrc=0\n"}, true, "alice@LAB.TEST", ""},
		{map[string]string{"c": "hop: c.lab.test: no delegated credential\nrc=1\n"}, false, "", "c.lab.test: no delegated credential"},
		{map[string]string{"login": "hop: no credential for alice\nrc=1\n", "c": "x\nrc=1\n"}, false, "", "hop login --credential: hop: no credential for alice"},
		{map[string]string{}, false, "", ""},
	} {
		ok, saw, why := secondHop(c.sections)
		if ok != c.ok || saw != c.saw || why != c.because {
			t.Errorf("secondHop(%q) = %v %q %q, want %v %q %q", c.sections, ok, saw, why, c.ok, c.saw, c.because)
		}
	}
	if out, rc := splitRC("rc=0"); out != "" || rc != "0" {
		t.Errorf("splitRC(rc=0) = %q %q", out, rc)
	}
	if out, rc := splitRC("no status\n"); out != "no status" || rc != "" {
		t.Errorf("splitRC without a status = %q %q", out, rc)
	}
}

// TestSummarize: the user's own identity wins, with the earliest expiry
// of what worked; other identities are B's own accounts; else nothing.
func TestSummarize(t *testing.T) {
	u := &user{name: "alice"}
	a := summarize(u, []Try{
		{Short: "B's own key, by S4U", Result: "refused: KDC_ERR_BADOPTION"},
		{Short: "the TGT taken from B", OK: true, As: "alice@LAB.TEST", Until: "2030-01-02T03:04:05Z"},
		{Short: "the ticket to C taken from B", OK: true, As: "alice@LAB.TEST", Until: "2030-01-02T03:04:05Z"},
	})
	if !a.AsUser || a.Until != "2030-01-02T03:04:05Z" || !strings.Contains(a.Summary, "yes, as alice, until ") || !strings.HasSuffix(a.Summary, ": the TGT taken from B; the ticket to C taken from B") {
		t.Errorf("summarize: %+v", a)
	}
	a = summarize(u, []Try{{OK: true, As: "svc-jea@LAB.TEST"}, {OK: true, As: "svc-jea@LAB.TEST"}})
	if a.AsUser || a.Summary != "nothing as alice; B acts as svc-jea (keys on B)" {
		t.Errorf("summarize of B's own accounts: %+v", a)
	}
	if a = summarize(u, []Try{{Result: "refused"}}); a.AsUser || a.Summary != "nothing" {
		t.Errorf("summarize of refusals: %+v", a)
	}
}

// TestExplained: a password found on B is explained only where the
// broker said a password reached B; A's own TGT never is; what was taken
// from the broker always is.
func TestExplained(t *testing.T) {
	for _, c := range []struct {
		found, reached []string
		want           bool
	}{
		{nil, nil, true},
		{[]string{"password in the agent's memory"}, []string{"password", "tgt"}, true},
		{[]string{"password in the agent's memory"}, []string{"tgt"}, false},
		{[]string{"A's TGT (its session key) in the agent's memory"}, []string{"password", "tgt"}, false},
		{[]string{"the broker's TGT of alice@LAB.TEST for krbtgt/LAB.TEST@LAB.TEST (its session key) in the agent's memory"}, []string{"tgt"}, true},
	} {
		if got := explained(c.found, c.reached); got != c.want {
			t.Errorf("explained(%q, %q) = %v, want %v", c.found, c.reached, got, c.want)
		}
	}
}

// TestTable: columns as wide as their widest cell, counted in runes, no
// trailing blanks.
func TestTable(t *testing.T) {
	var b bytes.Buffer
	table(&b, []string{"user", "hop"}, [][]string{{"alice", "✓ alice@LAB.TEST"}, {"sam", "✗"}})
	want := "  user   hop\n  alice  ✓ alice@LAB.TEST\n  sam    ✗\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestRunFailsCleanly: a step that fails (here the hop binary is not
// hop) is an error naming the step and the lab's log, and Run leaves no
// local account, process or state file behind.
func TestRunFailsCleanly(t *testing.T) {
	dir := filepath.Join(testio.TraversableDir(t, "hop-lab-unit"), "lab")
	_, err := Run(context.Background(), Options{Dir: dir, Hop: "/bin/false"})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "create the domain" || !strings.Contains(err.Error(), filepath.Join(dir, "lab.log")) {
		t.Fatalf("Run with /bin/false: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); !os.IsNotExist(err) {
		t.Errorf("the state file is still there: %v", err)
	}
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(localComment(dir))) {
		t.Errorf("a local account of the failed lab is still there")
	}
	if p := lingering(dir); len(p) != 0 {
		t.Errorf("processes of the failed lab: %v", p)
	}
}

// TestRunRefusesUsedDir: a folder with files in it is refused before
// anything starts, with what to do.
func TestRunRefusesUsedDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "it is not empty: give a new folder, or stop the lab in it with hop lab down --dir "+dir) {
		t.Errorf("Run in a used folder: %v", err)
	}
	if err := Down(dir); err == nil || !strings.Contains(err.Error(), "holds no running lab") {
		t.Errorf("Down in a folder without a lab: %v", err)
	}
}

// TestStopEndsLingering: stop ends a process that carries the lab's
// folder in its environment and was not among the recorded ones (a
// session's process that left its agent).
func TestStopEndsLingering(t *testing.T) {
	dir := t.TempDir()
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, &os.ProcAttr{Env: []string{"HOP_LAB_DIR=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	// StartProcess returns when the child has begun its exec; its
	// environment shows a moment later.
	for deadline := time.Now().Add(5 * time.Second); !isLab(p.Pid, dir) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if err := stop(dir, nil, false, nil, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.Kill()
		t.Fatal("the lingering process was not stopped")
	}
}

// TestStopLeavesOthers: a recorded pid that is not the lab's any more (its
// environment does not name the lab: the pid was reused) is not touched.
func TestStopLeavesOthers(t *testing.T) {
	dir := t.TempDir()
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, &os.ProcAttr{Env: []string{"HOP_LAB_DIR=/somewhere/else"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill(); p.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); !isLab(p.Pid, "/somewhere/else") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if err := stop(dir, []int{p.Pid}, false, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !alive(p.Pid) {
		t.Error("stop ended a process that is not the lab's")
	}
}
