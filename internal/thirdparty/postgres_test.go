package thirdparty

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartPostgres is proved against MIT's KDC, as the KDC helpers are: psql
// with MIT's ticket logs in as alice through GSSAPI, and Stop leaves
// nothing listening.
func TestStartPostgresWithMITKDC(t *testing.T) {
	kinit := Require(t, "kinit")
	psql := RequirePsql(t)
	const spn = "postgres/db.hop.test"
	k := StartMITKDC(t, testRealm, "127.0.0.1:0", map[string]string{testUser: testPassword}, []string{spn})
	pg := StartPostgres(t, PostgresOptions{Addr: "127.0.0.4", Keytab: k.Keytab(t, spn), Realm: testRealm, Roles: []string{testUser}})
	if pg.Addr() != "127.0.0.4" || pg.Port() <= 0 {
		t.Fatalf("Addr, Port = %q, %d", pg.Addr(), pg.Port())
	}
	if got := strings.TrimSpace(pg.Exec(t, "select datname from pg_database where datdba = (select oid from pg_roles where rolname = 'alice')")); got != testUser {
		t.Errorf("databases owned by alice: %q, want %q", got, testUser)
	}

	env := ClientEnv(k.Conf, filepath.Join(t.TempDir(), "cc"))
	if _, stderr, err := Run(t, env, testPassword+"\n", kinit, testUser); err != nil {
		t.Fatalf("kinit: %v\n%s", err, stderr)
	}
	conninfo := "host=db.hop.test hostaddr=127.0.0.4 port=" + strconv.Itoa(pg.Port()) + " user=alice dbname=alice gssencmode=disable"
	out, stderr, err := Run(t, env, "", psql, "-X", "-A", "-t", "-d", conninfo, "-c",
		"select current_user || ' ' || principal from pg_stat_gssapi where pid = pg_backend_pid() and gss_authenticated")
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, stderr)
	}
	if got, want := strings.TrimSpace(out), "alice alice@"+testRealm; got != want {
		t.Errorf("psql printed %q, want %q", got, want)
	}

	pg.Stop(t)
	pg.Stop(t)
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(pg.Addr(), strconv.Itoa(pg.Port())), time.Second); err == nil {
		c.Close()
		t.Errorf("the server still listens after Stop")
	}
	if _, err := os.Stat(filepath.Join(pg.Dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid after Stop: %v", err)
	}
}

func TestPostmasterReady(t *testing.T) {
	// The layout of src/include/utils/pidfile.h: pid, data directory,
	// start time, port, socket directory, listen address, shared memory
	// key, status.
	pidfile := func(port, status string) string {
		return "4242\n/tmp/x/data\n1764773584\n" + port + "\n/tmp/x\n127.0.0.3\n  1234567     98304\n" + status + "\n"
	}
	tests := []struct {
		name, content string
		want          bool
	}{
		{"ready", pidfile("5433", "ready   "), true},
		{"starting", pidfile("5433", "starting"), false},
		{"stopping", pidfile("5433", "stopping"), false},
		{"another port", pidfile("5434", "ready   "), false},
		{"status not written yet", "4242\n/tmp/x/data\n1764773584\n5433\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "postmaster.pid")
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := postmasterReady(p, 5433); got != tt.want {
				t.Errorf("postmasterReady = %v, want %v", got, tt.want)
			}
		})
	}
	if postmasterReady(filepath.Join(t.TempDir(), "absent"), 5433) {
		t.Error("postmasterReady of a missing file = true")
	}
}
