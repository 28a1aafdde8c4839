package kcm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
)

// Client is a connection to a KCM server. Its methods may be called from
// several goroutines; requests go one at a time.
type Client struct {
	mu   sync.Mutex
	conn net.Conn
}

// Dial connects to the KCM server listening on the unix socket path.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("kcm: connect to %s: %w (is the credential broker running? kcm_socket in krb5.conf names it)", path, err)
	}
	return &Client{conn: c}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Do sends req and returns the reply; a reply whose status is not 0 is
// returned as that Status error.
func (c *Client) Do(ctx context.Context, req *Request) (*Reply, error) {
	b, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Time{}
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	defer stop()
	if err := writeRequest(c.conn, b); err != nil {
		return nil, fmt.Errorf("kcm: send %s: %w", req.Op, err)
	}
	rb, err := readReply(c.conn)
	if err != nil {
		return nil, err
	}
	rep, err := DecodeReply(req.Op, rb)
	if err != nil {
		return nil, err
	}
	if rep.Status != StatusOK {
		return nil, rep.Status
	}
	return rep, nil
}

// DefaultCache returns the name of the peer's default cache.
func (c *Client) DefaultCache(ctx context.Context) (string, error) {
	rep, err := c.Do(ctx, &Request{Op: OpGetDefaultCache})
	if err != nil {
		return "", err
	}
	return rep.Name, nil
}

// Principal returns the principal of the cache name; ErrNoCache when the
// cache does not exist or is not initialized.
func (c *Client) Principal(ctx context.Context, name string) (krb5.Principal, error) {
	rep, err := c.Do(ctx, &Request{Op: OpGetPrincipal, Name: name})
	if err != nil {
		return krb5.Principal{}, err
	}
	return rep.Principal, nil
}

// Initialize empties the cache name (creating it) and sets its principal.
func (c *Client) Initialize(ctx context.Context, name string, p krb5.Principal) error {
	_, err := c.Do(ctx, &Request{Op: OpInitialize, Name: name, Principal: p})
	return err
}

// Store adds cred to the cache name.
func (c *Client) Store(ctx context.Context, name string, cred *ccache.Credential) error {
	_, err := c.Do(ctx, &Request{Op: OpStore, Name: name, Credential: cred})
	return err
}

// Destroy removes the cache name.
func (c *Client) Destroy(ctx context.Context, name string) error {
	_, err := c.Do(ctx, &Request{Op: OpDestroy, Name: name})
	return err
}

// Retrieve returns the newest credential of the cache name that m matches
// under flags (TCMatch…); ErrNotFound when there is none.
func (c *Client) Retrieve(ctx context.Context, name string, flags uint32, m *Match) (*ccache.Credential, error) {
	rep, err := c.Do(ctx, &Request{Op: OpRetrieve, Name: name, Flags: flags, Match: m})
	if err != nil {
		return nil, err
	}
	return rep.Credential, nil
}

// Credentials returns the credentials of the cache name, configuration
// entries included, with GET_CRED_LIST or, from a server without it, one
// GET_CRED_BY_UUID per credential, as MIT's client does.
func (c *Client) Credentials(ctx context.Context, name string) ([]ccache.Credential, error) {
	rep, err := c.Do(ctx, &Request{Op: OpGetCredList, Name: name})
	if err == nil {
		return rep.Credentials, nil
	}
	var st Status
	if !errors.As(err, &st) || !st.Unsupported() {
		return nil, err
	}
	rep, err = c.Do(ctx, &Request{Op: OpGetCredUUIDList, Name: name})
	if err != nil {
		return nil, err
	}
	if len(rep.UUIDs) > MaxListCredentials {
		return nil, fmt.Errorf("%w: %d credentials, more than %d", ErrMalformed, len(rep.UUIDs), MaxListCredentials)
	}
	var out []ccache.Credential
	for _, u := range rep.UUIDs {
		r, err := c.Do(ctx, &Request{Op: OpGetCredByUUID, Name: name, UUID: u})
		if errors.Is(err, ErrEnd) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *r.Credential)
	}
	return out, nil
}
