package directory_test

import (
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"hop/directory"
	"hop/directory/mem"
	"hop/krb5"
	"hop/krb5/crypto"
)

// pwKeys derives account name's aes256 and aes128 (SHA-1) keys from
// password with the krb5/crypto string-to-key and the default salt of RFC
// 4120 §4 written out by hand: the realm, then the name.
func pwKeys(t testing.TB, name, password string) []directory.Key {
	t.Helper()
	salt := "EXAMPLE.TEST" + name
	var out []directory.Key
	for _, e := range []krb5.EncType{krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196} {
		k, err := crypto.StringToKey(e, password, salt, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, directory.NewKeyMaterial(e, salt, k.Material()))
	}
	return out
}

// hostKey returns the authorized_keys line of the ed25519 key made from
// seed, with a comment.
func hostKey(t testing.TB, seed byte) string {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(s).Public())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " root@host"
}

// actingEnv builds the cast of the rights table on a fresh directory:
//   - alice is in Domain Admins; dis too, but disabled;
//   - t$ (host t.example.test, password "Old-password-1") is managed by mgr
//     directly and by gm through the group Helpdesk;
//   - the group Web (member bob) is managed by mgr and Helpdesk;
//   - bob is a plain user.
func actingEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(testing.TB) directory.Store { return mem.New() })
	for _, n := range []string{"alice", "mgr", "gm", "bob", "dis"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindUser}, nil)
	}
	e.create(&directory.Account{Name: "t$", Kind: directory.KindComputer, DNSHostName: "t.example.test",
		SPNs: []string{"host/t.example.test", "host/t"}}, pwKeys(t, "t$", "Old-password-1"))
	e.member("Domain Admins", "alice")
	e.member("Domain Admins", "dis")
	if _, err := e.admin().UpdateAccount(ctx, "dis", 0, func(a *directory.Account) error { a.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e.group("Helpdesk", "gm")
	e.group("Web", "bob")
	e.setDelegation("t$", directory.DelegationChange{ManagedBy: listp("mgr", "Helpdesk")})
	if _, err := e.dir.As(directory.LocalAdmin).SetGroupManagers(ctx, "Web", []string{"mgr", "Helpdesk"}, 0); err != nil {
		t.Fatal(err)
	}
	return e
}

var rightsActors = map[string]directory.Actor{
	"local":         directory.LocalAdmin,
	"admin":         {Name: "alice"},
	"manager":       {Name: "mgr"},
	"group-manager": {Name: "GM"}, // any case
	"user":          {Name: "bob"},
	"self":          {Name: "t$"},
	"self-initial":  {Name: "t$", Initial: true},
	"disabled":      {Name: "dis"},
	"unknown":       {Name: "ghost"},
	"unnamed":       {},
}

func TestActingRights(t *testing.T) {
	admins := []string{"local", "admin"}
	managers := []string{"local", "admin", "manager", "group-manager"}
	readers := []string{"local", "admin", "manager", "group-manager", "user", "self", "self-initial"}
	newKeys := func(t *testing.T) []directory.Key { return aesKeys(0x77, "") }
	for _, c := range []struct {
		op      string
		allowed []string
		do      func(t *testing.T, x *directory.Acting) error
	}{
		{"create user", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.CreateAccount(ctx, &directory.Account{Name: "carol", Kind: directory.KindUser}, nil)
			return err
		}},
		{"create service", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.CreateAccount(ctx, &directory.Account{Name: "svc", Kind: directory.KindService, SPNs: []string{"HTTP/svc.example.test"}}, nil)
			return err
		}},
		{"create computer (quota 0)", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.CreateAccount(ctx, &directory.Account{Name: "n$", Kind: directory.KindComputer}, newKeys(t))
			return err
		}},
		{"update", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.UpdateAccount(ctx, "t$", 0, func(a *directory.Account) error { a.Description = "x"; return nil })
			return err
		}},
		{"delete", admins, func(t *testing.T, x *directory.Acting) error { return x.DeleteAccount(ctx, "t$", 0) }},
		{"set password", []string{"local", "admin", "manager", "group-manager", "self-initial"}, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetPassword(ctx, "t$", "New-password-2", 0)
			return err
		}},
		{"change password", []string{"local", "self", "self-initial"}, func(t *testing.T, x *directory.Acting) error {
			_, err := x.ChangePassword(ctx, "t$", "Old-password-1", "New-password-2")
			return err
		}},
		{"set keys", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetKeys(ctx, "t$", newKeys(t), 0)
			return err
		}},
		{"read keys", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.AccountKeys(ctx, "t$")
			return err
		}},
		{"add SPN", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.AddSPN(ctx, "t$", "HTTP/t.example.test", 0)
			return err
		}},
		{"remove SPN", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.RemoveSPN(ctx, "t$", "host/t", 0)
			return err
		}},
		{"RBCD", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetDelegation(ctx, "t$", directory.DelegationChange{AllowedToActAdd: []string{"bob"}}, 0)
			return err
		}},
		{"unconstrained", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetDelegation(ctx, "t$", directory.DelegationChange{TrustedForDelegation: boolp(true)}, 0)
			return err
		}},
		{"KCD", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetDelegation(ctx, "t$", directory.DelegationChange{AllowedToDelegateTo: listp("cifs/x.example.test")}, 0)
			return err
		}},
		{"protocol transition", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetDelegation(ctx, "t$", directory.DelegationChange{TrustedToAuthForDelegation: boolp(true)}, 0)
			return err
		}},
		{"managers", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetDelegation(ctx, "t$", directory.DelegationChange{ManagedBy: listp("bob")}, 0)
			return err
		}},
		{"create group", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.CreateGroup(ctx, "Sales", "")
			return err
		}},
		{"delete group", admins, func(t *testing.T, x *directory.Acting) error { return x.DeleteGroup(ctx, "Web", 0) }},
		{"add member", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.AddMember(ctx, "Web", "alice", 0)
			return err
		}},
		{"remove member", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.RemoveMember(ctx, "Web", "bob", 0)
			return err
		}},
		{"add to Domain Admins", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.AddMember(ctx, "Domain Admins", "bob", 0)
			return err
		}},
		{"add to Protected Users", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.AddMember(ctx, "Protected Users", "bob", 0)
			return err
		}},
		{"set group managers", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetGroupManagers(ctx, "Web", []string{"bob"}, 0)
			return err
		}},
		{"set policy", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := x.SetPolicy(ctx, directory.Policy{MinPasswordLength: 10})
			return err
		}},
		{"join token, existing host", managers, func(t *testing.T, x *directory.Acting) error {
			_, _, err := x.CreateJoinToken(ctx, "t.example.test", 0)
			return err
		}},
		{"join token, new host", admins, func(t *testing.T, x *directory.Acting) error {
			_, _, err := x.CreateJoinToken(ctx, "n.example.test", 0)
			return err
		}},
		{"re-join", managers, func(t *testing.T, x *directory.Acting) error {
			_, err := rejoin(x, "t.example.test", newKeys(t))
			return err
		}},
		{"join new host", admins, func(t *testing.T, x *directory.Acting) error {
			_, err := rejoin(x, "n.example.test", newKeys(t))
			return err
		}},
		{"read account", readers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.Account(ctx, "t$")
			return err
		}},
		{"read accounts", readers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.Accounts(ctx)
			return err
		}},
		{"read groups", readers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.Groups(ctx)
			return err
		}},
		{"read domain", readers, func(t *testing.T, x *directory.Acting) error {
			_, err := x.Domain(ctx)
			return err
		}},
	} {
		for label, actor := range rightsActors {
			t.Run(c.op+"/"+label, func(t *testing.T) {
				e := actingEnv(t)
				before := dump(t, e.store)
				events := len(e.audit.Events())
				err := c.do(t, e.dir.As(actor))
				evs := e.audit.Events()[events:]
				if slices.Contains(c.allowed, label) {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					for _, ev := range evs {
						if ev.Type == "directory.denied" {
							t.Errorf("an allowed operation emitted %+v", ev)
						}
					}
					return
				}
				if !errors.Is(err, directory.ErrAccessDenied) {
					t.Fatalf("error %v, want access denied", err)
				}
				if dump(t, e.store) != before {
					t.Error("a refused operation wrote to the store")
				}
				if len(evs) != 1 || evs[0].Type != "directory.denied" || evs[0].Reason == "" {
					t.Errorf("a refusal emitted %+v, want one directory.denied event with a reason", evs)
				}
			})
		}
	}
}

// rejoin joins host with x's actor's own rights.
func rejoin(x *directory.Acting, host string, keys []directory.Key) (*directory.Account, error) {
	return x.JoinHost(ctx, "", directory.JoinRequest{FQDN: host, Keys: keys})
}

// TestActingMessages checks that refusals name the missing right and who
// holds it.
func TestActingMessages(t *testing.T) {
	e := actingEnv(t)
	for _, c := range []struct {
		name  string
		actor directory.Actor
		do    func(x *directory.Acting) error
		want  []string
	}{
		{"plain user, password", directory.Actor{Name: "bob"}, func(x *directory.Acting) error {
			_, err := x.SetPassword(ctx, "t$", "New-password-2", 0)
			return err
		}, []string{"bob may not set the password of t$: only Domain Admins and the managers of t$ (mgr, Helpdesk) may",
			"hop account set t$ --managed-by mgr,Helpdesk,bob"}},
		{"self without an initial ticket", directory.Actor{Name: "t$"}, func(x *directory.Acting) error {
			_, err := x.SetPassword(ctx, "t$", "New-password-2", 0)
			return err
		}, []string{"t$ may not set the password of t$ without proving its current password", "kpasswd", "RFC 3244"}},
		{"self, keys", directory.Actor{Name: "t$", Initial: true}, func(x *directory.Acting) error {
			_, err := x.SetKeys(ctx, "t$", aesKeys(1, ""), 0)
			return err
		}, []string{"t$ may not change the keys of t$", "an account does not manage itself"}},
		{"manager, admin-only setting", directory.Actor{Name: "mgr"}, func(x *directory.Acting) error {
			_, err := x.UpdateAccount(ctx, "t$", 0, func(a *directory.Account) error { return nil })
			return err
		}, []string{"mgr may not change the settings of account t$: only Domain Admins may (members: Administrator, alice)"}},
		{"disabled admin", directory.Actor{Name: "dis"}, func(x *directory.Acting) error {
			_, err := x.CreateGroup(ctx, "Sales", "")
			return err
		}, []string{"dis may not create group Sales", "besides, account dis is disabled"}},
		{"unknown actor", directory.Actor{Name: "ghost"}, func(x *directory.Acting) error {
			_, err := x.AddSPN(ctx, "t$", "HTTP/x.example.test", 0)
			return err
		}, []string{`ghost may not add SPNs to t$: there is no account "ghost" in the directory`}},
		{"group member, not manager", directory.Actor{Name: "bob"}, func(x *directory.Acting) error {
			_, err := x.AddMember(ctx, "Web", "bob2", 0)
			return err
		}, []string{"bob may not add members to group Web: only Domain Admins and the managers of group Web (mgr, Helpdesk) may"}},
		{"group manager, privileged group", directory.Actor{Name: "mgr"}, func(x *directory.Acting) error {
			_, err := x.AddMember(ctx, "Domain Controllers", "t$", 0)
			return err
		}, []string{"mgr may not add members to group Domain Controllers: Domain Controllers is the privileged group Domain Controllers", "[MS-ADTS] §3.1.1.6.1.2"}},
		{"quota 0", directory.Actor{Name: "bob"}, func(x *directory.Acting) error {
			_, err := x.CreateAccount(ctx, &directory.Account{Name: "n$", Kind: directory.KindComputer}, nil)
			return err
		}, []string{"bob may not create the computer account n$", "machine account quota is 0", "hop domain set --machine-account-quota"}},
		{"change of another's password", directory.Actor{Name: "mgr"}, func(x *directory.Acting) error {
			_, err := x.ChangePassword(ctx, "t$", "Old-password-1", "New-password-2")
			return err
		}, []string{"mgr may change only its own password this way", "hop account passwd t$)"}},
	} {
		err := c.do(e.dir.As(c.actor))
		if !errors.Is(err, directory.ErrAccessDenied) {
			t.Errorf("%s: error %v, want access denied", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// TestProtectedAccounts checks the AdminSDHolder rule: managers lose their
// rights on members of privileged groups, however nested, and only Domain
// Admins change privileged groups' members.
func TestProtectedAccounts(t *testing.T) {
	e := actingEnv(t)
	local := e.dir.As(directory.LocalAdmin)
	for _, n := range []string{"ops-user", "pu-user"} {
		e.create(&directory.Account{Name: n, Kind: directory.KindUser}, nil)
	}
	if _, err := local.CreateAccount(ctx, &directory.Account{Name: "dc2$", Kind: directory.KindComputer, PrimaryGroupRID: directory.RIDDomainControllers}, aesKeys(5, "")); err != nil {
		t.Fatal(err)
	}
	e.group("Ops", "ops-user")
	e.member("Domain Admins", "Ops")
	e.member("Protected Users", "pu-user")
	e.group("Enterprise Admins")
	e.group("Nested")
	e.member("Ops", "Nested")
	for _, n := range []string{"ops-user", "pu-user", "dc2$"} {
		e.setDelegation(n, directory.DelegationChange{ManagedBy: listp("mgr")})
	}
	for _, g := range []string{"Ops", "Enterprise Admins", "Nested"} {
		if _, err := local.SetGroupManagers(ctx, g, []string{"mgr"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	mgr := e.dir.As(directory.Actor{Name: "mgr"})
	for _, c := range []struct {
		name string
		do   func() error
		why  string
	}{
		{"password of a nested Domain Admin", func() error {
			_, err := mgr.SetPassword(ctx, "ops-user", "New-password-2", 0)
			return err
		}, "ops-user is a member of Domain Admins"},
		{"keys of a Protected User", func() error {
			_, err := mgr.SetKeys(ctx, "pu-user", aesKeys(3, ""), 0)
			return err
		}, "pu-user is a member of Protected Users"},
		{"SPN of a domain controller (primary group)", func() error {
			_, err := mgr.AddSPN(ctx, "dc2$", "HTTP/dc2.example.test", 0)
			return err
		}, "dc2$ is a member of Domain Controllers"},
		{"RBCD on a domain controller", func() error {
			_, err := mgr.SetDelegation(ctx, "dc2$", directory.DelegationChange{AllowedToActAdd: []string{"bob"}}, 0)
			return err
		}, "dc2$ is a member of Domain Controllers"},
		{"members of a group nested in Domain Admins", func() error {
			_, err := mgr.AddMember(ctx, "Ops", "bob", 0)
			return err
		}, "Ops is a member of Domain Admins"},
		{"members of a group nested twice", func() error {
			_, err := mgr.AddMember(ctx, "Nested", "bob", 0)
			return err
		}, "Nested is a member of Domain Admins"},
		{"members of a group named as AD's", func() error {
			_, err := mgr.AddMember(ctx, "Enterprise Admins", "bob", 0)
			return err
		}, "the privileged group Enterprise Admins"},
		{"re-join a domain controller", func() error {
			_, err := e.dir.JoinHost(ctx, directory.Actor{Name: "mgr"}, "", directory.JoinRequest{FQDN: "dc2.example.test", Keys: aesKeys(4, "")})
			return err
		}, "dc2$ is a member of Domain Controllers"},
	} {
		before := dump(t, e.store)
		err := c.do()
		if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: error %v, want access denied saying %q", c.name, err, c.why)
		}
		if dump(t, e.store) != before {
			t.Errorf("%s: a refused change wrote to the store", c.name)
		}
	}
	s := e.snap()
	for name, want := range map[string]string{
		"ops-user": "a member of Domain Admins", "pu-user": "a member of Protected Users", "dc2$": "a member of Domain Controllers",
		"Administrator": "the built-in account Administrator", "krbtgt": "the built-in account krbtgt", "kadmin": "the built-in account kadmin",
		"Domain Admins": "the privileged group Domain Admins", "Nested": "a member of Domain Admins", "bob": "", "Web": "", "t$": "",
	} {
		if got := s.ProtectedBy(name); got != want {
			t.Errorf("ProtectedBy(%s) = %q, want %q", name, got, want)
		}
	}
	// Domain Admins may still; a manager of an unprotected account may.
	admin := e.dir.As(directory.Actor{Name: "alice"})
	if _, err := admin.SetPassword(ctx, "ops-user", "New-password-2", 0); err != nil {
		t.Errorf("a domain admin setting a protected password: %v", err)
	}
	if _, err := admin.AddMember(ctx, "Ops", "bob", 0); err != nil {
		t.Errorf("a domain admin adding a member to a privileged group: %v", err)
	}
	if _, err := mgr.SetKeys(ctx, "t$", aesKeys(3, ""), 0); err != nil {
		t.Errorf("a manager of an unprotected account: %v", err)
	}
	// krbtgt and kadmin take no password, even from Domain Admins.
	for _, n := range []string{"krbtgt", "kadmin"} {
		_, err := admin.SetPassword(ctx, n, "New-password-2", 0)
		if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), "random keys") {
			t.Errorf("SetPassword(%s): %v, want a refusal saying it takes random keys", n, err)
		}
	}
}

// TestMachineAccountQuota checks creation by non-admins within the quota,
// the creator's management of what it created, and what it may not set.
func TestMachineAccountQuota(t *testing.T) {
	e := actingEnv(t)
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{MachineAccountQuota: 2}); err != nil {
		t.Fatal(err)
	}
	bob := e.dir.As(directory.Actor{Name: "bob"})
	for _, c := range []struct {
		name string
		a    *directory.Account
		why  string
	}{
		{"user", &directory.Account{Name: "u2", Kind: directory.KindUser}, "only Domain Admins may"},
		{"UPN", &directory.Account{Name: "x$", Kind: directory.KindComputer, UPN: "x@example.test"}, "a user principal name"},
		{"no pre-authentication", &directory.Account{Name: "x$", Kind: directory.KindComputer, NoPreauthRequired: true}, "no pre-authentication"},
		{"domain controller", &directory.Account{Name: "x$", Kind: directory.KindComputer, PrimaryGroupRID: directory.RIDDomainControllers}, "primary group"},
		{"another host's name", &directory.Account{Name: "x$", Kind: directory.KindComputer, DNSHostName: "dc.example.test"}, "the name of a host that is not x"},
	} {
		_, err := bob.CreateAccount(ctx, c.a, nil)
		if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v, want access denied saying %q", c.name, err, c.why)
		}
	}
	for _, n := range []string{"b1$", "b2$"} {
		a, err := bob.CreateAccount(ctx, &directory.Account{Name: n, Kind: directory.KindComputer, DNSHostName: strings.TrimSuffix(n, "$") + ".example.test",
			SPNs: []string{"host/" + strings.TrimSuffix(n, "$")}}, aesKeys(9, ""))
		if err != nil {
			t.Fatalf("create %s within the quota: %v", n, err)
		}
		if a.CreatorSID != e.sidOf("bob") || !slices.Equal(a.ManagedBy, e.sids("bob")) {
			t.Errorf("%s: creator %v, managers %v; want bob for both", n, a.CreatorSID, a.ManagedBy)
		}
	}
	_, err := bob.CreateAccount(ctx, &directory.Account{Name: "b3$", Kind: directory.KindComputer}, nil)
	if !errors.Is(err, directory.ErrAccessDenied) || !strings.Contains(err.Error(), "it has created 2 computer accounts, the domain's machine account quota (2)") {
		t.Errorf("third computer: %v", err)
	}
	// The creator manages what it created: RBCD and keys, not KCD.
	if _, err := bob.SetDelegation(ctx, "b1$", directory.DelegationChange{AllowedToActAdd: []string{"b2$"}}, 0); err != nil {
		t.Errorf("creator setting RBCD: %v", err)
	}
	if _, err := bob.SetKeys(ctx, "b1$", aesKeys(10, ""), 0); err != nil {
		t.Errorf("creator setting keys: %v", err)
	}
	if _, err := bob.SetDelegation(ctx, "b1$", directory.DelegationChange{TrustedForDelegation: boolp(true)}, 0); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("creator setting unconstrained delegation: %v", err)
	}
	// An admin's computer records the admin as creator and manager; the
	// local administrator's records none.
	a, err := e.dir.As(directory.Actor{Name: "alice"}).CreateAccount(ctx, &directory.Account{Name: "a1$", Kind: directory.KindComputer}, nil)
	if err != nil || a.CreatorSID != e.sidOf("alice") || !slices.Equal(a.ManagedBy, e.sids("alice")) {
		t.Errorf("admin's computer: %+v, %v", a, err)
	}
	u, err := e.dir.As(directory.Actor{Name: "alice"}).CreateAccount(ctx, &directory.Account{Name: "u1", Kind: directory.KindUser}, nil)
	if err != nil || u.CreatorSID != e.sidOf("alice") || u.ManagedBy != nil {
		t.Errorf("admin's user: creator %v managers %v, %v; want the creator recorded and no manager", u.CreatorSID, u.ManagedBy, err)
	}
	l := e.create(&directory.Account{Name: "l1$", Kind: directory.KindComputer}, nil)
	if !l.CreatorSID.IsZero() || l.ManagedBy != nil {
		t.Errorf("local administrator's computer: %+v", l)
	}
	// Joining a host creates a computer within the quota too; the quota
	// counts it.
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{MachineAccountQuota: 3}); err != nil {
		t.Fatal(err)
	}
	j, err := bob.JoinHost(ctx, "", directory.JoinRequest{FQDN: "q.example.test", Keys: aesKeys(11, "")})
	if err != nil || j.CreatorSID != e.sidOf("bob") {
		t.Fatalf("join within the quota: %+v, %v", j, err)
	}
	if _, err := bob.JoinHost(ctx, "", directory.JoinRequest{FQDN: "r.example.test", Keys: aesKeys(11, "")}); !errors.Is(err, directory.ErrAccessDenied) {
		t.Errorf("join beyond the quota: %v", err)
	}
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{MachineAccountQuota: 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.admin().DeleteAccount(ctx, "q$", 0); err != nil {
		t.Fatal(err)
	}
	// A deleted computer no longer counts.
	if err := e.admin().DeleteAccount(ctx, "b2$", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.CreateAccount(ctx, &directory.Account{Name: "b3$", Kind: directory.KindComputer}, nil); err != nil {
		t.Errorf("after a deletion, within the quota again: %v", err)
	}
}
