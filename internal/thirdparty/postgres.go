package thirdparty

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// postgresStartWait bounds how long StartPostgres waits for the server to
// accept connections, and postgresStopWait how long a fast shutdown may take
// before the server is killed.
const (
	postgresStartWait = 30 * time.Second
	postgresStopWait  = 10 * time.Second
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	// Addr is the loopback address (127.0.0.0/8) the server listens on
	// over TCP, as "127.0.0.3"; the port is a free one (Postgres.Port).
	Addr string
	// Keytab is the path of a keytab holding the server's keys under
	// postgres/HOST@Realm, where postgres is libpq's default krbsrvname and
	// HOST the name clients give as libpq's host (with hostaddr giving
	// the address, as test names do not resolve). StartPostgres copies it
	// into the server's folder.
	Keytab string
	// Realm is the only realm whose principals the server accepts
	// (pg_hba.conf krb_realm); a principal logs in as the role named by
	// its name without the realm (include_realm=0).
	Realm string
	// Roles are the login roles to create, each with a database of the
	// same name that it owns.
	Roles []string
}

// Postgres is a PostgreSQL server started by StartPostgres for one test.
type Postgres struct {
	// Dir is the server's folder: data/ (the cluster), the Unix socket,
	// server.keytab, krb5.conf (empty) and postgres.log.
	Dir string

	addr   string
	port   int
	psql   string
	cred   *syscall.Credential // nil: the server runs as the test process's account
	cmd    *exec.Cmd
	exited chan error
	stop   sync.Once
}

// StartPostgres creates a PostgreSQL cluster in a new folder and starts its
// server on o.Addr and a free port, for one test; t.Cleanup stops it (fast
// shutdown, then a kill) and removes the folder, showing the server's log
// if the test failed.
//
// Over TCP, pg_hba.conf allows only GSSAPI authentication ("gss"), from
// 127.0.0.0/8, for principals of o.Realm, with the keys of o.Keytab
// (krb_server_keyfile); the server's MIT library reads an empty krb5.conf
// and keeps its replay cache in Dir. Over the Unix socket in Dir the
// superuser postgres is trusted: Exec uses it. SSL is off and fsync too.
//
// PostgreSQL refuses to run as root: when the test runs as root, initdb
// and the server run as the postgres system account. The server's binaries
// are found in $HOP_PG_BIN (or the env file) or under
// /usr/lib/postgresql/*/bin, the newest version first. When they or the
// account are missing the test is skipped, or fails under HOP_INTEROP=1.
func StartPostgres(t testing.TB, o PostgresOptions) *Postgres {
	t.Helper()
	if ip := net.ParseIP(o.Addr); ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		t.Fatalf("thirdparty: StartPostgres: Addr %q is not an address of 127.0.0.0/8", o.Addr)
	}
	if o.Realm == "" || strings.ContainsAny(o.Realm, " \t\r\n\"'#,=") {
		t.Fatalf("thirdparty: StartPostgres: bad realm %q", o.Realm)
	}
	for _, r := range o.Roles {
		if r == "" || strings.ContainsRune(r, 0) {
			t.Fatalf("thirdparty: StartPostgres: bad role %q", r)
		}
	}
	bin := postgresBin(t)
	psql := RequirePsql(t)
	cred := postgresAccount(t)

	dir, err := os.MkdirTemp("", "hop-postgres-")
	if err != nil {
		t.Fatalf("thirdparty: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Postgres{Dir: dir, addr: o.Addr, psql: psql, cred: cred}
	own := func(path string) {
		if cred == nil {
			return
		}
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatalf("thirdparty: %v", err)
		}
	}
	own(dir)
	keytab, err := os.ReadFile(o.Keytab)
	if err != nil {
		t.Fatalf("thirdparty: StartPostgres: read the keytab: %v", err)
	}
	for name, content := range map[string][]byte{"server.keytab": keytab, "krb5.conf": nil} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatalf("thirdparty: %v", err)
		}
		own(path)
	}

	data := filepath.Join(dir, "data")
	if _, stderr, err := runAs(testContext(t), RunTimeout, cred, dir, p.serverEnv(), "",
		filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=reject",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("thirdparty: initdb: %v\n%s", err, stderr)
	}
	// initdb wrote pg_hba.conf and postgresql.conf: rewriting them keeps
	// their owner.
	hba := "# Made by hop's internal/thirdparty for a test: GSSAPI only over TCP.\n" +
		"# TYPE\tDATABASE\tUSER\tADDRESS\tMETHOD\n" +
		"local\tall\tall\t\ttrust\n" +
		"host\tall\tall\t127.0.0.0/8\tgss include_realm=0 krb_realm=" + o.Realm + "\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatalf("thirdparty: %v", err)
	}

	t.Cleanup(func() { p.stopServer(t, t.Failed()) })
	for try := 0; ; try++ {
		p.port = FreeLoopbackPort(t, o.Addr)
		err := p.start(bin)
		if err == nil {
			break
		}
		if try == 4 || !errors.Is(err, errAddrInUse) {
			t.Fatal(err)
		}
		t.Logf("thirdparty: retrying on another port: %v", err)
	}
	for _, r := range o.Roles {
		p.Exec(t, "CREATE ROLE "+quoteIdent(r)+" LOGIN", "CREATE DATABASE "+quoteIdent(r)+" OWNER "+quoteIdent(r))
	}
	return p
}

// Addr returns the loopback address the server listens on.
func (p *Postgres) Addr() string { return p.addr }

// Port returns the server's TCP port.
func (p *Postgres) Port() int { return p.port }

// Log returns the server's log.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "postgres.log"))
	return string(b)
}

// Exec runs the SQL statements, each on its own (CREATE DATABASE cannot run
// inside a transaction), as the superuser over the Unix socket, and returns
// psql's unaligned output; a failed statement fails the test.
func (p *Postgres) Exec(t testing.TB, statements ...string) string {
	t.Helper()
	args := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", p.Dir, "-p", strconv.Itoa(p.port), "-U", "postgres", "-d", "postgres"}
	for _, s := range statements {
		args = append(args, "-c", s)
	}
	stdout, stderr, err := run(testContext(t), RunTimeout, "", []string{"LC_ALL=C"}, "", p.psql, args...)
	if err != nil {
		t.Fatalf("thirdparty: psql %q: %v\n%s", statements, err, stderr)
	}
	return stdout
}

// Stop stops the server now (t.Cleanup does it anyway); stopping twice is
// fine.
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	p.stopServer(t, false)
}

// serverEnv is the environment of initdb and the server: the C locale (the
// log in English), an empty krb5.conf and the replay cache in Dir, so that
// the host's Kerberos configuration plays no part.
func (p *Postgres) serverEnv() []string {
	env := []string{
		"LC_ALL=C",
		"KRB5_CONFIG=" + filepath.Join(p.Dir, "krb5.conf"),
		"KRB5RCACHEDIR=" + p.Dir,
	}
	return append(filterPostgresEnv(os.Environ()), env...)
}

// filterPostgresEnv drops the Kerberos variables, as filterEnv does, and
// libpq's and the server's PG* variables a developer's shell may carry.
func filterPostgresEnv(env []string) []string {
	out := filterEnv(env)
	return slices.DeleteFunc(out, func(kv string) bool { return strings.HasPrefix(kv, "PG") })
}

// start writes postgresql.conf for p.port, starts the server and waits until
// it accepts connections. Its error wraps errAddrInUse when the port was
// taken.
func (p *Postgres) start(bin string) error {
	data := filepath.Join(p.Dir, "data")
	conf := fmt.Sprintf(`# Made by hop's internal/thirdparty for a test.
listen_addresses = %s
port = %d
unix_socket_directories = %s
krb_server_keyfile = %s
ssl = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 20
shared_buffers = 16MB
log_destination = 'stderr'
logging_collector = off
log_connections = on
lc_messages = 'C'
timezone = 'UTC'
`, quoteConf(p.addr), p.port, quoteConf(p.Dir), quoteConf(filepath.Join(p.Dir, "server.keytab")))
	if err := os.WriteFile(filepath.Join(data, "postgresql.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(p.Dir, "postgres.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the server has its own descriptor
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data)
	cmd.Dir = p.Dir
	cmd.Env = p.serverEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("thirdparty: start postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(postgresStartWait)
	for !postmasterReady(filepath.Join(data, "postmaster.pid"), p.port) {
		select {
		case err := <-exited:
			log := p.Log()
			err = fmt.Errorf("thirdparty: postgres on %s:%d exited (%v):\n%s", p.addr, p.port, err, log)
			if strings.Contains(log, "Address already in use") {
				err = fmt.Errorf("%w (%w)", err, errAddrInUse)
			}
			return err
		case <-deadline:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("thirdparty: postgres on %s:%d did not accept connections within %v:\n%s", p.addr, p.port, postgresStartWait, p.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.cmd, p.exited = cmd, exited
	return nil
}

// postmasterReady reports whether the server's postmaster.pid says it
// accepts connections on port: its fourth line is the port and its eighth
// the status, "ready" once the server accepts connections (PostgreSQL 10
// and later, src/include/utils/pidfile.h).
func postmasterReady(pidfile string, port int) bool {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[3]) == strconv.Itoa(port) && strings.TrimSpace(lines[7]) == "ready"
}

// stopServer asks the server for a fast shutdown (SIGINT), kills its
// process group if it has not exited within postgresStopWait, and logs the
// tail of its log if showLog.
func (p *Postgres) stopServer(t testing.TB, showLog bool) {
	p.stop.Do(func() {
		if p.cmd == nil {
			return
		}
		if showLog {
			lines := strings.Split(strings.TrimSpace(p.Log()), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("thirdparty: tail of PostgreSQL's log in %s:\n%s", p.Dir, strings.Join(lines, "\n"))
		}
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.exited:
		case <-time.After(postgresStopWait):
			t.Errorf("thirdparty: postgres did not shut down within %v: killed", postgresStopWait)
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		// A backend left behind by the postmaster goes with its group.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	})
}

// postgresBin returns the directory of PostgreSQL's initdb and postgres:
// $HOP_PG_BIN (or the env file), else the newest /usr/lib/postgresql/*/bin.
func postgresBin(t testing.TB) string {
	t.Helper()
	var cands []string
	if p, ok := lookupEnv("HOP_PG_BIN"); ok {
		cands = append(cands, p)
	}
	cands = append(cands, debianPostgresBins()...)
	for _, d := range cands {
		if executable(filepath.Join(d, "initdb")) && executable(filepath.Join(d, "postgres")) {
			return d
		}
	}
	missing(t, "PostgreSQL's initdb and postgres not found in $HOP_PG_BIN or /usr/lib/postgresql/*/bin (Debian package postgresql)")
	return ""
}

// debianPostgresBins lists /usr/lib/postgresql/VERSION/bin, the newest
// major version first.
func debianPostgresBins() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	return dirs
}

// RequirePsql returns the path of PostgreSQL's psql: $HOP_PSQL (or the env
// file), else the psql of $HOP_PG_BIN or of the newest
// /usr/lib/postgresql/*/bin, else psql on PATH. When it is missing the test
// is skipped, or fails under HOP_INTEROP=1.
func RequirePsql(t testing.TB) string {
	t.Helper()
	var cands []string
	if p, ok := lookupEnv("HOP_PSQL"); ok {
		cands = append(cands, p)
	}
	if d, ok := lookupEnv("HOP_PG_BIN"); ok {
		cands = append(cands, filepath.Join(d, "psql"))
	}
	for _, d := range debianPostgresBins() {
		cands = append(cands, filepath.Join(d, "psql"))
	}
	if p, err := exec.LookPath("psql"); err == nil {
		cands = append(cands, p)
	}
	for _, p := range cands {
		if executable(p) {
			return p
		}
	}
	missing(t, "PostgreSQL's psql not found (Debian package postgresql)")
	return ""
}

// postgresAccount returns the account initdb and the server run as: nil
// (the test process's own) unless the test runs as root, which PostgreSQL
// refuses; then the postgres system account.
func postgresAccount(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		missing(t, "PostgreSQL does not run as root and there is no postgres account to run it as: %v (Debian package postgresql)", err)
		return nil
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("thirdparty: the postgres account: %v", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

// quoteIdent quotes an SQL identifier: "name", with " doubled.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteConf quotes a postgresql.conf string value: 'value', with ' doubled.
func quoteConf(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
