package adminserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/directory"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/tickets"
)

// apiLab is a test domain with the admin API served over HTTP with
// Kerberos, reachable as http://admin.example.test:PORT.
type apiLab struct {
	*testrealm.Lab
	url  string
	addr string
}

func startAPI(t *testing.T) *apiLab {
	t.Helper()
	l := testrealm.Start(t)
	srv := l.ServeAdmin(t, &adminserver.HTTPServer{Names: []string{"admin.example.test"}, AuditLog: func(ctx context.Context, q admin.AuditQuery) ([]json.RawMessage, error) {
		var out []json.RawMessage
		for _, e := range l.Audit.Events() {
			b, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, nil
	}})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return &apiLab{Lab: l, url: "http://admin.example.test:" + port, addr: srv.Listener.Addr().String()}
}

// client returns a client of the test server with opts, which dials the
// server whatever host the URL names.
func (a *apiLab) client(t *testing.T, opts admin.ClientOptions) *admin.Client {
	t.Helper()
	opts.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, a.addr)
	}
	c, err := admin.NewClient(a.url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// as returns a client authenticated as user (with password pw).
func (a *apiLab) as(t *testing.T, user, pw string) *admin.Client {
	t.Helper()
	src := &tickets.Source{Config: a.Config, CCache: a.Login(t, user, pw)}
	return a.client(t, admin.ClientOptions{Credential: src.ServiceTicket})
}

func (a *apiLab) anonymous(t *testing.T) *admin.Client {
	return a.client(t, admin.ClientOptions{})
}

func status(err error) int {
	if err == nil {
		return 200
	}
	var e *admin.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

func ptr[T any](v T) *T { return &v }

// TestAuthorizationOverHTTP is the table: who may do what, over
// HTTP with real Kerberos tickets.
func TestAuthorizationOverHTTP(t *testing.T) {
	l := startAPI(t)
	ctx := context.Background()
	for _, u := range []string{"da", "mgr", "gmgr", "bob", "carol"} {
		l.AddUser(t, u, u+"-pw-0123456")
	}
	root := &adminserver.Local{Dir: l.Dir, Actor: directory.LocalAdmin}
	for _, h := range []string{"c.example.test", "d.example.test"} {
		if _, err := root.CreateAccount(ctx, admin.NewAccount{Kind: "computer", Name: h}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.CreateGroup(ctx, admin.NewGroup{Name: "d-admins"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range [][2]string{{"Domain Admins", "da"}, {"d-admins", "gmgr"}} {
		if _, err := root.AddMember(ctx, m[0], 0, m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.UpdateAccount(ctx, "c$", 0, admin.AccountChange{ManagedBy: &[]string{"mgr"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.UpdateAccount(ctx, "d$", 0, admin.AccountChange{ManagedBy: &[]string{"d-admins"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateGroup(ctx, admin.NewGroup{Name: "helpdesk"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.SetGroupManagers(ctx, "helpdesk", 0, []string{"mgr"}); err != nil {
		t.Fatal(err)
	}

	clients := map[string]*admin.Client{"anonymous": l.anonymous(t)}
	for _, u := range []string{"da", "mgr", "gmgr", "bob", "carol"} {
		clients[u] = l.as(t, u, u+"-pw-0123456")
	}
	type op func(c *admin.Client) error
	rbcd := func(acct string) op {
		return func(c *admin.Client) error {
			_, err := c.UpdateAccount(ctx, acct, 0, admin.AccountChange{AllowedToActAdd: []string{"bob"}})
			return err
		}
	}
	set := func(acct string, ch admin.AccountChange) op {
		return func(c *admin.Client) error { _, err := c.UpdateAccount(ctx, acct, 0, ch); return err }
	}
	addSPN := func(acct, spn string) op {
		return func(c *admin.Client) error { _, err := c.AddSPN(ctx, acct, 0, spn); return err }
	}
	reset := func(acct string) op {
		return func(c *admin.Client) error {
			_, err := c.SetPassword(ctx, acct, 0, admin.PasswordChange{New: "New-password-42"})
			return err
		}
	}
	rotate := func(acct string) op {
		return func(c *admin.Client) error {
			_, err := c.AccountKeys(ctx, acct, 0, admin.KeysRequest{Rotate: true})
			return err
		}
	}
	member := func(group, m string) op {
		return func(c *admin.Client) error { _, err := c.AddMember(ctx, group, 0, m); return err }
	}
	whoami := func(c *admin.Client) error { _, err := c.Whoami(ctx); return err }
	hostKeys := func(c *admin.Client) error { _, err := c.HostKeys(ctx, "c.example.test"); return err }
	policy := func(c *admin.Client) error {
		p, err := c.DelegationPolicy(ctx)
		if err == nil && p.RestrictDelegation != "off" {
			return fmt.Errorf("restrict_delegation %q, want off", p.RestrictDelegation)
		}
		return err
	}
	show := func(c *admin.Client) error { _, err := c.Account(ctx, "c$"); return err }
	create := func(name string) op {
		return func(c *admin.Client) error {
			_, err := c.CreateAccount(ctx, admin.NewAccount{Kind: "user", Name: name, Password: "Pw-of-" + name + "-123"})
			return err
		}
	}
	audit := func(c *admin.Client) error { _, err := c.Audit(ctx, admin.AuditQuery{}); return err }
	token := func(c *admin.Client) error {
		_, err := c.CreateJoinToken(ctx, admin.JoinTokenRequest{Host: "e.example.test"})
		return err
	}

	for _, tc := range []struct {
		who, what string
		do        op
		want      int
		msg       string // in the error message
	}{
		{"anonymous", "whoami", whoami, 401, "Kerberos"},
		{"anonymous", "show", show, 401, ""},
		{"anonymous", "read a host's SSH keys (public)", hostKeys, 404, "no SSH host keys are registered for c.example.test"},
		{"anonymous", "create a join token", token, 401, ""},
		{"anonymous", "read the delegation policy (public)", policy, 200, ""},
		{"bob", "whoami", whoami, 200, ""},
		{"bob", "show an account", show, 200, ""},
		{"bob", "create a user", create("eve"), 403, "Domain Admins"},
		{"bob", "RBCD on c$", rbcd("c$"), 403, "managers of c$"},
		{"bob", "SPN on c$", addSPN("c$", "cifs/c.example.test"), 403, ""},
		{"bob", "reset alice's password", reset("carol"), 403, ""},
		{"bob", "join Domain Admins", member("Domain Admins", "bob"), 403, "Domain Admins"},
		{"bob", "join helpdesk", member("helpdesk", "bob"), 403, "helpdesk"},
		{"bob", "create a join token", token, 403, ""},
		{"bob", "read the audit log", audit, 403, "Domain Admins"},
		{"mgr", "RBCD on c$ (its manager)", rbcd("c$"), 200, ""},
		{"mgr", "SPN on c$", addSPN("c$", "cifs/c.example.test"), 200, ""},
		{"mgr", "rotate c$'s keys", rotate("c$"), 200, ""},
		{"mgr", "reset c$'s password", reset("c$"), 200, ""},
		{"mgr", "unconstrained on c$", set("c$", admin.AccountChange{TrustedForDelegation: ptr(true)}), 403, "Domain Admins"},
		{"mgr", "KCD on c$", set("c$", admin.AccountChange{AllowedToDelegateTo: &[]string{"cifs/d.example.test"}}), 403, ""},
		{"mgr", "protocol transition on c$", set("c$", admin.AccountChange{ProtocolTransition: ptr(true)}), 403, ""},
		{"mgr", "managers of c$", set("c$", admin.AccountChange{ManagedBy: &[]string{"mgr", "bob"}}), 403, ""},
		{"mgr", "disable c$", set("c$", admin.AccountChange{Disabled: ptr(true)}), 403, ""},
		{"mgr", "RBCD on d$ (not its manager)", rbcd("d$"), 403, ""},
		{"mgr", "add to helpdesk (its manager)", member("helpdesk", "bob"), 200, ""},
		{"gmgr", "RBCD on d$ (manager through d-admins)", rbcd("d$"), 200, ""},
		{"gmgr", "SPN on d$", addSPN("d$", "cifs/d.example.test"), 200, ""},
		{"gmgr", "SPN taken by c$", addSPN("d$", "cifs/c.example.test"), 409, "c$"},
		{"da", "unconstrained on c$", set("c$", admin.AccountChange{TrustedForDelegation: ptr(true)}), 200, ""},
		{"da", "create a user", create("eve"), 200, ""},
		{"da", "add bob to Domain Admins", member("Domain Admins", "eve"), 200, ""},
		{"da", "read the audit log", audit, 200, ""},
		{"da", "create a join token", token, 200, ""},
	} {
		t.Run(tc.who+" "+tc.what, func(t *testing.T) {
			err := tc.do(clients[tc.who])
			if got := status(err); got != tc.want {
				t.Fatalf("status %d (%v), want %d", got, err, tc.want)
			}
			if tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("message %q does not name %q", err, tc.msg)
			}
		})
	}

	// Every refusal is audited, the audit log's own included.
	denied := map[string]bool{}
	for _, e := range l.Audit.Events() {
		if e.Type == "directory.denied" {
			denied[e.Actor+" "+strings.SplitN(e.Reason, ":", 2)[0]] = true
		}
	}
	for _, want := range []string{"bob audit.read", "bob account.create", "mgr account.delegation.set"} {
		if !denied[want] {
			t.Errorf("no denial event %q among %v", want, denied)
		}
	}

	// Users change their own password with the old one, and only theirs.
	carol := clients["carol"]
	if _, err := carol.SetPassword(ctx, "carol", 0, admin.PasswordChange{Old: "wrong", New: "Carol-new-pw-1"}); status(err) != 403 && status(err) != 400 {
		t.Errorf("a wrong old password: %v", err)
	}
	if _, err := carol.SetPassword(ctx, "carol", 0, admin.PasswordChange{Old: "carol-pw-0123456", New: "short"}); status(err) != 422 || !strings.Contains(err.Error(), "at least") {
		t.Errorf("a short password: %v", err)
	}
	if _, err := carol.SetPassword(ctx, "carol", 0, admin.PasswordChange{Old: "carol-pw-0123456", New: "Carol-new-pw-1"}); err != nil {
		t.Errorf("own password change: %v", err)
	}
	if _, err := carol.SetPassword(ctx, "bob", 0, admin.PasswordChange{Old: "bob-pw-0123456", New: "Bob-new-pw-123"}); status(err) != 403 {
		t.Errorf("changing bob's password as carol: %v", err)
	}
}

func TestOptimisticConcurrencyOverHTTP(t *testing.T) {
	l := startAPI(t)
	ctx := context.Background()
	l.AddUser(t, "da", "da-pw-0123456")
	if _, err := (&adminserver.Local{Dir: l.Dir, Actor: directory.LocalAdmin}).AddMember(ctx, "Domain Admins", 0, "da"); err != nil {
		t.Fatal(err)
	}
	c := l.as(t, "da", "da-pw-0123456")
	a, err := c.Account(ctx, "da")
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.UpdateAccount(ctx, "da", a.Revision, admin.AccountChange{Description: ptr("one")})
	if err != nil {
		t.Fatal(err)
	}
	if first.Revision <= a.Revision {
		t.Fatalf("revision %d → %d", a.Revision, first.Revision)
	}
	// A second writer still holding the old revision is refused, and
	// nothing of its change is written.
	_, err = c.UpdateAccount(ctx, "da", a.Revision, admin.AccountChange{Description: ptr("two"), Sensitive: ptr(true)})
	if status(err) != 409 || !errors.Is(err, admin.ErrConflict) || !strings.Contains(err.Error(), "read it again") {
		t.Fatalf("stale write: %v", err)
	}
	now, err := c.Account(ctx, "da")
	if err != nil {
		t.Fatal(err)
	}
	if now.Description != "one" || now.Delegation.Sensitive || now.Revision != first.Revision {
		t.Fatalf("after the refused write: %+v", now)
	}
}

// TestAuthFailureSendsOnlyTheCode: a caller whose ticket the server
// refuses learns the KRB-ERROR code and what to check, never the
// acceptor's own text (which names principals, keys and kvnos; it goes to
// the server's log).
func TestAuthFailureSendsOnlyTheCode(t *testing.T) {
	l := startAPI(t)
	l.AddUser(t, "bob", "bob-pw-0123456")
	l.AddService(t, "svc-other", "HTTP/other.example.test")
	src := &tickets.Source{Config: l.Config, CCache: l.Login(t, "bob", "bob-pw-0123456")}
	other, err := krb5.ParsePrincipal("HTTP/other.example.test")
	if err != nil {
		t.Fatal(err)
	}
	// A ticket for another service, sent to the admin server.
	wrong := func(ctx context.Context, _ krb5.PrincipalName) (*client.Credential, error) {
		return src.ServiceTicket(ctx, other.Name)
	}
	c := l.client(t, admin.ClientOptions{Credential: wrong})
	_, err = c.Whoami(context.Background())
	var ae *admin.Error
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Kind != admin.KindUnauthenticated {
		t.Fatalf("Whoami with another service's ticket: %v, want 401 unauthenticated", err)
	}
	if !strings.Contains(ae.Message, "KRB_AP_ERR") || !strings.Contains(ae.Message, "kinit or hop login") {
		t.Errorf("message %q does not give the KRB-ERROR code and what to do", ae.Message)
	}
	for _, internal := range []string{"service:", "other.example.test", "kvno", "keytab"} {
		if strings.Contains(ae.Message, internal) {
			t.Errorf("message %q carries the acceptor's text (%q)", ae.Message, internal)
		}
	}
}

// TestIsAnonymous: only a join and a read of one host's SSH keys, without
// an Authorization header, skip authentication.
func TestIsAnonymous(t *testing.T) {
	for _, tc := range []struct {
		method, target, auth string
		want                 bool
	}{
		{"GET", "/v1/hosts/b.example.test/ssh-keys", "", true},
		{"POST", "/v1/join", "", true},
		{"GET", "/v1/hosts/b.example.test/ssh-keys", "Negotiate x", false},
		{"POST", "/v1/hosts/b.example.test/ssh-keys", "", false},
		{"GET", "/v1/hosts//ssh-keys", "", false},
		{"GET", "/v1/hosts/a/b/ssh-keys", "", false},
		{"GET", "/v1/accounts/alice", "", false},
		{"GET", "/v1/hosts/b.example.test/ssh-keys/x", "", false},
		{"GET", "/v1/join", "", false},
		{"GET", "/v1/domain/delegation-policy", "", false}, // served anonymously, but not by these two
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := adminserver.IsAnonymousJoin(r) || adminserver.IsAnonymousHostKeys(r); got != tc.want {
			t.Errorf("%s %s (Authorization %q): %v, want %v", tc.method, tc.target, tc.auth, got, tc.want)
		}
	}
}
