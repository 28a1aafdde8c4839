package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"hop/audit"
	"hop/kdc"
)

func kdcCommand() *command {
	return &command{
		name:    "kdc",
		summary: "run the Kerberos KDC (UDP and TCP)",
		usage:   "kdc [--dir DIR] [--listen ADDR:PORT]... [--kpasswd-listen ADDR:PORT|off] [--admin-listen ADDR:PORT --admin-name HOST]... [--admin-tls=false] [--audit-log FILE] [--max-udp-reply N] [--log-level debug|info|warn|error]",
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
authentication; hop's commands use it with --server URL, curl with
--negotiate -u :). --admin-name is the host name clients use (the SPN
HTTP/NAME, held by the service account hop-admin, which is created if needed;
default: this machine's host name). The TLS certificate is made on first use
(DIR/admin-tls.crt and .key) and trusted by clients through the key pin that
hop client-config writes into krb5.conf. After logrotate renames the log, the KDC continues the chain in
the new file at its next write (SIGHUP makes it do so at once). Stop it with
Ctrl-C or SIGTERM.`,
		run: runKDC,
	}
}

func runKDC(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	var listen stringList
	fs.Var(&listen, "listen", "an address to serve, `ADDR:PORT` (repeatable; default 127.0.0.1:88)")
	auditPath := fs.String("audit-log", "", "the audit log `FILE` (default DIR/audit.log; \"-\" = standard error)")
	maxUDP := fs.Int("max-udp-reply", kdc.DefaultMaxUDPReply, "largest reply sent over UDP; larger ones ask the client to use TCP")
	logLevel := fs.String("log-level", "info", "operational log level: debug, info, warn or error")
	var side sideServices
	side.register(fs)
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if len(listen) == 0 {
		listen = stringList{"127.0.0.1:88"}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usagef("%s: --log-level: %v", c.path, err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	if err := checkDomainFiles(*dir); err != nil {
		return err
	}
	// One audit sink for the KDC's tickets and the directory changes it
	// makes (lockouts), so that both are in one chain.
	var sink audit.Sink
	switch *auditPath {
	case "-":
		sink = &auditWriter{enc: json.NewEncoder(e.stderr)}
	default:
		p := *auditPath
		if p == "" {
			p = filepath.Join(*dir, auditFile)
		}
		f, err := audit.Open(p, audit.Options{Logger: logger})
		if err != nil {
			return err
		}
		defer func() {
			if err := f.Close(); err != nil {
				logger.Error("closing the audit log", "err", err)
			}
		}()
		sink = f
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer func() { signal.Stop(hup); close(hup) }()
		go func() {
			for range hup {
				if err := f.Reopen(); err != nil {
					logger.Error("reopening the audit log", "err", err)
				} else {
					logger.Info("audit log reopened", "file", p)
				}
			}
		}()
	}
	d, done, err := openDirectoryAudited(ctx, *dir, sink)
	if err != nil {
		return err
	}
	defer done()
	dom, err := d.Domain(ctx)
	if err != nil {
		return err
	}
	k, err := kdc.New(kdc.Config{Directory: d, Audit: sink, Logger: logger, MaxUDPReply: *maxUDP})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		bound    []string
		firstErr error
	)
	readyc := make(chan struct{}, len(listen))
	for _, addr := range listen {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return usagef("%s: --listen %q: want ADDR:PORT, e.g. 127.0.0.1:88", c.path, addr)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := k.ListenAndServe(ctx, addr, func(u, t net.Addr) {
				mu.Lock()
				bound = append(bound, u.String())
				mu.Unlock()
				logger.Info("kdc listening", "realm", dom.Realm, "udp", u.String(), "tcp", t.String())
				readyc <- struct{}{}
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				readyc <- struct{}{}
			}
		}()
	}
	for range listen {
		select {
		case <-readyc:
		case <-ctx.Done():
		}
	}
	mu.Lock()
	st := kdcStateJSON{PID: os.Getpid(), Realm: string(dom.Realm), Listen: bound}
	failed := firstErr
	mu.Unlock()
	if failed == nil {
		auditLog := *auditPath
		if auditLog == "" {
			auditLog = filepath.Join(*dir, auditFile)
		} else if auditLog == "-" {
			auditLog = ""
		}
		if err := side.start(ctx, &wg, sideConfig{dir: d, folder: *dir, sink: sink, logger: logger, auditLog: auditLog, kdcListen: bound}, &st); err != nil {
			cancel()
			wg.Wait()
			return err
		}
	}
	statePath := filepath.Join(*dir, kdcState)
	if failed == nil {
		if b, err := json.Marshal(st); err == nil {
			if err := os.WriteFile(statePath, b, 0o600); err != nil {
				logger.Warn("cannot record the listening addresses", "file", statePath, "err", err)
			}
			defer removeOwnState(statePath, st.PID)
		}
	}
	wg.Wait()
	if firstErr != nil {
		if errors.Is(firstErr, os.ErrPermission) {
			return fmt.Errorf("%w (ports below 1024 need root or CAP_NET_BIND_SERVICE)", firstErr)
		}
		return firstErr
	}
	logger.Info("kdc stopped")
	return nil
}

// auditWriter writes audit events as JSON lines to a stream.
type auditWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (a *auditWriter) Emit(ev audit.Event) {
	a.mu.Lock()
	a.enc.Encode(ev)
	a.mu.Unlock()
}

// removeOwnState removes the state file at path if it still describes the
// process pid: another hop kdc on the same folder may have replaced it.
func removeOwnState(path string, pid int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var st kdcStateJSON
	if json.Unmarshal(b, &st) == nil && st.PID == pid {
		os.Remove(path)
	}
}
