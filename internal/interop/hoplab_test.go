package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hop/internal/testio"
	"hop/internal/thirdparty"
	"hop/lab"
)

// cellWant is what one cell of hop lab's first table must say.
type cellWant struct {
	session bool     // the first hop opened a session on B
	saw     string   // whom C saw ("" : the second hop failed)
	reason  string   // in the refusal (session or second hop)
	reached []string // what reached B, by kind, in the lab's order
	after   bool     // what B held still reached C as the user, after the session
	why     string   // why this is right
}

// The lab's users, in its order.
var labUserNames = []string{"alice", "sam", "pat", "helen"}

// labExpected is the seed's comparison as hop must measure it: every
// method, every user, with the reason for each cell.
var labExpected = map[string][]cellWant{
	"none": {
		{true, "", "no delegated credential on this hop", nil, false, "mode none: nothing for a next hop reaches B"},
		{true, "", "no delegated credential on this hop", nil, false, "the same for a sensitive account"},
		{true, "", "no delegated credential on this hop", nil, false, "the same for Protected Users"},
		{true, "", "no delegated credential on this hop", nil, false, "the same for an admin"},
	},
	"credssp": {
		{true, "alice", "", []string{"password", "tgt", "service-ticket"}, true, "the password reaches B; the TGT got with it serves any target, also after the session"},
		{false, "", "sam@LAB.TEST is sensitive and cannot be delegated", nil, false, "the agent refuses fresh credentials of a sensitive account (its PAC says so)"},
		{false, "", "is in Protected Users", nil, false, "and of Protected Users"},
		{true, "helen", "", []string{"password", "tgt", "service-ticket"}, true, "an admin is an ordinary user here"},
	},
	"rbcd": {
		{true, "alice", "", []string{"evidence-ticket", "service-ticket"}, true, "S4U2Proxy on c$'s allowed-to-act; the ticket to C taken from the broker works until it expires"},
		{true, "", "sensitive-user", []string{"evidence-ticket"}, false, "the KDC refuses S4U2Proxy for a sensitive account (MS-SFU 3.2.5.2.2); B's own key gets only a non-forwardable S4U2Self ticket"},
		{true, "", "protected-user", []string{"evidence-ticket"}, false, "and for Protected Users"},
		{true, "helen", "", []string{"evidence-ticket", "service-ticket"}, true, "as alice"},
	},
	"kcd": {
		{true, "alice", "", []string{"evidence-ticket", "service-ticket"}, true, "S4U2Proxy on b$'s allowed-to-delegate-to"},
		{true, "", "sensitive-user", []string{"evidence-ticket"}, false, "as under RBCD"},
		{true, "", "protected-user", []string{"evidence-ticket"}, false, "as under RBCD"},
		{true, "helen", "", []string{"evidence-ticket", "service-ticket"}, true, "as alice"},
	},
	"unconstrained": {
		{true, "alice", "", []string{"tgt", "service-ticket"}, true, "the forwarded TGT serves any target, also after the session"},
		{false, "", "not forwardable", nil, false, "a sensitive account's TGT is not forwardable: hop exec refuses on A, nothing is sent"},
		{false, "", "not forwardable", nil, false, "nor is a Protected Users member's"},
		{true, "helen", "", []string{"tgt", "service-ticket"}, true, "as alice"},
	},
	"jea": {
		{true, "svc-jea", "", []string{"account-key", "service-ticket"}, false, "the endpoint's network identity, never the user's; its key is B's, not alice's"},
		{true, "svc-jea", "", []string{"account-key", "service-ticket"}, false, "the user's protection does not matter: nothing of theirs is used"},
		{true, "svc-jea", "", []string{"account-key", "service-ticket"}, false, "as sam"},
		{true, "svc-jea", "", []string{"account-key", "service-ticket"}, false, "as alice"},
	},
	"runas": {
		{true, "svc-runas", "", []string{"account-key", "service-ticket"}, false, "the RunAs account's identity, from its keytab on B"},
		{true, "svc-runas", "", []string{"account-key", "service-ticket"}, false, "as alice"},
		{true, "svc-runas", "", []string{"account-key", "service-ticket"}, false, "as alice"},
		{true, "svc-runas", "", []string{"account-key", "service-ticket"}, false, "as alice"},
	},
	"explicit": {
		{true, "alice", "", []string{"password", "tgt", "service-ticket"}, true, "the password passed into the session is a logon on B"},
		{true, "sam", "", []string{"password", "tgt", "service-ticket"}, true, "sensitive stops delegation, not a logon with the password"},
		{true, "pat", "", []string{"password", "tgt", "service-ticket"}, true, "nor does Protected Users"},
		{true, "helen", "", []string{"password", "tgt", "service-ticket"}, true, "as alice"},
	},
	"remote-guard": {
		{true, "alice", "", []string{"service-ticket"}, true, "A obtains each ticket; B holds only 10-minute service tickets, usable until they expire"},
		{true, "sam", "", []string{"service-ticket"}, true, "nothing is delegated: A asks the KDC itself, so sensitive accounts can hop"},
		{true, "pat", "", []string{"service-ticket"}, true, "and Protected Users"},
		{true, "helen", "", []string{"service-ticket"}, true, "as alice"},
	},
	"restricted-admin": {
		{false, "", "is for members of helpdesk", nil, false, "restricted-admin is for B's admin groups only"},
		{false, "", "is for members of helpdesk", nil, false, "as alice"},
		{false, "", "is for members of helpdesk", nil, false, "as alice"},
		{true, "host/b.lab.test", "", []string{"account-key", "service-ticket"}, false, "the session reaches C as B itself; nothing of helen's is on B"},
	},
}

// labDomainAdmin says, per method, whether a Domain Admin had to act.
var labDomainAdmin = map[string]bool{
	"none": false, "credssp": false, "rbcd": false, "kcd": true, "unconstrained": true,
	"jea": true, "runas": true, "explicit": false, "remote-guard": false, "restricted-admin": true,
}

// runHopLab runs hop lab --json with args and decodes its report.
func runHopLab(t *testing.T, env []string, args ...string) (*lab.Report, string) {
	t.Helper()
	cmd := exec.Command(hopBin, append([]string{"lab", "--json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("hop lab: %v\nstderr:\n%s", err, errOut.String())
	}
	t.Logf("hop lab %s took %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	var rep lab.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("hop lab --json: %v\n%s", err, out.String())
	}
	return &rep, errOut.String()
}

// TestHopLab runs hop lab --json as the README's test command does and
// checks every cell of its three parts against labExpected, then that the
// lab left nothing behind.
func TestHopLab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the full lab's sessions run as local accounts of their own: needs root (TestHopLabAsUser covers an ordinary user)")
	}
	kvno := thirdparty.Require(t, "kvno")
	dir := filepath.Join(testio.TraversableDir(t, "hop-lab-test"), "lab")
	rep, progress := runHopLab(t, []string{"PATH=" + filepath.Dir(kvno) + ":" + os.Getenv("PATH")}, "--dir", dir)
	if !rep.Root || len(rep.Fidelity) != 0 || rep.Kvno == "" {
		t.Errorf("as root with kvno: root %v, fidelity %q, kvno %q", rep.Root, rep.Fidelity, rep.Kvno)
	}
	if !strings.Contains(progress, "rbcd: resource-based constrained delegation") {
		t.Errorf("no progress line for rbcd on stderr:\n%s", progress)
	}
	if rep.Seconds <= 0 || rep.Seconds > 120 {
		t.Errorf("the lab took %.1fs", rep.Seconds)
	}
	var ids []string
	for _, m := range rep.Methods {
		ids = append(ids, m.ID)
	}
	if want := lab.MethodIDs(); !slices.Equal(ids, want) {
		t.Fatalf("methods %v, want %v", ids, want)
	}
	for _, m := range rep.Methods {
		if m.DomainAdmin != labDomainAdmin[m.ID] {
			t.Errorf("%s: domain admin %v, want %v", m.ID, m.DomainAdmin, labDomainAdmin[m.ID])
		}
		checkLabCells(t, m, labExpected[m.ID], rep.Realm, true)
	}
	checkLabGuard(t, rep)
	for _, d := range rep.Beyond {
		if !d.OK {
			t.Errorf("%s: not as promised:\n%s", d.Title, strings.Join(d.Steps, "\n"))
		}
	}
	if len(rep.Beyond) != 3 {
		t.Errorf("%d demonstrations beyond the originals, want 3", len(rep.Beyond))
	}
	checkLabGone(t, dir)
}

// checkLabCells checks one method's cells against want.
func checkLabCells(t *testing.T, m lab.Method, want []cellWant, realm string, kvno bool) {
	t.Helper()
	if len(m.Cells) != len(want) {
		t.Fatalf("%s: %d cells, want %d", m.ID, len(m.Cells), len(want))
	}
	for i, c := range m.Cells {
		w := want[i]
		where := fmt.Sprintf("%s for %s (%s)", m.ID, c.User, w.why)
		if c.User != labUserNames[i] {
			t.Errorf("%s: cell %d is %s's, want %s's", m.ID, i, c.User, labUserNames[i])
		}
		if (c.Session == "opened") != w.session {
			t.Errorf("%s: session %q, want opened %v", where, c.Session, w.session)
		}
		saw := ""
		if w.saw != "" {
			saw = w.saw + "@" + realm
		}
		if c.CSaw != saw || c.SecondHop != (saw != "") {
			t.Errorf("%s: second hop %v, C saw %q; want %q (reason %q)", where, c.SecondHop, c.CSaw, saw, c.Reason)
		}
		if w.reason != "" && !strings.Contains(c.Reason+" "+c.Session, w.reason) {
			t.Errorf("%s: the refusal %q does not say %q", where, c.Reason+" "+c.Session, w.reason)
		}
		reached := w.reached
		if reached == nil {
			reached = []string{}
		}
		if !slices.Equal(c.Reached, reached) {
			t.Errorf("%s: reached B %v, want %v (the broker held %+v)", where, c.Reached, reached, c.Holds)
		}
		if !c.Scan.Agrees || c.Scan.Bytes == 0 {
			t.Errorf("%s: the scan of B (%d bytes of memory read) disagrees: during %q, after %q", where, c.Scan.Bytes, c.Scan.During, c.Scan.After)
		}
		if c.After.AsUser != w.after {
			t.Errorf("%s: after the session, as the user: %v (%s), want %v; tries %+v", where, c.After.AsUser, c.After.Summary, w.after, c.After.Tries)
		}
		if c.After.AsUser {
			until, err := time.Parse(time.RFC3339, c.After.Until)
			limit := 10 * time.Hour
			if m.ID == "remote-guard" {
				limit = 10 * time.Minute // remote-guard's tickets are short-lived
			}
			if err != nil || time.Until(until) > limit+time.Minute || time.Until(until) < 0 {
				t.Errorf("%s: what reached C after the session works until %q, want within %v", where, c.After.Until, limit)
			}
		}
		// B's own key never reaches C as the user: hop refuses
		// non-forwardable S4U2Self evidence even under RBCD.
		for _, tr := range c.After.Tries {
			if strings.HasPrefix(tr.With, "B's own key") && tr.OK {
				t.Errorf("%s: B's own key reached C as %s: %s", where, tr.As, tr.Result)
			}
		}
		if kvno && w.session && (c.Kvno == nil || c.Kvno.OK != (saw != "")) {
			t.Errorf("%s: kvno %+v, want ok %v as hop exec", where, c.Kvno, saw != "")
		}
	}
}

// checkLabGuard checks the Remote Credential Guard comparison.
func checkLabGuard(t *testing.T, rep *lab.Report) {
	t.Helper()
	g := rep.Guard
	want := []string{"none (hop's default)", "credssp (a plain RDP session)", "remote-guard", "restricted-admin"}
	if !slices.Equal(g.Columns, want) {
		t.Fatalf("the comparison's columns %q, want %q", g.Columns, want)
	}
	rows := map[string][]string{}
	for _, r := range g.Rows {
		rows[r.Feature] = r.Cells
	}
	for _, c := range []struct {
		feature string
		want    []string
		why     string
	}{
		{"network identity", []string{"none: no second hop", "alice@LAB.TEST (the user)", "alice@LAB.TEST (the user)", "host/b.lab.test@LAB.TEST (not helen)"}, "restricted-admin reaches C as B"},
		{"who may use it", []string{"alice, sam, pat, helen", "alice, helen (refused: sam, pat)", "alice, sam, pat, helen", "helen (refused: alice, sam, pat)"}, "restricted-admin: admins only; credssp: no protected accounts"},
		{"authentication", []string{"Kerberos; no password or TGT sent to B", "Kerberos, then the password sent to B", "Kerberos; no password or TGT sent to B", "Kerberos; no password or TGT sent to B"}, "only credssp sends a password"},
	} {
		if !slices.Equal(rows[c.feature], c.want) {
			t.Errorf("the comparison's %s (%s): %q, want %q", c.feature, c.why, rows[c.feature], c.want)
		}
	}
	multi := rows["multi-hop"]
	if len(multi) != 4 || !strings.HasPrefix(multi[0], "no: ") || !strings.HasPrefix(multi[1], "yes: ") || !strings.HasPrefix(multi[2], "yes: ") || !strings.HasPrefix(multi[3], "yes: B → C as host/b.lab.test") {
		t.Errorf("the comparison's multi-hop: %q", multi)
	}
	prot := rows["protection"]
	if len(prot) != 4 || !strings.Contains(prot[0], "nothing of alice's reached B") || !strings.HasPrefix(prot[1], "password, tgt") || !strings.HasPrefix(prot[2], "service-ticket reached B") || !strings.Contains(prot[3], "nothing as helen") {
		t.Errorf("the comparison's protection: %q", prot)
	}
}

// checkLabGone checks that the lab in dir left no process (none carries
// the lab's folder in its environment) and no local account behind.
func checkLabGone(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, []byte(dir)) {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			t.Errorf("process %s of the lab is still there: %q", e.Name(), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
	f, err := os.Open("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "hop lab "+dir) {
			t.Errorf("a local account of the lab is still there: %s", sc.Text())
		}
	}
}

// TestHopLabKeepDown: hop lab --keep leaves the KDC and the agents
// running, and what it prints works (alice reaches C through B with
// remote-guard); a second lab runs beside it; hop lab down stops every
// process and removes the local accounts; a second down says there is
// nothing to stop.
func TestHopLabKeepDown(t *testing.T) {
	dir := filepath.Join(testio.TraversableDir(t, "hop-lab-test"), "lab")
	rep, _ := runHopLab(t, nil, "--dir", dir, "--keep", "--method", "none")
	if rep.Keep == nil || rep.Keep.Down != "hop lab down --dir "+dir {
		t.Fatalf("--keep: %+v", rep.Keep)
	}
	t.Cleanup(func() { exec.Command(hopBin, "lab", "down", "--dir", dir).Run() })
	var st struct{ PIDs []int }
	b, err := os.ReadFile(filepath.Join(dir, "lab.json"))
	if err != nil || json.Unmarshal(b, &st) != nil || len(st.PIDs) != 3 {
		t.Fatalf("lab.json: %s, %v", b, err)
	}
	for _, p := range st.PIDs {
		if !labAlive(p) {
			t.Errorf("pid %d of the kept lab is not running", p)
		}
	}
	env := os.Environ()
	for _, kv := range rep.Keep.Env {
		env = append(env, strings.ReplaceAll(kv, "$PATH", os.Getenv("PATH")))
	}
	env = append(env, "HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())
	var cmd string
	for _, c := range rep.Keep.Commands {
		if strings.Contains(c, "remote-guard") {
			cmd = c
		}
	}
	args := strings.Fields(strings.TrimPrefix(cmd, "hop "))
	if len(args) == 0 || args[len(args)-1] != "id" {
		t.Fatalf("no remote-guard command among %q", rep.Keep.Commands)
	}
	args[len(args)-1] = "printenv"
	args = append(args, "HOP_CLIENT")
	out, errOut, err := thirdparty.Run(t, env, "", hopBin, args...)
	if err != nil || strings.TrimSpace(out) != "alice@LAB.TEST" {
		t.Errorf("hop %s in the kept lab: %v, %q, %s", strings.Join(args, " "), err, out, errOut)
	}
	// A second lab runs beside the kept one: its own ports, folder and
	// local accounts.
	if second, _ := runHopLab(t, nil, "--method", "none"); len(second.Methods) != 1 || !second.Removed {
		t.Errorf("a second lab beside a kept one: %+v", second)
	}
	out, errOut, err = thirdparty.Run(t, nil, "", hopBin, "lab", "down", "--dir", dir)
	if err != nil || !strings.Contains(out, "is stopped") {
		t.Fatalf("hop lab down: %v\n%s%s", err, out, errOut)
	}
	for _, p := range st.PIDs {
		if labAlive(p) {
			t.Errorf("pid %d is still running after hop lab down", p)
		}
	}
	checkLabGone(t, dir)
	_, errOut, err = thirdparty.Run(t, nil, "", hopBin, "lab", "down", "--dir", dir)
	if err == nil || !strings.Contains(errOut, "holds no running lab") {
		t.Errorf("a second hop lab down: %v, %s", err, errOut)
	}
}

// TestHopLabInterrupted: ^C while the lab works stops it in order: no
// process and no local account is left.
func TestHopLabInterrupted(t *testing.T) {
	dir := filepath.Join(testio.TraversableDir(t, "hop-lab-test"), "lab")
	cmd := exec.Command(hopBin, "lab", "--dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "credssp: CredSSP") {
			cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	if err == nil {
		t.Errorf("hop lab ended well after ^C:\n%s", strings.Join(seen, "\n"))
	}
	checkLabGone(t, dir)
}

// TestHopLabAsUser runs the lab as an ordinary user: everything runs as
// that user, the report says what that changes, and every cell is still
// what labExpected says (the agents' memory is still read: they are the
// lab's children).
func TestHopLabAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make the ordinary user the lab runs as")
	}
	runuser := thirdparty.Require(t, "runuser")
	kvno := thirdparty.Require(t, "kvno")
	name := fmt.Sprintf("hoplabu%d", os.Getpid()%100000)
	if out, err := exec.Command("useradd", "-M", "-s", "/bin/sh", "-c", "hop lab test", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	base := testio.TraversableDir(t, "hop-lab-user")
	if out, err := exec.Command("chown", name, base).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	bin := filepath.Join(base, "hop")
	src, err := os.ReadFile(hopBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "lab")
	cmd := exec.Command(runuser, "-u", name, "--", "env", "HOME="+base, "PATH="+filepath.Dir(kvno)+":/usr/bin:/bin", bin, "lab", "--json", "--dir", dir)
	cmd.Dir = base
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("hop lab as %s: %v\n%s", name, err, errOut.String())
	}
	var rep lab.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("hop lab --json: %v\n%s", err, out.String())
	}
	if rep.Root || len(rep.Fidelity) != 2 || !strings.Contains(rep.Fidelity[0], "every session ran as "+name) {
		t.Errorf("as %s: root %v, fidelity %q", name, rep.Root, rep.Fidelity)
	}
	for _, u := range rep.Users {
		if u.Local != name {
			t.Errorf("%s's sessions ran as %q, want %s", u.Name, u.Local, name)
		}
	}
	for _, m := range rep.Methods {
		checkLabCells(t, m, labExpected[m.ID], rep.Realm, true)
	}
	for _, d := range rep.Beyond {
		if !d.OK {
			t.Errorf("%s: not as promised:\n%s", d.Title, strings.Join(d.Steps, "\n"))
		}
	}
	checkLabGone(t, dir)
}

// TestHopLabRemovesItsFolder: without --dir the lab works in a temporary
// folder (it holds the master key and every password) and removes it
// when it ends well.
func TestHopLabRemovesItsFolder(t *testing.T) {
	rep, _ := runHopLab(t, []string{"TMPDIR=" + testio.TraversableDir(t, "hop-lab-tmp")}, "--method", "none")
	if !rep.Removed || !strings.HasPrefix(filepath.Base(rep.Dir), "hop-lab.") {
		t.Errorf("removed %v, folder %s", rep.Removed, rep.Dir)
	}
	if _, err := os.Stat(rep.Dir); !os.IsNotExist(err) {
		t.Errorf("the lab's folder %s is still there: %v", rep.Dir, err)
	}
	checkLabGone(t, rep.Dir)
}
