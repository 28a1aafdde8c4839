package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/tickets"
	"hop/remoting"
)

// DefaultPort is the agent's port when neither the host nor Options name
// one.
const DefaultPort = 22

// DefaultTimeout bounds connecting and the SSH handshake when
// Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Options say how Dial reaches and authenticates to an agent.
type Options struct {
	// Port is the agent's TCP port (0: DefaultPort). A port in Dial's host
	// argument ("b.example.test:2222") wins.
	Port int
	// Address, if set, is the network address to connect to ("127.0.0.2"
	// or "127.0.0.2:2222") instead of the host's name, like OpenSSH's
	// HostName; the name still chooses the ticket (host/<name>) and the
	// registered host keys. A port in Dial's host argument wins over
	// Address's, as what the user typed.
	Address string
	// AddressFrom says, in the message of a failed connection, where the
	// address and port were set, e.g. "address from agent_address for
	// b.example.test in krb5.conf's [hop] section, port from --port"
	// ("": the default hint, --port or agent_port).
	AddressFrom string
	// Source gives the user's tickets (required).
	Source *tickets.Source
	// HostKeys gives the keys the host may present (required): there is
	// no trust on first use.
	HostKeys HostKeySource
	// Timeout bounds the TCP connection and the SSH handshake
	// (0: DefaultTimeout).
	Timeout time.Duration
	// Stderr receives the agent's banners when the login succeeds (nil:
	// discarded), without control characters (a banner is the host's
	// text: it must not drive the user's terminal). A banner sent with a
	// refusal becomes Dial's error.
	Stderr io.Writer
	// DialContext opens the TCP connection (nil: a net.Dialer).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock of the Kerberos authenticator (nil: time.Now).
	Now func() time.Time
	// Delegate is the delegation mode of the connection's sessions: what
	// a session on the host may use to reach other hosts (""; the agent's
	// default, none). For ModeForward, Dial forwards a TGT in the GSS-API
	// authentication, only when the host's ticket carries OK-AS-DELEGATE
	// (the domain trusts the host for delegation, MS-KILE §3.3.5.7.5) and
	// the TGT is forwardable; otherwise it refuses and says which is
	// missing.
	Delegate remoting.Mode
	// Guard says which tickets the client serves, in mode remote-guard
	// (nil: any service, DefaultGuardLifetime).
	Guard *Guard
	// Credentials are passed into every session of the connection
	// (remoting.CredentialRequest): the agent logs each on and keeps the
	// TGT in the session's broker, in the cache
	// remoting.CredentialCache(Name).
	Credentials []Credential
}

// Credential is a credential to pass into a session: an account's name
// and its password.
type Credential struct {
	Name   string
	Secret []byte
}

// Conn is an authenticated SSH connection to a host's agent.
type Conn struct {
	host        string // the FQDN
	client      *ssh.Client
	delegate    remoting.Mode
	credentials []Credential
}

// Host returns the host's name.
func (c *Conn) Host() string { return c.host }

// Close closes the connection; the agent ends its sessions.
func (c *Conn) Close() error { return c.client.Close() }

// SplitHost splits "host" or "host:port" into the host's DNS name (lower
// case, no final dot) and the port (0 when none is given).
func SplitHost(hostport string) (string, int, error) {
	host, port := hostport, 0
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return "", 0, &Error{Host: hostport, Msg: fmt.Sprintf("%q is not a port number", p)}
		}
		host, port = h, n
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return "", 0, &Error{Host: hostport, Msg: "no host name: give the host's DNS name (e.g. b.example.test)"}
	}
	if net.ParseIP(host) != nil {
		return "", 0, &Error{Host: host, Msg: "give the host's DNS name, not an address: its Kerberos name is host/<DNS name> (set the address to connect to apart, e.g. agent_address in krb5.conf's [hop] section)"}
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return "", 0, &Error{Host: host, Msg: "not a DNS name"}
		}
	}
	return host, port, nil
}

// Dial connects to the agent of host ("b.example.test" or
// "b.example.test:2222"), checks its host key against o.HostKeys and logs
// on with the user's Kerberos ticket for host/<host>. A short name ("b")
// is first resolved to the host's DNS name (ResolveHost).
func Dial(ctx context.Context, host string, o Options) (*Conn, error) {
	if o.Source == nil || o.HostKeys == nil {
		return nil, errors.New("remote: Dial needs Options.Source and Options.HostKeys")
	}
	host, err := ResolveHost(ctx, o.HostKeys, host)
	if err != nil {
		return nil, err
	}
	fqdn, hostPort, err := SplitHost(host)
	if err != nil {
		return nil, err
	}
	port := hostPort
	if port == 0 {
		port = o.Port
	}
	if port == 0 {
		port = DefaultPort
	}
	addr := net.JoinHostPort(fqdn, strconv.Itoa(port))
	if o.Address != "" {
		addr = o.Address
		if h, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(addr, strconv.Itoa(port))
		} else if hostPort != 0 {
			addr = net.JoinHostPort(h, strconv.Itoa(hostPort))
		}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	cred, err := o.Source.ServiceTicket(ctx, tickets.HostService("host", fqdn))
	if err != nil {
		return nil, ticketError(fqdn, err)
	}
	var forward *client.Credential
	if o.Delegate == remoting.ModeForward {
		if !cred.Flags.Has(krb5.TktOKAsDelegate) {
			// The cached ticket may predate the domain's trust: ask now.
			if fresh, err := o.Source.FreshServiceTicket(ctx, tickets.HostService("host", fqdn)); err == nil {
				cred = fresh
			}
		}
		if forward, err = forwardedTGT(ctx, fqdn, cred, o.Source); err != nil {
			return nil, err
		}
	}
	keys, err := o.HostKeys.Keys(ctx, fqdn)
	if err != nil {
		return nil, &Error{Host: fqdn, Msg: "cannot check the host's identity: " + err.Error() + unreachableHint(err), Err: err}
	}
	if len(keys) == 0 {
		return nil, &Error{Host: fqdn, Msg: fmt.Sprintf("no SSH host key is registered for it in %s, so its identity cannot be checked: join the host (hop host join registers its keys)%s",
			sourceName(o.HostKeys), map[bool]string{true: "", false: " or refresh the file (hop known-hosts)"}[isDirectory(o.HostKeys)])}
	}

	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := o.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(dctx, "tcp", addr)
	if err != nil {
		return nil, connectError(fqdn, addr, o.AddressFrom, timeout, err)
	}

	var (
		mu      sync.Mutex
		banners []string
	)
	user := cred.Client.Name.String()
	if len(cred.Client.Name.Components) > 0 {
		user = cred.Client.Name.Components[0]
	}
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              []ssh.AuthMethod{ssh.GSSAPIWithMICAuthMethod(&gssClient{host: fqdn, cred: cred, forward: forward, now: o.Now}, fqdn)},
		HostKeyCallback:   hostKeyCallback(fqdn, sourceName(o.HostKeys), keys),
		HostKeyAlgorithms: hostKeyAlgorithms(keys),
		BannerCallback: func(msg string) error {
			mu.Lock()
			defer mu.Unlock()
			if len(banners) < maxBanners {
				if len(msg) > maxBannerLen {
					msg = msg[:maxBannerLen]
				}
				banners = append(banners, msg)
			}
			return nil
		},
		Timeout: timeout,
	}
	// The handshake is bounded by the timeout and by ctx.
	deadline, _ := dctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	stopped := stop()
	if err != nil {
		nc.Close()
		mu.Lock()
		b := banners
		mu.Unlock()
		if ctx.Err() != nil {
			return nil, &Error{Host: fqdn, Msg: "interrupted", Err: ctx.Err()}
		}
		if !stopped && dctx.Err() != nil {
			return nil, &Error{Host: fqdn, Msg: fmt.Sprintf("the SSH handshake with %s did not finish within %s: is it a hop agent (or sshd) there?", addr, timeout), Err: err}
		}
		return nil, handshakeError(fqdn, addr, b, err)
	}
	nc.SetDeadline(time.Time{})
	if o.Stderr != nil {
		for _, b := range banners {
			io.WriteString(o.Stderr, bannerLines(b))
		}
	}
	cl := ssh.NewClient(sc, chans, reqs)
	if o.Delegate == remoting.ModeRemoteGuard {
		g := o.Guard
		if g == nil {
			g = &Guard{}
		}
		go serveGuard(cl.HandleChannelOpen(remoting.TicketChannel), g, o.Source)
	}
	return &Conn{host: fqdn, client: cl, delegate: o.Delegate, credentials: o.Credentials}, nil
}

// forwardedTGT is the TGT to delegate to host for mode forward (RFC 4121
// §4.1.1.1): only to a host the domain trusts for delegation, whose
// ticket carries OK-AS-DELEGATE, as Windows' and MIT's clients (with
// ok_as_delegate honoured) decide, and only a forwardable TGT.
func forwardedTGT(ctx context.Context, host string, hostTicket *client.Credential, src *tickets.Source) (*client.Credential, error) {
	if !hostTicket.Flags.Has(krb5.TktOKAsDelegate) {
		account, _, _ := strings.Cut(host, ".")
		return nil, &Error{Host: host, Msg: fmt.Sprintf("--delegate forward refused here, on this host: the domain does not trust %s for delegation (its ticket %s lacks OK-AS-DELEGATE; a domain admin may set it: hop account set '%s$' --trusted-for-delegation); nothing was sent. Use --delegate constrained, which lets the domain choose the targets", host, hostTicket.Server, account)}
	}
	tgt, err := src.ForwardedTGT(ctx)
	if errors.Is(err, tickets.ErrNotForwardable) {
		return nil, &Error{Host: host, Msg: "--delegate forward refused here, on this host: " + strings.TrimPrefix(err.Error(), "tickets: "), Err: err}
	}
	if err != nil {
		return nil, ticketError(host, err)
	}
	return tgt, nil
}

func sourceName(s HostKeySource) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return "the directory"
}

func isDirectory(s HostKeySource) bool {
	_, ok := s.(KnownHostsFile)
	return !ok
}

// String names the source in messages.
func (DirectoryHostKeys) String() string { return "the directory" }

// String names the source in messages.
func (k KnownHostsFile) String() string { return k.Path }
