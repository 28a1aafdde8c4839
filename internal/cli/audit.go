package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"hop/admin"
	"hop/audit"
	"hop/directory"
	"hop/domain"
)

func auditCommand() *command {
	return &command{
		name:    "audit",
		summary: "read, follow and verify the audit log",
		usage:   "audit [--dir DIR | --file FILE | --server URL [--limit N]] [--since TIME|DURATION] [--principal P]... [--type T]... [--follow] [--json]\n       hop audit verify [--dir DIR] [FILE...]",
		help: `Prints the audit log (DIR/audit.log): every ticket issued or refused
(client, service, etype, flags, the delegation rule or refusal reason) and
every directory change (who, what, each field's old and new value; never a
key or password), one line per event. --json prints the log's own lines.

  --since takes a time (2026-01-02T15:04:05Z, 2026-01-02) or how long ago
  (90m, 24h, 7d). --principal matches the client, service, actor or target,
  in any case, with or without @REALM; --type matches a type or its prefix
  (tgs, as.refused, directory). Repeated, they match any of their values.
  --follow keeps printing new events as they come, across log rotation,
  until Ctrl-C; it starts with the events written from then on (like
  tail -f -n 0), or with those since --since when it is given.

Without --dir, --file or --server, and with no domain in $HOP_DIR or
/var/lib/hop, the log is read from the admin server of admin_url in
krb5.conf's [hop] section, as the directory commands do (Domain Admins;
the newest --limit events).

Agents' events name the session and its mode (session=ID mode=MODE), the
local account the session runs as and its endpoint ("local account root →
endpoint dns-ops"), and for tickets a broker obtained, the ticket's client
and target.

hop audit verify checks the log's hash chain: each line holds the SHA-256
of the line before, and DIR/audit.log.head the last line's, so an edited,
deleted or reordered line is found, as are deleted last lines. Give rotated
files first to check the chain across them:
  hop audit verify /var/lib/hop/audit.log.2 /var/lib/hop/audit.log.1 /var/lib/hop/audit.log
It exits with status 1 and names the first bad line when the chain breaks.
The chain is evidence, not a seal: whoever can rewrite the log and its head
file can forge a consistent history. Keep a copy of the log elsewhere.`,
		run: runAudit,
	}
}

func auditVerifyCommand(parent *command) *command {
	return &command{
		name:    "verify",
		summary: "check the audit log's hash chain",
		usage:   "audit verify [--dir DIR] [FILE...]",
		help: `Checks the hash chain of FILE... in order (rotated files first; default
DIR/audit.log), and that the last file ends at the line its .head file
records. Prints "audit log OK: N events, seq A..B" (with notes on what could
not be checked), or names the first bad line and exits with status 1.

Without FILE, or with --dir, it also checks the domain's directory against
the log: each directory change is numbered, and its audit event must be in
the log or still waiting in the directory (a change made while the log could
not be written, or by a process that died before writing it; hop writes such
events at the directory's next change or opening). It lists the waiting
ones, and exits with status 1 when a change has no event anywhere or one has
waited a minute or more. It reads the directory without changing it, also
while hop kdc serves it.`,
		path: parent.path + " verify",
	}
}

func runAudit(ctx context.Context, e *env, c *command, args []string) error {
	if len(args) > 0 && args[0] == "verify" {
		return runAuditVerify(ctx, e, auditVerifyCommand(c), args[1:])
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain (its audit log is DIR/audit.log)")
	file := fs.String("file", "", "read the audit log `FILE` instead of DIR/audit.log")
	clientLog := fs.Bool("client", false, "read this user's client log: the tickets hop exec --delegate remote-guard served to hosts, and refused")
	since := fs.String("since", "", "only events at or after `TIME`, or within DURATION before now")
	var principals, types stringList
	fs.Var(&principals, "principal", "only events naming principal `P` (client, service, actor or target)")
	fs.Var(&types, "type", "only events of type `T` or of its subtypes (T.…)")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	asJSON := fs.Bool("json", false, "print the log's JSON lines as they are")
	server := fs.String("server", "", "read the log of the admin server at `URL` (Domain Admins; newest --limit events, no --follow)")
	limit := fs.Int("limit", admin.DefaultAuditLimit, "with --server: at most `N` events, the newest")
	_, err := parse(e, fs, c, args, 0, 0)
	if err != nil {
		return err
	}
	set := givenFlags(fs)
	if set["server"] {
		return remoteAudit(ctx, e, c, *server, "--server", *since, principals, types, *limit, *follow, *asJSON)
	}
	if set["dir"] && set["file"] || set["client"] && (set["dir"] || set["file"]) {
		return usagef("%s: give one of --dir, --file and --client", c.path)
	}
	// Like the directory commands: with no domain here (and none named),
	// the log of krb5.conf's admin server.
	if !set["dir"] && !set["file"] && !set["client"] && e.getenv("HOP_DIR") == "" && !domain.Folder(*dir).HasDomain() {
		_, hs, err := e.hopSettings()
		if err != nil {
			return err
		}
		if hs.AdminURL != "" {
			return remoteAudit(ctx, e, c, hs.AdminURL, "admin_url", *since, principals, types, *limit, *follow, *asJSON)
		}
		if _, err := os.Stat(domain.Folder(*dir).AuditLog()); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no audit log here: %s has no hop domain; give --dir DIR or --file FILE, or read the log of an admin server with --server URL (or admin_url in krb5.conf's [hop] section)", *dir)
		}
	}
	path := *file
	if *clientLog {
		if path, err = clientLogPath(); err != nil {
			return err
		}
	}
	if path == "" {
		path = domain.Folder(*dir).AuditLog()
	}
	var from time.Time
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return usagef("%s: --since: %v", c.path, err)
		}
		from = t
	}
	match := audit.Query{Since: from, Principals: principals, Types: types}.Matcher()
	n := 0
	// --follow prints what happens from now on, as tail -f -n 0 does,
	// unless --since asks for the past too.
	opts := audit.TailOptions{Follow: *follow, FromEnd: *follow && *since == ""}
	err = audit.Tail(ctx, path, opts, func(line []byte) error {
		n++
		ev, err := audit.ParseLine(line)
		var le *audit.LineError
		if errors.As(err, &le) {
			fmt.Fprintf(e.stderr, "hop audit: %s line %d skipped: %s\n", path, n, le.Reason)
			return nil
		} else if err != nil {
			return err
		}
		if !match(&ev) {
			return nil
		}
		if *asJSON {
			_, err = fmt.Fprintf(e.stdout, "%s\n", line)
		} else {
			_, err = fmt.Fprintln(e.stdout, formatEvent(&ev))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%w (hop audit verify checks the log)", err)
	}
	return nil
}

func runAuditVerify(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain (its audit log is DIR/audit.log)")
	files, err := parse(e, fs, c, args, 0, -1)
	if err != nil {
		return err
	}
	folder := domain.Folder(*dir)
	// The directory's changes are checked against the log when the log is
	// the domain's own, or --dir names the domain whose log FILE... is. The
	// directory is read first: a change not waiting in its outbox then is
	// in the log before the log is read.
	var state *directory.AuditState
	if (len(files) == 0 || givenFlags(fs)["dir"]) && folder.HasDomain() {
		if state, err = domain.ReadAuditState(ctx, *dir); err != nil {
			return fmt.Errorf("reading the directory's audit state: %w", err)
		}
	}
	if len(files) == 0 {
		// The log and the files it was rotated to, oldest first.
		files = audit.Rotated(folder.AuditLog())
	}
	inLog := map[uint64]bool{}
	res, err := audit.VerifyEach(func(ev *audit.Event) {
		if n, ok := directory.ChangeNumber(ev); ok {
			inLog[n] = true
		}
	}, files...)
	var ce *audit.ChainError
	var nc *audit.NotChainedError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("audit log verification FAILED: %v", ce)
	case errors.As(err, &nc):
		return fmt.Errorf("audit log not chained: %s: %s", strings.Join(files, ", "), nc.Reason())
	case err != nil:
		return err
	}
	fmt.Fprintln(e.stdout, res.Summary())
	if state != nil {
		return reportDirectoryAudit(e, state, state.Check(inLog, res.FirstSeq == 1 || res.Events == 0), time.Now())
	}
	return nil
}

// staleOutbox: an event that has waited in the outbox this long is not
// being delivered (the log cannot be written, or the process that made the
// change died), rather than in flight.
const staleOutbox = time.Minute

// reportDirectoryAudit says whether every directory change has its audit
// event in the log, and which wait in the outbox; it fails when a change
// has no event anywhere or one has waited longer than staleOutbox.
func reportDirectoryAudit(e *env, st *directory.AuditState, chk directory.AuditCheck, now time.Time) error {
	switch {
	case chk.To == 0:
		fmt.Fprintln(e.stdout, "directory: no numbered changes yet (changes are numbered from this hop version on)")
	case chk.From > chk.To:
		fmt.Fprintf(e.stdout, "directory: %d changes; none is in the files given, so none could be checked\n", chk.To)
	case chk.MissingCount == 0:
		fmt.Fprintf(e.stdout, "directory: changes %d..%d each have their audit event", chk.From, chk.To)
		if len(st.Waiting) > 0 {
			fmt.Fprint(e.stdout, ", in the log or waiting (below)")
		}
		if chk.From > 1 {
			fmt.Fprintf(e.stdout, " (changes before %d are in files not given)", chk.From)
		}
		fmt.Fprintln(e.stdout)
	}
	stale := 0
	if len(st.Waiting) > 0 {
		fmt.Fprintf(e.stdout, "directory: %d change(s) are made but their audit events are not in the log yet; they wait in the directory and are written at its next change or opening:\n", len(st.Waiting))
		for i := range st.Waiting {
			ev := &st.Waiting[i]
			n, _ := directory.ChangeNumber(ev)
			age := now.Sub(ev.Time).Truncate(time.Second)
			if age >= staleOutbox {
				stale++
			}
			fmt.Fprintf(e.stdout, "  change %d, waiting %s: %s\n", n, age, formatEvent(ev))
		}
	}
	var problems []string
	if chk.MissingCount > 0 {
		nums := make([]string, len(chk.Missing))
		for i, n := range chk.Missing {
			nums[i] = strconv.FormatUint(n, 10)
		}
		more := ""
		if uint64(len(chk.Missing)) < chk.MissingCount {
			more = ", …"
		}
		problems = append(problems, fmt.Sprintf("%d directory change(s) have no audit event in the log or the directory (%s%s): the log was replaced or lost lines outside its chain, or a hop kdc writes its events to another log (give that file with --dir)",
			chk.MissingCount, strings.Join(nums, ", "), more))
	}
	if stale > 0 {
		problems = append(problems, fmt.Sprintf("%d change(s) have waited %s or more for their audit events: the log cannot be written (full disk?), or the process that made them stopped; fix the log, then any hop command with --dir, or hop kdc, writes them", stale, staleOutbox))
	}
	if len(problems) > 0 {
		return fmt.Errorf("audit log incomplete: %s", strings.Join(problems, "; "))
	}
	return nil
}

// parseSince reads --since: a time, or a duration before now (with "d" for
// days).
func parseSince(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100000 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q is a negative duration", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a time (2026-01-02T15:04:05Z, 2026-01-02) nor a duration (90m, 24h, 7d)", s)
}

// formatEvent renders an event on one line:
// TIME TYPE CLIENT → SERVICE ACTOR → TARGET details — reason; changes.
func formatEvent(ev *audit.Event) string {
	var b strings.Builder
	if ev.Time.IsZero() {
		b.WriteString("-")
	} else {
		b.WriteString(ev.Time.UTC().Format(time.RFC3339))
	}
	b.WriteString("  ")
	b.WriteString(ev.Type)
	arrow := func(from, to string) {
		if from == "" && to == "" {
			return
		}
		b.WriteString("  ")
		b.WriteString(orDash(from))
		b.WriteString(" → ")
		b.WriteString(orDash(to))
	}
	arrow(ev.Client, ev.Service)
	if from, to := actorLabels(ev.Type); from != "" {
		labelled := func(label, v string) string {
			if v == "" || label == "" {
				return v
			}
			return label + " " + v
		}
		switch f, t := labelled(from, ev.Actor), labelled(to, ev.Target); {
		case f != "" && t != "":
			b.WriteString("  " + f + " → " + t)
		case f != "" || t != "":
			b.WriteString("  " + f + t)
		}
	} else {
		arrow(ev.Actor, ev.Target)
	}
	flags := ev.Flags
	if strings.Contains(flags, "=") {
		// The agents' flags are labelled already: session=ID,mode=MODE.
		for _, f := range strings.Split(flags, ",") {
			b.WriteString("  " + f)
		}
		flags = ""
	}
	for _, kv := range []struct{ k, v string }{{"etype", ev.EType}, {"flags", flags}, {"code", ev.Code}, {"from", ev.Addr}} {
		if kv.v != "" {
			fmt.Fprintf(&b, "  %s=%s", kv.k, kv.v)
		}
	}
	if !ev.Until.IsZero() {
		fmt.Fprintf(&b, "  until=%s", ev.Until.UTC().Format(time.RFC3339))
	}
	if ev.Reason != "" {
		b.WriteString("  — ")
		b.WriteString(ev.Reason)
	}
	for i, ch := range ev.Changes {
		if i == 0 {
			b.WriteString("  changes: ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %q → %q", ch.Field, ch.Old, ch.New)
	}
	if ev.Seq != 0 {
		fmt.Fprintf(&b, "  (seq %d)", ev.Seq)
	}
	return b.String()
}

// actorLabels names what an agent's event holds as its actor and target
// (the hop agent writes them): a session's local account and endpoint, a
// brokered ticket's client and target, a passed credential's principal
// and name. Other events' actor and target are a directory change's who
// and what, shown unlabelled.
func actorLabels(typ string) (actor, target string) {
	switch {
	case strings.HasPrefix(typ, "session.credential"):
		return "principal", "credential"
	case strings.HasPrefix(typ, "session.") || strings.HasPrefix(typ, "jea."):
		return "local account", "endpoint"
	case strings.HasPrefix(typ, "broker."):
		return "ticket", ""
	}
	return "", ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// remoteAudit is hop audit --server: the admin API's GET /v1/audit, which
// takes one principal and one type. from names where server came from
// (--server, or admin_url).
func remoteAudit(ctx context.Context, e *env, c *command, server, from, since string, principals, types []string, limit int, follow, asJSON bool) error {
	if follow {
		return usagef("%s: --follow reads a local log, and this reads %s's through the admin API (%s); run the command again, or follow the log on the KDC's host (hop audit --dir DIR --follow)", c.path, server, from)
	}
	if len(principals) > 1 || len(types) > 1 {
		return usagef("%s: through the admin API (%s %s), give at most one --principal and one --type", c.path, from, server)
	}
	q := admin.AuditQuery{Limit: limit}
	if since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return usagef("%s: --since: %v", c.path, err)
		}
		q.Since = t
	}
	if len(principals) == 1 {
		q.Principal = principals[0]
	}
	if len(types) == 1 {
		q.Type = types[0]
	}
	svc, done, err := e.remote(server, false)
	if err != nil {
		return err
	}
	defer done()
	lines, err := svc.Audit(ctx, q)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if asJSON {
			var b bytes.Buffer
			if err := json.Compact(&b, l); err != nil {
				return fmt.Errorf("the server sent an audit line that is not JSON: %w", err)
			}
			fmt.Fprintf(e.stdout, "%s\n", b.Bytes())
			continue
		}
		ev, err := audit.ParseLine(l)
		if err != nil {
			return fmt.Errorf("the server sent an audit line that does not decode: %w", err)
		}
		fmt.Fprintln(e.stdout, formatEvent(&ev))
	}
	return nil
}
