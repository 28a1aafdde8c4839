package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hop/delegation"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/spnego"
)

// Client is a Service on a remote hop admin server. Make one with
// NewClient.
type Client struct {
	url  string // the server's base URL, without a trailing slash
	http *http.Client
	anon *http.Client // without Kerberos (HostKeys)
	tr   *http.Transport
}

// ClientOptions say how a Client authenticates and whom it trusts. The zero
// value is an anonymous client (token joins) that trusts https servers by
// the system's roots.
type ClientOptions struct {
	// Credential returns a Kerberos service ticket for the server's SPN
	// (HTTP/ and the URL's host name), with which every request
	// authenticates (SPNEGO, RFC 4559). Nil: requests are anonymous.
	Credential func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error)
	// TLSPin, if set, is the pin (PinPrefix + base64 SHA-256 of the public
	// key, as Pin returns) of the only key an https server may have; else
	// the server's certificate is checked against the system's roots.
	TLSPin string
	// AuthenticatedReplies says that the caller acts on what the server
	// answers (SSH host keys, group SIDs), so the answers must be
	// authentic: the URL must then be https, or plain http to this machine
	// (see NewClient). SPNEGO authenticates the request, not the reply.
	AuthenticatedReplies bool
	// Timeout bounds each request; 0 means 60 seconds.
	Timeout time.Duration
	// Dial, if set, opens the connections instead of a net.Dialer (tests
	// reach a server on an address other than the URL's host).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HostAddress, if set, gives the address (without a port) to connect
	// to for a host name, instead of resolving it: krb5.conf's
	// admin_address, for admin servers whose names are not in DNS. The
	// port stays the URL's, and so do the name the TLS pin and the SPN
	// (HTTP/NAME) are checked against.
	HostAddress func(host string) (string, bool)
}

// URLError is NewClient's refusal of an admin server URL.
type URLError struct {
	URL string
	// Insecure: the URL is well formed, but plain HTTP to another host
	// while the caller asked for authenticated replies.
	Insecure bool
}

func (e *URLError) Error() string {
	if e.Insecure {
		return fmt.Sprintf("admin: %s is plain HTTP to another host: its answers could be forged by anyone on the network path; use the admin server's https URL with admin_tls_pin in krb5.conf's [hop] section (hop client-config writes both)", e.URL)
	}
	return fmt.Sprintf("admin: %q is not an admin server URL: give http(s)://HOST:PORT", e.URL)
}

// NewClient returns a client of the admin server at rawURL
// (http(s)://HOST:PORT). It refuses, with a *URLError, a URL of another
// shape, and, when opts.AuthenticatedReplies, a URL whose replies could be
// forged in transit. The trust rule is: https, whose server is trusted by
// opts.TLSPin or the system's roots; or plain http to this machine, that
// is to a loopback address (127.0.0.0/8, ::1) or to the name "localhost"
// in any case.
func NewClient(rawURL string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, &URLError{URL: rawURL}
	}
	if opts.AuthenticatedReplies && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, &URLError{URL: rawURL, Insecure: true}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.Dial != nil {
		tr.DialContext = opts.Dial
	}
	if opts.HostAddress != nil {
		if a, ok := opts.HostAddress(strings.ToLower(u.Hostname())); ok {
			if err := redirectDial(tr, u, a); err != nil {
				return nil, err
			}
		}
	}
	if u.Scheme == "https" && opts.TLSPin != "" {
		cfg, err := PinnedTLSConfig(opts.TLSPin)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = cfg
	}
	var rt http.RoundTripper = tr
	if opts.Credential != nil {
		// Tokens are bound to the TLS channel (tls-server-end-point), so
		// that another server cannot use them.
		rt = &spnego.Transport{Base: tr, Credential: opts.Credential, Preemptive: true, TLSBindings: true}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	return &Client{url: strings.TrimRight(u.String(), "/"), http: &http.Client{Transport: rt, Timeout: timeout},
		anon: &http.Client{Transport: tr, Timeout: timeout}, tr: tr}, nil
}

// redirectDial makes tr connect to addr (an address without a port) when
// it would connect to u's host.
func redirectDial(tr *http.Transport, u *url.URL, addr string) error {
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if _, _, err := net.SplitHostPort(addr); err == nil || addr == "" {
		return fmt.Errorf("admin: admin_address for %s is %q: give the address alone, e.g. 127.0.0.1 (the port is the URL's)", u.Hostname(), addr)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	from, to := net.JoinHostPort(u.Hostname(), port), net.JoinHostPort(addr, port)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if strings.EqualFold(a, from) {
			a = to
		}
		return dial(ctx, network, a)
	}
	return nil
}

// isLoopback reports whether host names this machine: a loopback address
// or "localhost", in any case.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.url }

// Close closes the client's idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

var _ Service = (*Client)(nil)

// maxReplyBytes caps a reply body the client reads.
const maxReplyBytes = 64 << 20

func (c *Client) do(ctx context.Context, method, path string, query url.Values, rev uint64, in, out any) error {
	return c.doWith(ctx, c.http, method, path, query, rev, in, out)
}

// doWith sends a request with hc (c.http authenticates, c.anon does not).
func (c *Client) doWith(ctx context.Context, hc *http.Client, method, path string, query url.Values, rev uint64, in, out any) error {
	u := c.url + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("admin: encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if rev != 0 {
		req.Header.Set("If-Match", strconv.Quote(strconv.FormatUint(rev, 10)))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.transportError(req, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return fmt.Errorf("admin server %s: reading the reply: %w", c.url, err)
	}
	if len(b) > maxReplyBytes {
		return fmt.Errorf("admin server %s: the reply is larger than %d bytes", c.url, maxReplyBytes)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error *Error `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != nil && e.Error.Message != "" {
			e.Error.Status = resp.StatusCode
			return e.Error
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return newError(resp.StatusCode, KindUnauthenticated, fmt.Sprintf("admin server %s: authentication failed (%s): get a Kerberos ticket with kinit or hop login", c.url, resp.Status))
		}
		return newError(resp.StatusCode, KindInternal, fmt.Sprintf("admin server %s answered %s", c.url, resp.Status))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin server %s: the reply does not decode: %w", c.url, err)
	}
	return nil
}

// transportError is the error of a request that got no answer, with what
// to do when the server's name is the cause: a name that does not
// resolve, or one that is not the server's SPN.
func (c *Client) transportError(req *http.Request, err error) error {
	host := strings.ToLower(req.URL.Hostname())
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &causedError{err: err, msg: fmt.Sprintf("admin server %s: the name %s does not resolve (%v); map it to the server's address in krb5.conf's [hop] section, admin_address = { %s = ADDRESS } (hop client-config writes it), or add it to DNS or /etc/hosts",
			c.url, host, dnsErr, host)}
	case errors.Is(err, krb5.KDCErrSPrincipalUnknown):
		return &causedError{err: err, msg: fmt.Sprintf("admin server %s: the realm has no service HTTP/%s, so %s is not a name the admin server was started with (hop kdc --admin-name NAME); use the URL with that name, as admin_url in krb5.conf's [hop] section has it (hop client-config writes it, with admin_address when the name does not resolve)",
			c.url, host, host)}
	}
	return fmt.Errorf("admin server %s: %w", c.url, err)
}

// causedError is a message that says what to do, over the error that
// caused it (for errors.Is and errors.As).
type causedError struct {
	msg string
	err error
}

func (e *causedError) Error() string { return e.msg }
func (e *causedError) Unwrap() error { return e.err }

func get[T any](c *Client, ctx context.Context, path string, q url.Values) (*T, error) {
	var v T
	if err := c.do(ctx, http.MethodGet, path, q, 0, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func send[T any](c *Client, ctx context.Context, method, path string, q url.Values, rev uint64, in any) (*T, error) {
	var v T
	if err := c.do(ctx, method, path, q, rev, in, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func list[T any](c *Client, ctx context.Context, path string, q url.Values) ([]T, error) {
	v, err := get[[]T](c, ctx, path, q)
	if err != nil {
		return nil, err
	}
	return *v, nil
}

func seg(s string) string { return url.PathEscape(s) }

// Whoami returns who the server authenticated.
func (c *Client) Whoami(ctx context.Context) (*Identity, error) {
	return get[Identity](c, ctx, "/v1/whoami", nil)
}

// Domain returns the domain.
func (c *Client) Domain(ctx context.Context) (*Domain, error) {
	return get[Domain](c, ctx, "/v1/domain", nil)
}

// SetPolicy changes the domain policy.
func (c *Client) SetPolicy(ctx context.Context, p PolicyChange) (*Domain, error) {
	return send[Domain](c, ctx, http.MethodPatch, "/v1/domain/policy", nil, 0, p)
}

// Accounts lists accounts, of one kind if kind is not empty.
func (c *Client) Accounts(ctx context.Context, kind string) ([]Account, error) {
	var q url.Values
	if kind != "" {
		q = url.Values{"kind": {kind}}
	}
	return list[Account](c, ctx, "/v1/accounts", q)
}

// Account returns one account.
func (c *Client) Account(ctx context.Context, name string) (*Account, error) {
	return get[Account](c, ctx, "/v1/accounts/"+seg(name), nil)
}

// CreateAccount creates an account.
func (c *Client) CreateAccount(ctx context.Context, a NewAccount) (*Account, error) {
	return send[Account](c, ctx, http.MethodPost, "/v1/accounts", nil, 0, a)
}

// UpdateAccount changes an account's settings.
func (c *Client) UpdateAccount(ctx context.Context, name string, rev uint64, ch AccountChange) (*Account, error) {
	return send[Account](c, ctx, http.MethodPatch, "/v1/accounts/"+seg(name), nil, rev, ch)
}

// DeleteAccount deletes an account.
func (c *Client) DeleteAccount(ctx context.Context, name string, rev uint64) error {
	return c.do(ctx, http.MethodDelete, "/v1/accounts/"+seg(name), nil, rev, nil, nil)
}

// SetPassword sets or changes a password.
func (c *Client) SetPassword(ctx context.Context, name string, rev uint64, p PasswordChange) (*Account, error) {
	return send[Account](c, ctx, http.MethodPost, "/v1/accounts/"+seg(name)+"/password", nil, rev, p)
}

// AccountKeys returns an account's keys, rotating them first if asked.
func (c *Client) AccountKeys(ctx context.Context, name string, rev uint64, r KeysRequest) (*Keys, error) {
	return send[Keys](c, ctx, http.MethodPost, "/v1/accounts/"+seg(name)+"/keys", nil, rev, r)
}

// AddSPN adds an SPN to an account.
func (c *Client) AddSPN(ctx context.Context, name string, rev uint64, spn string) (*Account, error) {
	return send[Account](c, ctx, http.MethodPost, "/v1/accounts/"+seg(name)+"/spns", nil, rev, map[string]string{"spn": spn})
}

// RemoveSPN removes an SPN from an account.
func (c *Client) RemoveSPN(ctx context.Context, name string, rev uint64, spn string) (*Account, error) {
	return send[Account](c, ctx, http.MethodDelete, "/v1/accounts/"+seg(name)+"/spns", url.Values{"spn": {spn}}, rev, nil)
}

// Groups lists the groups.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	return list[Group](c, ctx, "/v1/groups", nil)
}

// Group returns one group.
func (c *Client) Group(ctx context.Context, name string) (*Group, error) {
	return get[Group](c, ctx, "/v1/groups/"+seg(name), nil)
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, g NewGroup) (*Group, error) {
	return send[Group](c, ctx, http.MethodPost, "/v1/groups", nil, 0, g)
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, name string, rev uint64) error {
	return c.do(ctx, http.MethodDelete, "/v1/groups/"+seg(name), nil, rev, nil, nil)
}

// AddMember adds a member to a group.
func (c *Client) AddMember(ctx context.Context, group string, rev uint64, member string) (*Group, error) {
	return send[Group](c, ctx, http.MethodPost, "/v1/groups/"+seg(group)+"/members", nil, rev, map[string]string{"member": member})
}

// RemoveMember removes a member from a group.
func (c *Client) RemoveMember(ctx context.Context, group string, rev uint64, member string) (*Group, error) {
	return send[Group](c, ctx, http.MethodDelete, "/v1/groups/"+seg(group)+"/members", url.Values{"member": {member}}, rev, nil)
}

// SetGroupManagers replaces a group's managers.
func (c *Client) SetGroupManagers(ctx context.Context, group string, rev uint64, managers []string) (*Group, error) {
	if managers == nil {
		managers = []string{}
	}
	return send[Group](c, ctx, http.MethodPut, "/v1/groups/"+seg(group)+"/managers", nil, rev, map[string][]string{"managers": managers})
}

// Explain explains a delegation decision.
func (c *Client) Explain(ctx context.Context, user, service, target string, s4u2self bool) (*delegation.Explanation, error) {
	q := url.Values{"user": {user}, "service": {service}, "target": {target}, "s4u2self": {strconv.FormatBool(s4u2self)}}
	return get[delegation.Explanation](c, ctx, "/v1/explain", q)
}

// CreateJoinToken creates a one-time join token.
func (c *Client) CreateJoinToken(ctx context.Context, r JoinTokenRequest) (*JoinToken, error) {
	return send[JoinToken](c, ctx, http.MethodPost, "/v1/join-tokens", nil, 0, r)
}

// Join joins a host.
func (c *Client) Join(ctx context.Context, r JoinRequest) (*Joined, error) {
	return send[Joined](c, ctx, http.MethodPost, "/v1/join", nil, 0, r)
}

// DelegationPolicy returns the domain's restriction of its clients'
// delegation modes, read without authentication as HostKeys are (a client
// in a session on another host may hold no ticket for the admin server).
func (c *Client) DelegationPolicy(ctx context.Context) (*DelegationPolicy, error) {
	var p DelegationPolicy
	err := c.doWith(ctx, c.anon, http.MethodGet, "/v1/domain/delegation-policy", nil, 0, nil, &p)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized && c.anon != c.http {
		return get[DelegationPolicy](c, ctx, "/v1/domain/delegation-policy", nil)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// HostKeys returns a host's registered SSH host keys. They are public: the
// request goes without Kerberos authentication (a hop client in a session
// with constrained delegation has no ticket for the admin server), and
// with it only when the server asks for it. Their worth is the reply's
// authenticity (https with the pin, or loopback; see NewClient).
func (c *Client) HostKeys(ctx context.Context, host string) ([]string, error) {
	path := "/v1/hosts/" + seg(host) + "/ssh-keys"
	var keys []string
	err := c.doWith(ctx, c.anon, http.MethodGet, path, nil, 0, nil, &keys)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized && c.anon != c.http {
		return list[string](c, ctx, path, nil)
	}
	return keys, err
}

// Audit reads audit events.
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]json.RawMessage, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Principal != "" {
		v.Set("principal", q.Principal)
	}
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return list[json.RawMessage](c, ctx, "/v1/audit", v)
}
