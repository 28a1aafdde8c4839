package directory_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hop/directory"
	"hop/krb5"
)

func TestCreateAccountKinds(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		exp := e.clock.Now().Add(90 * 24 * time.Hour)
		cases := []struct {
			in    *directory.Account
			group string
		}{
			{&directory.Account{Name: "alice", Kind: directory.KindUser, UPN: "alice@example.test", Description: "Alice", Expires: exp,
				RID: 7, KVNO: 9, BadPwdCount: 4}, "Domain Users"},
			{&directory.Account{Name: "b$", Kind: directory.KindComputer, DNSHostName: "b.example.test",
				SPNs: []string{"host/b.example.test", "host/b"}}, "Domain Computers"},
			{&directory.Account{Name: "svc-web", Kind: directory.KindService, SPNs: []string{"HTTP/web.example.test:8080"},
				MaxTicketLife: time.Hour}, "Domain Users"},
		}
		var rids []uint32
		for _, c := range cases {
			got := e.create(c.in, aesKeys(0x10, "EXAMPLE.TEST"+c.in.Name))
			rids = append(rids, got.RID)
			if got.KVNO != 1 || got.BadPwdCount != 0 || len(got.Keys) != 2 || got.Keys[0].KVNO != 1 {
				t.Errorf("%s: kvno %d, bad count %d, %d keys", got.Name, got.KVNO, got.BadPwdCount, len(got.Keys))
			}
			if !got.Created.Equal(e.clock.Now()) || !got.PasswordLastSet.Equal(e.clock.Now()) {
				t.Errorf("%s: created %v, password set %v; want the clock's time", got.Name, got.Created, got.PasswordLastSet)
			}
			stored, err := e.dir.Account(ctx, strings.ToUpper(c.in.Name))
			if err != nil {
				t.Fatalf("Account(%s): %v", c.in.Name, err)
			}
			if stored.Name != c.in.Name || stored.Kind != c.in.Kind || !slices.Equal(stored.SPNs, c.in.SPNs) ||
				stored.DNSHostName != c.in.DNSHostName || stored.UPN != c.in.UPN || !stored.Expires.Equal(c.in.Expires) ||
				stored.MaxTicketLife != c.in.MaxTicketLife || stored.Description != c.in.Description {
				t.Errorf("stored %+v differs from the input %+v", stored, c.in)
			}
			if !e.snap().IsMember(c.in.Name, c.group) {
				t.Errorf("%s is not a member of %s", c.in.Name, c.group)
			}
		}
		// RIDs come from the counter that starts at 1100, whatever the input said.
		if want := []uint32{1100, 1101, 1102}; !slices.Equal(rids, want) {
			t.Errorf("RIDs %v, want %v", rids, want)
		}
		g, err := e.admin().CreateGroup(ctx, "Web Admins", "")
		if err != nil || g.RID != 1103 {
			t.Errorf("group RID %v, %v; want 1103 from the same counter", g, err)
		}
		all, err := e.admin().Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range all {
			names = append(names, a.Name)
		}
		if want := []string{"Administrator", "alice", "b$", "Guest", "kadmin", "krbtgt", "svc-web"}; !slices.Equal(names, want) {
			t.Errorf("Accounts = %q, want %q", names, want)
		}
	})
}

func TestAccountNameValidation(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	for _, c := range []struct {
		name string
		kind directory.Kind
		want error
	}{
		{"bob", directory.KindUser, nil},
		{"Bob.Smith-2_x", directory.KindUser, nil},
		{"abcdefghijklmnopqrst", directory.KindUser, nil},                   // 20
		{"abcdefghijklmnopqrstu", directory.KindUser, directory.ErrInvalid}, // 21
		{"ünïcödé", directory.KindUser, nil},
		{"two words", directory.KindUser, nil},
		{"gmsa$", directory.KindService, nil},
		{"pc1$", directory.KindComputer, nil},
		{"abcdefghijklmnopqrst$", directory.KindComputer, nil},
		{"abcdefghijklmnopqrstu$", directory.KindComputer, directory.ErrInvalid},
		{"pc2", directory.KindComputer, directory.ErrInvalid}, // no "$"
		{"$", directory.KindComputer, directory.ErrInvalid},
		{"a$b", directory.KindUser, directory.ErrInvalid},
		{"", directory.KindUser, directory.ErrInvalid},
		{" lead", directory.KindUser, directory.ErrInvalid},
		{"trail ", directory.KindUser, directory.ErrInvalid},
		{"...", directory.KindUser, directory.ErrInvalid},
		{"tab\tname", directory.KindUser, directory.ErrInvalid},
		{"nul\x00", directory.KindUser, directory.ErrInvalid},
		{"del\x7f", directory.KindUser, directory.ErrInvalid},
		{"zw\u200bsp", directory.KindUser, directory.ErrInvalid}, // invisible
		{"bad\xffutf8", directory.KindUser, directory.ErrInvalid},
		{"nokind", 0, directory.ErrInvalid},
		{"badkind", directory.Kind(9), directory.ErrInvalid},
	} {
		_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: c.name, Kind: c.kind}, nil)
		wantErr(t, err, c.want, "name "+c.name)
	}
	for _, ch := range `"/\[]:;|=,+*?<>@` {
		name := "a" + string(ch) + "b"
		_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: name, Kind: directory.KindUser}, nil)
		wantErr(t, err, directory.ErrInvalid, "name "+name)
	}
	// Other fields.
	for _, c := range []struct {
		what string
		a    directory.Account
	}{
		{"DNS name on a user", directory.Account{Name: "u1", Kind: directory.KindUser, DNSHostName: "u1.example.test"}},
		{"bad DNS name", directory.Account{Name: "c1$", Kind: directory.KindComputer, DNSHostName: "-c1.example.test"}},
		{"UPN without @", directory.Account{Name: "u2", Kind: directory.KindUser, UPN: "u2"}},
		{"UPN with two @", directory.Account{Name: "u3", Kind: directory.KindUser, UPN: "u3@a@example.test"}},
		{"UPN with bad suffix", directory.Account{Name: "u4", Kind: directory.KindUser, UPN: "u4@exa mple"}},
		{"negative lifetime", directory.Account{Name: "u5", Kind: directory.KindUser, MaxTicketLife: -time.Hour}},
		{"control in description", directory.Account{Name: "u6", Kind: directory.KindUser, Description: "a\x1bb"}},
		{"duplicate SPN", directory.Account{Name: "u7", Kind: directory.KindService, SPNs: []string{"a/b", "A/B"}}},
	} {
		_, err := e.admin().CreateAccount(ctx, &c.a, nil)
		if err == nil {
			t.Errorf("%s: accepted", c.what)
		}
	}
}

func TestNameUniqueness(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
		before := dump(t, e.store)
		for _, c := range []struct {
			what string
			fn   func() error
		}{
			{"Alice", func() error {
				_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: "ALICE", Kind: directory.KindUser}, nil)
				return err
			}},
			{"group alice", func() error { _, err := e.admin().CreateGroup(ctx, "Alice", ""); return err }},
			{"account domain users", func() error {
				_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: "domain users", Kind: directory.KindUser}, nil)
				return err
			}},
			{"group DOMAIN ADMINS", func() error { _, err := e.admin().CreateGroup(ctx, "DOMAIN ADMINS", ""); return err }},
			{"KRBTGT", func() error {
				_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: "KRBTGT", Kind: directory.KindService}, nil)
				return err
			}},
		} {
			err := c.fn()
			wantErr(t, err, directory.ErrExists, c.what)
			if err != nil && !strings.Contains(err.Error(), "already exists") {
				t.Errorf("%s: message %q does not say the name exists", c.what, err)
			}
		}
		if after := dump(t, e.store); after != before {
			t.Error("refused creations changed the store")
		}
	})
}

func TestSPNValidation(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	e.create(&directory.Account{Name: "svc", Kind: directory.KindService}, nil)
	for _, c := range []struct {
		spn  string
		want error
	}{
		{"host/b.example.test", nil},
		{"HTTP/web.example.test:8080", nil},
		{"host/b", nil},
		{"ldap/dc.example.test/example.test", nil},
		{"MSSQLSvc/db.example.test:1433", nil},
		{"E3514235-4B06-11D1-AB04-00C04FC2DCD2/guid/example.test", nil},
		{"", directory.ErrInvalid},
		{"host", directory.ErrInvalid},
		{"host/", directory.ErrInvalid},
		{"/b.example.test", directory.ErrInvalid},
		{"a/b/c/d", directory.ErrInvalid},
		{"host/b.example.test:0", directory.ErrInvalid},
		{"host/b.example.test:65536", directory.ErrInvalid},
		{"host/b.example.test:http", directory.ErrInvalid},
		{"host/:80", directory.ErrInvalid},
		{"host/b@EXAMPLE.TEST", directory.ErrInvalid},
		{"ho st/b", directory.ErrInvalid},
		{"host/b c", directory.ErrInvalid},
		{"host/b/c d", directory.ErrInvalid},
		{"host/b\x00", directory.ErrInvalid},
		{"host/" + strings.Repeat("a", 600), directory.ErrInvalid},
	} {
		wantErr(t, errOf(e.admin().AddSPN(ctx, "svc", c.spn, 0)), c.want, "SPN "+c.spn)
	}
}

func TestSPNUniqueness(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "b$", Kind: directory.KindComputer, SPNs: []string{"host/b.example.test"}}, nil)
		e.create(&directory.Account{Name: "c$", Kind: directory.KindComputer}, nil)

		_, err := e.admin().AddSPN(ctx, "c$", "host/b.example.test", 0)
		wantErr(t, err, directory.ErrExists, "AddSPN of b's SPN to c")
		want := `directory: SPN "host/b.example.test" already belongs to account "b$"; remove it there first (hop spn remove b$ host/b.example.test)`
		if err == nil || err.Error() != want {
			t.Errorf("error\n%v\nwant\n%s", err, want)
		}
		wantErr(t, errOf(e.admin().AddSPN(ctx, "c$", "HOST/B.Example.Test", 0)), directory.ErrExists, "AddSPN in another case")
		wantErr(t, errOf(e.admin().AddSPN(ctx, "b$", "Host/b.example.test", 0)), directory.ErrExists, "AddSPN the account already has")

		// A refused CreateAccount leaves nothing, not even a used RID.
		before := dump(t, e.store)
		_, err = e.admin().CreateAccount(ctx, &directory.Account{Name: "d$", Kind: directory.KindComputer,
			SPNs: []string{"host/d.example.test", "HOST/b.example.test"}}, nil)
		wantErr(t, err, directory.ErrExists, "CreateAccount with a taken SPN")
		_, err = e.admin().UpdateAccount(ctx, "c$", 0, func(a *directory.Account) error {
			a.SPNs = append(a.SPNs, "host/c.example.test", "host/B.EXAMPLE.TEST")
			return nil
		})
		wantErr(t, err, directory.ErrExists, "UpdateAccount with a taken SPN")
		if after := dump(t, e.store); after != before {
			t.Errorf("refused writes changed the store:\n%s\n---\n%s", before, after)
		}

		// Once removed, the SPN is free.
		wantErr(t, errOf(e.admin().RemoveSPN(ctx, "B$", "HOST/B.EXAMPLE.TEST", 0)), nil, "RemoveSPN")
		wantErr(t, errOf(e.admin().RemoveSPN(ctx, "b$", "host/b.example.test", 0)), directory.ErrNotFound, "RemoveSPN again")
		wantErr(t, errOf(e.admin().AddSPN(ctx, "c$", "host/b.example.test", 0)), nil, "AddSPN after removal")
		if a, ok := e.snap().Lookup(krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), realm); !ok || a.Name != "c$" {
			t.Errorf("host/b.example.test resolves to %v, want c$", a)
		}
		// Deleting the account frees its SPNs.
		wantErr(t, e.admin().DeleteAccount(ctx, "c$", 0), nil, "DeleteAccount")
		wantErr(t, errOf(e.admin().AddSPN(ctx, "b$", "host/b.example.test", 0)), nil, "AddSPN after the owner was deleted")
		// krbtgt keeps its SPN.
		wantErr(t, errOf(e.admin().RemoveSPN(ctx, "krbtgt", "krbtgt/EXAMPLE.TEST", 0)), directory.ErrInvalid, "removing krbtgt's SPN")
		_, err = e.admin().UpdateAccount(ctx, "krbtgt", 0, func(a *directory.Account) error { a.SPNs = nil; return nil })
		wantErr(t, err, directory.ErrInvalid, "clearing krbtgt's SPNs")
	})
}

func TestUPNUniqueness(t *testing.T) {
	e := newEnv(t, storeKinds[1].open)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser, UPN: "alice@corp.example"}, nil)
	_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: "alice2", Kind: directory.KindUser, UPN: "ALICE@corp.example"}, nil)
	wantErr(t, err, directory.ErrExists, "a taken UPN")
	// Changing the UPN frees the old one.
	_, err = e.admin().UpdateAccount(ctx, "alice", 0, func(a *directory.Account) error { a.UPN = "a.smith@corp.example"; return nil })
	wantErr(t, err, nil, "UpdateAccount UPN")
	e.create(&directory.Account{Name: "alice2", Kind: directory.KindUser, UPN: "alice@corp.example"}, nil)
	s := e.snap()
	for upn, want := range map[string]string{"a.smith@corp.example": "alice", "alice@corp.example": "alice2"} {
		if a, ok := s.Lookup(krb5.NewName(krb5.NTEnterprise, upn), realm); !ok || a.Name != want {
			t.Errorf("%s resolves to %v, want %s", upn, a, want)
		}
	}
}

func TestUpdateAccount(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		orig := e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, aesKeys(1, "s"))
		e.clock.Advance(time.Minute)
		got, err := e.admin().UpdateAccount(ctx, "ALICE", 0, func(a *directory.Account) error {
			a.Description, a.Disabled, a.NoPreauthRequired = "changed", true, true
			a.Created = time.Time{} // ignored
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Description != "changed" || !got.Disabled || !got.NoPreauthRequired || !got.Created.Equal(orig.Created) || !got.Modified.Equal(e.clock.Now()) {
			t.Errorf("UpdateAccount result %+v", got)
		}
		if a, _ := e.dir.Account(ctx, "alice"); a.Description != "changed" || !a.Disabled {
			t.Errorf("stored %+v", a)
		}
		before := dump(t, e.store)
		for _, c := range []struct {
			what string
			fn   func(*directory.Account) error
			want error
		}{
			{"rename", func(a *directory.Account) error { a.Name = "alicia"; return nil }, directory.ErrInvalid},
			{"case change", func(a *directory.Account) error { a.Name = "Alice"; return nil }, directory.ErrInvalid},
			{"RID", func(a *directory.Account) error { a.RID = 500; return nil }, directory.ErrInvalid},
			{"keys", func(a *directory.Account) error { a.Keys = aesKeys(9, "s"); return nil }, directory.ErrInvalid},
			{"drop keys", func(a *directory.Account) error { a.Keys = nil; return nil }, directory.ErrInvalid},
			{"kvno", func(a *directory.Account) error { a.KVNO = 7; return nil }, directory.ErrInvalid},
			{"old keys", func(a *directory.Account) error { a.OldKeys = aesKeys(9, "s"); return nil }, directory.ErrInvalid},
			{"invalid SPN", func(a *directory.Account) error { a.SPNs = []string{"nope"}; return nil }, directory.ErrInvalid},
			{"kind", func(a *directory.Account) error { a.Kind = directory.KindService; return nil }, directory.ErrInvalid},
			{"fn error", func(a *directory.Account) error { a.Description = "x"; return errors.New("stop") }, nil},
		} {
			_, err := e.admin().UpdateAccount(ctx, "alice", 0, c.fn)
			if err == nil {
				t.Errorf("%s: accepted", c.what)
			} else if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.what, err, c.want)
			}
		}
		if after := dump(t, e.store); after != before {
			t.Error("refused updates changed the store")
		}
		_, err = e.admin().UpdateAccount(ctx, "nobody", 0, func(*directory.Account) error { return nil })
		wantErr(t, err, directory.ErrNotFound, "UpdateAccount of a missing account")
	})
}

func TestDeleteAccount(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "bob", Kind: directory.KindUser, UPN: "bob@example.test", SPNs: []string{"svc/bob"}}, nil)
		if _, err := e.admin().CreateGroup(ctx, "Team", ""); err != nil {
			t.Fatal(err)
		}
		wantErr(t, errOf(e.admin().AddMember(ctx, "team", "BOB", 0)), nil, "AddMember")
		wantErr(t, e.admin().DeleteAccount(ctx, "Bob", 0), nil, "DeleteAccount")
		_, err := e.dir.Account(ctx, "bob")
		wantErr(t, err, directory.ErrNotFound, "Account after delete")
		s := e.snap()
		for _, g := range []string{"Team", "Domain Users"} {
			if grp, _ := s.Group(g); slices.ContainsFunc(grp.Members, func(m string) bool { return strings.EqualFold(m, "bob") }) {
				t.Errorf("bob is still a member of %s", g)
			}
		}
		// Its name, SPN and UPN are free again.
		e.create(&directory.Account{Name: "BOB", Kind: directory.KindUser, UPN: "bob@example.test", SPNs: []string{"svc/bob"}}, nil)
		for _, name := range []string{"Administrator", "krbtgt", "Guest"} {
			err := e.admin().DeleteAccount(ctx, name, 0)
			wantErr(t, err, directory.ErrInvalid, "deleting "+name)
			if err != nil && !strings.Contains(err.Error(), "built-in") {
				t.Errorf("message %q does not say the account is built in", err)
			}
		}
		wantErr(t, e.admin().DeleteAccount(ctx, "nobody", 0), directory.ErrNotFound, "deleting a missing account")
	})
}

// TestLookAlikeNames: a name that is another once compared as Windows
// compares names (compatibility forms, case) is refused, across accounts
// and groups, until the other is deleted; a name mixing writing systems
// (a Cyrillic "а" in "аlice") is refused, while Chinese, Japanese and
// Korean names with Latin letters are taken; the replacement character,
// what invalid UTF-8 becomes through JSON, is refused.
func TestLookAlikeNames(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		user := func(name string) error {
			_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: name, Kind: directory.KindUser}, nil)
			return err
		}
		if err := user("bob"); err != nil {
			t.Fatal(err)
		}
		err := user("ｂｏｂ")
		wantErr(t, err, directory.ErrExists, "fullwidth bob")
		if err == nil || !strings.Contains(err.Error(), `"ｂｏｂ" is the same name as the existing "bob"`) {
			t.Errorf("fullwidth bob: %v", err)
		}
		_, err = e.admin().CreateGroup(ctx, "ＢＯＢ", "")
		wantErr(t, err, directory.ErrExists, "a group named fullwidth BOB")
		err = user("\u0430lice") // Cyrillic а, then Latin
		wantErr(t, err, directory.ErrInvalid, "mixed scripts")
		if err == nil || !strings.Contains(err.Error(), "mixes the letters of Cyrillic") {
			t.Errorf("mixed scripts: %v", err)
		}
		wantErr(t, user("Ωmega"), directory.ErrInvalid, "Greek and Latin")
		wantErr(t, user("bad\uFFFDname"), directory.ErrInvalid, "U+FFFD")
		for _, ok := range []string{"山田太郎", "田中はなこ", "kim김민수", "Ωμέγα", "иван"} {
			if err := user(ok); err != nil {
				t.Errorf("%q: %v", ok, err)
			}
		}
		if err := e.admin().DeleteAccount(ctx, "bob", 0); err != nil {
			t.Fatal(err)
		}
		if err := user("ｂｏｂ"); err != nil {
			t.Errorf("fullwidth bob once bob is gone: %v", err)
		}
	})
}

// TestNameScriptsPolicy: a domain that allows Cyrillic takes names mixing
// it with Latin, for accounts and groups, and still refuses Greek; only
// Domain Admins change the list, each change is audited; when the list
// shrinks, existing names stay and new mixed names are refused again.
func TestNameScriptsPolicy(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		mixed := "Ivan-Иван"
		_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: mixed, Kind: directory.KindUser}, nil)
		wantErr(t, err, directory.ErrInvalid, "Latin and Cyrillic by default")
		if err == nil || !strings.Contains(err.Error(), "hop domain set --name-scripts") {
			t.Errorf("the refusal does not say how to allow the script: %v", err)
		}
		e.create(&directory.Account{Name: "bob", Kind: directory.KindUser}, nil)
		scripts, err := directory.ParseNameScripts("cyrillic")
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, errOf(e.dir.As(directory.Actor{Name: "bob"}).SetPolicy(ctx, directory.Policy{NameScripts: scripts})),
			directory.ErrAccessDenied, "bob changes the name scripts")
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{NameScripts: scripts}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin().CreateAccount(ctx, &directory.Account{Name: mixed, Kind: directory.KindUser}, nil); err != nil {
			t.Errorf("%q with Cyrillic allowed: %v", mixed, err)
		}
		if _, err := e.admin().CreateGroup(ctx, "ops-опс", ""); err != nil {
			t.Errorf("a mixed group name with Cyrillic allowed: %v", err)
		}
		_, err = e.admin().CreateAccount(ctx, &directory.Account{Name: "Ωmega", Kind: directory.KindUser}, nil)
		wantErr(t, err, directory.ErrInvalid, "Greek and Latin with only Cyrillic allowed")
		_, err = e.admin().CreateAccount(ctx, &directory.Account{Name: "Ωмега", Kind: directory.KindUser}, nil)
		wantErr(t, err, directory.ErrInvalid, "Greek and Cyrillic with only Cyrillic allowed")
		if _, err := e.admin().SetPolicy(ctx, directory.Policy{}); err != nil {
			t.Fatal(err)
		}
		if a, err := e.dir.Account(ctx, mixed); err != nil || a.Name != mixed {
			t.Errorf("%q after the list shrank: %v, %v", mixed, a, err)
		}
		_, err = e.admin().CreateAccount(ctx, &directory.Account{Name: "Petr-Пётр", Kind: directory.KindUser}, nil)
		wantErr(t, err, directory.ErrInvalid, "a new mixed name once the list shrank")
		var changes []string
		for _, ev := range findEvents(e.audit.Events(), "directory.domain.policy.set") {
			if c, ok := change(ev, "name-scripts"); ok {
				changes = append(changes, c.Old+" → "+c.New)
			}
		}
		if want := []string{"default → Cyrillic", "Cyrillic → default"}; !slices.Equal(changes, want) {
			t.Errorf("audited name-scripts changes %q, want %q", changes, want)
		}
	})
}

func TestParseNameScripts(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "default": "", " Default ": "", "latin": "", "cyrillic": "Cyrillic",
		"greek cyrillic": "Cyrillic,Greek", "Cyrillic,Greek,cyrillic": "Cyrillic,Greek", "hebrew, arabic": "Arabic,Hebrew",
	} {
		if got, err := directory.ParseNameScripts(in); err != nil || got != want {
			t.Errorf("ParseNameScripts(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"Klingon": "not a Unicode script name", "Common": "not a writing system", "Cyrillic,Inherited": "not a writing system",
	} {
		_, err := directory.ParseNameScripts(in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseNameScripts(%q): %v, want %q", in, err, msg)
		}
	}
	if err := (directory.Policy{NameScripts: "cyrillic"}).Validate(); err == nil {
		t.Error("a policy with a non-canonical script list is valid")
	}
}
