package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"hop/remoting"
)

// EndpointError is the error of a session whose endpoint the agent refused:
// it does not exist, or the user may not use it.
type EndpointError struct {
	Host, Endpoint string
	// Explained says that the agent wrote its own explanation (the
	// endpoints the user may use) to the session's standard error.
	Explained bool
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("%s: the endpoint %q does not exist there or you may not use it: hop endpoints %s lists yours", e.Host, e.Endpoint, e.Host)
}

// Is makes errors.Is(err, ErrEndpoint) true.
func (e *EndpointError) Is(target error) bool { return target == ErrEndpoint }

// SignalError is the error of a command that a signal ended (RFC 4254
// §6.10 exit-signal).
type SignalError struct {
	Host   string
	Signal string // without "SIG": "TERM", "KILL"
	Core   bool
	Msg    string // the agent's message, if any
}

func (e *SignalError) Error() string {
	s := fmt.Sprintf("%s: the command was killed by signal SIG%s", e.Host, e.Signal)
	if e.Msg != "" {
		s += " (" + e.Msg + ")"
	}
	return s
}

// signalNumbers are the signal numbers of RFC 4254 §6.10's names as Linux
// numbers them, for the 128+N exit status shells report.
var signalNumbers = map[string]int{
	"ABRT": 6, "ALRM": 14, "FPE": 8, "HUP": 1, "ILL": 4, "INT": 2, "KILL": 9,
	"PIPE": 13, "QUIT": 3, "SEGV": 11, "TERM": 15, "USR1": 10, "USR2": 12,
}

// session opens a session channel and selects the endpoint. refused
// reports an endpoint the agent refused; the exec or shell request then
// fails with the agent's explanation.
func (c *Conn) session(endpoint string) (*ssh.Session, bool, error) {
	s, err := c.client.NewSession()
	if err != nil {
		return nil, false, &Error{Host: c.host, Msg: "the agent refused a new session: " + err.Error(), Err: err}
	}
	ok := true
	if endpoint != "" && endpoint != remoting.DefaultEndpoint {
		if ok, err = s.SendRequest(remoting.EndpointRequest, true, remoting.EncodeEndpointRequest(endpoint)); err != nil {
			s.Close()
			return nil, false, &Error{Host: c.host, Msg: "the connection ended: " + err.Error(), Err: err}
		}
	}
	if c.delegate != "" && ok {
		// The agent refuses a mode the endpoint does not allow when the
		// session starts, with its reason on standard error.
		if _, err := s.SendRequest(remoting.DelegateRequest, true, remoting.EncodeDelegateRequest(c.delegate)); err != nil {
			s.Close()
			return nil, false, &Error{Host: c.host, Msg: "the connection ended: " + err.Error(), Err: err}
		}
	}
	for _, cr := range c.credentials {
		if !ok {
			break
		}
		passed, err := s.SendRequest(remoting.CredentialRequest, true, remoting.EncodeCredentialRequest(cr.Name, cr.Secret))
		if err != nil {
			s.Close()
			return nil, false, &Error{Host: c.host, Msg: "the connection ended: " + err.Error(), Err: err}
		}
		if !passed {
			s.Close()
			return nil, false, &Error{Host: c.host, Msg: fmt.Sprintf("the agent refused the credential passed for %s (at most %d per session, names of letters, digits and . _ - $ @ /)", cr.Name, remoting.MaxCredentials)}
		}
	}
	return s, !ok, nil
}

// countWriter counts what goes through to w.
type countWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.w.Write(p)
}

// Run runs cmd on the host in endpoint ("" or "default": the default
// endpoint) with stdin, stdout and stderr streamed, and returns its exit
// status. A command killed by signal N gives 128+N and a *SignalError; a
// refused endpoint gives 255 and an *EndpointError. Cancelling ctx closes
// the session, which makes the agent end the command.
func (c *Conn) Run(ctx context.Context, cmd, endpoint string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	s, refused, err := c.session(endpoint)
	if err != nil {
		return 255, err
	}
	defer s.Close()
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	errs := &countWriter{w: stderr}
	s.Stdin, s.Stdout, s.Stderr = stdin, stdout, errs
	if err := s.Start(cmd); err != nil {
		return 255, &Error{Host: c.host, Msg: "the agent refused to run the command: " + err.Error(), Err: err}
	}
	return c.wait(ctx, s, endpoint, refused, errs)
}

// wait waits for the session's end and maps it to an exit status.
func (c *Conn) wait(ctx context.Context, s *ssh.Session, endpoint string, refused bool, errs *countWriter) (int, error) {
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		s.Close()
		<-done
		return 255, &Error{Host: c.host, Msg: "interrupted: the session was closed, which ends the remote command", Err: ctx.Err()}
	}
	status, err := c.exitStatus(err)
	if refused {
		if status == 0 {
			status = 255
		}
		return status, &EndpointError{Host: c.host, Endpoint: endpoint, Explained: errs != nil && errs.n.Load() > 0}
	}
	return status, err
}

func (c *Conn) exitStatus(err error) (int, error) {
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		if exit.Signal() == "" {
			return exit.ExitStatus(), nil
		}
		name := printable(exit.Signal(), 16)
		status := 128
		if n, ok := signalNumbers[name]; ok {
			status += n
		}
		return status, &SignalError{Host: c.host, Signal: name, Msg: printable(exit.Msg(), maxReason)}
	case errors.As(err, &missing):
		return 255, &Error{Host: c.host, Msg: "the session ended without the command's exit status (the agent stopped or the connection broke)", Err: err}
	}
	return 255, &Error{Host: c.host, Msg: "the session failed: " + err.Error(), Err: err}
}

// Shell opens an interactive shell in endpoint on a pseudo-terminal (RFC
// 4254 §6.2) named by $TERM and of term's size, with term in raw mode so
// that Ctrl-C and Ctrl-D reach the remote side, and window-change requests
// (§6.7) on SIGWINCH. term is restored on every path. It returns the
// shell's exit status as Run does.
func (c *Conn) Shell(ctx context.Context, endpoint string, tty *os.File) (int, error) {
	fd := int(tty.Fd())
	if !term.IsTerminal(fd) {
		return 255, &Error{Host: c.host, Msg: "hop shell needs a terminal: run a command with hop exec instead"}
	}
	w, h, err := term.GetSize(fd)
	if err != nil {
		w, h = 80, 24
	}
	s, refused, err := c.session(endpoint)
	if err != nil {
		return 255, err
	}
	defer s.Close()
	name := os.Getenv("TERM")
	if name == "" {
		name = "dumb"
	}
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
	if err := s.RequestPty(name, h, w, modes); err != nil {
		return 255, &Error{Host: c.host, Msg: "the agent refused a terminal: " + err.Error(), Err: err}
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)

	old, err := term.MakeRaw(fd)
	if err != nil {
		return 255, &Error{Host: c.host, Msg: "cannot put the terminal in raw mode: " + err.Error(), Err: err}
	}
	defer term.Restore(fd, old)

	errs := &countWriter{w: tty}
	s.Stdin, s.Stdout, s.Stderr = tty, tty, errs
	if err := s.Shell(); err != nil {
		return 255, &Error{Host: c.host, Msg: "the agent refused a shell: " + err.Error(), Err: err}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-winch:
				if nw, nh, err := term.GetSize(fd); err == nil && (nw != w || nh != h) {
					w, h = nw, nh
					s.WindowChange(h, w)
				}
			}
		}
	}()
	return c.wait(ctx, s, endpoint, refused, errs)
}

// Endpoints asks the agent which endpoints the host has and which of them
// the user may use (global request endpoints@hop).
func (c *Conn) Endpoints(ctx context.Context) ([]remoting.EndpointInfo, error) {
	type reply struct {
		ok      bool
		payload []byte
		err     error
	}
	ch := make(chan reply, 1)
	go func() {
		ok, p, err := c.client.SendRequest(remoting.EndpointsRequest, true, nil)
		ch <- reply{ok, p, err}
	}()
	var r reply
	select {
	case r = <-ch:
	case <-ctx.Done():
		return nil, &Error{Host: c.host, Msg: "interrupted", Err: ctx.Err()}
	}
	if r.err != nil {
		return nil, &Error{Host: c.host, Msg: "the connection ended: " + r.err.Error(), Err: r.err}
	}
	if !r.ok {
		return nil, &Error{Host: c.host, Msg: "the agent does not list endpoints (endpoints@hop): is it a hop agent?"}
	}
	eps, err := remoting.DecodeEndpoints(r.payload)
	if err != nil {
		return nil, &Error{Host: c.host, Msg: err.Error(), Err: err}
	}
	return eps, nil
}

// printable returns s, which the agent sent, safe to print and at most
// max bytes long.
func printable(s string, max int) string { return remoting.Printable(s, max) }
