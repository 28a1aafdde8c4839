package directory_test

import (
	"strings"
	"testing"

	"hop/directory"
	"hop/krb5"
)

func TestLookup(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.create(&directory.Account{Name: "alice", Kind: directory.KindUser, UPN: "alice.smith@corp.example"}, nil)
		e.create(&directory.Account{Name: "bob", Kind: directory.KindUser}, nil)
		// carol's UPN is bob's implicit one: the UPN wins (RFC 6806 §5, AD).
		e.create(&directory.Account{Name: "carol", Kind: directory.KindUser, UPN: "bob@example.test"}, nil)
		e.create(&directory.Account{Name: "b$", Kind: directory.KindComputer, DNSHostName: "b.example.test",
			SPNs: []string{"host/b.example.test", "host/b"}}, nil)
		e.create(&directory.Account{Name: "svc-web", Kind: directory.KindService,
			SPNs: []string{"HTTP/web.example.test:8080", "ldap/dc.example.test/example.test"}}, nil)
		s := e.snap()

		p := func(comps ...string) krb5.PrincipalName { return krb5.NewName(krb5.NTPrincipal, comps...) }
		ent := func(n string) krb5.PrincipalName { return krb5.NewName(krb5.NTEnterprise, n) }
		for _, c := range []struct {
			name  krb5.PrincipalName
			realm krb5.Realm
			want  string // "" = not found
		}{
			{p("alice"), realm, "alice"},
			{p("ALICE"), realm, "alice"},
			{p("alice"), "example.test", "alice"},
			{p("alice"), "OTHER.TEST", ""},
			{p("b$"), realm, "b$"},
			{p("B$"), realm, "b$"},
			{p("b"), realm, ""},
			{p("nobody"), realm, ""},
			{p("krbtgt"), realm, "krbtgt"},
			{ent("alice@EXAMPLE.TEST"), realm, "alice"},
			{ent("alice@example.test"), realm, "alice"},
			{ent("alice.smith@corp.example"), realm, "alice"},
			{ent("ALICE.SMITH@CORP.EXAMPLE"), realm, "alice"},
			{ent("alice@corp.example"), realm, ""},
			{ent("alice@OTHER.TEST"), realm, ""},
			{ent("bob@example.test"), realm, "carol"},
			{ent("BOB@EXAMPLE.TEST"), realm, "carol"},
			{ent("b$@example.test"), realm, "b$"},
			{ent("alice"), realm, "alice"},
			{ent("a@b@example.test"), realm, ""},
			{ent("@example.test"), realm, ""},
			{p("alice@example.test"), realm, "alice"},
			{krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), realm, "b$"},
			{p("HOST", "B.EXAMPLE.TEST"), realm, "b$"},
			{p("host", "b"), realm, "b$"},
			{p("host", "c.example.test"), realm, ""},
			{p("HTTP", "web.example.test:8080"), realm, "svc-web"},
			{p("http", "WEB.example.test:8080"), realm, "svc-web"},
			{p("HTTP", "web.example.test"), realm, ""},
			{p("ldap", "dc.example.test", "example.test"), realm, "svc-web"},
			{p("krbtgt", "EXAMPLE.TEST"), realm, "krbtgt"},
			{p("krbtgt", "example.test"), "example.test", "krbtgt"},
			{p("KRBTGT", "Example.Test"), realm, "krbtgt"},
			{p("krbtgt", "OTHER.TEST"), realm, ""},
			{p("host", "b.example.test"), "OTHER.TEST", ""},
			{p(), realm, ""},
			{p("al\xffice"), realm, ""},
			{p("host", "b\xff"), realm, ""},
		} {
			a, ok := s.Lookup(c.name, c.realm)
			switch {
			case c.want == "" && ok:
				t.Errorf("Lookup(%v %q @ %s) = %s, want not found", c.name.Type, c.name.Components, c.realm, a.Name)
			case c.want != "" && (!ok || a.Name != c.want):
				t.Errorf("Lookup(%v %q @ %s) = %v, %v; want %s", c.name.Type, c.name.Components, c.realm, a, ok, c.want)
			}
		}
	})
}

// FuzzLookup feeds names as a client sends them (components split at "/")
// to Lookup, which must neither panic nor resolve a wrong realm.
func FuzzLookup(f *testing.F) {
	for _, s := range []struct {
		t     int32
		name  string
		realm string
	}{
		{1, "alice", "EXAMPLE.TEST"}, {10, "alice@example.test", "example.test"}, {2, "host/b.example.test", "EXAMPLE.TEST"},
		{2, "krbtgt/EXAMPLE.TEST", "EXAMPLE.TEST"}, {1, "", ""}, {3, "a/b/c/d", "X"}, {10, "@", "EXAMPLE.TEST"},
	} {
		f.Add(s.t, s.name, s.realm)
	}
	e := newEnv(f, storeKinds[0].open)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser, UPN: "alice.smith@corp.example"}, nil)
	e.create(&directory.Account{Name: "b$", Kind: directory.KindComputer, SPNs: []string{"host/b.example.test", "host/b"}}, nil)
	s := e.snap()
	f.Fuzz(func(t *testing.T, typ int32, name, r string) {
		comps := strings.Split(name, "/")
		if name == "" {
			comps = nil
		}
		a, ok := s.Lookup(krb5.NewName(krb5.NameType(typ), comps...), krb5.Realm(r))
		if ok && (a == nil || !strings.EqualFold(r, string(realm))) {
			t.Fatalf("Lookup(%q @ %q) = %v in the wrong realm", name, r, a)
		}
	})
}
