// Package dc runs a domain controller's servers for one domain folder (see
// package domain): the KDC over UDP and TCP (package kdc), kpasswd (RFC
// 3244, package kpasswd), and the admin API over HTTPS with SPNEGO
// (package admin/adminserver); with one audit sink for all of them that reopens its log
// after rotation ([Server.ReopenAuditLog], which hop kdc calls on SIGHUP),
// readiness (the ready callback of [Server.Run]), and the state file
// (kdc.json, a [State]) that records the addresses served while they are.
//
// The library logs only to the Config's Logger and never exits; hop kdc
// is a thin command over it.
package dc

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"
)

// Config configures a [Server]. The zero value, with Folder set, serves
// the KDC on 127.0.0.1:88 and kpasswd on 127.0.0.1:464, audited to the
// folder's audit log, with no admin API.
type Config struct {
	// Folder is the domain folder (required).
	Folder string

	// Listen are the KDC's addresses, ADDR:PORT, each served over UDP
	// and TCP on the same port. None: 127.0.0.1:88.
	Listen []string
	// KpasswdListen is kpasswd's address, ADDR:PORT, or "off". Empty:
	// port 464 of the first Listen address's host when that address
	// uses port 88, else none.
	KpasswdListen string
	// AdminListen is the admin API's address, ADDR:PORT. Empty: no admin
	// API.
	AdminListen string
	// AdminNames are the host names clients use for the admin API (its
	// SPNs HTTP/NAME, in any case, with or without a final dot; the first
	// one is in its URL). None: this host's name. Only with AdminListen.
	AdminNames []string
	// InsecureAdminHTTP serves the admin API over plain HTTP instead of
	// TLS with the folder's self-signed certificate.
	InsecureAdminHTTP bool
	// AdminRequireChannelBinding refuses Kerberos tokens that are not
	// bound to the admin API's TLS channel (RFC 5929): a token sent to
	// another server (a plain-HTTP one of the same name) cannot be used.
	// hop's client binds its tokens; curl 7.88 does not.
	AdminRequireChannelBinding bool

	// AuditLog is the audit log file. Empty: the folder's audit.log.
	AuditLog string
	// AuditMaxSize and AuditMaxFiles bound the KDC's audit log (bytes at
	// which it is rotated, rotated files kept; 0: audit.DefaultMaxSize and
	// audit.DefaultMaxFiles, which the local hop commands use too; a
	// negative size leaves rotation to logrotate).
	AuditMaxSize  int64
	AuditMaxFiles int
	// RefuseUnaudited: while the audit log cannot be written, the KDC
	// refuses every request (KDC_ERR_SVC_UNAVAILABLE) and the admin API
	// answers 503 (hop kdc --audit-failure refuse). Default: they go on,
	// and the events lost are recorded by an audit.gap event once the
	// log can be written again.
	RefuseUnaudited bool
	// AuditStream, when set, receives the audit events as JSON lines
	// instead of the log file (unchained; the admin API then serves no
	// audit log).
	AuditStream io.Writer

	// MaxUDPReply is the largest reply the KDC sends over UDP (0: the
	// kdc package's default).
	MaxUDPReply int

	// Logger receives the operational log (nil: discarded).
	Logger *slog.Logger
	// Now is the clock of the admin API's certificate (nil: time.Now).
	Now func() time.Time
}

// A ConfigError names the field of a Config that is wrong.
type ConfigError struct {
	Field string // e.g. "Listen"
	Value string // the value given
	Want  string // what the field takes
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("dc: %s: %s", e.Field, e.Want)
	}
	return fmt.Sprintf("dc: %s %q: %s", e.Field, e.Value, e.Want)
}

// Validate checks c.
func (c *Config) Validate() error {
	if c.Folder == "" {
		return &ConfigError{Field: "Folder", Want: "the domain folder is required"}
	}
	for _, a := range c.Listen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return &ConfigError{Field: "Listen", Value: a, Want: "want ADDR:PORT, e.g. 127.0.0.1:88"}
		}
	}
	if kp := c.KpasswdListen; kp != "" && kp != "off" {
		if _, _, err := net.SplitHostPort(kp); err != nil {
			return &ConfigError{Field: "KpasswdListen", Value: kp, Want: "want ADDR:PORT or off"}
		}
	}
	if c.AdminListen == "" {
		if len(c.AdminNames) > 0 {
			return &ConfigError{Field: "AdminNames", Want: "needs AdminListen"}
		}
	} else if _, _, err := net.SplitHostPort(c.AdminListen); err != nil {
		return &ConfigError{Field: "AdminListen", Value: c.AdminListen, Want: "want ADDR:PORT"}
	}
	if c.MaxUDPReply < 0 {
		return &ConfigError{Field: "MaxUDPReply", Value: fmt.Sprint(c.MaxUDPReply), Want: "cannot be negative"}
	}
	return nil
}

func (c *Config) listen() []string {
	if len(c.Listen) == 0 {
		return []string{"127.0.0.1:88"}
	}
	return c.Listen
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// ErrNoHostName is returned by Run when the admin API has no AdminNames and
// this host has no name to use instead.
var ErrNoHostName = errors.New("dc: this host has no name: give the admin server's host names (AdminNames)")

// ListenError is Run's failure to listen on an address of the Config
// field Field (Listen, KpasswdListen or AdminListen).
type ListenError struct {
	Field string
	Addr  string
	Err   error
}

// Explain says in words why the address could not be used and what to do,
// naming the setting by name (a flag, or the Config field).
func (e *ListenError) Explain(name string) string {
	switch {
	case errors.Is(e.Err, syscall.EADDRINUSE):
		return fmt.Sprintf("something already listens there (another hop kdc, or another KDC?); stop it, or give %s another ADDR:PORT", name)
	case errors.Is(e.Err, os.ErrPermission):
		return fmt.Sprintf("ports below 1024 need root or CAP_NET_BIND_SERVICE; run as root, or give %s a port from 1024 up", name)
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("it is not an address of this machine; give %s one of its addresses (e.g. 127.0.0.1:PORT)", name)
	}
	return fmt.Sprintf("%v; give %s another ADDR:PORT", e.Err, name)
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("dc: cannot listen on %s: %s", e.Addr, e.Explain(e.Field))
}

func (e *ListenError) Unwrap() error { return e.Err }
