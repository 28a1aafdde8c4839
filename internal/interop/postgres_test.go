package interop

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hop/internal/thirdparty"
)

const pgSvcPW = "Svc-Pg-Pass-1"

// PostgreSQL's GSSAPI authentication (pg_hba.conf "gss") with MIT's libpq
// and server, tickets from hop's KDC and the server's keytab from hop
// keytab export: the database on C of the second-hop tests, queried here
// with psql directly.
func TestPostgresGSSAPI(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	kdestroy := thirdparty.Require(t, "kdestroy")
	psql := thirdparty.RequirePsql(t)
	r := newRealm(t, "")
	hop(t, pgSvcPW+"\n", "account", "add-service", "svc-pg", "--spn", "postgres/c.example.test", "--dir", r.dir)
	kt := filepath.Join(r.dir, "pg.keytab")
	hop(t, "", "keytab", "export", "svc-pg", "-o", kt, "--dir", r.dir)
	pg := thirdparty.StartPostgres(t, thirdparty.PostgresOptions{
		Addr:   "127.0.0.3",
		Keytab: kt,
		Realm:  realm,
		Roles:  []string{"alice", "bob"},
	})

	// c.example.test does not resolve: hostaddr is the address, and libpq
	// names the service postgres/<host> after host, which is what makes
	// the keytab's key the right one.
	conninfo := func(user, gssencmode string) string {
		return "host=c.example.test hostaddr=" + pg.Addr() + " port=" + strconv.Itoa(pg.Port()) +
			" user=" + user + " dbname=" + user + " gssencmode=" + gssencmode + " connect_timeout=10"
	}
	const query = "select current_user, gss_authenticated, encrypted, principal from pg_stat_gssapi where pid = pg_backend_pid()"
	psqlRun := func(env []string, conninfo string) (string, string, error) {
		return thirdparty.Run(t, append(env, "LC_ALL=C", "PGCONNECT_TIMEOUT=10"), "", psql, "-X", "-A", "-t", "-F", " ", "-d", conninfo, "-c", query)
	}
	login := func(t *testing.T, user, pw string) []string {
		env, _ := r.env(t)
		if out, errOut, err := thirdparty.Run(t, env, pw+"\n", kinit, user); err != nil {
			t.Fatalf("kinit %s: %v\n%s%s", user, err, out, errOut)
		}
		return env
	}

	// gssencmode=disable: the connection is plain TCP and the user is
	// authenticated by pg_hba.conf's gss method proper (an exchange of
	// GSS-API tokens in the protocol's authentication messages).
	// gssencmode=require: the whole connection is wrapped with GSS-API
	// (PostgreSQL 12's GSSAPI encryption), which authenticates as well.
	for _, tt := range []struct {
		gssencmode string
		want       string
	}{
		{"disable", "alice t f alice@EXAMPLE.TEST"},
		{"require", "alice t t alice@EXAMPLE.TEST"},
	} {
		t.Run("alice, gssencmode="+tt.gssencmode, func(t *testing.T) {
			env := login(t, "alice", alicePW)
			out, errOut, err := psqlRun(env, conninfo("alice", tt.gssencmode))
			if err != nil {
				t.Fatalf("psql: %v\n%s%s", err, out, errOut)
			}
			if got := strings.TrimSpace(out); got != tt.want {
				t.Errorf("psql printed %q, want %q (current_user, gss_authenticated, encrypted, principal)", got, tt.want)
			}
		})
	}

	// refused runs psql, which must fail, and returns its stderr and what
	// the server logged about it: the server logs its FATAL line when it
	// sees the connection end, maybe after psql has exited.
	refused := func(t *testing.T, env []string, conninfo string) (errOut, log string) {
		t.Helper()
		before := len(pg.Log())
		out, errOut, err := psqlRun(env, conninfo)
		if err == nil {
			t.Fatalf("psql %q succeeded:\n%s", conninfo, out)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			log = pg.Log()[before:]
			if strings.Contains(log, "FATAL:") || time.Now().After(deadline) {
				return errOut, log
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("no ticket", func(t *testing.T) {
		env := login(t, "alice", alicePW)
		if out, errOut, err := thirdparty.Run(t, env, "", kdestroy); err != nil {
			t.Fatalf("kdestroy: %v\n%s%s", err, out, errOut)
		}
		errOut, log := refused(t, env, conninfo("alice", "disable"))
		mustContain(t, "psql without a ticket", errOut, "No Kerberos credentials available")
		mustContain(t, "the server's log", log, `FATAL:  GSSAPI authentication failed for user "alice"`)
	})

	t.Run("bob as alice", func(t *testing.T) {
		env := login(t, "bob", bobPW)
		errOut, log := refused(t, env, conninfo("alice", "disable"))
		mustContain(t, "psql as alice with bob's ticket", errOut, `GSSAPI authentication failed for user "alice"`)
		mustContain(t, "the server's log", log, `identity="bob@EXAMPLE.TEST" method=gss`,
			"provided user name (alice) and authenticated user name (bob) do not match")
	})

	// Without a host name libpq names the service after the address, which
	// hop's KDC does not know: the name in host is what made the first
	// subtests work.
	t.Run("the address as host", func(t *testing.T) {
		env := login(t, "alice", alicePW)
		ci := strings.Replace(conninfo("alice", "disable"), "host=c.example.test hostaddr=", "host=", 1)
		errOut, _ := refused(t, env, ci)
		mustContain(t, "psql to host="+pg.Addr(), errOut, "postgres/"+pg.Addr()+"@EXAMPLE.TEST not found in Kerberos database")
	})
}
