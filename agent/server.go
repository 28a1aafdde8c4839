package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/audit"
	"hop/broker"
	"hop/krb5"
	"hop/krb5/config"
	"hop/krb5/gssapi"
	"hop/krb5/service"
	"hop/remoting"
	"hop/sid"
)

// Options are the agent's collaborators; zero values are the defaults.
type Options struct {
	// Logger receives operational messages (default: discard).
	Logger *slog.Logger
	// Audit receives the audit events (default: an audit.File at
	// Config.AuditLog, closed by Close).
	Audit audit.Sink
	// Krb5 is krb5.conf (default: Config.Krb5Conf, else KRB5_CONFIG or
	// /etc/krb5.conf), for the default realm, the KDCs and admin_url.
	Krb5 *config.Config
	// Resolver resolves group names (default: the admin API, as the host).
	Resolver GroupResolver
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Agent is the hop agent: an SSH server that authenticates users with
// Kerberos (gssapi-with-mic) and runs their sessions.
type Agent struct {
	cfg        *Config
	replay     *service.ReplayCache // persisted in the state folder
	cgroups    *sessionCgroups      // the sessions' cgroups (root, cgroup v2); nil: process groups only
	logger     *slog.Logger
	audit      audit.Sink
	closeAudit func() error
	now        func() time.Time
	rand       io.Reader
	signer     ssh.Signer
	spn        krb5.Principal
	gss        *gssapi.Acceptor
	groups     *groups
	keytab     *hostKeytab
	// kdc reaches the realm's KDCs; host is the host's own identity.
	kdc  broker.KDC
	host *broker.Keytab

	self   *localUser // the agent's own account
	isRoot bool
	// hostKrb5Conf is the host's krb5.conf path list, read by sessions
	// after their broker's fragment.
	hostKrb5Conf string

	sessions chan struct{} // a token per running session (max_sessions)
	conns    chan struct{} // a token per open connection (max_connections)
	startups *startups     // unauthenticated connections (max_startups)

	mu        sync.Mutex
	listeners map[net.Listener]bool
	open      map[*conn]bool
	byUser    map[string]int // sessions open per principal (max_sessions_per_user)
	closed    bool
	wg        sync.WaitGroup
	stop      context.CancelFunc
	bg        context.Context
}

// New prepares an agent: it loads the host key (generating it if
// missing), the keytab and the group cache, and resolves the group names
// of the configuration (a failure is logged: the cache or SIDs serve).
func New(ctx context.Context, cfg *Config, o Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, logger: o.Logger, audit: o.Audit, now: o.Now, rand: o.Rand,
		listeners: map[net.Listener]bool{}, open: map[*conn]bool{}}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.rand == nil {
		a.rand = rand.Reader
	}
	k5 := o.Krb5
	if k5 == nil && (cfg.Realm == "" || o.Resolver == nil) {
		var err error
		if cfg.Krb5Conf != "" {
			k5, err = config.LoadFiles(cfg.Krb5Conf)
		} else {
			k5, err = config.Load(os.Getenv)
		}
		if err != nil {
			return nil, fmt.Errorf("agent: krb5.conf: %w", err)
		}
	}
	if cfg.Realm == "" {
		r, ok := k5.DefaultRealm()
		if !ok {
			return nil, errors.New("agent: no realm: set realm in the agent configuration or default_realm in krb5.conf")
		}
		cfg.Realm = strings.ToUpper(r)
	}
	a.spn = cfg.SPN()
	a.hostKrb5Conf = hostKrb5Conf(cfg, os.Getenv)
	switch err := makeRuntimeDir(cfg.RuntimeDir); {
	case err == nil:
		removeStaleSessions(cfg.RuntimeDir, a.logger)
	case os.Geteuid() == 0:
		return nil, err
	default:
		// An agent that is not root may not create /run/hop-agent: it
		// runs, and refuses default sessions with this reason.
		a.logger.Warn("default sessions will be refused: no folder for their credential brokers", "err", err)
	}
	if err := cfg.checkFiles(func(err error) {
		a.logger.Warn("an endpoint's keytab cannot be used: its sessions are refused until it can", "err", err)
	}); err != nil {
		return nil, err
	}
	kt := &hostKeytab{path: cfg.Keytab}
	if _, err := kt.clientKey(a.spn); err != nil {
		return nil, err
	}
	a.keytab = kt
	var kdcs []string
	if k5 != nil {
		kdcs, _ = k5.KDCs(cfg.Realm)
	}
	a.kdc = broker.KDC{Addrs: kdcs, Now: a.now}
	a.host = hostIdentity(kt, a.spn, kdcs, a.now)
	signer, err := LoadOrCreateHostKey(cfg.HostKey, a.rand)
	if err != nil {
		return nil, err
	}
	a.signer = signer
	// The replay cache outlives the agent: an AP-REQ captured before a
	// restart is still a replay after it.
	a.replay = service.NewReplayCache(time.Duration(cfg.ClockSkew))
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: state_dir %s: %w", cfg.StateDir, err)
	}
	if err := a.replay.Persist(filepath.Join(cfg.StateDir, replayCacheFile), a.now()); err != nil {
		return nil, fmt.Errorf("agent: %w (in state_dir)", err)
	}
	a.gss = &gssapi.Acceptor{Rand: a.rand, Service: &service.Acceptor{
		Keys: kt, AcceptServer: acceptHost(a.spn), MaxSkew: time.Duration(cfg.ClockSkew),
		Replay: a.replay, Now: a.now, Rand: a.rand,
	}}
	if a.self, err = currentUser(); err != nil {
		return nil, err
	}
	a.isRoot = os.Geteuid() == 0
	if a.isRoot {
		if cg, err := newSessionCgroups(); err != nil {
			a.logger.Warn("sessions end by their process group only: a process that leaves it (setsid, a double fork) outlives its session", "why", err.Error())
		} else {
			a.cgroups = cg
		}
	}
	for _, e := range sortedEndpoints(cfg) {
		if e.jea != nil {
			for _, w := range e.jea.warnings {
				a.logger.Warn("JEA endpoint may allow more than intended", "endpoint", e.Name, "warning", w.String())
			}
		}
	}
	if a.isRoot && runtime.GOOS == "linux" && !sessionNamespaces() {
		a.logger.Warn("the agent is root without CAP_SYS_ADMIN: sessions keep its mount namespace, so Heimdal programs in them do not reach their credential broker (MIT programs do)")
	}
	if !a.isRoot {
		for _, e := range sortedEndpoints(cfg) {
			if e.RunAs != "" && e.RunAs != a.self.Name {
				a.logger.Warn("the agent is not root: this endpoint's sessions cannot run as its run_as account and will be refused",
					"endpoint", e.Name, "run_as", e.RunAs, "agent_user", a.self.Name)
			}
		}
	}
	for _, e := range sortedEndpoints(cfg) {
		if why := sessionReadableKeytab(e); why != "" {
			a.logger.Warn("an endpoint's keytab is readable by its sessions: the key would enter them; make it root's, mode 0600", "endpoint", e.Name, "keytab", why)
		}
	}

	resolver := o.Resolver
	if resolver == nil {
		var hs config.HopSettings
		if k5 != nil {
			hs = k5.HopSettings(cfg.Realm)
		}
		url := cfg.AdminURL
		if url == "" {
			url = hs.AdminURL
		}
		if url != "" {
			if resolver, err = newAdminResolver(url, hs.AdminTLSPin, hs.AdminAddress, a.host); err != nil {
				return nil, err
			}
		}
	}
	a.groups = newGroups(resolver, cfg.StateDir, a.logger)
	if err := a.groups.load(); err != nil {
		a.logger.Warn("ignoring the group cache", "err", err)
	}
	a.groups.add(cfg.LogonGroups...)
	a.groups.add(cfg.AdminGroups...)
	for _, e := range cfg.Endpoints {
		a.groups.add(e.Groups...)
		a.groups.add(e.jeaGroups()...)
	}
	switch un, missing, err := a.groups.refresh(ctx); {
	case len(missing) > 0:
		return nil, cfg.unknownGroups(missing)
	case err != nil && len(un) > 0:
		a.logger.Warn(fmt.Sprintf("cannot resolve group names now: members of these groups are refused until they resolve (the agent tries again every %v)", ResolveInterval),
			"unresolved", strings.Join(un, ","), "err", err)
	case err != nil:
		a.logger.Warn("cannot resolve group names now; using the SIDs cached in "+a.groups.cache, "err", err)
	}

	if a.audit == nil {
		f, err := audit.Open(cfg.AuditLog, audit.Options{Logger: a.logger, MaxSize: cfg.AuditMaxSize, MaxFiles: cfg.AuditMaxFiles})
		if err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		a.audit, a.closeAudit = f, f.Close
	}
	a.sessions = make(chan struct{}, cfg.MaxSessions)
	a.conns = make(chan struct{}, cfg.MaxConnections)
	a.startups = newStartups(cfg.MaxStartups, cfg.MaxStartupsPerSource)
	a.bg, a.stop = context.WithCancel(context.Background())
	go a.groups.run(a.bg, ResolveInterval)
	if os.Getpid() == 1 {
		// The init of a container: orphans of sessions are reparented to
		// the agent, which must reap them.
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := reapOrphans(a.bg); err != nil {
				a.logger.Warn("the agent is PID 1 but cannot reap orphaned processes", "err", err)
			}
		}()
	}
	return a, nil
}

// PublicKey is the agent's SSH host key.
func (a *Agent) PublicKey() ssh.PublicKey { return a.signer.PublicKey() }

// Run listens on the configured addresses, calls ready with the bound
// addresses, and serves until ctx ends; then it closes everything (see
// Close).
func (a *Agent) Run(ctx context.Context, ready func([]net.Addr)) error {
	var ls []net.Listener
	for _, addr := range a.cfg.Listen {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return a.cfg.listenError(addr, err)
		}
		ls = append(ls, l)
	}
	var addrs []net.Addr
	errc := make(chan error, len(ls))
	for _, l := range ls {
		addrs = append(addrs, l.Addr())
		a.logger.Info("hop agent listening", "addr", l.Addr().String(), "spn", a.spn.String(),
			"host_key", ssh.FingerprintSHA256(a.signer.PublicKey()))
		go func() { errc <- a.Serve(l) }()
	}
	if ready != nil {
		ready(addrs)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	return errors.Join(err, a.Close())
}

// Serve accepts connections on l until l or the agent is closed.
func (a *Agent) Serve(l net.Listener) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		l.Close()
		return errors.New("agent: closed")
	}
	a.listeners[l] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.listeners, l)
		a.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			a.mu.Lock()
			closed := a.closed || !a.listeners[l]
			a.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("agent: accept: %w", err)
		}
		delay = 0
		// Unauthenticated connections are bounded first, and below
		// max_connections, so that connections that never authenticate
		// cannot take every slot (OpenSSH's MaxStartups).
		src := sourceOf(nc.RemoteAddr())
		slot, closed, why := a.startups.acquire(nc, src, a.now())
		if closed != nil {
			a.closeStartup(closed, why)
		}
		select {
		case a.conns <- struct{}{}:
		default:
			a.startups.release(slot)
			a.logger.Warn("too many connections; refusing one", "addr", nc.RemoteAddr().String(), "max_connections", a.cfg.MaxConnections)
			nc.Close()
			continue
		}
		c := &conn{agent: a, nc: nc, addr: nc.RemoteAddr().String(), sessions: map[*session]bool{}}
		var once sync.Once
		c.authenticated = func() { once.Do(func() { a.startups.release(slot) }) }
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			nc.Close()
			c.authenticated()
			<-a.conns
			return nil
		}
		a.open[c] = true
		a.wg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			defer func() { <-a.conns }()
			defer c.authenticated()
			c.serve()
			a.mu.Lock()
			delete(a.open, c)
			a.mu.Unlock()
		}()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Close stops the listeners, closes every connection, tears every
// session's processes down and waits for them, then closes the audit log
// it opened.
func (a *Agent) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	for l := range a.listeners {
		l.Close()
	}
	a.listeners = map[net.Listener]bool{}
	conns := make([]*conn, 0, len(a.open))
	for c := range a.open {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	a.stop()
	for _, c := range conns {
		c.close()
	}
	a.wg.Wait()
	a.replay.Close()
	a.cgroups.close()
	if a.closeAudit != nil {
		return a.closeAudit()
	}
	return nil
}

// takeUserSession counts a session of user, unless user has
// max_sessions_per_user open already.
func (a *Agent) takeUserSession(user string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byUser == nil {
		a.byUser = map[string]int{}
	}
	if a.byUser[user] >= a.cfg.MaxSessionsPerUser {
		return false
	}
	a.byUser[user]++
	return true
}

// giveUserSession uncounts a session of user.
func (a *Agent) giveUserSession(user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byUser[user]--; a.byUser[user] <= 0 {
		delete(a.byUser, user)
	}
}

// replayCacheFile is the replay cache, in the state folder.
const replayCacheFile = "replay.cache"

// conn is one SSH connection.
type conn struct {
	agent *Agent
	nc    net.Conn
	addr  string
	// authenticated gives back the connection's pre-authentication slot
	// (max_startups); it is called when the handshake ends either way.
	authenticated func()

	mu       sync.Mutex
	gss      *gssapi.Context // the authenticated context
	id       *identity       // set by allowLogin
	sc       *ssh.ServerConn
	sessions map[*session]bool
	closing  bool
	wg       sync.WaitGroup
}

// identity is who a connection authenticated as and what it may do.
type identity struct {
	Principal krb5.Principal
	SIDs      map[sid.SID]bool
	Local     string // the mapped local account name
	Admin     bool   // in an admin group
	// SSHUser is the user name the client asked for (ssh user@host); the
	// principal, not this name, decides the account.
	SSHUser string
	// ServiceAsserted: the PAC carries SERVICE_ASSERTED_IDENTITY (S-1-18-2),
	// the ticket was obtained by protocol transition (S4U2Self).
	ServiceAsserted bool
}

func (c *conn) serve() {
	a := c.agent
	defer c.nc.Close()
	// A credential the client delegated (a forwarded TGT) lives as long as
	// the connection: sessions in mode forward take a copy for their
	// broker, which zeroes it when the session ends.
	defer func() {
		c.mu.Lock()
		forgot := c.gss != nil && c.gss.ForgetDelegated()
		c.mu.Unlock()
		if forgot {
			a.logger.Debug("forgot the credential the client delegated", "addr", c.addr)
		}
	}()
	cfg := &ssh.ServerConfig{
		MaxAuthTries:  a.cfg.MaxAuthTries,
		ServerVersion: "SSH-2.0-hop-agent",
		GSSAPIWithMICConfig: &ssh.GSSAPIWithMICConfig{
			AllowLogin: c.allowLogin,
			Server:     &gssServer{c: c},
		},
	}
	cfg.AddHostKey(a.signer)
	// A deadline is wall-clock time, whatever clock Kerberos is given.
	c.nc.SetDeadline(time.Now().Add(HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c.nc, cfg)
	c.authenticated()
	if err != nil {
		a.logger.Debug("ssh handshake failed", "addr", c.addr, "err", err)
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.mu.Lock()
	c.sc = sc
	closing := c.closing
	c.mu.Unlock()
	if closing {
		sc.Close()
	}
	a.logger.Info("logon", "client", c.id.Principal.String(), "local", c.id.Local, "addr", c.addr, "service_asserted", c.id.ServiceAsserted)
	if c.id.SSHUser != c.id.Local {
		a.logger.Info("the SSH user name is not the local account: the principal decides the account", "client", c.id.Principal.String(),
			"ssh_user", c.id.SSHUser, "local", c.id.Local, "addr", c.addr)
	}
	go c.globalRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "the hop agent offers session channels only")
			continue
		}
		c.mu.Lock()
		n, closing := len(c.sessions), c.closing
		c.mu.Unlock()
		if closing {
			nch.Reject(ssh.ResourceShortage, "the agent is shutting down")
			continue
		}
		if n >= MaxSessionsPerConnection {
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("at most %d sessions per connection", MaxSessionsPerConnection))
			continue
		}
		user := c.id.Principal.String()
		// Audited before the client hears of the refusal.
		if !a.takeUserSession(user) {
			a.emit(audit.Event{Type: "session.refused", Client: user, Addr: c.addr, Reason: "max_sessions_per_user reached"})
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("%s has %d sessions open on %s, its maximum (max_sessions_per_user); end one, or try later", user, a.cfg.MaxSessionsPerUser, a.cfg.Host))
			continue
		}
		select {
		case a.sessions <- struct{}{}:
		default:
			a.giveUserSession(user)
			a.emit(audit.Event{Type: "session.refused", Client: user, Addr: c.addr, Reason: "max_sessions reached"})
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("the agent runs its maximum of %d sessions; try later", a.cfg.MaxSessions))
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			<-a.sessions
			a.giveUserSession(user)
			continue
		}
		s := newSession(c, ch)
		c.mu.Lock()
		c.sessions[s] = true
		c.wg.Add(1)
		c.mu.Unlock()
		go func() {
			defer c.wg.Done()
			defer func() { <-a.sessions; a.giveUserSession(user) }()
			s.serve(creqs)
			c.mu.Lock()
			delete(c.sessions, s)
			c.mu.Unlock()
		}()
	}
	// The connection is gone: every session's channel is closed, and the
	// sessions tear their processes down.
	c.wg.Wait()
}

// close ends the connection (agent shutdown).
func (c *conn) close() {
	c.mu.Lock()
	c.closing = true
	sc := c.sc
	c.mu.Unlock()
	if sc != nil {
		sc.Close()
	} else {
		c.nc.Close()
	}
}

func (c *conn) globalRequests(reqs <-chan *ssh.Request) {
	for r := range reqs {
		switch r.Type {
		case remoting.EndpointsRequest:
			b, err := remoting.EncodeEndpoints(c.agent.endpointInfos(c.id))
			r.Reply(err == nil, b)
		default:
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
}

// refuse audits and logs a refused logon.
func (c *conn) refuse(client, code, reason string) {
	a := c.agent
	a.emit(audit.Event{Type: "logon.refused", Client: client, Service: a.spn.String(), Addr: c.addr, Code: code, Reason: reason})
	a.logger.Info("logon refused", "client", client, "addr", c.addr, "reason", reason)
}

// allowLogin decides whether the authenticated principal may log on:
// it must be in a logon or admin group (from the PAC) and map to a local
// account. The reason of a refusal goes to the client as a banner.
func (c *conn) allowLogin(meta ssh.ConnMetadata, srcName string) (*ssh.Permissions, error) {
	a := c.agent
	c.mu.Lock()
	ctx := c.gss
	c.mu.Unlock()
	if ctx == nil || ctx.Client().String() != srcName {
		return nil, errors.New("agent: no authenticated context")
	}
	p := ctx.Client()
	deny := func(msg string) (*ssh.Permissions, error) {
		c.refuse(p.String(), "", msg)
		return nil, &ssh.BannerError{Err: errors.New("agent: " + msg), Message: "hop agent on " + a.cfg.Host + ": " + msg + "\r\n"}
	}
	if x := ctx.Accepted(); x.PAC == nil || x.PAC.LogonInfo == nil {
		return deny(fmt.Sprintf("refused %s: the ticket carries no PAC: the service account has no-auth-data-required (a domain admin can clear it on the account of host/%s)", p, a.cfg.Host))
	}
	sids := pacSIDs(ctx.Accepted().PAC.LogonInfo)
	id := &identity{Principal: p, SIDs: sids}
	logon := a.memberOfAny(sids, a.cfg.LogonGroups)
	id.Admin = a.memberOfAny(sids, a.cfg.AdminGroups)
	if !logon && !id.Admin {
		user := userPart(p)
		groups := strings.Join(append(slices.Clone(a.cfg.LogonGroups), a.cfg.AdminGroups...), " or ")
		add := "b-remote-users"
		if len(a.cfg.LogonGroups) > 0 {
			add = a.cfg.LogonGroups[0]
		} else if len(a.cfg.AdminGroups) > 0 {
			add = a.cfg.AdminGroups[0]
		}
		return deny(fmt.Sprintf("%s is not in %s; ask a domain admin to add them (hop group add-member %s %s)", user, groups, add, user))
	}
	if sids[sid.ServiceAsserted] {
		if a.cfg.RefuseServiceAsserted {
			return deny(fmt.Sprintf("refused %s: the ticket was obtained by a service through protocol transition (S4U2Self: its PAC carries S-1-18-2, service asserted identity), not by the user, and this host refuses such logons (refuse_service_asserted); log on with your own ticket (hop login)", p))
		}
		id.ServiceAsserted = true
	}
	pacName := ctx.Accepted().PAC.LogonInfo.EffectiveName
	local, explicit := a.cfg.mapUser(p, pacName)
	if a.isRoot {
		if local == "" {
			return deny(fmt.Sprintf("%s is not a user of %s (a principal of another realm, or not the account's own name): a local account is chosen for it only by an entry in [user_map] of the agent configuration", p, a.cfg.Realm))
		}
		u, err := lookupLocalUser(local)
		if errors.Is(err, errShell) {
			return deny(fmt.Sprintf("the login shell of the local account %s cannot be read on %s (%v); refused", local, a.cfg.Host, err))
		}
		if err != nil {
			return deny(fmt.Sprintf("%s maps to the local account %s, which does not exist on %s; create it or map %s to another account ([user_map] in the agent configuration)", p, local, a.cfg.Host, p))
		}
		if !explicit && systemAccount(u) {
			return deny(fmt.Sprintf("%s would log on as the local account %s (uid %d), which is root or a system account: that needs an explicit entry in [user_map] of the agent configuration", p, local, u.UID))
		}
		if noLogin(u.Shell) {
			return deny(fmt.Sprintf("the local account %s has the shell %s, which refuses logons", local, u.Shell))
		}
		id.Local = local
	} else {
		id.Local = a.self.Name
	}
	if u := meta.User(); u != userPart(p) && u != p.String() && u != id.Local && (local == "" || u != local) {
		return deny(fmt.Sprintf("you authenticated as %s but asked to log on as %q; use your own name (%s) as the SSH user", p, u, userPart(p)))
	}
	id.SSHUser = meta.User()
	c.mu.Lock()
	c.id = id
	c.mu.Unlock()
	return &ssh.Permissions{Extensions: map[string]string{"hop-principal": p.String(), "hop-local": id.Local}}, nil
}

// memberOfAny reports whether sids holds one of the groups refs.
func (a *Agent) memberOfAny(sids map[sid.SID]bool, refs []string) bool {
	for _, g := range refs {
		if a.member(sids, g) {
			return true
		}
	}
	return false
}

// member reports whether sids holds the group ref (a name or a SID). A
// name that cannot be resolved matches nobody.
func (a *Agent) member(sids map[sid.SID]bool, ref string) bool {
	s, ok := a.groups.sid(a.bg, ref)
	return ok && sids[s]
}

func (a *Agent) emit(e audit.Event) {
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	a.audit.Emit(e)
}

// newSessionID returns a random session identifier.
func (a *Agent) newSessionID() string {
	var b [8]byte
	if _, err := io.ReadFull(a.rand, b[:]); err != nil {
		return fmt.Sprintf("%x", a.now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// hostKrb5Conf is the krb5.conf the agent reads, as sessions should read it
// after their broker's fragment: krb5_conf, else KRB5_CONFIG, else
// /etc/krb5.conf.
func hostKrb5Conf(cfg *Config, getenv func(string) string) string {
	if cfg.Krb5Conf != "" {
		return cfg.Krb5Conf
	}
	if v := getenv("KRB5_CONFIG"); v != "" {
		return v
	}
	return broker.DefaultHostKrb5Conf
}

// makeRuntimeDir makes the folder of the sessions' brokers, 0755, when it
// is missing; sessions' users must be able to traverse it.
func makeRuntimeDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("agent: runtime_dir %s is not a folder", dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("agent: runtime_dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("agent: make runtime_dir (it holds the sessions' credential brokers; set runtime_dir to a folder the agent may create): %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("agent: runtime_dir: %w", err)
	}
	return nil
}

// removeStaleSessions removes the session folders an agent that did not
// stop cleanly (a crash, SIGKILL) left in runtime_dir: those whose KCM
// socket nobody serves. A live agent's sessions (two agents sharing the
// folder) answer, and stay.
func removeStaleSessions(dir string, logger *slog.Logger) {
	m, _ := filepath.Glob(filepath.Join(dir, "session-*"))
	for _, d := range m {
		c, err := net.DialTimeout("unix", filepath.Join(d, broker.SocketName), time.Second)
		if err == nil {
			c.Close()
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			logger.Warn("cannot remove a session folder left by an earlier agent", "folder", d, "err", err)
			continue
		}
		logger.Info("removed a session folder left by an earlier agent", "folder", d)
	}
}

// sessionReadableKeytab says why the keytab an endpoint's broker uses
// (runas keytab, JEA network_keytab) could be read by the endpoint's
// sessions, which must never see the key: owned by the run_as account, or
// readable by group or others. "" when it is not (or does not exist yet).
func sessionReadableKeytab(e *Endpoint) string {
	path := e.Keytab
	if e.jea != nil {
		path, _ = e.jea.policy.Network()
	}
	if path == "" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("%s has mode %v", path, fi.Mode().Perm())
	}
	if u, err := lookupLocalUser(e.RunAs); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == u.UID && u.UID != 0 {
			return fmt.Sprintf("%s belongs to %s, the account its sessions run as", path, e.RunAs)
		}
	}
	return ""
}
