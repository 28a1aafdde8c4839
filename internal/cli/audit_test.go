package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/domain"
	"hop/internal/testio"
)

// newTestDomain makes a domain in a new folder.
func newTestDomain(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "example.test")
	return dir
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestAuditOfCommandsAndKDCShareOneChain: hop commands append to the log a
// running KDC (here an audit.File on the same path) writes, in one chain.
func TestAuditOfCommandsAndKDCShareOneChain(t *testing.T) {
	dir := newTestDomain(t)
	log := domain.Folder(dir).AuditLog()
	kdc, err := audit.OpenFile(log)
	if err != nil {
		t.Fatal(err)
	}
	kdc.Emit(audit.Event{Time: time.Now(), Type: "as.issued", Client: "Administrator@EXAMPLE.TEST", Service: "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"})
	if err := kdc.Flush(); err != nil {
		t.Fatal(err)
	}
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	kdc.Emit(audit.Event{Time: time.Now(), Type: "tgs.issued", Client: "alice@EXAMPLE.TEST", Service: "host/b.example.test@EXAMPLE.TEST", EType: "aes256-cts-hmac-sha1-96"})
	if err := kdc.Flush(); err != nil {
		t.Fatal(err)
	}
	ok(t, "", "account", "set", "alice", "--dir", dir, "--description", "Alice A.")
	kdc.Emit(audit.Event{Time: time.Now(), Type: "as.refused", Client: "mallory@EXAMPLE.TEST", Code: "KDC_ERR_C_PRINCIPAL_UNKNOWN"})
	if err := kdc.Close(); err != nil {
		t.Fatal(err)
	}
	lines := fileLines(t, log)
	var types []string
	for _, l := range lines {
		ev, err := audit.ParseLine([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ev.Type)
	}
	// The KDC's events are chained when it flushes: the as.refused it still
	// buffered while "account set" wrote comes after that change.
	kinds := make([]string, len(types))
	for i, ty := range types {
		kinds[i], _, _ = strings.Cut(ty, ".")
	}
	// The first is hop domain init's: the domain's creation.
	if got := strings.Join(kinds, " "); got != "directory as directory tgs directory as" || types[0] != domain.CreateEvent {
		t.Errorf("events: %v", types)
	}
	out := ok(t, "", "audit", "verify", "--dir", dir)
	if want := "audit log OK: " + itoa(len(lines)) + " events, seq 1.." + itoa(len(lines)); !strings.HasPrefix(out, want) {
		t.Errorf("verify: %q, want %q", out, want)
	}
	// --json passes the lines through unchanged.
	if got := ok(t, "", "audit", "--dir", dir, "--json"); got != strings.Join(lines, "\n")+"\n" {
		t.Errorf("--json output differs from the log:\n%s", got)
	}
	human := ok(t, "", "audit", "--dir", dir, "--principal", "ALICE")
	if !strings.Contains(human, "tgs.issued  alice@EXAMPLE.TEST → host/b.example.test@EXAMPLE.TEST  etype=aes256-cts-hmac-sha1-96") ||
		!strings.Contains(human, `→ alice`) || !strings.Contains(human, `"Alice A."`) || strings.Contains(human, "mallory") {
		t.Errorf("audit --principal ALICE:\n%s", human)
	}
}

// TestAuditFilters runs the filters on a log of known events.
func TestAuditFilters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
	events := []audit.Event{
		{Time: day(1), Type: "as.issued", Client: "alice@EXAMPLE.TEST", Service: "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"},
		{Time: day(2), Type: "tgs.issued", Client: "alice@EXAMPLE.TEST", Service: "HTTP/web.example.test@EXAMPLE.TEST", Reason: "resource-based constrained delegation"},
		{Time: day(3), Type: "tgs.refused", Client: "bob@OTHER.TEST", Service: "cifs/c.example.test@EXAMPLE.TEST", Code: "KDC_ERR_BADOPTION"},
		{Time: day(4), Type: "directory.account.set", Actor: "the local domain administrator", Target: "Alice",
			Changes: []audit.Change{{Field: "disabled", Old: "false", New: "true"}}},
		{Time: day(5), Type: "directory.delegation.set", Actor: "carol", Target: "c$"},
	}
	for _, e := range events {
		a.Emit(e)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []int // indexes of the events printed
	}{
		{nil, []int{0, 1, 2, 3, 4}},
		{[]string{"--since", "2026-01-03"}, []int{2, 3, 4}},
		{[]string{"--since", "2026-01-03T12:00:00Z"}, []int{2, 3, 4}},
		{[]string{"--since", "2026-01-03T12:00:01Z"}, []int{3, 4}},
		{[]string{"--since", "1h"}, nil},
		{[]string{"--principal", "alice"}, []int{0, 1, 3}},
		{[]string{"--principal", "Alice@example.test"}, []int{0, 1, 3}},
		{[]string{"--principal", "alice@OTHER.TEST"}, []int{3}}, // the target names no realm
		{[]string{"--principal", "bob"}, []int{2}},
		{[]string{"--principal", "bob@EXAMPLE.TEST"}, nil},
		{[]string{"--principal", "http/WEB.example.test"}, []int{1}},
		{[]string{"--principal", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"}, []int{0}},
		{[]string{"--principal", "carol", "--principal", "bob"}, []int{2, 4}},
		{[]string{"--type", "tgs"}, []int{1, 2}},
		{[]string{"--type", "directory"}, []int{3, 4}},
		{[]string{"--type", "tgs.refused,as.issued"}, []int{0, 2}},
		{[]string{"--type", "tg"}, nil},
		{[]string{"--type", "directory", "--principal", "alice", "--since", "2026-01-02"}, []int{3}},
	} {
		args := append([]string{"audit", "--file", path, "--json"}, tc.args...)
		out := ok(t, "", args...)
		var got []int
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if l == "" {
				continue
			}
			ev, err := audit.ParseLine([]byte(l))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, int(ev.Seq-1))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("hop audit %v: events %v, want %v", tc.args, got, tc.want)
		}
	}
	human := ok(t, "", "audit", "--file", path, "--type", "directory.account")
	want := `2026-01-04T12:00:00Z  directory.account.set  the local domain administrator → Alice  changes: disabled "false" → "true"  (seq 4)` + "\n"
	if human != want {
		t.Errorf("human output:\n%q\nwant\n%q", human, want)
	}
	fails(t, 2, "--since", "", "audit", "--file", path, "--since", "last tuesday")
	fails(t, 2, "give one of --dir, --file and --client", "", "audit", "--file", path, "--dir", "/tmp")
	fails(t, 1, "no such file", "", "audit", "--file", path+".missing")
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	log := domain.Folder(dir).AuditLog()
	a, _ := audit.OpenFile(log)
	for i := range 5 {
		a.Emit(audit.Event{Time: time.Now(), Type: "tgs.issued", Client: "alice@EXAMPLE.TEST", Reason: itoa(i)})
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if out := ok(t, "", "audit", "verify", "--dir", dir); out != "audit log OK: 5 events, seq 1..5\n" {
		t.Errorf("verify: %q", out)
	}
	lines := fileLines(t, log)
	write := func(ls []string) {
		os.WriteFile(log, []byte(strings.Join(ls, "\n")+"\n"), 0o600)
	}
	edited := append([]string(nil), lines...)
	edited[1] = strings.Replace(edited[1], "alice", "mallory", 1)
	write(edited)
	fails(t, 1, "audit log verification FAILED: "+log+": line 2 (seq 2): edited — its hash does not match line 3's prev", "", "audit", "verify", log)
	write(append(append([]string(nil), lines[:2]...), lines[3:]...))
	fails(t, 1, "line 3 (seq 4): seq jumps from 2 to 4: line(s) deleted", "", "audit", "verify", "--dir", dir)
	write(lines[:3])
	fails(t, 1, "the log ends at seq 3 but the head records seq 5: the last lines were deleted", "", "audit", "verify", "--dir", dir)
	os.Remove(log + ".head")
	write([]string{`{"time":"2025-01-01T00:00:00Z","type":"as.issued"}`})
	fails(t, 1, "audit log not chained: "+log+": its 1 line(s) were written by a hop that did not chain its log", "", "audit", "verify", "--dir", dir)
	if out, _, _ := hop(t, "", "audit", "verify", "--help"); !strings.Contains(out, "Usage: hop audit verify") {
		t.Errorf("verify --help: %q", out)
	}
}

// unwritableLog is an audit sink that cannot write (a full disk).
type unwritableLog struct{ audit.Memory }

func (*unwritableLog) Flush() error { return syscall.ENOSPC }

// TestAuditVerifyDirectoryChanges: hop audit verify --dir checks that each
// directory change has its audit event: in the log, or waiting in the
// directory's outbox (listed, and a failure once it has waited a minute);
// a change whose event is nowhere fails the check.
func TestAuditVerifyDirectoryChanges(t *testing.T) {
	dir := newTestDomain(t)
	for _, name := range []string{"a1", "a2"} {
		ok(t, "Long-enough-pw-1\n", "account", "add", name, "--dir", dir)
	}
	if out := ok(t, "", "audit", "verify", "--dir", dir); !strings.Contains(out, "\ndirectory: changes 1..2 each have their audit event\n") {
		t.Errorf("verify:\n%s", out)
	}

	// A change made while the log cannot be written waits in the outbox.
	d, err := domain.Open(context.Background(), dir, domain.OpenOptions{Audit: &unwritableLog{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Directory.As(directory.LocalAdmin).CreateAccount(context.Background(), &directory.Account{Name: "a3", Kind: directory.KindUser}, nil)
	d.Close()
	if !errors.Is(err, directory.ErrUnaudited) {
		t.Fatalf("a change while the log cannot be written: %v", err)
	}
	out := ok(t, "", "audit", "verify", "--dir", dir)
	for _, want := range []string{"directory: changes 1..3 each have their audit event, in the log or waiting (below)",
		"1 change(s) are made but their audit events are not in the log yet", "change 3, waiting 0s:", "directory.account.create", "→ a3"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify with a change waiting lacks %q:\n%s", want, out)
		}
	}
	st, err := domain.ReadAuditState(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard}
	err = reportDirectoryAudit(e, st, st.Check(map[uint64]bool{1: true, 2: true}, true), time.Now().Add(2*time.Minute))
	if err == nil || !strings.Contains(err.Error(), "1 change(s) have waited 1m0s or more for their audit events: the log cannot be written") {
		t.Errorf("a change waiting two minutes: %v", err)
	}

	// The next hop command writes it.
	ok(t, "Long-enough-pw-1\n", "account", "add", "a4", "--dir", dir)
	out = ok(t, "", "audit", "verify", "--dir", dir)
	if !strings.Contains(out, "directory: changes 1..4 each have their audit event\n") || strings.Contains(out, "waiting") {
		t.Errorf("verify after the outbox was written:\n%s", out)
	}

	// A log replaced by a new one lacks the changes before it.
	log := domain.Folder(dir).AuditLog()
	os.Remove(log)
	os.Remove(audit.HeadPath(log))
	ok(t, "Long-enough-pw-1\n", "account", "add", "a5", "--dir", dir)
	fails(t, 1, "audit log incomplete: 4 directory change(s) have no audit event in the log or the directory (1, 2, 3, 4)", "", "audit", "verify", "--dir", dir)
	// Given as a file without --dir, the log's chain alone is checked.
	if out := ok(t, "", "audit", "verify", log); strings.Contains(out, "directory") {
		t.Errorf("verify FILE checked the directory:\n%s", out)
	}
}

// TestAuditFollow: --follow --since prints the events since then and
// those written afterwards, across a rotation, until the context ends.
func TestAuditFollow(t *testing.T) {
	dir := t.TempDir()
	log := domain.Folder(dir).AuditLog()
	w, _ := audit.OpenFile(log)
	defer w.Close()
	w.Emit(audit.Event{Time: time.Now(), Type: "first", Client: "alice@EXAMPLE.TEST"})
	w.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, errOut, done := startAudit(ctx, "audit", "--dir", dir, "--follow", "--since", "1h", "--principal", "alice")
	waitFor := func(s string) {
		t.Helper()
		for !strings.Contains(out.String(), s) {
			select {
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %q; output:\n%s%s", s, out.String(), errOut.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitFor("first")
	w.Emit(audit.Event{Time: time.Now(), Type: "second", Client: "alice@EXAMPLE.TEST"})
	w.Emit(audit.Event{Time: time.Now(), Type: "ignored", Client: "bob@EXAMPLE.TEST"})
	w.Flush()
	waitFor("second")
	os.Rename(log, log+".1")
	w.Emit(audit.Event{Time: time.Now(), Type: "third", Client: "alice@EXAMPLE.TEST"})
	w.Flush()
	waitFor("third")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("hop audit --follow: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hop audit --follow did not stop when its context ended")
	}
	if strings.Contains(out.String(), "ignored") {
		t.Errorf("--principal alice printed bob's event:\n%s", out.String())
	}
	if _, err := audit.Verify(log+".1", log); err != nil {
		t.Error(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// startAudit runs hop with args (hop audit --follow) until ctx ends; its
// result comes on done.
func startAudit(ctx context.Context, args ...string) (out, errOut *testio.Buffer, done <-chan error) {
	out, errOut = new(testio.Buffer), new(testio.Buffer)
	d := make(chan error, 1)
	go func() { d <- Run(ctx, args, strings.NewReader(""), out, errOut) }()
	return out, errOut, d
}

// TestAuditFollowFromNow: without --since, --follow prints only the events
// written after it started, as tail -f -n 0 does.
func TestAuditFollowFromNow(t *testing.T) {
	dir := t.TempDir()
	log := domain.Folder(dir).AuditLog()
	w, _ := audit.OpenFile(log)
	defer w.Close()
	for i := range 150 {
		w.Emit(audit.Event{Time: time.Now(), Type: "before", Reason: itoa(i)})
	}
	w.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, errOut, done := startAudit(ctx, "audit", "--dir", dir, "--follow")
	// Write until one is printed: the command has then started.
	for !strings.Contains(out.String(), "after") {
		w.Emit(audit.Event{Time: time.Now(), Type: "after"})
		w.Flush()
		select {
		case <-ctx.Done():
			t.Fatalf("no event written after the start was printed; output:\n%s%s", out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("hop audit --follow: %v", err)
	}
	if strings.Contains(out.String(), "before") {
		t.Errorf("hop audit --follow printed events written before it started:\n%.500s", out.String())
	}
}

// TestAuditAgentEvents: the agents' events are printed with labels: the
// session and its mode, the local account and the endpoint, a brokered
// ticket's client.
func TestAuditAgentEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []audit.Event{
		{Time: at, Type: "session.start", Client: "alice@EXAMPLE.TEST", Service: "host/b.example.test@EXAMPLE.TEST", Addr: "127.0.0.1:4000",
			Actor: "root", Target: "dns-ops", Flags: "session=s1,mode=remote-guard,service-asserted-identity"},
		{Time: at, Type: "jea.command", Client: "alice@EXAMPLE.TEST", Actor: "root", Target: "dns-ops", Flags: "session=s1"},
		{Time: at, Type: "session.refused", Client: "bob@EXAMPLE.TEST", Target: "default", Reason: "not a member"},
		{Time: at, Type: "broker.issued", Client: "alice@EXAMPLE.TEST", Actor: "alice@EXAMPLE.TEST", Target: "cifs/c.example.test", Flags: "session=s1,mode=constrained"},
		{Time: at, Type: "session.credential", Client: "alice@EXAMPLE.TEST", Actor: "svc@EXAMPLE.TEST", Target: "svc", Flags: "session=s1"},
		{Time: at, Type: "tgs.issued", Client: "alice@EXAMPLE.TEST", Service: "host/b.example.test@EXAMPLE.TEST", Flags: "forwardable,renewable"},
	} {
		a.Emit(e)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	want := `2026-01-02T03:04:05Z  session.start  alice@EXAMPLE.TEST → host/b.example.test@EXAMPLE.TEST  local account root → endpoint dns-ops  session=s1  mode=remote-guard  service-asserted-identity  from=127.0.0.1:4000  (seq 1)
2026-01-02T03:04:05Z  jea.command  alice@EXAMPLE.TEST → -  local account root → endpoint dns-ops  session=s1  (seq 2)
2026-01-02T03:04:05Z  session.refused  bob@EXAMPLE.TEST → -  endpoint default  — not a member  (seq 3)
2026-01-02T03:04:05Z  broker.issued  alice@EXAMPLE.TEST → -  ticket alice@EXAMPLE.TEST → cifs/c.example.test  session=s1  mode=constrained  (seq 4)
2026-01-02T03:04:05Z  session.credential  alice@EXAMPLE.TEST → -  principal svc@EXAMPLE.TEST → credential svc  session=s1  (seq 5)
2026-01-02T03:04:05Z  tgs.issued  alice@EXAMPLE.TEST → host/b.example.test@EXAMPLE.TEST  flags=forwardable,renewable  (seq 6)
`
	if got := ok(t, "", "audit", "--file", path); got != want {
		t.Errorf("hop audit:\n%s\nwant\n%s", got, want)
	}
}

// TestAuditThroughAdminURL: with no domain here and none named, hop audit
// reads the log of krb5.conf's admin server, as the directory commands do.
func TestAuditThroughAdminURL(t *testing.T) {
	if _, err := os.Stat("/var/lib/hop/master.key"); err == nil {
		t.Skip("/var/lib/hop holds a domain on this machine, which hop would use instead of admin_url")
	}
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
	r := startKDC(t, dir)
	t.Setenv("KRB5_CONFIG", r.krb5conf)
	t.Setenv("HOP_DIR", "")
	t.Setenv("KRB5CCNAME", "FILE:"+r.kinit(t, "Administrator", "Admin-pw-1"))

	if out := ok(t, "", "audit", "--type", "directory.domain"); !strings.Contains(out, "directory.domain.create  the local domain administrator → EXAMPLE.TEST") {
		t.Errorf("hop audit through admin_url:\n%s", out)
	}
	fails(t, 2, "--follow reads a local log, and this reads "+r.state.AdminURL+"'s through the admin API (admin_url)", "", "audit", "--follow")

	// Without admin_url either: say where the log could be.
	empty := filepath.Join(t.TempDir(), "krb5.conf")
	os.WriteFile(empty, []byte("[libdefaults]\n\tdefault_realm = EXAMPLE.TEST\n"), 0o644)
	t.Setenv("KRB5_CONFIG", empty)
	fails(t, 1, "no audit log here: /var/lib/hop has no hop domain; give --dir DIR or --file FILE, or read the log of an admin server with --server URL", "", "audit")
}
