package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/kcm"
	"hop/krb5/kcm/kcmtest"
	"hop/krb5/tickets"
)

// serveKCM serves srv on a socket until the test ends, points
// KRB5_CONFIG at the lab's krb5.conf with kcm_socket naming it and sets
// KRB5CCNAME=KCM:, as the agent does for a session. The server's default
// cache for this uid holds alice and no ticket.
func serveKCM(t *testing.T, l *testrealm.Lab, srv *kcm.Server) {
	t.Helper()
	sock := kcmtest.Serve(t, srv)
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(conf, []byte(kcmtest.Conf(t, l.Krb5Conf, sock)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", conf)
	t.Setenv("KRB5CCNAME", "KCM:")

	c, err := kcm.Dial(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	alice := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}
	if err := c.Initialize(t.Context(), strconv.Itoa(os.Getuid()), alice); err != nil {
		t.Fatal(err)
	}
}

// fetchAs is a KCM server's Fetch that obtains tickets with alice's TGT in
// a file of the test's, which the "session" never sees.
func fetchAs(t *testing.T, l *testrealm.Lab) kcm.FetchFunc {
	held := &tickets.Source{Config: l.Config, CCache: l.Login(t, "alice", "alice-pw-1234")}
	return func(ctx context.Context, _ string, _, server krb5.Principal) (*ccache.Credential, error) {
		cred, err := held.ServiceTicket(ctx, server.Name)
		if err != nil {
			return nil, err
		}
		c := ccache.FromClient(cred)
		return &c, nil
	}
}

const constrainedHow = "with S4U2Proxy as b$@EXAMPLE.TEST for each target, alice@EXAMPLE.TEST's ticket to this host as evidence; the KDC applies the domain's constrained and resource-based delegation rules"

// TestTicketsInASession: in a hop session (a KCM server that answers hop's
// broker opcode) hop tickets lists the tickets as klist does and then says
// what the broker is; --target asks it about one service.
func TestTicketsInASession(t *testing.T) {
	l, _ := loginLab(t)
	l.AddService(t, "web", "HTTP/web.example.test")
	var (
		mu      sync.Mutex
		queries []kcm.BrokerQuery
	)
	asked := func() []kcm.BrokerQuery {
		mu.Lock()
		defer mu.Unlock()
		return append([]kcm.BrokerQuery(nil), queries...)
	}
	serveKCM(t, l, &kcm.Server{
		Fetch: fetchAs(t, l),
		Broker: func(_ context.Context, _ uint32, q *kcm.BrokerQuery) (*kcm.BrokerStatus, error) {
			mu.Lock()
			queries = append(queries, *q)
			mu.Unlock()
			st := &kcm.BrokerStatus{Host: "b.example.test\x1b[2J", Session: "3f2a9c", Endpoint: "default", User: "alice@EXAMPLE.TEST",
				Mode: "constrained", Identity: "alice@EXAMPLE.TEST", How: constrainedHow + ".", Credentials: []string{"svc-sql"},
				Holds: []kcm.Holding{{Kind: kcm.HoldEvidence, Principal: "alice@EXAMPLE.TEST", Target: "host/b.example.test@EXAMPLE.TEST", Note: "sealed\x1b[2J"},
					{Kind: kcm.HoldServiceTicket, Principal: "alice@EXAMPLE.TEST", Target: "HTTP/web.example.test@EXAMPLE.TEST", Expires: "2030-01-02T03:04:05Z"}}}
			if q.Target != "" {
				st.Target = &kcm.BrokerTarget{Name: q.Target + "@EXAMPLE.TEST", Possible: true, Refused: "KDC_ERR_BADOPTION: not allowed to delegate",
					Explain: "the KDC refused to let b$ reach " + q.Target}
			}
			return st, nil
		},
	})
	// A ticket the "broker" obtained, so that the listing has one.
	ok(t, "", "tickets", "export", "HTTP/web.example.test", "--ccache", filepath.Join(t.TempDir(), "x"))

	out := ok(t, "", "tickets")
	uid := strconv.Itoa(os.Getuid())
	listing, delegation, found := strings.Cut(out, "\nDelegation:\n")
	if !found || !strings.HasPrefix(listing, "Ticket cache: KCM:"+uid+"\nDefault principal: alice@EXAMPLE.TEST\n\n") ||
		!strings.Contains(listing, "  HTTP/web.example.test@EXAMPLE.TEST\n") {
		t.Fatalf("tickets in a session:\n%s", out)
	}
	// The terminal escape the broker sent is not printed.
	want := "\tThis cache is the credential broker of hop session 3f2a9c on b.example.test[2J (endpoint default), opened by alice@EXAMPLE.TEST with --delegate constrained: " +
		"tickets for other hosts are obtained for alice@EXAMPLE.TEST " + constrainedHow + ".\n" +
		"\tCredentials passed into the session: svc-sql\n" +
		"\tOn this host for the session:\n" +
		"\t  evidence-ticket of alice@EXAMPLE.TEST for host/b.example.test@EXAMPLE.TEST (sealed[2J)\n" +
		"\t  service-ticket of alice@EXAMPLE.TEST for HTTP/web.example.test@EXAMPLE.TEST, until 2030-01-02T03:04:05Z\n"
	if delegation != want {
		t.Errorf("the Delegation section:\n%q\nwant\n%q", delegation, want)
	}
	if q := asked(); len(q) != 1 || q[0].Cache != uid || q[0].Target != "" {
		t.Errorf("the broker was asked %+v", q)
	}

	out = ok(t, "", "tickets", "--target", "cifs/c.example.test")
	_, target, _ := strings.Cut(out, "\nTarget ")
	want = "cifs/c.example.test@EXAMPLE.TEST:\n" +
		"\tPossible: the broker asks the KDC when a program needs this ticket, and the KDC decides.\n" +
		"\tLast refused: KDC_ERR_BADOPTION: not allowed to delegate (not kept: the next request asks the KDC again)\n" +
		"\tthe KDC refused to let b$ reach cifs/c.example.test\n"
	if q := asked(); target != want || len(q) != 2 || q[1].Target != "cifs/c.example.test" {
		t.Errorf("--target:\n%q\nwant\n%q (queries %+v)", target, want, q)
	}

	j := ticketsJSONOf(t, "--target", "cifs/c.example.test")
	if b := j.Broker; b == nil || b.Mode != "constrained" || b.Session != "3f2a9c" || b.Identity != "alice@EXAMPLE.TEST" ||
		b.Target == nil || !b.Target.Possible || b.Target.Name != "cifs/c.example.test@EXAMPLE.TEST" {
		t.Errorf("--json broker: %+v", j.Broker)
	}
	fails(t, 2, "is not a service principal name such as cifs/c.example.test", "", "tickets", "--target", "alice")
}

// TestTicketsOutsideASession: a file, or a KCM server that is not a hop
// session's broker, lists as before, with no Delegation section, and
// --target says what it is for.
func TestTicketsOutsideASession(t *testing.T) {
	l, cc := loginLab(t)
	ok(t, "alice-pw-1234\n", "login")
	for _, where := range []string{"file", "KCM"} {
		t.Run(where, func(t *testing.T) {
			shown := "FILE:" + cc
			if where == "KCM" {
				serveKCM(t, l, &kcm.Server{})
				ok(t, "alice-pw-1234\n", "login")
				shown = "KCM:" + strconv.Itoa(os.Getuid())
			}
			out := ok(t, "", "tickets")
			if !strings.HasPrefix(out, "Ticket cache: "+shown+"\n") || strings.Contains(out, "Delegation") {
				t.Errorf("tickets:\n%s", out)
			}
			raw := ok(t, "", "tickets", "--json")
			var m map[string]any
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				t.Fatal(err)
			}
			if _, has := m["broker"]; has {
				t.Errorf("--json has a broker outside a session:\n%s", raw)
			}
			fails(t, 1, "--target asks a hop session's credential broker what it would do for cifs/c.example.test, but the cache "+shown+" is not a session's broker: run it inside a session that hop exec or hop shell opened",
				"", "tickets", "--target", "cifs/c.example.test")
		})
	}
}

func TestTicketsExport(t *testing.T) {
	l, cc := loginLab(t)
	l.AddService(t, "web", "HTTP/web.example.test")
	l.AddService(t, "db", "postgres/db.example.test")
	ok(t, "alice-pw-1234\n", "login")
	dir := t.TempDir()
	out := filepath.Join(dir, "app.cc")

	fails(t, 2, "--ccache FILE is required", "", "tickets", "export", "HTTP/web.example.test")
	fails(t, 2, "usage: hop tickets export SPN...", "", "tickets", "export", "--ccache", out)
	fails(t, 2, `"alice" is not a service principal name`, "", "tickets", "export", "alice", "--ccache", out)
	fails(t, 1, "export writes service tickets only, never a ticket-granting ticket: krbtgt/EXAMPLE.TEST@EXAMPLE.TEST names a ticket-granting service",
		"", "tickets", "export", "HTTP/web.example.test", "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", "--ccache", out)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused export wrote the file: %v", err)
	}

	got := ok(t, "", "tickets", "export", "HTTP/web.example.test", "postgres/db.example.test", "--ccache", out)
	c, err := ccache.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Credentials) != 2 || c.Default.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf("the file holds %v", c.Credentials)
	}
	want := "Wrote 2 service tickets of alice@EXAMPLE.TEST to FILE:" + out + " (mode 0600, no ticket-granting ticket):\n" +
		"  HTTP/web.example.test@EXAMPLE.TEST  expires " + localTime(c.Credentials[0].EndTime) + "\n" +
		"  postgres/db.example.test@EXAMPLE.TEST  expires " + localTime(c.Credentials[1].EndTime) + "\n" +
		"Use it with KRB5CCNAME=FILE:" + out + "; remove it when done: hop logout --ccache FILE:" + out + "\n"
	if got != want {
		t.Errorf("export printed\n%s\nwant\n%s", got, want)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", st.Mode().Perm(), err)
	}

	before, _ := os.ReadFile(out)
	fails(t, 1, out+" already exists: name a new file, or replace it with --force", "", "tickets", "export", "HTTP/web.example.test", "--ccache", out)
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Errorf("a refused export changed the file")
	}
	var j ticketsJSON
	if err := json.Unmarshal([]byte(ok(t, "", "tickets", "export", "--force", "HTTP/web.example.test", "--ccache", "FILE:"+out, "--json")), &j); err != nil {
		t.Fatal(err)
	}
	if j.Cache != "FILE:"+out || len(j.Tickets) != 1 || j.Tickets[0].Server != "HTTP/web.example.test@EXAMPLE.TEST" {
		t.Errorf("--force --json: %+v", j)
	}
	// The tickets came from the cache in use, or --from; the source keeps its TGT.
	other := filepath.Join(dir, "other.cc")
	ok(t, "", "tickets", "export", "HTTP/web.example.test", "--from", "FILE:"+cc, "--ccache", other)
	if out := ok(t, "", "tickets", "--ccache", other); strings.Contains(out, "krbtgt") || !strings.Contains(out, "HTTP/web.example.test@EXAMPLE.TEST") {
		t.Errorf("hop tickets on the exported file:\n%s", out)
	}
	if out := ok(t, "", "tickets"); !strings.Contains(out, "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST") {
		t.Errorf("the source cache lost its TGT:\n%s", out)
	}

	if h := ok(t, "", "tickets", "export", "--help"); !strings.HasPrefix(h, "Usage: hop tickets export SPN... --ccache FILE") || !strings.Contains(h, "--force") {
		t.Errorf("export --help:\n%s", h)
	}
	if h := ok(t, "", "tickets", "--help"); !strings.Contains(h, "hop tickets export SPN... --ccache FILE") || !strings.Contains(h, "--target") {
		t.Errorf("tickets --help:\n%s", h)
	}
}

// TestTicketsExportInASession: the broker's explanation when it gives no
// ticket, and nothing written.
func TestTicketsExportInASession(t *testing.T) {
	l, _ := loginLab(t)
	explain := "no delegated credential on this hop: the session on b.example.test was opened with --delegate none; use --delegate constrained"
	serveKCM(t, l, &kcm.Server{
		Fetch: func(context.Context, string, krb5.Principal, krb5.Principal) (*ccache.Credential, error) {
			return nil, nil
		},
		Broker: func(_ context.Context, _ uint32, q *kcm.BrokerQuery) (*kcm.BrokerStatus, error) {
			return &kcm.BrokerStatus{Mode: "none", Target: &kcm.BrokerTarget{Name: q.Target, Explain: explain}}, nil
		},
	})
	out := filepath.Join(t.TempDir(), "app.cc")
	fails(t, 1, "hop: tickets: no ticket for cifs/c.example.test@EXAMPLE.TEST, nothing written to "+out+": "+explain+"\n",
		"", "tickets", "export", "cifs/c.example.test", "--ccache", out)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed export wrote the file: %v", err)
	}
}
