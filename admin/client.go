package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hop/delegation"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is a Service on a remote hop admin server. Its HTTP client
// authenticates the requests (spnego's RoundTripper in hop's CLI).
type Client struct {
	// URL is the server's base URL, e.g. https://kdc.example.test:8749.
	URL string
	// HTTP sends the requests; nil = http.DefaultClient.
	HTTP *http.Client
}

var _ Service = (*Client)(nil)

// maxReplyBytes caps a reply body the client reads.
const maxReplyBytes = 64 << 20

func (c *Client) do(ctx context.Context, method, path string, query url.Values, rev uint64, in, out any) error {
	u := strings.TrimRight(c.URL, "/") + path
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
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin server %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return fmt.Errorf("admin server %s: reading the reply: %w", c.URL, err)
	}
	if len(b) > maxReplyBytes {
		return fmt.Errorf("admin server %s: the reply is larger than %d bytes", c.URL, maxReplyBytes)
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
			return newError(resp.StatusCode, KindUnauthenticated, fmt.Sprintf("admin server %s: authentication failed (%s): get a Kerberos ticket with kinit or hop login", c.URL, resp.Status))
		}
		return newError(resp.StatusCode, KindInternal, fmt.Sprintf("admin server %s answered %s", c.URL, resp.Status))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin server %s: the reply does not decode: %w", c.URL, err)
	}
	return nil
}

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

// HostKeys returns a host's registered SSH host keys.
func (c *Client) HostKeys(ctx context.Context, host string) ([]string, error) {
	return list[string](c, ctx, "/v1/hosts/"+seg(host)+"/ssh-keys", nil)
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
