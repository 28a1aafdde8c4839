package cli

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hop/audit"
	"hop/directory"
	"hop/domain"
	"hop/krb5"
)

func TestDomainPopulate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "example.test")
	fails(t, 2, "more than the 5000000", "", "domain", "populate", "--dir", dir, "--users", "5000001")
	fails(t, 2, "give --users N", "", "domain", "populate", "--dir", dir)
	out, errOut, code := hop(t, "", "domain", "populate", "--dir", dir, "--users", "200", "--computers", "20", "--groups", "10", "--batch", "64")
	if code != 0 || !strings.Contains(out, "200 users, 20 computers, 10 groups") || !strings.Contains(errOut, "populate: 220 of 220 accounts") {
		t.Fatalf("populate: exit %d\n%s%s", code, out, errOut)
	}
	// A second run would make the same names.
	fails(t, 1, "already holds user0000001", "", "domain", "populate", "--dir", dir, "--users", "10")

	list := ok(t, "", "account", "list", "--dir", dir)
	if n := strings.Count(list, "\n"); n != 1+4+220 { // header, built-in accounts, the generated ones
		t.Errorf("account list has %d lines:\n%s", n, list)
	}
	for _, want := range []string{"user0000200", "pc0000020$", "host/pc0000020.example.test,HOST/pc0000020"} {
		if !strings.Contains(list, want) {
			t.Errorf("account list lacks %q", want)
		}
	}
	// group00001 holds group00002..group00010 (the nesting) and its users.
	show := ok(t, "", "group", "show", "group00001", "--dir", dir)
	for _, want := range []string{"group00002", "group00010"} {
		if !strings.Contains(show, want) {
			t.Errorf("group show group00001 lacks %s:\n%s", want, show)
		}
	}

	d, err := domain.Open(context.Background(), dir, domain.OpenOptions{Audit: audit.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := d.Directory.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The computers' SPNs and the users' UPNs resolve.
	for _, name := range []krb5.PrincipalName{
		krb5.NewName(krb5.NTSrvHst, "host", "pc0000007.example.test"),
		krb5.NewName(krb5.NTSrvHst, "HOST", "pc0000007"),
	} {
		if a, found := s.Lookup(name, "EXAMPLE.TEST"); !found || a.Name != "pc0000007$" || a.DNSHostName != "pc0000007.example.test" {
			t.Errorf("%v resolves to %v", name, a)
		}
	}
	if a, found := s.Lookup(krb5.NewName(krb5.NTEnterprise, "user0000042@example.test"), "EXAMPLE.TEST"); !found || a.Name != "user0000042" || len(a.Keys) == 0 {
		t.Errorf("the UPN of user0000042 resolves to %v", a)
	}
	// Nested membership: a member of a group nested in group00001 is in
	// group00001 too, and its PAC lists both.
	var nested string
	for _, a := range s.Accounts() {
		if a.Kind != directory.KindUser || !strings.HasPrefix(a.Name, "user") {
			continue
		}
		direct := s.GroupsOf(a.Name)
		if slices.ContainsFunc(direct, func(g *directory.Group) bool { return g.Name == "group00005" }) {
			nested = a.Name
			break
		}
	}
	if nested == "" {
		t.Fatal("no user in group00005")
	}
	g1, _ := s.Group("group00001")
	if !s.IsMember(nested, "group00001") || !slices.Contains(s.SIDs(nested), g1.SID(s.Domain().SID)) {
		t.Errorf("%s, in group00005, is not in group00001 through it", nested)
	}
	// Some delegation: constrained delegation with protocol transition on
	// the 1st computer, resource-based delegation from it on the 2nd.
	pc1, _ := s.Account("pc0000001$")
	pc2, _ := s.Account("pc0000002$")
	if !pc1.TrustedToAuthForDelegation || !slices.Equal(pc1.AllowedToDelegateTo, []string{"host/pc0000002.example.test"}) {
		t.Errorf("pc0000001$ delegation: %v %v", pc1.TrustedToAuthForDelegation, pc1.AllowedToDelegateTo)
	}
	if ok, _ := s.AllowedToAct("pc0000002$", "pc0000001$"); !ok || len(pc2.AllowedToActOnBehalfOf) != 1 {
		t.Error("pc0000001$ may not act on behalf of users to pc0000002$")
	}
	// Every account is listed in its primary group.
	users, _ := s.Group(directory.NameDomainUsers)
	computers, _ := s.Group(directory.NameDomainComputers)
	if len(users.Members) != 3+200 || len(computers.Members) != 20 {
		t.Errorf("Domain Users has %d members, Domain Computers %d", len(users.Members), len(computers.Members))
	}
}
