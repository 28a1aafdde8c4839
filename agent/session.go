package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"hop/audit"
	"hop/broker"
	"hop/krb5/client"
	"hop/remoting"
)

// Exit statuses the agent reports for sessions it did not run.
const (
	// ExitRefused: the session could not start (unknown or refused
	// endpoint, missing account…); the reason is on stderr.
	ExitRefused = 255
	// ExitNotAllowed: a JEA endpoint refused the command.
	ExitNotAllowed = 126
)

// outputDrain bounds how long output is still forwarded after the
// session's process exited (a background child may hold the pipe).
const outputDrain = time.Second

// session is one "session" channel (RFC 4254 §6).
type session struct {
	c  *conn
	a  *Agent
	ch ssh.Channel
	id string

	mu           sync.Mutex
	endpoint     *Endpoint
	endpointErr  string
	endpointReqs int           // endpoint@hop requests received
	delegate     remoting.Mode // the client's delegate@hop choice ("" if none)
	delegateErr  string
	mode         remoting.Mode  // the session's delegation mode, once it runs
	passed       []passedSecret // credential@hop requests, until the session starts
	passedErr    string
	env          map[string]string
	pty          *ptyRequest
	started      bool
	proc         *process
	ended        bool
	gone         bool // the channel is closed: nothing may start
	// afterStart are events that belong after the session's start (a JEA
	// command): written right after session.start, or before
	// session.refused when the session does not start.
	afterStart []audit.Event

	last atomic.Int64 // time of the last channel data, Unix nanoseconds
	done chan struct{}
	wg   sync.WaitGroup
}

func newSession(c *conn, ch ssh.Channel) *session {
	s := &session{c: c, a: c.agent, ch: ch, id: c.agent.newSessionID(), env: map[string]string{}, done: make(chan struct{})}
	s.touch()
	return s
}

func (s *session) touch() { s.last.Store(s.a.now().UnixNano()) }

// serve handles the channel's requests until the channel closes, then
// tears the process group down.
func (s *session) serve(reqs <-chan *ssh.Request) {
	s.wg.Add(1)
	go s.idleWatch()
	for req := range reqs {
		s.handle(req)
	}
	// The client closed the channel or the connection is gone.
	s.mu.Lock()
	p := s.proc
	s.gone = true
	s.mu.Unlock()
	if p != nil {
		p.teardown()
	}
	close(s.done)
	s.wg.Wait()
	s.dropPassed()
	s.ch.Close()
}

// dropPassed zeroes the secrets passed into the session that no session
// start took (a refused session, a client that left before starting).
func (s *session) dropPassed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.passed {
		clear(p.secret)
	}
	s.passed = nil
}

func (s *session) reply(req *ssh.Request, ok bool) {
	if req.WantReply {
		req.Reply(ok, nil)
	}
}

func (s *session) handle(req *ssh.Request) {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	switch req.Type {
	case "pty-req":
		p, err := parsePtyRequest(req.Payload)
		if err != nil || started {
			s.reply(req, false)
			return
		}
		s.mu.Lock()
		s.pty = p
		s.mu.Unlock()
		s.reply(req, true)
	case "env":
		e, err := parseEnvRequest(req.Payload)
		s.mu.Lock()
		ok := err == nil && !started && acceptedEnv(e.Name) && (len(s.env) < maxEnvVars || s.env[e.Name] != "")
		if ok {
			s.env[e.Name] = e.Value
		}
		s.mu.Unlock()
		s.reply(req, ok)
	case remoting.EndpointRequest:
		name, err := remoting.DecodeEndpointRequest(req.Payload)
		s.mu.Lock()
		s.endpointReqs++
		over := s.endpointReqs > remoting.MaxEndpointRequests
		switch {
		case started:
		case over:
			s.endpoint, s.endpointErr = nil, fmt.Sprintf("more than %d endpoint@hop requests in one session", remoting.MaxEndpointRequests)
		case err != nil:
			// A session whose choice of endpoint was refused must not
			// run in another one (the default, or an earlier choice).
			s.endpoint, s.endpointErr = nil, "the endpoint@hop request does not decode: "+err.Error()
		}
		s.mu.Unlock()
		if err != nil || started || over {
			// Past the bound, nothing is audited: a client cannot fill
			// the audit log with refusals.
			s.reply(req, false)
			return
		}
		e, why := s.a.chooseEndpoint(s.c.id, name)
		s.mu.Lock()
		s.endpoint, s.endpointErr = e, why
		s.mu.Unlock()
		if e == nil {
			s.a.emit(audit.Event{Type: "session.refused", Client: s.c.id.Principal.String(), Service: s.a.spn.String(), Addr: s.c.addr, Target: name, Reason: why})
		}
		s.reply(req, e != nil)
	case remoting.DelegateRequest:
		m, err := remoting.DecodeDelegateRequest(req.Payload)
		s.mu.Lock()
		if !started {
			s.delegate, s.delegateErr = m, ""
			if err != nil {
				// As for endpoint@hop: a refused choice must not run the
				// session in another mode.
				s.delegate, s.delegateErr = "", err.Error()
			}
		}
		s.mu.Unlock()
		s.reply(req, err == nil && !started)
	case remoting.CredentialRequest:
		name, secret, err := remoting.DecodeCredentialRequest(req.Payload)
		// The secret was copied out; the request's own copy goes now.
		clear(req.Payload)
		s.mu.Lock()
		ok := err == nil && !started && len(s.passed) < remoting.MaxCredentials
		switch {
		case started:
		case err != nil:
			s.passedErr = "the credential@hop request does not decode: " + err.Error()
		case !ok:
			s.passedErr = fmt.Sprintf("more than %d credentials passed into one session", remoting.MaxCredentials)
		default:
			s.passed = append(s.passed, passedSecret{name: name, secret: secret})
		}
		s.mu.Unlock()
		if !ok {
			clear(secret)
		}
		s.reply(req, ok)
	case "exec", "shell":
		var command string
		if req.Type == "exec" {
			var err error
			if command, err = parseString(req.Payload, maxCommandLen, "exec"); err != nil {
				s.reply(req, false)
				return
			}
		} else if len(req.Payload) != 0 {
			s.reply(req, false)
			return
		}
		s.mu.Lock()
		if s.started {
			s.mu.Unlock()
			s.reply(req, false)
			return
		}
		s.started = true
		s.mu.Unlock()
		s.reply(req, true)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(req.Type, command)
		}()
	case "window-change":
		w, err := parseWindowChange(req.Payload)
		s.mu.Lock()
		p := s.proc
		s.mu.Unlock()
		if err == nil && p != nil && p.ptmx != nil {
			err = pty.Setsize(p.ptmx, &pty.Winsize{Rows: uint16(w.Rows), Cols: uint16(w.Cols), X: uint16(w.XPix), Y: uint16(w.YPix)})
		}
		s.reply(req, err == nil)
	case "signal":
		name, err := parseString(req.Payload, 32, "signal")
		sig, known := signals[name]
		s.mu.Lock()
		p := s.proc
		s.mu.Unlock()
		s.reply(req, err == nil && known && p != nil && p.forward(sig))
	default:
		s.reply(req, false)
	}
}

// idleWatch closes the session after IdleTimeout without channel data.
func (s *session) idleWatch() {
	defer s.wg.Done()
	idle := time.Duration(s.a.cfg.IdleTimeout)
	tick := min(max(idle/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		starting := s.started && s.proc == nil && !s.ended
		s.mu.Unlock()
		if starting || s.a.now().Sub(time.Unix(0, s.last.Load())) < idle {
			continue
		}
		fmt.Fprintf(s.ch.Stderr(), "hop agent: the session was idle for %v; closing it\r\n", idle)
		s.a.logger.Info("session idle; closing it", "session", s.id, "client", s.c.id.Principal.String())
		s.mu.Lock()
		p := s.proc
		s.mu.Unlock()
		if p != nil {
			go p.teardown()
		} else {
			s.ch.Close()
		}
		return
	}
}

// run starts the session's program for an "exec" or "shell" request and
// reports how it ended.
func (s *session) run(kind, command string) {
	s.mu.Lock()
	e, why := s.endpoint, s.endpointErr
	s.mu.Unlock()
	if why != "" {
		s.fail(ExitRefused, why)
		return
	}
	if e == nil {
		e = s.a.cfg.Endpoints[DefaultEndpoint]
		if !s.a.mayUse(s.c.id, e) {
			_, why := s.a.chooseEndpoint(s.c.id, DefaultEndpoint)
			s.a.emit(audit.Event{Type: "session.refused", Client: s.c.id.Principal.String(), Service: s.a.spn.String(), Addr: s.c.addr, Target: DefaultEndpoint, Reason: why})
			s.fail(ExitRefused, why+"; choose one with hop exec --config NAME")
			return
		}
	}
	mode, why := s.delegationMode(e)
	if why != "" {
		s.refused(e, why)
		return
	}
	s.mu.Lock()
	s.mode = mode
	s.mu.Unlock()
	if e.Type == TypeJEA {
		s.runJEA(e, kind, command, mode)
		return
	}
	s.runInteractive(e, kind, command, mode)
}

// fail ends a session that runs nothing: a one-line message on stderr,
// then the exit status.
func (s *session) fail(status int, msg string) {
	fmt.Fprintf(s.ch.Stderr(), "hop: %s\r\n", msg)
	s.finish(exitStatusPayload(uint32(status)))
}

// finish sends EOF, the exit request and closes the channel.
func (s *session) finish(exit []byte) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.mu.Unlock()
	s.dropPassed()
	s.ch.CloseWrite()
	name := "exit-status"
	if len(exit) != 4 {
		name = "exit-signal"
	}
	s.ch.SendRequest(name, false, exit)
	s.ch.Close()
}

// account returns the local account a default or runas session runs as,
// or why it cannot.
func (s *session) account(e *Endpoint, mode remoting.Mode) (*localUser, string) {
	a := s.a
	name := s.c.id.Local
	if e.Type == TypeRunAs || e.Type == TypeJEA {
		name = e.RunAs
	}
	if mode == remoting.ModeRestrictedAdmin {
		name = a.cfg.RestrictedAdminAccount
		if !a.isRoot && name != a.self.Name {
			return nil, fmt.Sprintf("restricted-admin sessions run as %s, but the hop agent on %s runs as %s, not root: it can only run them as %s (set restricted_admin_account = %q, or run the agent as root)",
				name, a.cfg.Host, a.self.Name, a.self.Name, a.self.Name)
		}
	}
	if !a.isRoot {
		if name != a.self.Name && (e.Type == TypeRunAs || e.Type == TypeJEA) {
			return nil, fmt.Sprintf("the endpoint %s runs sessions as %s, but the hop agent on %s runs as %s, not root: it can only run sessions as %s (set run_as = %q, or run the agent as root)",
				e.Name, name, a.cfg.Host, a.self.Name, a.self.Name, a.self.Name)
		}
		return a.self, ""
	}
	u, err := lookupLocalUser(name)
	if errors.Is(err, errShell) {
		return nil, fmt.Sprintf("the login shell of the local account %s (endpoint %s) cannot be read on %s", name, e.Name, a.cfg.Host)
	}
	if err != nil {
		return nil, fmt.Sprintf("the local account %s (endpoint %s) does not exist on %s", name, e.Name, a.cfg.Host)
	}
	return u, ""
}

// baseEnv is the fixed environment of default and runas sessions; brk is
// the session's credential broker.
func (s *session) baseEnv(e *Endpoint, u *localUser, withPty bool, brk *broker.Broker) []string {
	env := map[string]string{
		"HOME": u.Home, "USER": u.Name, "LOGNAME": u.Name, "SHELL": u.Shell,
		"PATH": s.a.cfg.Path,
	}
	s.mu.Lock()
	for k, v := range s.env {
		if k != "TERM" {
			env[k] = v
		}
	}
	if withPty {
		term := s.pty.Term
		if term == "" {
			term = s.env["TERM"]
		}
		if term == "" {
			term = "dumb"
		}
		env["TERM"] = term
	}
	s.mu.Unlock()
	// The broker's environment wins over the client's: a session must
	// not be pointed at another credential cache or keytab by the client.
	delete(env, "KRB5_CLIENT_KTNAME")
	delete(env, "KRB5_KTNAME")
	for _, kv := range brk.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["HOP_SESSION_ID"] = s.id
	env["HOP_CLIENT"] = s.c.id.Principal.String()
	env["HOP_ENDPOINT"] = e.Name
	return sortedEnv(env)
}

func sortedEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// runInteractive runs a default or runas session: the account's login
// shell, interactive or with -c COMMAND.
func (s *session) runInteractive(e *Endpoint, kind, command string, mode remoting.Mode) {
	a := s.a
	u, why := s.account(e, mode)
	if why != "" {
		s.refused(e, why)
		return
	}
	if noLogin(u.Shell) {
		s.refused(e, fmt.Sprintf("the local account %s has the shell %s, which refuses logons", u.Name, u.Shell))
		return
	}
	brk, ok := s.startBroker(e, u, mode)
	if !ok {
		return
	}
	// Every end of the session (exit, signal, disconnect, a start that
	// fails) returns through here.
	defer brk.Close()
	s.mu.Lock()
	withPty := s.pty != nil
	ptyReq := s.pty
	s.mu.Unlock()
	spec := procSpec{Env: s.baseEnv(e, u, withPty, brk), Dir: homeOrRoot(u.Home), Pty: ptyReq, KCMSocket: brk.Socket()}
	if a.isRoot {
		spec.User = u
	}
	reason := command
	if kind == "shell" {
		spec.Path, spec.Argv = u.Shell, []string{"-" + filepath.Base(u.Shell)}
		reason = "shell"
		if withPty {
			reason = "pty"
		}
	} else {
		// As sshd does: the login shell runs the command, so that an
		// account with a restricted shell (git-shell, rbash, a menu)
		// stays restricted.
		spec.Path, spec.Argv = u.Shell, []string{filepath.Base(u.Shell), "-c", command}
	}
	s.execute(e, u, spec, reason, nil)
}

// startBroker starts the credential broker of a session run as u in mode
// m; when it cannot, it refuses the session and reports false.
func (s *session) startBroker(e *Endpoint, u *localUser, m remoting.Mode) (*broker.Broker, bool) {
	a := s.a
	passed, why := s.takePassed(a.bg)
	if why != "" {
		s.refused(e, why)
		return nil, false
	}
	c, err := s.brokerConfig(e, u, m)
	if m == remoting.ModeCredSSP && err == nil {
		// The user's own credential is the session's: its TGT, used for
		// any target, as forward's is.
		for i, p := range passed {
			if p.TGT.Client.Name.Equal(s.c.id.Principal.Name) && p.TGT.Client.Realm.Equal(s.c.id.Principal.Realm) {
				c.Initial = []*client.Credential{p.TGT}
				c.Issuer = &broker.Forwarded{TGT: p.TGT, KDC: a.kdc, Fresh: true}
				passed = slices.Delete(passed, i, i+1)
				break
			}
		}
	}
	c.Credentials = passed
	var brk *broker.Broker
	if err == nil {
		brk, err = broker.Start(a.bg, c)
	}
	if err != nil {
		if c.Issuer != nil {
			c.Issuer.Close()
		}
		for _, p := range passed {
			p.TGT.SessionKey.Zero()
		}
		a.logger.Error("cannot start the session's credential broker", "session", s.id, "err", err)
		s.refused(e, fmt.Sprintf("the hop agent on %s cannot start this session's credential broker (%v); ask the host's administrator to check runtime_dir and the endpoint's keytab", a.cfg.Host, err))
		return nil, false
	}
	return brk, true
}

// refused ends a session that may not start, with an audit event.
func (s *session) refused(e *Endpoint, why string) {
	s.emitAfterStart()
	s.a.emit(audit.Event{Type: "session.refused", Client: s.c.id.Principal.String(), Service: s.a.spn.String(), Addr: s.c.addr, Target: e.Name, Reason: why})
	s.fail(ExitRefused, why)
}

func homeOrRoot(home string) string {
	if fi, err := os.Stat(home); err == nil && fi.IsDir() {
		return home
	}
	return "/"
}

// execute starts spec, forwards its I/O, and reports its end. tap, when
// set, sees the output (JEA transcripts) and the exit.
func (s *session) execute(e *Endpoint, u *localUser, spec procSpec, reason string, tap *outputTap) (status int) {
	a := s.a
	start := audit.Event{Type: "session.start", Client: s.c.id.Principal.String(), Service: a.spn.String(), Addr: s.c.addr,
		Actor: u.Name, Target: e.Name, Reason: reason, Flags: "session=" + s.id}
	s.mu.Lock()
	if s.mode != "" {
		start.Flags += ",mode=" + string(s.mode)
	}
	s.mu.Unlock()
	if s.c.id.ServiceAsserted {
		// The user did not authenticate: a service did, in the user's
		// name (protocol transition).
		start.Flags += ",service-asserted-identity"
	}
	if u := s.c.id.SSHUser; u != s.c.id.Local {
		// The name asked for (the full principal name, or the user's own
		// name while user_map or a non-root agent chose another account)
		// is not the account: say so.
		start.Flags += ",ssh-user=" + flagValue(u)
	}
	if a.cgroups != nil {
		cg, err := a.cgroups.session(s.id)
		if err != nil {
			// The session still ends with its process group.
			a.logger.Warn("the session runs without a cgroup of its own", "session", s.id, "err", err)
		}
		spec.Cgroup = cg
	}
	p, err := startProcess(spec)
	if err != nil {
		s.refused(e, err.Error())
		return ExitRefused
	}
	s.mu.Lock()
	s.proc = p
	gone := s.gone
	s.mu.Unlock()
	if gone {
		go p.teardown()
	}
	s.touch()
	a.emit(start)
	s.emitAfterStart()
	a.logger.Info("session started", "session", s.id, "client", start.Client, "local", u.Name, "endpoint", e.Name, "what", reason)

	var out sync.WaitGroup
	if p.ptmx != nil {
		go func() { io.Copy(p.ptmx, &activityReader{s, s.ch}) }()
		out.Add(1)
		go func() { defer out.Done(); io.Copy(s.ch, &activityReader{s, tap.wrap("stdout", p.ptmx)}) }()
	} else {
		go func() {
			io.Copy(p.stdin, &activityReader{s, s.ch})
			p.stdin.Close()
		}()
		out.Add(2)
		go func() { defer out.Done(); io.Copy(s.ch, &activityReader{s, tap.wrap("stdout", p.stdout)}) }()
		go func() { defer out.Done(); io.Copy(s.ch.Stderr(), &activityReader{s, tap.wrap("stderr", p.stderr)}) }()
	}
	<-p.exited
	drained := make(chan struct{})
	go func() { out.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(outputDrain):
	}
	// What the leader left behind goes with the session.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		p.teardown()
		p.closeIO()
		if p.cgErr != nil {
			a.logger.Warn("the session's cgroup", "session", s.id, "err", p.cgErr)
		}
	}()

	code, sig, core := p.exitInfo()
	end := start
	end.Type, end.Time = "session.end", time.Time{}
	var exit []byte
	if sig != 0 {
		end.Reason = reason + "; signal " + signalName(sig)
		exit = exitSignalPayload(signalName(sig), core, "")
		status = 128 + int(sig)
	} else {
		end.Reason = fmt.Sprintf("%s; exit %d", reason, code)
		exit = exitStatusPayload(uint32(code))
		status = code
	}
	if tap != nil && tap.exit != nil {
		tap.exit(status)
	}
	a.emit(end)
	a.logger.Info("session ended", "session", s.id, "client", start.Client, "status", strings.TrimPrefix(end.Reason, reason+"; "))
	s.finish(exit)
	return status
}

// flagValue is v as a value in an audit event's flags (key=value,...):
// quoted when it holds a separator.
func flagValue(v string) string {
	if v == "" || strings.ContainsAny(v, ",=\" \t\n") {
		return strconv.Quote(v)
	}
	return v
}

// emitAfterStart writes the events held for after the session's start.
func (s *session) emitAfterStart() {
	s.mu.Lock()
	evs := s.afterStart
	s.afterStart = nil
	s.mu.Unlock()
	for _, ev := range evs {
		s.a.emit(ev)
	}
}

// activityReader records channel data for the idle timeout.
type activityReader struct {
	s *session
	r io.Reader
}

func (r *activityReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.s.touch()
	}
	return n, err
}

// outputTap copies a process's output to a recorder (JEA transcripts).
type outputTap struct {
	output func(stream string, p []byte)
	exit   func(status int)
}

func (t *outputTap) wrap(stream string, r io.Reader) io.Reader {
	if t == nil || t.output == nil {
		return r
	}
	return &tapReader{r: r, stream: stream, f: t.output}
}

type tapReader struct {
	r      io.Reader
	stream string
	f      func(string, []byte)
}

func (t *tapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.f(t.stream, p[:n])
	}
	return n, err
}
