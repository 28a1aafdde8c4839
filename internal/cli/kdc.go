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
		usage:   "kdc [--dir DIR] [--listen ADDR:PORT]... [--audit-log FILE] [--max-udp-reply N] [--log-level debug|info|warn|error]",
		help: `Serves AS and TGS requests for the domain on every --listen address, UDP
and TCP on the same port (default 127.0.0.1:88). Account and policy changes
made with hop account/spn/group/domain take effect at the next request; no
restart. Every ticket and refusal is written to the audit log (default
DIR/audit.log, JSON lines; SIGHUP reopens it after rotation). Stop it with
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

	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	var sink audit.Sink
	switch *auditPath {
	case "-":
		sink = &auditWriter{enc: json.NewEncoder(e.stderr)}
	default:
		p := *auditPath
		if p == "" {
			p = filepath.Join(*dir, auditFile)
		}
		f, err := audit.OpenFile(p)
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
	statePath := filepath.Join(*dir, kdcState)
	if failed == nil {
		if b, err := json.Marshal(st); err == nil {
			if err := os.WriteFile(statePath, b, 0o600); err != nil {
				logger.Warn("cannot record the listening addresses", "file", statePath, "err", err)
			}
			defer os.Remove(statePath)
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
