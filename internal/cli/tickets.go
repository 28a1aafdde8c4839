package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"hop/krb5"
	"hop/krb5/kcm"
	"hop/krb5/tickets"
	"hop/remoting"
)

func ticketsCommand() *command {
	return &command{
		name:    "tickets",
		summary: "list the tickets in the credential cache (klist); export service tickets",
		usage:   "tickets [--ccache CACHE] [--json] [--show-config] [--check] [--target SPN]",
		help: `Lists the credential cache (--ccache, else $KRB5CCNAME, else the default
one) as klist -f -e does: the cache's name and default principal, then per
ticket when it became valid, when it expires, the service, how long it may be
renewed, its flags and the encryption types of its session key and of the
ticket itself (the service key's type, from the ticket). Caches written by MIT
kinit are read too; their configuration entries are shown with --show-config
(klist -C). Expired tickets are marked. Times are local.

Flags: F forwardable, f forwarded, P proxiable, p proxy, D may-postdate,
d postdated, i invalid, R renewable, I initial, H hardware-authenticated,
A pre-authenticated, T transit-policy-checked, O ok-as-delegate, a anonymous.

Inside a session that hop exec or hop shell opened, the cache (KCM:) is the
session's credential broker: a "Delegation" section follows the tickets and
says which session it is, who opened it with which hop exec --delegate mode, and whose
tickets for other hosts it obtains and how (--json: "broker"). --target SPN
(service/host) asks the broker what it would do for that service, and why
not; outside a session it is an error.

--check prints nothing and fails (exit 1) unless the cache holds a valid
ticket-granting ticket (klist -s). Without a cache the command fails.

hop tickets export SPN... --ccache FILE writes service tickets into a new
cache file for programs that cannot use this cache (see hop tickets export
--help).`,
		run: runTickets,
	}
}

func ticketsExportCommand() *command {
	return &command{
		name:    "export",
		summary: "write service tickets into a new FILE cache for programs that cannot use this one",
		usage:   "tickets export SPN... --ccache FILE [--from CACHE] [--force] [--json]",
		help: `Obtains a service ticket for each SPN (service/host, @REALM optional, e.g.
HTTP/web.example.test) through the credential cache in use (--from, else
$KRB5CCNAME: inside a hop session, the session's broker, which obtains it
by the session's hop exec --delegate mode) and writes those tickets, and nothing
else, into a new credential cache file FILE (MIT's format, mode 0600, the
cache's principal), for programs that read only FILE caches: Java, Go
programs on gokrb5. Point such a program at it with KRB5CCNAME=FILE:FILE and
remove it when done (hop logout --ccache FILE:FILE).

A ticket-granting ticket is never written: a krbtgt SPN is refused. An
existing FILE is refused unless --force, which replaces it; the file appears
whole or not at all, and when one ticket cannot be obtained nothing is
written and the error says why (in a session, the broker's explanation).`,
		run: runTicketsExport,
	}
}

// ticketsJSON is the --json output.
type ticketsJSON struct {
	Cache             string        `json:"cache"`
	DefaultPrincipal  string        `json:"default_principal"`
	Version           int           `json:"format_version"`
	TimeOffsetSeconds *float64      `json:"time_offset_seconds,omitempty"`
	Tickets           []ticketJSON  `json:"tickets"`
	Config            []ccConfigRow `json:"config"`
	// Broker is the session's credential broker, inside a hop session.
	Broker *kcm.BrokerStatus `json:"broker,omitempty"`
}

type ticketJSON struct {
	Client          string     `json:"client"`
	Server          string     `json:"server"`
	AuthTime        time.Time  `json:"auth_time"`
	ValidFrom       time.Time  `json:"valid_from"`
	Expires         time.Time  `json:"expires"`
	RenewUntil      *time.Time `json:"renew_until,omitempty"`
	Flags           []string   `json:"flags"`
	FlagLetters     string     `json:"flag_letters"`
	SessionKeyEType string     `json:"session_key_etype"`
	TicketEType     string     `json:"ticket_etype,omitempty"`
	TicketKVNO      *uint32    `json:"ticket_kvno,omitempty"`
	TicketError     string     `json:"ticket_error,omitempty"`
	UserToUser      bool       `json:"user_to_user,omitempty"`
	Expired         bool       `json:"expired"`
}

type ccConfigRow struct {
	Key       string `json:"key"`
	Principal string `json:"principal,omitempty"`
	Value     string `json:"value"`
}

// errNoValidTicket ends hop tickets --check without a valid ticket.
// Like klist -s it prints nothing: the exit status says it.
var errNoValidTicket = &exitError{code: 1}

func runTickets(ctx context.Context, e *env, c *command, args []string) error {
	if len(args) > 0 && args[0] == "export" {
		x := ticketsExportCommand()
		x.path = c.path + " export"
		return x.run(ctx, e, x, args[1:])
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	ccName := fs.String("ccache", "", "the credential `CACHE` to list (FILE:path, DIR:dir, KCM:[NAME] or a path)")
	asJSON := fs.Bool("json", false, "print the cache as JSON")
	showConfig := fs.Bool("show-config", false, "also list MIT's configuration entries (klist -C)")
	check := fs.Bool("check", false, "print nothing; fail unless there is a valid ticket-granting ticket (klist -s)")
	targetName := fs.String("target", "", "inside a hop session: what its credential broker would do for this `SPN` (service/host)")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	var target krb5.Principal
	if *targetName != "" {
		var err error
		if target, err = tickets.ParseSPN(*targetName); err != nil {
			return usagef("%s: --target: %v", c.path, err)
		}
	}
	src := &tickets.Source{CCache: *ccName, Getenv: e.getenv}
	l, err := src.List(ctx)
	if *check {
		switch {
		case errors.Is(err, tickets.ErrNoCache):
			return errNoValidTicket
		case err != nil:
			return err
		case !l.HasValid():
			return errNoValidTicket
		}
		return nil
	}
	if err != nil {
		return err
	}
	st, err := src.Broker(ctx, target)
	switch {
	case errors.Is(err, tickets.ErrNoBroker) && *targetName != "":
		return fmt.Errorf("--target asks a hop session's credential broker what it would do for %s, but the cache %s is not a session's broker: run it inside a session that hop exec or hop shell opened; elsewhere, hop delegation explain --user USER --service ACCOUNT --target %s says what the domain allows",
			*targetName, l.Name, *targetName)
	case errors.Is(err, tickets.ErrNoBroker):
		st = nil
	case err != nil && *targetName != "":
		return err
	case err != nil:
		// The listing stands on its own, as klist's does.
		fmt.Fprintf(e.stderr, "hop: the session's credential broker did not say what it is: %v\n", err)
		st = nil
	}
	if *asJSON {
		j := listingJSON(l)
		j.Broker = st
		return printJSON(e.stdout, j)
	}
	printListing(e.stdout, l, *showConfig)
	if st != nil {
		printBroker(e.stdout, st)
	}
	return nil
}

// printBroker is the Delegation section of a hop session's cache, and the
// answer for --target. The text comes from the broker: control characters
// are dropped.
func printBroker(w io.Writer, st *kcm.BrokerStatus) {
	p := func(s string) string { return remoting.Printable(s, 2048) }
	how := strings.TrimSuffix(p(st.How), ".")
	obtains := "it obtains " + how
	if st.Identity != "" {
		obtains = "tickets for other hosts are obtained for " + p(st.Identity) + " " + how
	}
	endpoint := ""
	if st.Endpoint != "" {
		endpoint = " (endpoint " + p(st.Endpoint) + ")"
	}
	fmt.Fprintf(w, "\nDelegation:\n\tThis cache is the credential broker of hop session %s on %s%s, opened by %s with --delegate %s: %s.\n",
		p(st.Session), p(st.Host), endpoint, p(st.User), p(st.Mode), obtains)
	if len(st.Credentials) > 0 {
		names := make([]string, len(st.Credentials))
		for i, n := range st.Credentials {
			names[i] = p(n)
		}
		fmt.Fprintf(w, "\tCredentials passed into the session: %s\n", strings.Join(names, ", "))
	}
	switch {
	case st.Holds == nil: // a broker that does not say
	case len(st.Holds) == 0:
		fmt.Fprintf(w, "\tOn this host for the session: nothing of anyone's (no password, ticket-granting ticket, key or ticket).\n")
	default:
		fmt.Fprintf(w, "\tOn this host for the session:\n")
	}
	for _, h := range st.Holds {
		line := p(h.Kind) + " of " + p(h.Principal)
		if h.Target != "" {
			line += " for " + p(h.Target)
		}
		if h.Expires != "" {
			line += ", until " + p(h.Expires)
		}
		if h.Note != "" {
			line += " (" + p(h.Note) + ")"
		}
		fmt.Fprintf(w, "\t  %s\n", line)
	}
	t := st.Target
	if t == nil {
		return
	}
	fmt.Fprintf(w, "\nTarget %s:\n", p(t.Name))
	if t.Possible {
		fmt.Fprintf(w, "\tPossible: the broker asks the KDC when a program needs this ticket, and the KDC decides.\n")
	} else {
		fmt.Fprintf(w, "\tNot possible: the broker obtains no ticket for it in this session (--delegate %s).\n", p(st.Mode))
	}
	if t.Refused != "" {
		fmt.Fprintf(w, "\tLast refused: %s (not kept: the next request asks the KDC again)\n", p(t.Refused))
	}
	if t.Explain != "" {
		fmt.Fprintf(w, "\t%s\n", p(t.Explain))
	}
}

func runTicketsExport(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	file := fs.String("ccache", "", "the new cache `FILE` to write (a path or FILE:path)")
	from := fs.String("from", "", "the credential `CACHE` the tickets come from (default: $KRB5CCNAME; in a hop session, its broker)")
	force := fs.Bool("force", false, "replace FILE if it exists")
	asJSON := fs.Bool("json", false, "print the new cache as hop tickets --json does")
	pos, err := parse(e, fs, c, args, 1, -1)
	if err != nil {
		return err
	}
	if *file == "" {
		return usagef("%s: --ccache FILE is required: the new cache file to write (the tickets come from the cache in use, or --from)", c.path)
	}
	spns := make([]krb5.Principal, 0, len(pos))
	for _, a := range pos {
		p, err := tickets.ParseSPN(a)
		if err != nil {
			return usagef("%s: %v", c.path, err)
		}
		spns = append(spns, p)
	}
	l, err := (&tickets.Source{CCache: *from, Getenv: e.getenv}).Export(ctx, spns, *file, *force)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, listingJSON(l))
	}
	noun := "tickets"
	if len(l.Tickets) == 1 {
		noun = "ticket"
	}
	fmt.Fprintf(e.stdout, "Wrote %d service %s of %s to %s (mode 0600, no ticket-granting ticket):\n", len(l.Tickets), noun, l.Default, l.Name)
	for _, t := range l.Tickets {
		fmt.Fprintf(e.stdout, "  %s  expires %s\n", t.Server, localTime(t.EndTime))
	}
	fmt.Fprintf(e.stdout, "Use it with KRB5CCNAME=%s; remove it when done: hop logout --ccache %s\n", l.Name, l.Name)
	return nil
}

func listingJSON(l *tickets.Listing) ticketsJSON {
	out := ticketsJSON{Cache: l.Name, DefaultPrincipal: l.Default.String(), Version: l.Version,
		Tickets: []ticketJSON{}, Config: []ccConfigRow{}}
	if l.HasTimeOffset {
		s := l.TimeOffset.Seconds()
		out.TimeOffsetSeconds = &s
	}
	for _, t := range l.Tickets {
		j := ticketJSON{
			Client: t.Client.String(), Server: t.Server.String(), AuthTime: t.AuthTime, ValidFrom: t.StartTime,
			Expires: t.EndTime, Flags: tickets.FlagNames(t.Flags), FlagLetters: tickets.FlagLetters(t.Flags),
			SessionKeyEType: t.SessionKeyType.String(), TicketError: t.TicketError, UserToUser: t.IsSKey, Expired: t.Expired,
		}
		if !t.RenewTill.IsZero() {
			r := t.RenewTill
			j.RenewUntil = &r
		}
		if t.TicketError == "" {
			j.TicketEType = t.TicketEType.String()
			if t.HasKVNO {
				k := t.TicketKVNO
				j.TicketKVNO = &k
			}
		}
		out.Tickets = append(out.Tickets, j)
	}
	for _, ce := range l.Config {
		out.Config = append(out.Config, ccConfigRow{Key: ce.Key, Principal: ce.Principal, Value: ce.ValueString()})
	}
	return out
}

const klistTime = "2006-01-02 15:04:05"

func printListing(w io.Writer, l *tickets.Listing, showConfig bool) {
	fmt.Fprintf(w, "Ticket cache: %s\nDefault principal: %s\n\n", l.Name, l.Default)
	fmt.Fprintf(w, "%-19s  %-19s  %s\n", "Valid starting", "Expires", "Service principal")
	for _, t := range l.Tickets {
		expired := ""
		if t.Expired {
			expired = "  (expired)"
		}
		fmt.Fprintf(w, "%s  %s  %s%s\n", localTime(t.StartTime), localTime(t.EndTime), t.Server, expired)
		if !t.Client.Name.Equal(l.Default.Name) || !t.Client.Realm.Equal(l.Default.Realm) {
			fmt.Fprintf(w, "\tfor client %s\n", t.Client)
		}
		// klist -f -e's layout: at most two fields a line.
		var fields []string
		if !t.RenewTill.IsZero() {
			fields = append(fields, "renew until "+localTime(t.RenewTill))
		}
		if f := tickets.FlagLetters(t.Flags); f != "" {
			fields = append(fields, "Flags: "+f)
		}
		tkt := t.TicketError
		if tkt == "" {
			tkt = t.TicketEType.String()
		}
		etypes := fmt.Sprintf("Etype (skey, tkt): %s, %s", t.SessionKeyType, tkt)
		if len(fields) == 2 {
			fmt.Fprintf(w, "\t%s\n\t%s\n", strings.Join(fields, ", "), etypes)
		} else {
			fmt.Fprintf(w, "\t%s\n", strings.Join(append(fields, etypes), ", "))
		}
	}
	if showConfig {
		for _, ce := range l.Config {
			about := ""
			if ce.Principal != "" {
				about = "(" + ce.Principal + ")"
			}
			fmt.Fprintf(w, "config: %s%s = %s\n", ce.Key, about, ce.ValueString())
		}
	}
}

func localTime(t time.Time) string {
	if t.IsZero() {
		return fmt.Sprintf("%-19s", "-")
	}
	return t.Local().Format(klistTime)
}
