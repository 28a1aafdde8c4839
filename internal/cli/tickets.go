package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"hop/krb5/tickets"
)

func ticketsCommand() *command {
	return &command{
		name:    "tickets",
		summary: "list the tickets in the credential cache (klist)",
		usage:   "tickets [--ccache CACHE] [--json] [--show-config] [--check]",
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

--check prints nothing and fails (exit 1) unless the cache holds a valid
ticket-granting ticket (klist -s). Without a cache the command fails.`,
		run: runTickets,
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
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	ccName := fs.String("ccache", "", "the credential `CACHE` to list (FILE:path, DIR:dir, KCM:[NAME] or a path)")
	asJSON := fs.Bool("json", false, "print the cache as JSON")
	showConfig := fs.Bool("show-config", false, "also list MIT's configuration entries (klist -C)")
	check := fs.Bool("check", false, "print nothing; fail unless there is a valid ticket-granting ticket (klist -s)")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	l, err := (&tickets.Source{CCache: *ccName, Getenv: e.getenv}).List(ctx)
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
	if *asJSON {
		return printJSON(e.stdout, listingJSON(l))
	}
	printListing(e.stdout, l, *showConfig)
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
