package lab

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/kcm"
	"hop/krb5/keytab"
)

// tryAfter tries, once the session has ended, everything B held during it
// or holds anyway, as an attacker in control of B would: the TGTs and the
// tickets taken from the broker, the password if it reached B, B's own key
// (S4U2Self then S4U2Proxy in the user's name), and the key of the
// endpoint's account.
func (l *lab) tryAfter(ctx context.Context, m *method, u *user, pr *probeRun, reached []string) After {
	var tries []Try
	target := principalOf("host/" + hostC)
	for _, cr := range pr.loot {
		if comps := cr.Server.Name.Components; len(comps) == 2 && comps[0] == "krbtgt" {
			tgt, err := ccache.ToClient(&cr)
			if err != nil {
				continue
			}
			tries = append(tries, l.kdcTry(ctx, "the TGT of "+cr.Client.String()+" taken from B's broker", "the TGT taken from B", func(c *client.Conn) (*client.Credential, error) {
				return c.ServiceTicket(ctx, tgt, &client.Request{Service: target.Name, Realm: target.Realm})
			}))
		}
	}
	for i, cr := range pr.loot {
		if cr.Server.Name.Equal(target.Name) {
			tries = append(tries, l.ticketTry(ctx, m, u, i, cr))
		}
	}
	if containsKind(reached, kcm.HoldPassword) {
		me := principalOf(u.name)
		tries = append(tries, l.kdcTry(ctx, "the password that reached B", "the password", func(c *client.Conn) (*client.Credential, error) {
			tgt, key, err := c.Login(ctx, &client.Request{Client: me}, u.password)
			if key != nil {
				key.Zero()
			}
			if err != nil {
				return nil, err
			}
			return c.ServiceTicket(ctx, tgt, &client.Request{Service: target.Name, Realm: target.Realm})
		}))
	}
	hostB := principalOf("host/" + hostB)
	me := principalOf(u.name)
	tries = append(tries, l.keytabTry(ctx, "B's own key: S4U2Self, then S4U2Proxy to host/c as "+u.name, "B's own key, by S4U", l.b.keytab(), hostB, func(c *client.Conn, tgt *client.Credential) (*client.Credential, error) {
		ev, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: hostB.Name, Realm: hostB.Realm, Impersonate: &me})
		if err != nil {
			return nil, fmt.Errorf("S4U2Self: %w", err)
		}
		return c.ServiceTicket(ctx, tgt, &client.Request{Service: target.Name, Realm: target.Realm, Evidence: ev, ResourceBased: true})
	}))
	switch m.id {
	case "runas", "jea":
		acct := "svc-" + m.id
		p := principalOf(acct)
		tries = append(tries, l.keytabTry(ctx, "the key of "+acct+" in its keytab on B", acct+"'s key on B", l.path("b", acct+".keytab"), p, func(c *client.Conn, tgt *client.Credential) (*client.Credential, error) {
			return c.ServiceTicket(ctx, tgt, &client.Request{Service: target.Name, Realm: target.Realm})
		}))
	}
	return summarize(u, tries)
}

func containsKind(kinds []string, k string) bool { return slices.Contains(kinds, k) }

// summarize says in a phrase what the tries show: whether anything still
// reached C as the user, with what, until when; else as whom B still
// acts (its own accounts).
func summarize(u *user, tries []Try) After {
	a := After{Tries: tries}
	me := principalOf(u.name).String()
	var with, other []string
	for _, t := range tries {
		switch {
		case !t.OK:
		case t.As == me:
			if !a.AsUser {
				a.AsUser, a.Until = true, t.Until
			}
			if !slices.Contains(with, t.Short) {
				with = append(with, t.Short)
			}
		default:
			name := strings.TrimSuffix(t.As, "@"+realm)
			if !slices.Contains(other, name) {
				other = append(other, name)
			}
		}
	}
	switch {
	case a.AsUser:
		a.Summary = fmt.Sprintf("yes, as %s, until %s: %s", u.name, clock(a.Until), strings.Join(with, "; "))
	case len(other) > 0:
		a.Summary = "nothing as " + u.name + "; B acts as " + strings.Join(other, ", ") + " (keys on B)"
	default:
		a.Summary = "nothing"
	}
	return a
}

// kdc is a connection to the lab's KDC.
func (l *lab) kdc() *client.Conn { return client.Dial(l.kdcAddrs[0], client.UDPThenTCP, 5*time.Second) }

// kdcTry asks the KDC with fn and reports the ticket or the refusal.
func (l *lab) kdcTry(ctx context.Context, with, short string, fn func(*client.Conn) (*client.Credential, error)) Try {
	c := l.kdc()
	defer c.Close()
	cred, err := fn(c)
	t := ticketResult(with, cred, err)
	t.Short = short
	return t
}

// keytabTry logs p on with its key from the keytab at path, then asks the
// KDC with fn.
func (l *lab) keytabTry(ctx context.Context, with, short, path string, p krb5.Principal, fn func(*client.Conn, *client.Credential) (*client.Credential, error)) Try {
	key, err := keytabKey(path, p)
	if err != nil {
		return Try{With: with, Short: short, Result: err.Error()}
	}
	defer key.Zero()
	return l.kdcTry(ctx, with, short, func(c *client.Conn) (*client.Credential, error) {
		tgt, err := c.LoginWithKey(ctx, &client.Request{Client: p, ETypes: []krb5.EncType{key.EncType()}}, key)
		if err != nil {
			return nil, err
		}
		defer tgt.SessionKey.Zero()
		return fn(c, tgt)
	})
}

// ticketResult is a Try from a KDC's answer.
func ticketResult(with string, cred *client.Credential, err error) Try {
	t := Try{With: with}
	if err != nil {
		t.Result = refusal(err)
		return t
	}
	defer cred.SessionKey.Zero()
	t.OK, t.As, t.Until = true, cred.Client.String(), cred.EndTime.UTC().Format(time.RFC3339)
	t.Result = fmt.Sprintf("a ticket to %s as %s, valid until %s", cred.Server.Name, cred.Client, clock(t.Until))
	return t
}

// refusal is a KDC error as the user reads it.
func refusal(err error) string {
	if s, ok := client.Refusal(err); ok {
		return "refused: " + s
	}
	return err.Error()
}

// keytabKey is p's strongest newest key in the keytab at path.
func keytabKey(path string, p krb5.Principal) (*crypto.Key, error) {
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, err
	}
	for _, e := range []krb5.EncType{krb5.AES256CTSHMACSHA384192, krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA256128, krb5.AES128CTSHMACSHA196} {
		if ent, err := kt.Find(p, 0, e); err == nil {
			return crypto.NewKey(ent.EncType, ent.Key)
		}
	}
	return nil, fmt.Errorf("lab: no AES key for %s in %s", p, path)
}

// ticketTry opens a session on C with a service ticket taken from B's
// broker, alone in a cache of its own: hop exec uses a cached ticket to
// the host before asking for one.
func (l *lab) ticketTry(ctx context.Context, m *method, u *user, i int, cr ccache.Credential) Try {
	with := "the ticket to host/c of " + cr.Client.String() + " taken from B's broker"
	short := "the ticket to C taken from B"
	path := l.path("steps", fmt.Sprintf("%s-%s-%d.cc", m.id, u.name, i))
	cc := &ccache.Cache{Default: cr.Client, Credentials: []ccache.Credential{cr}}
	if err := cc.Save(path); err != nil {
		return Try{With: with, Short: short, Result: err.Error()}
	}
	defer os.Remove(path)
	home := l.path("a", "attacker")
	out, errOut, err := l.exec(ctx, command{step: "replay a ticket", env: []string{"KRB5CCNAME=FILE:" + path, "HOME=" + home, "XDG_STATE_HOME=" + home, "XDG_CACHE_HOME=" + home},
		args: []string{"exec", hostC, "--", "printenv", "HOP_CLIENT"}})
	if err != nil {
		return Try{With: with, Short: short, Result: "refused: " + lastLines(errOut, 1)}
	}
	until := cr.EndTime.UTC().Format(time.RFC3339)
	return Try{With: with, Short: short, OK: true, As: strings.TrimSpace(out), Until: until,
		Result: fmt.Sprintf("a session on C as %s (the ticket is valid until %s)", strings.TrimSpace(out), clock(until))}
}

// clock is an RFC 3339 time as the local time of day ("17:58").
func clock(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.Local().Format("15:04")
}
