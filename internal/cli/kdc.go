package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"hop/dc"
	"hop/kdc"
)

func kdcCommand() *command {
	return &command{
		name:    "kdc",
		summary: "run the Kerberos KDC (UDP and TCP)",
		usage:   "kdc [--dir DIR] [--listen ADDR:PORT]... [--kpasswd-listen ADDR:PORT|off] [--admin-listen ADDR:PORT --admin-name HOST]... [--admin-tls=false] [--admin-require-channel-binding] [--audit-log FILE] [--audit-max-size BYTES] [--audit-max-files N] [--audit-failure continue|refuse] [--max-udp-reply N] [--log-level LEVEL] [--log-format text|json] [--cpu-profile FILE]",
		help: `Serves AS and TGS requests for the domain on every --listen address, UDP
and TCP on the same port (default 127.0.0.1:88). Account and policy changes
made with hop account/spn/group/domain take effect at the next request; no
restart. Every ticket and refusal is written to the audit log (default
DIR/audit.log, hash-chained JSON lines shared with hop's other commands; see
hop audit).

kpasswd (RFC 3244 password change, UDP and TCP; MIT's and Heimdal's kpasswd)
is served on --kpasswd-listen, by default on the first --listen host's port 464
when the KDC uses port 88.

--admin-listen serves the admin API (HTTPS with Kerberos "Negotiate"
authentication; hop's directory commands use it, as in hop account list
--server URL, and curl with --negotiate -u :). --admin-name is the host name
clients use (the SPN HTTP/HOST, held by the service account hop-admin, which is created if needed;
default: this machine's host name). The TLS certificate is made on first use
(DIR/admin-tls.crt and .key) and trusted by clients through the key pin that
hop client-config writes into krb5.conf. hop's client binds its Kerberos
tokens to that TLS channel (RFC 5929 tls-server-end-point, as Windows'
Extended Protection does), and the server refuses a token bound to another;
--admin-require-channel-binding also refuses tokens bound to none, so that a
token a client sent to another server of the same name (a plain-HTTP one)
cannot be used here (curl 7.88 binds none: it is then refused). After logrotate renames the log, the KDC continues the chain in
the new file at its next write (SIGHUP makes it do so at once). Stop it with
Ctrl-C or SIGTERM.`,
		run: runKDC,
	}
}

// kdcFlags names the flag of each dc.Config field, for usage errors.
var kdcFlags = map[string]string{"Folder": "--dir", "Listen": "--listen", "KpasswdListen": "--kpasswd-listen",
	"AdminListen": "--admin-listen", "MaxUDPReply": "--max-udp-reply"}

func runKDC(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	var listen, adminNames stringList
	fs.Var(&listen, "listen", "an address to serve, `ADDR:PORT` (repeatable; default 127.0.0.1:88)")
	kpasswdListen := fs.String("kpasswd-listen", "", "serve kpasswd (RFC 3244) on `ADDR:PORT`, or off (default: the first --listen host, port 464, when the KDC uses port 88)")
	adminListen := fs.String("admin-listen", "", "serve the admin API on `ADDR:PORT` (off by default)")
	fs.Var(&adminNames, "admin-name", "the admin server's host name `HOST` clients use, its SPN HTTP/HOST (repeatable; default: this host's name)")
	adminTLS := fs.Bool("admin-tls", true, "serve the admin API over TLS (a self-signed certificate pinned by clients)")
	requireCB := fs.Bool("admin-require-channel-binding", false, "refuse admin API tokens not bound to its TLS channel (hop's client binds them; curl 7.88 does not)")
	auditPath := fs.String("audit-log", "", "the audit log `FILE` (default DIR/audit.log; \"-\" = standard error)")
	auditMaxSize := fs.Int64("audit-max-size", 0, "rotate the audit log at `BYTES` (default 100 MiB, which hop's local commands use too; -1: never, for logrotate)")
	auditMaxFiles := fs.Int("audit-max-files", 0, "keep `N` rotated audit logs (default 10)")
	auditFailure := fs.String("audit-failure", "continue", "the `POLICY` while the audit log cannot be written: continue (the lost events are recorded by an audit.gap event once it can) or refuse (no ticket, no admin API answer)")
	maxUDP := fs.Int("max-udp-reply", kdc.DefaultMaxUDPReply, "largest reply sent over UDP; larger ones ask the client to use TCP")
	cpuProfile := fs.String("cpu-profile", "", "write a Go CPU profile of the KDC to `FILE` until it stops (for go tool pprof; costs a few percent)")
	logs := addLogFlags(fs)
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return fmt.Errorf("%s: --cpu-profile: %w", c.path, err)
		}
		defer stop()
	}
	if *auditMaxFiles < 0 {
		return usagef("%s: --audit-max-files %d: give a number of files, 1 or more", c.path, *auditMaxFiles)
	}
	if *auditFailure != "continue" && *auditFailure != "refuse" {
		return usagef("%s: --audit-failure %q: use continue or refuse", c.path, *auditFailure)
	}
	logger, err := logs.logger(c, e.stderr)
	if err != nil {
		return err
	}
	cfg := dc.Config{
		Folder: *dir, Listen: listen, KpasswdListen: *kpasswdListen,
		AdminListen: *adminListen, AdminNames: adminNames, InsecureAdminHTTP: !*adminTLS, AdminRequireChannelBinding: *requireCB,
		AuditLog: *auditPath, MaxUDPReply: *maxUDP, RefuseUnaudited: *auditFailure == "refuse",
		AuditMaxSize: *auditMaxSize, AuditMaxFiles: *auditMaxFiles,
		Logger: logger,
	}
	if *auditPath == "-" {
		cfg.AuditLog, cfg.AuditStream = "", e.stderr
	}
	srv, err := dc.New(cfg)
	var ce *dc.ConfigError
	if errors.As(err, &ce) {
		if ce.Field == "AdminNames" {
			return usagef("%s: --admin-name needs --admin-listen", c.path)
		}
		return usagef("%s: %s %q: %s", c.path, kdcFlags[ce.Field], ce.Value, ce.Want)
	}
	if err != nil {
		return err
	}
	if cfg.AuditStream == nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer func() { signal.Stop(hup); close(hup) }()
		go func() {
			for range hup {
				srv.ReopenAuditLog()
			}
		}()
	}
	err = srv.Run(ctx, nil)
	if errors.Is(err, dc.ErrNoHostName) {
		return usagef("give the admin server's host name with --admin-name")
	}
	var le *dc.ListenError
	if errors.As(err, &le) {
		return listenError(le, *kpasswdListen == "")
	}
	return err
}

// listenError says which of hop kdc's addresses could not be used, why,
// and what to do, naming its flag. kpasswdDefault: the kpasswd address was
// not given but derived from --listen.
func listenError(le *dc.ListenError, kpasswdDefault bool) error {
	what := map[string]string{"Listen": "the KDC", "KpasswdListen": "kpasswd", "AdminListen": "the admin API"}[le.Field]
	advice := le.Explain(kdcFlags[le.Field])
	if le.Field == "KpasswdListen" {
		advice += " (or off)"
		if kpasswdDefault {
			what = "kpasswd (by default on port 464 when the KDC uses 88)"
		}
	}
	return fmt.Errorf("%s cannot listen on %s: %s", what, le.Addr, advice)
}

// startCPUProfile writes a CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
