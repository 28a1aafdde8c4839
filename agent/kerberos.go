package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"hop/admin"
	"hop/broker"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/gssapi"
	"hop/krb5/keytab"
	"hop/krb5/service"
)

// hostKeytab is the host keytab, read again when the file changes (a
// new hop host join rotates the keys under a running agent).
type hostKeytab struct {
	path string

	mu   sync.Mutex
	kt   *keytab.Keytab
	mod  time.Time
	size int64
}

func (h *hostKeytab) get() (*keytab.Keytab, error) {
	fi, err := os.Stat(h.path)
	if err != nil {
		return nil, fmt.Errorf("agent: keytab: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.kt != nil && fi.ModTime().Equal(h.mod) && fi.Size() == h.size {
		return h.kt, nil
	}
	kt, err := keytab.Load(h.path)
	if err != nil {
		if h.kt != nil {
			return h.kt, nil // a half-written file: keep the keys we had
		}
		return nil, err
	}
	h.kt, h.mod, h.size = kt, fi.ModTime(), fi.Size()
	return kt, nil
}

// Key implements service.Keytab.
func (h *hostKeytab) Key(p krb5.Principal, e krb5.EncType, kvno uint32) (*crypto.Key, error) {
	kt, err := h.get()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, krb5.KRBAPErrNoKey)
	}
	return service.KeytabFile(kt).Key(p, e, kvno)
}

// clientKey returns p's key to log in with: the newest version, the
// strongest type hop's client offers.
func (h *hostKeytab) clientKey(p krb5.Principal) (*crypto.Key, error) {
	kt, err := h.get()
	if err != nil {
		return nil, err
	}
	for _, e := range client.DefaultETypes {
		ent, err := kt.Find(p, 0, e)
		if err != nil {
			continue
		}
		k, err := crypto.NewKey(ent.EncType, ent.Key)
		clear(ent.Key)
		if err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("agent: the keytab %s has no AES key for %s: join the host (hop host join --name %s)", h.path, p, strings.Join(p.Name.Components[1:], "/"))
}

// hostIdentity is the host's own Kerberos identity, host/<fqdn> with the
// keytab's key: for the admin API (group names) and as the service of
// constrained delegation (S4U2Proxy).
func hostIdentity(kt *hostKeytab, spn krb5.Principal, kdcs []string, now func() time.Time) *broker.Keytab {
	return &broker.Keytab{Principal: spn, Key: func() (*crypto.Key, error) { return kt.clientKey(spn) }, KDC: broker.KDC{Addrs: kdcs, Now: now}}
}

// adminResolver resolves group names with the admin API.
type adminResolver struct{ client *admin.Client }

func (r adminResolver) GroupSID(ctx context.Context, name string) (string, error) {
	g, err := r.client.Group(ctx, name)
	if errors.Is(err, admin.ErrNotFound) {
		return "", fmt.Errorf("%w: %w", ErrNoSuchGroup, err)
	}
	if err != nil {
		return "", err
	}
	return g.SID, nil
}

// newAdminResolver is the admin API at url, authenticated as the host,
// trusting an https server by pin (if set). The answers must be authentic
// (admin.ClientOptions.AuthenticatedReplies): SPNEGO authenticates the
// request, not the reply, so over plain HTTP anyone on the path could
// answer a group name with the SID of a group everybody is in (Domain
// Users) and open the host to every user.
// hostAddress maps the admin server's name to its address (krb5.conf's
// [hop] admin_address; nil: DNS).
func newAdminResolver(url, pin string, hostAddress func(string) (string, bool), host *broker.Keytab) (GroupResolver, error) {
	c, err := admin.NewClient(url, admin.ClientOptions{
		HostAddress: hostAddress,
		Credential: func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error) {
			return host.Ticket(ctx, krb5.Principal{Name: spn, Realm: host.Principal.Realm})
		},
		TLSPin:               pin,
		AuthenticatedReplies: true,
		Timeout:              30 * time.Second,
	})
	var ue *admin.URLError
	switch {
	case errors.As(err, &ue) && ue.Insecure:
		return nil, fmt.Errorf("agent: admin_url %s is plain HTTP to another host: the group SIDs it answers could be forged by anyone on the network path; use the admin server's https URL (with admin_tls_pin in krb5.conf), or name the groups by SID", url)
	case errors.As(err, &ue):
		return nil, fmt.Errorf("agent: admin_url %q is not an http(s)://HOST:PORT URL", url)
	case err != nil:
		return nil, fmt.Errorf("agent: %w", err)
	}
	return adminResolver{c}, nil
}

// gssServer is the ssh.GSSAPIServer of one connection: the Kerberos V5
// acceptor of package gssapi (RFC 4462 §3.4, §3.5).
type gssServer struct {
	c      *conn
	ctx    *gssapi.Context
	failed error
}

// AcceptSecContext accepts the client's one AP-REQ and returns the
// AP-REP. A refused AP-REQ is answered with a KRB-ERROR token (RFC 4121
// §4.1, carrying only the error code), which the initiator's
// GSS_Init_sec_context turns into its error (hop's client: a
// *gssapi.KRBError whose code says what to do, e.g. KRB_AP_ERR_SKEW or
// KRB_AP_ERR_TKT_EXPIRED); the exchange ends there.
func (g *gssServer) AcceptSecContext(token []byte) ([]byte, string, bool, error) {
	a := g.c.agent
	if g.failed != nil {
		return nil, "", false, g.failed
	}
	ctx, out, err := a.gss.Accept(token, nil)
	if err != nil {
		g.c.refuse("", service.Code(err).String(), a.explainAuthError(err)+" ("+err.Error()+")")
		g.failed = err
		if tok, terr := a.gss.ErrorToken(err, a.spn); terr == nil {
			return tok, "", true, nil
		}
		return nil, "", false, err
	}
	g.ctx = ctx
	return out, ctx.Client().String(), false, nil
}

// VerifyMIC checks the client's MIC over the session identifier.
func (g *gssServer) VerifyMIC(micField, micToken []byte) error {
	if g.ctx == nil {
		return errors.New("agent: no security context")
	}
	if err := g.ctx.VerifyMIC(micField, micToken); err != nil {
		g.c.refuse(g.ctx.Client().String(), "", "the gssapi-with-mic MIC does not verify: "+err.Error())
		return err
	}
	g.c.mu.Lock()
	g.c.gss = g.ctx
	g.c.mu.Unlock()
	return nil
}

// DeleteSecContext forgets the context (the connection keeps the
// authenticated one).
func (g *gssServer) DeleteSecContext() error {
	g.ctx = nil
	return nil
}

// explainAuthError turns an acceptor refusal into the one line a user
// reads in the SSH banner.
func (a *Agent) explainAuthError(err error) string {
	h := a.cfg.Host
	switch service.Code(err) {
	case krb5.KRBAPErrTktExpired:
		return fmt.Sprintf("hop agent on %s: your ticket expired: run hop login (or kinit) and try again", h)
	case krb5.KRBAPErrSkew:
		return fmt.Sprintf("hop agent on %s: your clock and this host's differ by more than %v: fix the clocks (NTP) and try again", h, time.Duration(a.cfg.ClockSkew))
	case krb5.KRBAPErrTktNYV:
		return fmt.Sprintf("hop agent on %s: your ticket is not valid yet (clock skew?): check the clocks", h)
	case krb5.KRBAPErrRepeat:
		return fmt.Sprintf("hop agent on %s: this authenticator was already used (a replay); refused", h)
	case krb5.KRBAPErrNotUs, krb5.KRBAPErrBadKeyVer, krb5.KRBAPErrNoKey, krb5.KRBAPErrBadIntegrity:
		return fmt.Sprintf("hop agent on %s: the ticket is not for this host's key (host/%s, keytab %s): if the host was joined again, get a new ticket (kdestroy, hop login); else re-join it (hop host join)", h, h, a.cfg.Keytab)
	case krb5.KRBAPErrModified:
		return fmt.Sprintf("hop agent on %s: the ticket's PAC does not verify; refused", h)
	}
	return fmt.Sprintf("hop agent on %s: Kerberos authentication failed (%v)", h, service.Code(err))
}

// acceptHost is the acceptor's AcceptServer: host/<fqdn>@REALM only.
func acceptHost(spn krb5.Principal) func(krb5.Principal) bool {
	return func(p krb5.Principal) bool {
		return p.Realm.Equal(spn.Realm) && slices.Equal(lowerAll(p.Name.Components), lowerAll(spn.Name.Components)) && p.Name.Components[0] == "host"
	}
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}
