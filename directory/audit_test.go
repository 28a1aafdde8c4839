package directory_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"hop/audit"
	"hop/directory"
)

// findEvents returns the events of type typ.
func findEvents(evs []audit.Event, typ string) []audit.Event {
	var out []audit.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func change(ev audit.Event, field string) (audit.Change, bool) {
	for _, c := range ev.Changes {
		if c.Field == field {
			return c, true
		}
	}
	return audit.Change{}, false
}

func TestAuditEvents(t *testing.T) {
	e := actingEnv(t)
	alice := e.dir.As(directory.Actor{Name: "alice"})
	mgr := e.dir.As(directory.Actor{Name: "mgr"})
	bob := e.dir.As(directory.Actor{Name: "bob"})
	passwords := []string{"Old-password-1", "Audit-pw-One", "Audit-pw-Two", "Wrong-pw-xyz", "Refused-pw-3"}
	start := len(e.audit.Events())

	if _, err := mgr.SetPassword(ctx, "t$", "Audit-pw-One", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.As(directory.Actor{Name: "t$"}).ChangePassword(ctx, "t$", "Audit-pw-One", "Audit-pw-Two"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.As(directory.Actor{Name: "t$"}).ChangePassword(ctx, "t$", "Wrong-pw-xyz", "Refused-pw-3"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if _, err := bob.SetPassword(ctx, "t$", "Refused-pw-3", 0); err == nil {
		t.Fatal("bob set t$'s password")
	}
	newKeys := aesKeys(0x99, "EXAMPLE.TESTt$")
	if _, err := mgr.SetKeys(ctx, "t$", newKeys, 0); err != nil {
		t.Fatal(err)
	}
	exported, err := mgr.AccountKeys(ctx, "t$")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.SetDelegation(ctx, "t$", directory.DelegationChange{AllowedToActAdd: []string{"bob", "Web"}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UpdateAccount(ctx, "t$", 0, func(a *directory.Account) error {
		a.Description = "web server"
		a.Disabled = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.AddMember(ctx, "Web", "gm", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{MinPasswordLength: 10}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := alice.CreateJoinToken(ctx, "j.example.test", 0)
	if err != nil {
		t.Fatal(err)
	}
	joinKeys := aesKeys(0x98, "")
	if _, err := e.dir.JoinHost(ctx, directory.Actor{}, tok, directory.JoinRequest{FQDN: "j.example.test", SSHHostKeys: []string{hostKey(t, 4)}, Keys: joinKeys}); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteAccount(ctx, "bob", 0); err != nil {
		t.Fatal(err)
	}
	evs := e.audit.Events()[start:]

	// Content.
	set := findEvents(evs, "directory.account.password.set")
	if len(set) != 1 || set[0].Actor != "mgr" || set[0].Target != "t$" {
		t.Fatalf("password set events %+v", set)
	}
	if c, _ := change(set[0], "keys"); c.Old != "kvno 1" || c.New != "kvno 2" {
		t.Errorf("password set: keys change %+v, want kvno 1 → kvno 2", c)
	}
	chg := findEvents(evs, "directory.account.password.change")
	if len(chg) != 1 || chg[0].Actor != "t$" {
		t.Errorf("password change events %+v", chg)
	}
	denied := findEvents(evs, "directory.denied")
	if len(denied) != 2 || !strings.HasPrefix(denied[0].Reason, "account.password.change: the current password given for t$ is wrong") ||
		!strings.HasPrefix(denied[1].Reason, "account.password.set: bob may not set the password of t$") || denied[1].Actor != "bob" || denied[1].Target != "t$" {
		t.Errorf("denials %+v", denied)
	}
	if ks := findEvents(evs, "directory.account.keys.read"); len(ks) != 1 || !strings.Contains(ks[0].Reason, "kvno 4") {
		t.Errorf("keys read events %+v", ks)
	}
	if d := findEvents(evs, "directory.account.delegation.set"); len(d) != 1 || d[0].Actor != "mgr" {
		t.Errorf("delegation events %+v", d)
	} else if c, _ := change(d[0], "allowed-to-act"); c.Old != "" || c.New != "bob, Web" {
		t.Errorf("delegation change %+v, want \"\" → \"bob, Web\"", c)
	}
	if u := findEvents(evs, "directory.account.update"); len(u) != 1 {
		t.Errorf("update events %+v", u)
	} else {
		c1, _ := change(u[0], "description")
		c2, _ := change(u[0], "disabled")
		if c1.New != "web server" || c2.Old != "false" || c2.New != "true" || len(u[0].Changes) != 2 {
			t.Errorf("update changes %+v", u[0].Changes)
		}
	}
	if m := findEvents(evs, "directory.group.member.add"); len(m) != 1 {
		t.Errorf("member events %+v", m)
	} else if c, _ := change(m[0], "members"); c.Old != "bob" || c.New != "bob, gm" {
		t.Errorf("members change %+v", c)
	}
	if p := findEvents(evs, "directory.domain.policy.set"); len(p) != 1 || p[0].Actor != "the local domain administrator" || p[0].Target != "EXAMPLE.TEST" {
		t.Errorf("policy events %+v", p)
	} else if c, _ := change(p[0], "min-password-length"); c.Old != "8" || c.New != "10" || len(p[0].Changes) != 1 {
		t.Errorf("policy changes %+v", p[0].Changes)
	}
	if j := findEvents(evs, "directory.host.join"); len(j) != 1 || j[0].Actor != "alice" || j[0].Target != "j.example.test" ||
		!strings.Contains(j[0].Reason, "with join token ") {
		t.Errorf("join events %+v", j)
	} else if c, _ := change(j[0], "ssh-host-keys"); !strings.HasPrefix(c.New, "ssh-ed25519 SHA256:") {
		t.Errorf("host key change %+v, want a fingerprint", c)
	} else if c, _ := change(j[0], "spns"); c.New != "host/j.example.test, host/j" {
		t.Errorf("join spns %+v", c)
	}
	if tk := findEvents(evs, "directory.host.token.create"); len(tk) != 1 || !strings.Contains(tk[0].Changes[0].New, "expires") {
		t.Errorf("token events %+v", tk)
	}
	if d := findEvents(evs, "directory.account.delete"); len(d) != 1 || d[0].Target != "bob" {
		t.Errorf("delete events %+v", d)
	} else if c, _ := change(d[0], "kind"); c.Old != "user" || c.New != "" {
		t.Errorf("delete change %+v", c)
	}

	// No secret in any event: no password, no token, no key material in
	// any encoding.
	blob, err := json.Marshal(e.audit.Events())
	if err != nil {
		t.Fatal(err)
	}
	text := string(blob)
	secrets := append([]string{}, passwords...)
	secrets = append(secrets, tok, strings.TrimPrefix(tok, "hop-join-"))
	var keys []directory.Key
	keys = append(keys, newKeys...)
	keys = append(keys, joinKeys...)
	keys = append(keys, exported.Keys...)
	for _, pw := range passwords {
		keys = append(keys, pwKeys(t, "t$", pw)...)
	}
	for _, k := range keys {
		m := k.Material()
		if len(m) == 0 {
			t.Fatal("a key without material to look for")
		}
		secrets = append(secrets, hex.EncodeToString(m), strings.ToUpper(hex.EncodeToString(m)), base64.StdEncoding.EncodeToString(m),
			base64.RawURLEncoding.EncodeToString(m), string(m))
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("an audit event holds a secret (%d bytes)", len(s))
		}
	}
	// Every event names its actor, and directory events have their prefix.
	for _, ev := range evs {
		if ev.Actor == "" || !strings.HasPrefix(ev.Type, "directory.") || ev.Time.IsZero() {
			t.Errorf("event %+v", ev)
		}
	}
}

// TestAuditPrimitives checks that the methods without an actor audit as
// the local domain administrator, once per change, and that a change of
// nothing emits nothing.
func TestAuditPrimitives(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	e.create(&directory.Account{Name: "b$", Kind: directory.KindComputer}, aesKeys(1, ""))
	if _, err := e.admin().AddSPN(ctx, "b$", "host/b", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin().SetKeys(ctx, "b$", aesKeys(2, ""), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin().SetDelegation(ctx, "b$", directory.DelegationChange{}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{}); err != nil { // unchanged
		t.Fatal(err)
	}
	var types []string
	for _, ev := range e.audit.Events() {
		types = append(types, ev.Type)
		if ev.Actor != directory.LocalAdmin.String() || ev.Target != "b$" {
			t.Errorf("event %+v, want actor %q and target b$", ev, directory.LocalAdmin.String())
		}
	}
	if want := []string{"directory.account.create", "directory.account.spn.add", "directory.account.keys.set"}; !slices.Equal(types, want) {
		t.Errorf("events %q, want %q", types, want)
	}
	create := e.audit.Events()[0]
	for _, f := range []struct{ field, value string }{{"kind", "computer"}, {"rid", "1100"}, {"primary-group", "Domain Computers"}, {"keys", "kvno 1"}} {
		if c, ok := change(create, f.field); !ok || c.Old != "" || c.New != f.value {
			t.Errorf("create: %s = %+v, want %q", f.field, c, f.value)
		}
	}
	if _, ok := change(create, "disabled"); ok {
		t.Error("create lists a field at its zero value")
	}
}
