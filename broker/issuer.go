package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/kcm"
)

// An Issuer obtains the session's tickets from the KDC, one target at a
// time, when a program in the session asks for one the cache does not
// hold. Each delegation mode is one Issuer; mode none has none.
type Issuer interface {
	// Ticket returns a ticket to target in the name of the session's
	// principal, or the KDC's refusal.
	Ticket(ctx context.Context, target krb5.Principal) (*client.Credential, error)
	// How says in a sentence how the issuer obtains tickets (hop tickets
	// shows it).
	How() string
	// Holds lists the credential material the issuer keeps (the tickets
	// it obtained are in the session's cache, not here).
	Holds() []kcm.Holding
	// Close zeroes the keys the issuer holds.
	Close()
}

// KDC reaches a realm's KDCs.
type KDC struct {
	// Addrs are the KDCs' addresses (HOST:PORT), tried in order.
	Addrs []string
	// Timeout bounds each exchange (0: 5 seconds).
	Timeout time.Duration
	// Now is the clock of the requests (nil: time.Now).
	Now func() time.Time
}

// exchange runs fn against each KDC until one answers: a KDC's refusal
// (*client.Error) is the answer, a network failure tries the next.
func (k *KDC) exchange(ctx context.Context, fn func(*client.Conn) (*client.Credential, error)) (*client.Credential, error) {
	if len(k.Addrs) == 0 {
		return nil, errors.New("broker: krb5.conf names no KDC for the realm")
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var errs []error
	for _, addr := range k.Addrs {
		conn := client.Dial(addr, client.UDPThenTCP, timeout)
		cred, err := fn(conn)
		conn.Close()
		var kerr *client.Error
		if err == nil || errors.As(err, &kerr) || ctx.Err() != nil {
			return cred, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return nil, fmt.Errorf("broker: no KDC answered: %w", errors.Join(errs...))
}

func (k *KDC) request(target krb5.Principal) *client.Request {
	return &client.Request{Service: target.Name, Realm: target.Realm, Options: krb5.OptCanonicalize, Now: k.Now}
}

// Forwarded is mode forward: the TGT the client forwarded, used for any
// target; with Fresh, mode credssp: a TGT the host got with the password
// the client sent.
type Forwarded struct {
	TGT   *client.Credential
	KDC   KDC
	Fresh bool
}

// Ticket asks the TGT's KDC for a ticket to target.
func (f *Forwarded) Ticket(ctx context.Context, target krb5.Principal) (*client.Credential, error) {
	return f.KDC.exchange(ctx, func(c *client.Conn) (*client.Credential, error) {
		return c.ServiceTicket(ctx, f.TGT, f.KDC.request(target))
	})
}

// How implements Issuer.
func (f *Forwarded) How() string {
	if f.Fresh {
		return "with a ticket-granting ticket of " + f.TGT.Client.String() + " got on this host with the password the client sent (fresh credentials, as CredSSP delegates them)"
	}
	return "with the ticket-granting ticket " + f.TGT.Client.String() + " forwarded from the first host (unconstrained delegation)"
}

// Holds implements Issuer: the TGT, and for fresh credentials the
// password it was got with.
func (f *Forwarded) Holds() []kcm.Holding {
	tgt := holding(kcm.HoldTGT, f.TGT, "forwarded from the first host: tickets to any service until it expires")
	if !f.Fresh {
		return []kcm.Holding{tgt}
	}
	tgt.Note = "got on this host with the password: tickets to any service until it expires"
	return []kcm.Holding{{Kind: kcm.HoldPassword, Principal: f.TGT.Client.String(), Note: "sent by the client; used to log on when the session started, then erased"}, tgt}
}

// holding describes a credential.
func holding(kind string, c *client.Credential, note string) kcm.Holding {
	h := kcm.Holding{Kind: kind, Principal: c.Client.String(), Target: c.Server.String(), Note: note}
	if !c.EndTime.IsZero() {
		h.Expires = c.EndTime.UTC().Format(time.RFC3339)
	}
	return h
}

// Close zeroes the TGT's session key.
func (f *Forwarded) Close() { zeroKey(f.TGT.SessionKey) }

// Constrained is mode constrained: the host asks for each ticket with
// S4U2Proxy (MS-SFU §3.2.5.2), its own TGT and the user's ticket to the
// host as evidence; the KDC applies the directory's constrained (KCD) and
// resource-based (RBCD) rules. Nothing the user could reuse reaches the
// host: the evidence is a ticket sealed with the host's own key, whose
// session key the agent does not keep.
type Constrained struct {
	// Evidence is the user's ticket to the host (Client and Ticket are
	// used; its session key is not needed and not kept).
	Evidence *client.Credential
	// Service is the host's principal; ServiceTGT returns its TGT.
	Service    krb5.Principal
	ServiceTGT func(ctx context.Context) (*client.Credential, error)
	KDC        KDC
}

// Ticket performs S4U2Proxy for target, asking for resource-based
// delegation too (PA-PAC-OPTIONS, MS-SFU §2.2.5): the KDC tries the
// service's msDS-AllowedToDelegateTo first, then the target's
// msDS-AllowedToActOnBehalfOfOtherIdentity.
func (c *Constrained) Ticket(ctx context.Context, target krb5.Principal) (*client.Credential, error) {
	tgt, err := c.ServiceTGT(ctx)
	if err != nil {
		return nil, fmt.Errorf("broker: the host's own ticket (%s): %w", c.Service, err)
	}
	return c.KDC.exchange(ctx, func(conn *client.Conn) (*client.Credential, error) {
		r := c.KDC.request(target)
		r.Evidence, r.ResourceBased = c.Evidence, true
		return conn.ServiceTicket(ctx, tgt, r)
	})
}

// How implements Issuer.
func (c *Constrained) How() string {
	return "with S4U2Proxy as " + c.Service.String() + " for each target, " + c.Evidence.Client.String() + "'s ticket to this host as evidence; the KDC applies the domain's constrained and resource-based delegation rules"
}

// Holds implements Issuer: the evidence ticket.
func (c *Constrained) Holds() []kcm.Holding {
	return []kcm.Holding{holding(kcm.HoldEvidence, c.Evidence, "sealed with this host's key, without its session key: usable only by this host, with S4U2Proxy, where the domain allows")}
}

// Close implements Issuer: Constrained holds no key of the user's.
func (c *Constrained) Close() {}

// Keytab is an account's own identity from its key: the RunAs account of a
// RunAs endpoint, the host (or its network_identity) for a JEA endpoint.
// The session never sees the key: only the tickets the broker obtains.
type Keytab struct {
	Principal krb5.Principal
	// Key returns the account's key (the newest, strongest of a keytab).
	Key func() (*crypto.Key, error)
	KDC KDC

	mu  sync.Mutex
	tgt *client.Credential
}

// TGT returns the account's TGT, logging on with the key when there is
// none or it is about to expire.
func (k *Keytab) TGT(ctx context.Context) (*client.Credential, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.login(ctx)
}

func (k *Keytab) login(ctx context.Context) (*client.Credential, error) {
	now := time.Now
	if k.KDC.Now != nil {
		now = k.KDC.Now
	}
	if k.tgt != nil && k.tgt.EndTime.Sub(now()) >= time.Minute {
		return k.tgt, nil
	}
	key, err := k.Key()
	if err != nil {
		return nil, err
	}
	tgt, err := k.KDC.exchange(ctx, func(c *client.Conn) (*client.Credential, error) {
		return c.LoginWithKey(ctx, &client.Request{Client: k.Principal, ETypes: []krb5.EncType{key.EncType()}, Now: k.KDC.Now}, key)
	})
	zeroKey(key)
	if err != nil {
		return nil, err
	}
	k.tgt = tgt
	return tgt, nil
}

// Ticket asks for a ticket to target with the account's TGT. After a
// refusal the TGT is dropped: the next request logs on again (the keys
// may have changed, a host joined again).
func (k *Keytab) Ticket(ctx context.Context, target krb5.Principal) (*client.Credential, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tgt, err := k.login(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := k.KDC.exchange(ctx, func(c *client.Conn) (*client.Credential, error) {
		return c.ServiceTicket(ctx, tgt, k.KDC.request(target))
	})
	if err != nil {
		// Dropped, not zeroed: a caller of TGT may still be using it.
		k.tgt = nil
	}
	return cred, err
}

// How implements Issuer.
func (k *Keytab) How() string {
	return "as " + k.Principal.String() + ", with its key, which the session cannot read"
}

// Holds implements Issuer: the account's key (read from its keytab for
// each logon, and zeroed after).
func (k *Keytab) Holds() []kcm.Holding {
	return []kcm.Holding{{Kind: kcm.HoldAccountKey, Principal: k.Principal.String(), Note: "the account's own key, in a keytab on this host: no user's credential"}}
}

// Close zeroes the TGT's session key; the Keytab must not be used after.
func (k *Keytab) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tgt != nil {
		zeroKey(k.tgt.SessionKey)
		k.tgt = nil
	}
}

func zeroKey(k *crypto.Key) {
	if k != nil {
		k.Zero()
	}
}

// LoginWithPassword logs p on with its password, for a credential passed
// into a session (remoting.CredentialRequest). The long-term key made from
// the password is zeroed at once; only the TGT is kept.
func (k *KDC) LoginWithPassword(ctx context.Context, p krb5.Principal, password []byte) (*client.Credential, error) {
	var keys []*crypto.Key
	cred, err := k.exchange(ctx, func(c *client.Conn) (*client.Credential, error) {
		cred, key, err := c.LoginSecret(ctx, &client.Request{Client: p, Now: k.Now}, password)
		keys = append(keys, key)
		return cred, err
	})
	for _, key := range keys {
		zeroKey(key)
	}
	return cred, err
}

// RemoteGuard is mode remote-guard (Remote Credential Guard): the host
// holds nothing of the user's but the service tickets it is given; for
// each one it asks the client on the first host (Ask, over the session's
// connection), which obtains it with its own TGT and may refuse. When the
// connection ends Ask fails and nothing more can be obtained.
type RemoteGuard struct {
	// Client is whose tickets they are (the session's user).
	Client krb5.Principal
	// Ask asks the client for a ticket to target.
	Ask func(ctx context.Context, target krb5.Principal) (*client.Credential, error)
}

// Ticket asks the client, and checks that what comes back is Client's
// ticket to target: the client is trusted with the user's identity, not
// with naming another.
func (g *RemoteGuard) Ticket(ctx context.Context, target krb5.Principal) (*client.Credential, error) {
	cred, err := g.Ask(ctx, target)
	if err != nil {
		return nil, err
	}
	if !cred.Client.Name.Equal(g.Client.Name) || !cred.Client.Realm.Equal(g.Client.Realm) || !cred.Server.Name.Equal(target.Name) {
		zeroKey(cred.SessionKey)
		return nil, fmt.Errorf("broker: the client answered with a ticket of %s to %s, not of %s to %s", cred.Client, cred.Server, g.Client, target)
	}
	return cred, nil
}

// How implements Issuer.
func (g *RemoteGuard) How() string {
	return "by asking " + g.Client.String() + "'s client on the first host for each ticket (remote credential guard): this host never holds a ticket-granting ticket"
}

// Holds implements Issuer: nothing but the tickets the client gave,
// which are in the session's cache.
func (g *RemoteGuard) Holds() []kcm.Holding { return nil }

// Close implements Issuer: RemoteGuard holds no key.
func (g *RemoteGuard) Close() {}
