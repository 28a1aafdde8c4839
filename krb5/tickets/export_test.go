package tickets_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hop/internal/testrealm"
	"hop/internal/thirdparty"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/kcm"
	"hop/krb5/tickets"
)

func spns(t *testing.T, names ...string) []krb5.Principal {
	t.Helper()
	var out []krb5.Principal
	for _, n := range names {
		p, err := tickets.ParseSPN(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// servers returns the server names of the credentials in the cache file.
func servers(t *testing.T, path string) (krb5.Principal, []string) {
	t.Helper()
	c, err := ccache.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cr := range c.Credentials {
		out = append(out, cr.Server.String())
	}
	return c.Default, out
}

func TestParseSPN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"cifs/c.example.test", "cifs/c.example.test"},
		{"HTTP/web.example.test@EXAMPLE.TEST", "HTTP/web.example.test@EXAMPLE.TEST"},
		{"MSSQLSvc/db.example.test:1433/inst", "MSSQLSvc/db.example.test:1433/inst"},
		{"alice", ""},
		{"alice@EXAMPLE.TEST", ""},
		{"cifs/", ""},
		{"", ""},
	} {
		p, err := tickets.ParseSPN(tc.in)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "cifs/c.example.test") {
				t.Errorf("ParseSPN(%q) = %v, %v; want an error with an example", tc.in, p, err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("ParseSPN(%q) = %v, %v", tc.in, p, err)
		}
	}
	if p, _ := tickets.ParseSPN("cifs/c.example.test"); p.Name.Type != krb5.NTSrvHst {
		t.Errorf("service/host has name type %v, want NT-SRV-HST", p.Name.Type)
	}
}

// exportLab is a realm with alice and two services, and a cache file
// with alice's TGT.
func exportLab(t *testing.T) (*testrealm.Lab, string, *tickets.Source) {
	t.Helper()
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	l.AddService(t, "web", "HTTP/web.example.test")
	l.AddService(t, "db", "postgres/db.example.test")
	cc := l.Login(t, "alice", "alice-pw-1234")
	src := &tickets.Source{Config: l.Config, CCache: cc}
	return l, cc, src
}

// TestExportFromFile exports two service tickets from a cache file that
// also holds the TGT: the new file holds those two and nothing else, and
// MIT's klist and kvno read it.
func TestExportFromFile(t *testing.T) {
	l, cc, src := exportLab(t)
	out := filepath.Join(t.TempDir(), "app.cc")

	li, err := src.Export(t.Context(), spns(t, "HTTP/web.example.test", "postgres/db.example.test@EXAMPLE.TEST", "HTTP/web.example.test"), "FILE:"+out, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	def, got := servers(t, out)
	want := []string{"HTTP/web.example.test@EXAMPLE.TEST", "postgres/db.example.test@EXAMPLE.TEST"}
	if def.String() != "alice@EXAMPLE.TEST" || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the file: principal %s, tickets %q; want alice and %q", def, got, want)
	}
	if li.Name != "FILE:"+out || len(li.Tickets) != 2 || li.Tickets[0].TicketError != "" || li.Tickets[0].Client.String() != "alice@EXAMPLE.TEST" {
		t.Errorf("Export's listing: %+v", li)
	}
	// Both asked for once (the duplicate is not), and kept in the source
	// cache too, as any service ticket is.
	if n := issued(l); n != 2 {
		t.Errorf("%d TGS exchanges, want 2", n)
	}
	if _, in := servers(t, cc); len(in) != 3 {
		t.Errorf("the source cache holds %q", in)
	}
	// No directory entry besides the file: the temporary one is gone.
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Errorf("the folder holds %d entries", len(ents))
	}

	t.Run("MIT", func(t *testing.T) {
		klist := thirdparty.Require(t, "klist")
		kvno := thirdparty.Require(t, "kvno")
		env := thirdparty.ClientEnv(l.Krb5Conf, out)
		stdout, stderr, err := thirdparty.Run(t, env, "", klist, "-c", "FILE:"+out)
		if err != nil {
			t.Fatalf("klist: %v\n%s%s", err, stdout, stderr)
		}
		for _, w := range append([]string{"Ticket cache: FILE:" + out, "Default principal: alice@EXAMPLE.TEST"}, want...) {
			if !strings.Contains(stdout, w) {
				t.Errorf("klist lacks %q:\n%s", w, stdout)
			}
		}
		if strings.Contains(stdout, "krbtgt") {
			t.Errorf("klist shows a TGT:\n%s", stdout)
		}
		// MIT's library finds the ticket in the file without a TGT, as a
		// program that reads only FILE caches would.
		before := issued(l)
		stdout, stderr, err = thirdparty.Run(t, env, "", kvno, "-c", "FILE:"+out, "HTTP/web.example.test@EXAMPLE.TEST")
		if err != nil || !strings.Contains(stdout, "HTTP/web.example.test@EXAMPLE.TEST: kvno = ") {
			t.Fatalf("kvno: %v\n%s%s", err, stdout, stderr)
		}
		if issued(l) != before {
			t.Errorf("kvno asked the KDC: the exported ticket was not used")
		}
	})
}

// TestExportRefuses checks what Export refuses before it asks for any
// ticket, and that a refusal writes nothing.
func TestExportRefuses(t *testing.T) {
	l, _, src := exportLab(t)
	ctx := t.Context()
	dir := t.TempDir()
	out := filepath.Join(dir, "app.cc")

	for _, tc := range []struct {
		name, spn, path string
		is              error
		msg             string
	}{
		{"TGT", "krbtgt/EXAMPLE.TEST", out, tickets.ErrNotService, "never a ticket-granting ticket"},
		{"TGT with realm", "KRBTGT/EXAMPLE.TEST@EXAMPLE.TEST", out, tickets.ErrNotService, "names a ticket-granting service"},
		{"another realm", "HTTP/web.other.test@OTHER.TEST", out, nil, "is in realm OTHER.TEST"},
		{"unknown service", "HTTP/nowhere.example.test", out, nil, "knows no service HTTP/nowhere.example.test"},
		{"a folder", "HTTP/web.example.test", dir, nil, "is a folder"},
		{"a KCM cache", "HTTP/web.example.test", "KCM:x", nil, "export writes a FILE cache"},
		{"no file", "HTTP/web.example.test", "", nil, "needs the file to write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := issued(l)
			_, err := src.Export(ctx, spns(t, tc.spn), tc.path, true)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Export(%s, %q) = %v; want %q", tc.spn, tc.path, err, tc.msg)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused export wrote %s", out)
			}
			if tc.is == tickets.ErrNotService && issued(l) != before {
				t.Errorf("a TGT was asked for")
			}
		})
	}
	if _, err := src.Export(ctx, nil, out, false); err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Errorf("no SPN: %v", err)
	}

	// An existing file stays as it is without force; force replaces it.
	if _, err := src.Export(ctx, spns(t, "HTTP/web.example.test"), out, false); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(out)
	before := issued(l)
	_, err := src.Export(ctx, spns(t, "postgres/db.example.test"), out, false)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "already exists: name a new file, or replace it with --force") {
		t.Fatalf("over an existing file: %v", err)
	}
	if now, _ := os.ReadFile(out); !bytes.Equal(now, first) || issued(l) != before {
		t.Fatalf("a refused export changed the file or asked the KDC")
	}
	if _, err := src.Export(ctx, spns(t, "postgres/db.example.test"), out, true); err != nil {
		t.Fatal(err)
	}
	if _, got := servers(t, out); strings.Join(got, " ") != "postgres/db.example.test@EXAMPLE.TEST" {
		t.Errorf("after --force the file holds %q", got)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("after --force the mode is %v", st.Mode().Perm())
	}
}

// sessionBroker is an in-test stand-in for a hop session's broker: a KCM
// server whose cache "sess" holds alice and no ticket at all, whose Fetch
// obtains tickets with a credential the session never sees (alice's TGT
// in a file of the test's), except for refused, and whose Broker explains.
type sessionBroker struct {
	mu      sync.Mutex
	fetched map[string][]byte // server → the ticket Fetch gave
	queries []kcm.BrokerQuery
}

const brokerExplain = "no delegated credential on this hop: the session on b.example.test was opened with --delegate none; use --delegate constrained"

func startSessionBroker(t *testing.T, l *testrealm.Lab, refused string) (*sessionBroker, *tickets.Source) {
	t.Helper()
	held := &tickets.Source{Config: l.Config, CCache: l.Login(t, "alice", "alice-pw-1234")}
	b := &sessionBroker{fetched: map[string][]byte{}}
	srv := &kcm.Server{
		Fetch: func(ctx context.Context, _ string, client, server krb5.Principal) (*ccache.Credential, error) {
			if server.Name.String() == refused || client.String() != "alice@EXAMPLE.TEST" {
				return nil, nil
			}
			cred, err := held.ServiceTicket(ctx, server.Name)
			if err != nil {
				return nil, err
			}
			c := ccache.FromClient(cred)
			b.mu.Lock()
			b.fetched[server.String()] = c.Ticket
			b.mu.Unlock()
			return &c, nil
		},
		Broker: func(_ context.Context, _ uint32, q *kcm.BrokerQuery) (*kcm.BrokerStatus, error) {
			b.mu.Lock()
			b.queries = append(b.queries, *q)
			b.mu.Unlock()
			st := &kcm.BrokerStatus{Host: "b.example.test", Session: "s1", Endpoint: "default", User: "alice@EXAMPLE.TEST", Mode: "none", How: "nothing"}
			if q.Target != "" {
				st.Target = &kcm.BrokerTarget{Name: q.Target, Explain: brokerExplain}
			}
			return st, nil
		},
	}
	sock := serveKCM(t, srv)
	if err := dialKCM(t, sock).Initialize(t.Context(), "sess", alice()); err != nil {
		t.Fatal(err)
	}
	return b, &tickets.Source{Config: kcmConfig(t, l, sock), CCache: "KCM:sess"}
}

// TestExportThroughBroker exports from a KCM cache that holds no TGT: the
// server obtains the ticket when asked (RETRIEVE), and a ticket it does
// not give fails the export with its explanation.
func TestExportThroughBroker(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	l.AddService(t, "web", "HTTP/web.example.test")
	l.AddService(t, "c", "cifs/c.example.test")
	b, src := startSessionBroker(t, l, "cifs/c.example.test")
	out := filepath.Join(t.TempDir(), "app.cc")

	if _, err := src.Export(t.Context(), spns(t, "HTTP/web.example.test"), out, false); err != nil {
		t.Fatal(err)
	}
	c, err := ccache.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	fetched := b.fetched["HTTP/web.example.test@EXAMPLE.TEST"]
	b.mu.Unlock()
	if c.Default.String() != "alice@EXAMPLE.TEST" || len(c.Credentials) != 1 ||
		!bytes.Equal(c.Credentials[0].Ticket, fetched) {
		t.Fatalf("the file holds %v, want the one ticket the broker obtained", c.Credentials)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}

	refused := filepath.Join(t.TempDir(), "refused.cc")
	_, err = src.Export(t.Context(), spns(t, "HTTP/web.example.test", "cifs/c.example.test"), refused, false)
	var be *tickets.BrokerError
	if !errors.As(err, &be) || !strings.HasSuffix(err.Error(), ": "+brokerExplain) || !strings.Contains(err.Error(), "cifs/c.example.test") {
		t.Fatalf("a ticket the broker does not give: %v; want its explanation", err)
	}
	if _, err := os.Stat(refused); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export wrote %s", refused)
	}

	t.Run("MIT klist", func(t *testing.T) {
		klist := thirdparty.Require(t, "klist")
		stdout, stderr, err := thirdparty.Run(t, thirdparty.ClientEnv(l.Krb5Conf, out), "", klist, "-c", "FILE:"+out)
		if err != nil || !strings.Contains(stdout, "Default principal: alice@EXAMPLE.TEST") ||
			!strings.Contains(stdout, "HTTP/web.example.test@EXAMPLE.TEST") || strings.Contains(stdout, "krbtgt") {
			t.Fatalf("klist: %v\n%s%s", err, stdout, stderr)
		}
	})
}

// TestBrokerStatus checks Source.Broker: a hop session's broker answers
// with the target asked about; a file and another KCM server are not one.
func TestBrokerStatus(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	b, src := startSessionBroker(t, l, "")
	target, _ := tickets.ParseSPN("cifs/c.example.test")
	st, err := src.Broker(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Host != "b.example.test" || st.Target == nil || st.Target.Explain != brokerExplain {
		t.Fatalf("status %+v", st)
	}
	queries := func() []kcm.BrokerQuery {
		b.mu.Lock()
		defer b.mu.Unlock()
		return append([]kcm.BrokerQuery(nil), b.queries...)
	}
	if q := queries(); len(q) != 1 || q[0].Cache != "sess" || q[0].Target != "cifs/c.example.test" {
		t.Errorf("the broker was asked %+v", q)
	}
	if st, err := src.Broker(t.Context(), krb5.Principal{}); err != nil || st.Target != nil || len(queries()) != 2 || queries()[1].Target != "" {
		t.Errorf("without a target: %+v, %v, queries %+v", st, err, queries())
	}

	file := &tickets.Source{Config: l.Config, CCache: l.Login(t, "alice", "alice-pw-1234")}
	plain := &tickets.Source{Config: kcmConfig(t, l, startKCM(t)), CCache: "KCM:"}
	for name, s := range map[string]*tickets.Source{"a file": file, "another KCM server": plain} {
		if _, err := s.Broker(t.Context(), target); !errors.Is(err, tickets.ErrNoBroker) {
			t.Errorf("%s: %v, want ErrNoBroker", name, err)
		}
	}
}
