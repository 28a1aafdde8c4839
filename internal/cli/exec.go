package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"golang.org/x/term"

	"hop/admin"
	"hop/krb5"
	"hop/krb5/config"
	"hop/krb5/tickets"
	"hop/remote"
	"hop/remoting"
)

// maxExecHosts bounds the hosts of one hop exec.
const maxExecHosts = 1024

func execCommand() *command {
	return &command{
		name:    "exec",
		summary: "run a command on hosts through their hop agent (Invoke-Command)",
		usage:   "exec HOST[,HOST...] [--config ENDPOINT] [--user ACCOUNT] [--delegate MODE [--allow-hop SPNS] [--confirm]] [--pass-credential ACCOUNT [--password-file FILE]] [--credential ACCOUNT] [--port N] [--known-hosts FILE] [--parallel N] -- COMMAND...",
		help: `Runs COMMAND on each HOST as you, authenticated with your Kerberos ticket
(hop login or kinit), after checking that the host's SSH key is the one it
registered in the directory when it joined (or the one in --known-hosts FILE,
as hop known-hosts writes it). While the directory cannot be reached, the
keys it gave last (kept in your cache folder, ~/.cache/hop) serve, with a
warning. HOST may be a joined host's short name (b for b.example.test),
resolved through the directory (or --known-hosts FILE).

With one host, standard input is forwarded, output is streamed as is and
hop's exit status is the command's (128+N for signal N). With several, they
run concurrently (--parallel at a time), every output line is prefixed with
"HOST: ", and the exit status is 0 if all succeeded, else 1, with a summary
of the failures on standard error.

--config names an endpoint (session configuration) of the agent: default,
or a RunAs or JEA endpoint (hop endpoints HOST lists them; in a JEA endpoint,
COMMAND help lists what you may run). HOST may be HOST:PORT; the port is
otherwise --port, else agent_port in krb5.conf's [hop] section, else 22. The
address to connect to may be set per host in krb5.conf:
  [hop]
      agent_address = {
          b.example.test = 127.0.0.2:2222
      }
A port you type (HOST:PORT or --port) wins over the port agent_address
gives; its address is kept.` + delegateHelp,
		run: runExec,
	}
}

func shellCommand() *command {
	return &command{
		name:    "shell",
		summary: "open an interactive shell on a host through its hop agent (Enter-PSSession)",
		usage:   "shell HOST [--config ENDPOINT] [--user ACCOUNT] [--delegate MODE [--allow-hop SPNS] [--confirm]] [--pass-credential ACCOUNT [--password-file FILE]] [--credential ACCOUNT] [--port N] [--known-hosts FILE]",
		help: `Opens a shell on HOST in a pseudo-terminal: your terminal is put in raw
mode (Ctrl-C and Ctrl-D go to the remote side), window size changes follow,
and the terminal is restored when the shell ends. Authentication and host
checks are those of hop exec.` + delegateHelp,
		run: runShell,
	}
}

func endpointsCommand() *command {
	return &command{
		name:    "endpoints",
		summary: "list a host's endpoints (session configurations) and which you may use",
		usage:   "endpoints HOST [--json] [--port N] [--known-hosts FILE]",
		help: `Lists the endpoints of HOST's agent: name, type (default, runas, jea),
whether you may use it, the local account its sessions run as, and the
delegation modes it allows (hop exec --delegate). For the
JEA endpoints you may use, the commands your groups allow follow.`,
		run: runEndpoints,
	}
}

// remoteFlags are the connection flags of exec, shell and endpoints.
type remoteFlags struct {
	fs         *flag.FlagSet
	port       *int
	knownHosts *string
	// exec and shell only:
	delegate, passCredential, passwordFile, credential, allowHop, user *string
	confirm                                                            *bool
}

// addDelegateFlag adds the flags of what a session may use to reach other
// hosts (exec and shell).
func (rf *remoteFlags) addDelegateFlag() {
	rf.delegate = rf.fs.String("delegate", "", "the delegation `MODE` of the session: none (the agent's default), remote-guard, constrained or forward")
	rf.passCredential = rf.fs.String("pass-credential", "", "pass the credential of `ACCOUNT` (its password, asked here) into the session")
	rf.passwordFile = rf.fs.String("password-file", "", "with --pass-credential or --delegate credssp: read the password from the first line of `FILE`")
	rf.credential = rf.fs.String("credential", "", "in a hop session: authenticate with the credential passed into it for `ACCOUNT` (--pass-credential on the host you came from)")
	rf.user = rf.fs.String("user", "", "authenticate as `ACCOUNT` (its password asked here, or --password-file), not with the cache's ticket; its ticket-granting ticket stays in this process")
	rf.confirm = rf.fs.Bool("confirm", false, "with --delegate remote-guard: ask before each new target the host wants a ticket for (HOP_ASKPASS or SSH_ASKPASS)")
	rf.allowHop = rf.fs.String("allow-hop", "", "with --delegate remote-guard: the `SPNS` (comma-separated patterns, e.g. cifs/c.example.test,host/*.example.test) the session may get tickets for (default: allow_hop in krb5.conf's [hop] section, else any service)")
}

// delegateHelp explains --delegate in exec's and shell's help.
const delegateHelp = `

--delegate says what the session on HOST may use to reach other hosts (the
second hop), for hop itself and for every Kerberos program there (the
session's credential cache, KRB5CCNAME=KCM:, is served by the agent):
  none         nothing (the default): the session reaches no other host
               with Kerberos.
  remote-guard nothing reusable reaches HOST: for each ticket the session
               needs, HOST's agent asks this client, which gets it with your
               ticket and hands over only that service ticket (short-lived,
               --allow-hop patterns only), while the connection lasts
               (Remote Credential Guard).
  constrained  nothing reusable reaches HOST: for each ticket the session
               asks for, HOST's agent asks the KDC with S4U2Proxy, and the
               domain's constrained or resource-based delegation settings
               decide (hop delegation explain says what they allow).
  forward      your ticket-granting ticket is forwarded to HOST, which can
               then reach any service as you (unconstrained delegation); only
               to a host the domain trusts for delegation, with a forwardable
               ticket.
  restricted-admin
               the session runs as HOST's local administrator and reaches
               other hosts as HOST itself; nothing of yours reaches HOST
               (members of its admin_groups, where the agent enables it).
  credssp      your password goes to HOST, which logs you on with it (fresh
               credentials): only to hosts allow_fresh_credentials in
               krb5.conf's [hop] section names, where the agent enables it;
               whoever controls HOST meanwhile can take the password.
The endpoint may allow only some modes (hop endpoints HOST).

--pass-credential ACCOUNT passes an explicit credential into the session, as
PowerShell's $using:cred does: the password (asked here, or the first line of
--password-file FILE) travels only inside the encrypted connection; HOST's
agent logs ACCOUNT on at once and keeps only its ticket-granting ticket, in
memory, for the session's life. In the session, hop exec OTHER --credential
ACCOUNT uses it, and hop login --credential ACCOUNT makes it the session's
default credential for every Kerberos program.`

func addRemoteFlags(fs *flag.FlagSet) *remoteFlags {
	return &remoteFlags{
		fs:         fs,
		port:       fs.Int("port", 0, "the agents' TCP port `N`, over the port of agent_address in krb5.conf's [hop] section (default: agent_port there, else 22)"),
		knownHosts: fs.String("known-hosts", "", "check host keys against this known_hosts `FILE` (hop known-hosts writes one) instead of the directory"),
	}
}

// dialer connects to agents with the user's tickets.
type dialer struct {
	hop         config.HopSettings
	src         *tickets.Source
	known       string
	hostKeys    remote.HostKeySource // from the directory, when known is ""
	portFlag    int                  // --port (0: not given)
	agentPort   int                  // agent_port (0: not set)
	stderr      io.Writer
	delegate    remoting.Mode
	credentials []remote.Credential
	guard       *remote.Guard
	allowHop    []string // --allow-hop, else allow_hop
	confirm     bool     // --confirm
	// ttyFree: the session does not use the terminal (hop exec with
	// standard input elsewhere), so --confirm may ask on it.
	ttyFree bool
	// freshAllowed are the host patterns --delegate credssp may send the
	// password to (allow_fresh_credentials).
	freshAllowed []string
	freshSecret  []byte
	readPassword func(prompt string) (string, error)
	// credentialName is --credential's account ("" without it).
	credentialName string
	done           func()
}

// sessionFlags reads --delegate, --pass-credential and --credential.
func (e *env) sessionFlags(rf *remoteFlags, d *dialer) error {
	var err error
	if *rf.delegate != "" {
		if d.delegate, err = remoting.ParseMode(*rf.delegate); err != nil {
			return badMode(*rf.delegate)
		}
	}
	allow := *rf.allowHop
	if allow == "" {
		allow = d.hop.AllowHop
	}
	if *rf.allowHop != "" && d.delegate != "" && d.delegate != remoting.ModeRemoteGuard {
		return usagef("--allow-hop is for --delegate remote-guard")
	}
	d.allowHop = splitPatterns(allow)
	d.confirm = *rf.confirm
	if d.confirm && d.delegate != "" && d.delegate != remoting.ModeRemoteGuard {
		return usagef("--confirm is for --delegate remote-guard")
	}
	if err := remote.CheckAllowHop(d.allowHop); err != nil {
		return usagef("%v", err)
	}
	if d.delegate == remoting.ModeCredSSP {
		if *rf.passwordFile == "" && !isTerminal(e.stdin) {
			return usagef("--delegate credssp: standard input is not a terminal to ask your password on: give --password-file FILE")
		}
		pwFile := *rf.passwordFile
		d.readPassword = func(prompt string) (string, error) { return e.readPassword(pwFile, prompt, false) }
		d.freshAllowed = nil
		for _, p := range splitPatterns(d.hop.AllowFreshCredentials) {
			if name, _, _ := strings.Cut(p, "@"); name == "*" || name == "*/*" || !strings.HasPrefix(strings.ToLower(name), "host/") {
				fmt.Fprintf(e.stderr, "hop: warning: allow_fresh_credentials %q in krb5.conf's [hop] section is ignored: name the hosts (host/*.example.test), never every service\n", p)
				continue
			}
			d.freshAllowed = append(d.freshAllowed, p)
		}
		if err := remote.CheckAllowHop(d.freshAllowed); err != nil {
			return usagef("allow_fresh_credentials in krb5.conf's [hop] section: %v", err)
		}
		if len(d.freshAllowed) == 0 {
			return fmt.Errorf("--delegate credssp sends your password to the host, and no host is allowed to receive it: list them in krb5.conf's [hop] section, e.g. allow_fresh_credentials = host/*.example.test (the counterpart of the policy \"Allow delegating fresh credentials\"); prefer --delegate remote-guard")
		}
	}
	if *rf.passwordFile != "" && *rf.passCredential == "" && d.delegate != remoting.ModeCredSSP && *rf.user == "" {
		return usagef("--password-file is the password of --pass-credential ACCOUNT")
	}
	if name := *rf.passCredential; name != "" {
		if !remoting.ValidCredentialName(name) {
			return usagef("--pass-credential %q: give an account name (letters, digits and . _ - $ @ /)", name)
		}
		if *rf.passwordFile == "" && !isTerminal(e.stdin) {
			return usagef("--pass-credential %s: standard input is not a terminal to ask the password on: give --password-file FILE", name)
		}
		pw, err := e.readPassword(*rf.passwordFile, "Password for "+name+" (passed into the session): ", false)
		if err != nil {
			return err
		}
		d.credentials = []remote.Credential{{Name: name, Secret: []byte(pw)}}
	}
	if name := *rf.credential; name != "" {
		if !remoting.ValidCredentialName(name) {
			return usagef("--credential %q: give the account name given to --pass-credential", name)
		}
		cache, err := d.src.Name()
		if err != nil {
			return err
		}
		if cache.Type != "KCM" {
			return fmt.Errorf("--credential %s uses a credential passed into a hop session, but this is not one (the credential cache is %s, not KCM:): on the first host, run hop exec THIS-HOST --pass-credential %s", name, cache, name)
		}
		d.src.CCache = "KCM:" + remoting.CredentialCache(name)
		d.credentialName = name
	}
	return nil
}

// checkCredential says, before connecting, when --credential names a
// credential the session does not hold.
func (d *dialer) checkCredential(ctx context.Context) error {
	if d.credentialName == "" {
		return nil
	}
	if _, err := d.src.List(ctx); err != nil {
		if errors.Is(err, tickets.ErrNoCache) {
			return fmt.Errorf("no credential for %s was passed into this hop session: on the first host, run hop exec THIS-HOST --pass-credential %s", d.credentialName, d.credentialName)
		}
		return err
	}
	return nil
}

// loginUser, for --user ACCOUNT, logs ACCOUNT on with its password into a
// cache of this command's own (a file in a private folder, removed when the
// command ends): the connection authenticates as ACCOUNT and, in mode
// remote-guard, the tickets the host gets are ACCOUNT's, its TGT never
// leaving this host.
func (d *dialer) loginUser(ctx context.Context, e *env, name, pwFile string) error {
	if name == "" {
		return nil
	}
	if d.credentialName != "" || d.delegate == remoting.ModeCredSSP {
		return usagef("--user takes the place of your ticket: not with --credential or --delegate credssp")
	}
	if pwFile == "" && !isTerminal(e.stdin) {
		return usagef("--user %s: standard input is not a terminal to ask the password on: give --password-file FILE", name)
	}
	dir, err := os.MkdirTemp("", "hop-user-")
	if err != nil {
		return err
	}
	prev := d.done
	d.done = func() { os.RemoveAll(dir); prev() }
	src := &tickets.Source{Config: d.src.Config, CCache: "FILE:" + filepath.Join(dir, "cc"), Getenv: d.src.Getenv}
	p, err := src.Principal(name)
	if err != nil {
		return err
	}
	if _, err := src.Login(ctx, &tickets.LoginRequest{Client: p, Password: func(p krb5.Principal) (string, error) {
		return e.readPassword(pwFile, "Password for "+p.String()+": ", false)
	}}); err != nil {
		return err
	}
	d.src = src
	return nil
}

// freshCredential is the user's own password for --delegate credssp to
// host, which allow_fresh_credentials must name; the password is asked
// once per command.
func (d *dialer) freshCredential(ctx context.Context, host string) (remote.Credential, error) {
	fqdn, _, err := remote.SplitHost(host)
	if err != nil {
		return remote.Credential{}, err
	}
	l, err := d.src.List(ctx)
	if err != nil {
		return remote.Credential{}, err
	}
	target := krb5.Principal{Name: tickets.HostService("host", fqdn), Realm: l.Default.Realm}
	if !remote.MatchSPN(d.freshAllowed, target) {
		return remote.Credential{}, &remote.Error{Host: fqdn, Msg: fmt.Sprintf("--delegate credssp refused here, on this host: %s is not in allow_fresh_credentials (%s) of krb5.conf's [hop] section; your password was not sent", target.Name, strings.Join(d.freshAllowed, ","))}
	}
	if d.freshSecret == nil {
		pw, err := d.readPassword("Password for " + l.Default.String() + " (sent to the host: --delegate credssp): ")
		if err != nil {
			return remote.Credential{}, err
		}
		d.freshSecret = []byte(pw)
	}
	return remote.Credential{Name: l.Default.String(), Secret: d.freshSecret}, nil
}

func badMode(s string) error {
	return usagef("--delegate %s is not a delegation mode: use %s", s, remoting.ModeNames())
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newDialer prepares connections: krb5.conf, the ticket source, the port,
// and where host keys come from.
func (e *env) newDialer(rf *remoteFlags) (*dialer, error) {
	cfg, hs, err := e.hopSettings()
	if err != nil {
		return nil, err
	}
	d := &dialer{hop: hs, src: &tickets.Source{Config: cfg, Getenv: e.getenv}, known: *rf.knownHosts, stderr: e.stderr, done: func() {}}
	if rf.delegate != nil {
		if err := e.sessionFlags(rf, d); err != nil {
			return nil, err
		}
	}
	if *rf.port < 0 || *rf.port > 65535 {
		return nil, usagef("--port %d is not a port number", *rf.port)
	}
	d.portFlag = *rf.port
	if d.agentPort, err = hs.AgentPortNumber(); err != nil {
		return nil, err
	}
	if d.known == "" {
		if hs.AdminURL == "" {
			return nil, usagef("hop checks SSH host keys against the directory: set admin_url in krb5.conf's [hop] section (hop client-config writes it), or give --known-hosts FILE (hop known-hosts > FILE)")
		}
		if d.hostKeys, d.done, err = e.directoryHostKeys(hs.AdminURL); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// directoryHostKeys reads host keys from the directory through the admin
// server at rawURL (admin_url), whose answers must be authentic: SPNEGO
// authenticates the request, not the reply, so host keys read over plain
// HTTP from another machine prove nothing (a man in the middle could
// substitute its own key and relay the Kerberos exchange).
func (e *env) directoryHostKeys(rawURL string) (remote.HostKeySource, func(), error) {
	c, err := e.adminClient(rawURL, true, true)
	var ue *admin.URLError
	switch {
	case errors.As(err, &ue) && ue.Insecure:
		return nil, nil, fmt.Errorf("admin_url %s is plain HTTP: SSH host keys read from it could be forged in transit; use the admin server's https URL with admin_tls_pin (hop client-config writes both), or give --known-hosts FILE", rawURL)
	case errors.As(err, &ue):
		return nil, nil, fmt.Errorf("admin_url %q in krb5.conf's [hop] section is not an admin server URL: give http(s)://HOST:PORT (hop client-config writes it), or give --known-hosts FILE", rawURL)
	case err != nil:
		return nil, nil, err
	}
	dir := remote.DirectoryHostKeys{Directory: adminHostKeys{c: c, url: rawURL}}
	path := userCachePath("host-keys-", rawURL)
	if path == "" {
		return dir, c.Close, nil
	}
	var mu sync.Mutex
	warn := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(e.stderr, "hop: warning: %s\n", msg)
	}
	return &remote.HostKeyCache{Directory: dir, Path: path + ".json", Warn: warn}, c.Close, nil
}

// userCachePath is the file of the user's cache folder (hop/ in
// $XDG_CACHE_HOME, else ~/.cache) for what was read from the admin server
// at adminURL, its name starting with prefix; "" when there is no such
// folder.
func userCachePath(prefix, adminURL string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "hop", prefix+strings.NewReplacer("/", "_", ":", "_").Replace(adminURL))
}

// adminHostKeys reads SSH host keys and computer names through the admin
// API for remote.DirectoryHostKeys: a host with no keys has none (not an
// error), and a server that cannot be reached, or cannot answer (5xx),
// is a *remote.UnreachableError, for the cache to serve.
type adminHostKeys struct {
	c   *admin.Client
	url string
}

func (a adminHostKeys) HostKeys(ctx context.Context, host string) ([]string, error) {
	keys, err := a.c.HostKeys(ctx, host)
	if errors.Is(err, admin.ErrNotFound) {
		return nil, nil
	}
	return keys, a.unreachable(err)
}

// HostName is the DNS name of the computer account short$ (remote.HostNamer).
func (a adminHostKeys) HostName(ctx context.Context, short string) (string, error) {
	acct, err := a.c.Account(ctx, short+"$")
	if errors.Is(err, admin.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", a.unreachable(err)
	}
	if acct.Kind != "computer" {
		return "", nil
	}
	return acct.DNSHostName, nil
}

// unreachable makes err an *remote.UnreachableError when the server could
// not be reached (no connection, a connection dropped) or could not answer
// (5xx); an answer, a failure to get its ticket, or a TLS key other than
// the pinned one stay as they are.
func (a adminHostKeys) unreachable(err error) error {
	var ae *admin.Error
	if errors.As(err, &ae) {
		if ae.Status < 500 {
			return err
		}
		return &remote.UnreachableError{Where: "the admin server " + a.url, Err: err}
	}
	var ue *url.Error
	if !errors.As(err, &ue) || errors.As(err, new(*adminTicketError)) {
		return err
	}
	if errors.As(ue.Err, new(net.Error)) || errors.Is(ue.Err, io.EOF) || errors.Is(ue.Err, io.ErrUnexpectedEOF) {
		return &remote.UnreachableError{Where: "the admin server " + a.url, Err: ue.Err} // the URL is named in Where
	}
	return err
}

// options returns the Options of a connection to host (HOST or HOST:PORT).
// What the user typed wins: a port in HOST:PORT, else --port, over
// krb5.conf's agent_address (whose address is kept) and agent_port.
func (d *dialer) options(host string) (remote.Options, error) {
	fqdn, port, err := remote.SplitHost(host)
	if err != nil {
		return remote.Options{}, err
	}
	// portFrom says where port was set; explicit: the user typed it.
	portFrom, explicit := "", true
	switch {
	case port != 0:
		portFrom = "port from " + host
	case d.portFlag != 0:
		port, portFrom = d.portFlag, "port from --port"
	case d.agentPort != 0:
		port, portFrom, explicit = d.agentPort, "port from agent_port in krb5.conf's [hop] section", false
	default:
		explicit = false
	}
	o := remote.Options{Port: port, AddressFrom: portFrom, Source: d.src, HostKeys: d.hostKeys, Stderr: d.stderr, Delegate: d.delegate, Credentials: d.credentials, Guard: d.guard}
	if a, ok := d.hop.AgentAddress(fqdn); ok {
		o.AddressFrom = "address from agent_address for " + fqdn + " in krb5.conf's [hop] section"
		h, p, err := net.SplitHostPort(a)
		switch {
		case err != nil: // agent_address without a port
			if port == 0 {
				port, portFrom = remote.DefaultPort, "the default port"
			}
			o.Address, o.AddressFrom = net.JoinHostPort(a, strconv.Itoa(port)), o.AddressFrom+", "+portFrom
		case explicit:
			o.Address, o.AddressFrom = net.JoinHostPort(h, strconv.Itoa(port)), o.AddressFrom+", "+portFrom
		default:
			o.Address = a
			port, _ = strconv.Atoi(p)
		}
	}
	if d.known != "" {
		p := port
		if p == 0 {
			p = remote.DefaultPort
		}
		o.HostKeys = remote.KnownHostsFile{Path: d.known, Port: p}
	}
	return o, nil
}

func (d *dialer) dial(ctx context.Context, host string) (*remote.Conn, error) {
	var src remote.HostKeySource = remote.KnownHostsFile{Path: d.known}
	if d.known == "" {
		src = d.hostKeys
	}
	host, err := remote.ResolveHost(ctx, src, host)
	if err != nil {
		return nil, err
	}
	o, err := d.options(host)
	if err != nil {
		return nil, err
	}
	if d.delegate == remoting.ModeCredSSP {
		cred, err := d.freshCredential(ctx, host)
		if err != nil {
			return nil, err
		}
		o.Credentials = append(o.Credentials, cred)
	}
	conn, err := remote.Dial(ctx, host, o)
	if err != nil {
		// In a restricted-admin session the hop ran as the host, not as
		// the user: a refusal must say so.
		if st, berr := d.src.Broker(ctx, krb5.Principal{}); berr == nil && st.Mode == string(remoting.ModeRestrictedAdmin) {
			return nil, fmt.Errorf("%w (this session on %s is restricted-admin: the hop ran as %s, the host's own identity, not as %s)", err, st.Host, st.Identity, st.User)
		}
	}
	return conn, err
}

func runExec(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	rf.addDelegateFlag()
	endpoint := fs.String("config", remoting.DefaultEndpoint, "the `ENDPOINT` (session configuration) to run in")
	parallel := fs.Int("parallel", 16, "how many hosts to run on at a time")
	pos, err := parse(e, fs, c, args, 2, -1)
	if err != nil {
		return err
	}
	if *parallel < 1 {
		return usagef("--parallel must be at least 1")
	}
	var hosts []string
	seen := map[string]bool{}
	for _, h := range strings.Split(pos[0], ",") {
		if h = strings.TrimSpace(h); h != "" && !seen[strings.ToLower(h)] {
			seen[strings.ToLower(h)] = true
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 || len(hosts) > maxExecHosts {
		return usagef("give between 1 and %d hosts (HOST[,HOST...])", maxExecHosts)
	}
	for _, h := range hosts {
		if _, _, err := remote.SplitHost(h); err != nil {
			return usagef("%v", err)
		}
	}
	cmd := strings.Join(pos[1:], " ")
	d, err := e.newDialer(rf)
	if err != nil {
		return err
	}
	defer func() { d.done() }() // loginUser adds to it
	if err := d.checkCredential(ctx); err != nil {
		return err
	}
	if err := d.loginUser(ctx, e, *rf.user, *rf.passwordFile); err != nil {
		return err
	}
	d.ttyFree = !isTerminal(e.stdin)
	if err := d.applyPolicy(ctx, e); err != nil {
		return err
	}
	if len(hosts) == 1 {
		return execOne(ctx, e, d, hosts[0], cmd, *endpoint)
	}
	return execMany(ctx, e, d, hosts, cmd, *endpoint, *parallel)
}

// execOne runs cmd on one host with standard input forwarded and returns
// its exit status.
func execOne(ctx context.Context, e *env, d *dialer, host, cmd, endpoint string) error {
	conn, err := d.dial(ctx, host)
	if err != nil {
		return err
	}
	defer conn.Close()
	code, err := conn.Run(ctx, cmd, endpoint, e.stdin, e.stdout, e.stderr)
	return remoteExit(code, err)
}

// remoteExit turns a remote command's status and error into hop's exit:
// the command's status, the error printed unless the agent already
// explained it (a refused endpoint).
func remoteExit(code int, err error) error {
	var ee *remote.EndpointError
	if errors.As(err, &ee) && ee.Explained {
		err = nil // the agent said which endpoints there are
	}
	if code == 0 && err == nil {
		return nil
	}
	if code == 0 {
		code = 1
	}
	return &exitError{code: code, err: err}
}

// execMany runs cmd on hosts, at most parallel at a time, with output lines
// prefixed by host.
func execMany(ctx context.Context, e *env, d *dialer, hosts []string, cmd, endpoint string, parallel int) error {
	out := &lockedWriter{w: e.stdout}
	errOut := &lockedWriter{w: e.stderr}
	type result struct {
		code int
		err  error
	}
	results := make([]result, len(hosts))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			name, _, _ := remote.SplitHost(h)
			stdout := &prefixWriter{w: out, prefix: name + ": "}
			stderr := &prefixWriter{w: errOut, prefix: name + ": "}
			code, err := 255, error(nil)
			conn, err := d.dial(ctx, h)
			if err == nil {
				code, err = conn.Run(ctx, cmd, endpoint, nil, stdout, stderr)
				conn.Close()
			}
			stdout.Flush()
			stderr.Flush()
			var ee *remote.EndpointError
			if errors.As(err, &ee) && ee.Explained {
				err = nil
			}
			if err != nil {
				errOut.Write([]byte("hop: " + err.Error() + "\n"))
			}
			results[i] = result{code, err}
		}()
	}
	wg.Wait()
	var failed []string
	for i, r := range results {
		switch {
		case r.err != nil && r.code == 255:
			failed = append(failed, hosts[i])
		case r.code != 0:
			failed = append(failed, fmt.Sprintf("%s (exit %d)", hosts[i], r.code))
		case r.err != nil:
			failed = append(failed, hosts[i])
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &exitError{code: 1, err: fmt.Errorf("%d of %d hosts failed: %s", len(failed), len(hosts), strings.Join(failed, ", "))}
}

// lockedWriter serializes writes from several hosts.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// maxLine bounds the partial line a prefixWriter holds: a longer line is
// written in pieces, each prefixed.
const maxLine = 64 << 10

// prefixWriter writes whole lines, each prefixed, to w, so that the lines
// of concurrent hosts never interleave within a line.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.buf = append(p.buf, b...)
			if len(p.buf) >= maxLine {
				if err := p.emit(p.buf, true); err != nil {
					return 0, err
				}
				p.buf = p.buf[:0]
			}
			break
		}
		line := b[:i+1]
		if len(p.buf) > 0 {
			line = append(p.buf, line...)
		}
		if err := p.emit(line, false); err != nil {
			return 0, err
		}
		p.buf = p.buf[:0]
		b = b[i+1:]
	}
	return n, nil
}

func (p *prefixWriter) emit(line []byte, addNewline bool) error {
	out := make([]byte, 0, len(p.prefix)+len(line)+1)
	out = append(append(out, p.prefix...), line...)
	if addNewline {
		out = append(out, '\n')
	}
	_, err := p.w.Write(out)
	return err
}

// Flush writes a final line that did not end with a newline.
func (p *prefixWriter) Flush() {
	if len(p.buf) > 0 {
		p.emit(p.buf, true)
		p.buf = p.buf[:0]
	}
}

func runShell(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	rf.addDelegateFlag()
	endpoint := fs.String("config", remoting.DefaultEndpoint, "the `ENDPOINT` (session configuration) to open the shell in")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	if _, err := remoting.ParseMode(*rf.delegate); *rf.delegate != "" && err != nil {
		return badMode(*rf.delegate)
	}
	tty, ok := e.stdin.(*os.File)
	if !ok {
		return fmt.Errorf("hop shell needs a terminal on standard input: run a command with hop exec instead")
	}
	d, err := e.newDialer(rf)
	if err != nil {
		return err
	}
	defer func() { d.done() }() // loginUser adds to it
	if err := d.checkCredential(ctx); err != nil {
		return err
	}
	if err := d.loginUser(ctx, e, *rf.user, *rf.passwordFile); err != nil {
		return err
	}
	if err := d.applyPolicy(ctx, e); err != nil {
		return err
	}
	conn, err := d.dial(ctx, pos[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	return remoteExit(conn.Shell(ctx, *endpoint, tty))
}

func runEndpoints(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	d, err := e.newDialer(rf)
	if err != nil {
		return err
	}
	defer d.done()
	conn, err := d.dial(ctx, pos[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	eps, err := conn.Endpoints(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if eps == nil {
			eps = []remoting.EndpointInfo{}
		}
		b, err := json.MarshalIndent(eps, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tALLOWED\tRUN AS\tDELEGATION")
	for _, ep := range eps {
		runAs := ep.RunAs
		if runAs == "" {
			runAs = "(your account)"
		}
		allowed := "no"
		if ep.Allowed {
			allowed = "yes"
		}
		modes := make([]string, len(ep.Delegation))
		for i, m := range ep.Delegation {
			modes[i] = string(m)
		}
		deleg := strings.Join(modes, ",")
		if deleg == "" {
			deleg = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ep.Name, ep.Type, allowed, runAs, deleg)
	}
	tw.Flush()
	for _, ep := range eps {
		if ep.Type == "jea" && ep.Allowed {
			fmt.Fprintf(e.stdout, "\n%s: the commands you may run (hop exec %s --config %s -- COMMAND):\n", ep.Name, conn.Host(), ep.Name)
			if len(ep.Commands) == 0 {
				fmt.Fprintln(e.stdout, "  (none)")
			}
			for _, l := range ep.Commands {
				fmt.Fprintf(e.stdout, "  %s\n", l)
			}
		}
	}
	return nil
}
