package directory_test

import (
	"fmt"
	"testing"

	"hop/directory"
	"hop/krb5"
)

func benchEnv(b *testing.B, kind storeKind, accounts int) *env {
	e := newEnv(b, kind.open)
	for i := range accounts {
		e.create(&directory.Account{Name: fmt.Sprint("host", i, "$"), Kind: directory.KindComputer,
			SPNs: []string{fmt.Sprintf("host/host%d.example.test", i)}}, aesKeys(byte(i), "s"))
	}
	e.snap()
	return e
}

// BenchmarkSnapshotUnchanged is the cost the KDC pays per request when the
// directory has not changed.
func BenchmarkSnapshotUnchanged(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run(kind.name, func(b *testing.B) {
			e := benchEnv(b, kind, 100)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.dir.Snapshot(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	e := benchEnv(b, storeKinds[0], 1000)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser, UPN: "alice.smith@corp.example"}, nil)
	s := e.snap()
	for _, c := range []struct {
		name string
		p    krb5.PrincipalName
	}{
		{"user", krb5.NewName(krb5.NTPrincipal, "alice")},
		{"SPN", krb5.NewName(krb5.NTSrvHst, "host", "host500.example.test")},
		{"krbtgt", krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST")},
		{"enterprise", krb5.NewName(krb5.NTEnterprise, "alice.smith@corp.example")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := s.Lookup(c.p, realm); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}

// authzBenchEnv: 1000 computers, each in one of 10 groups nested two deep;
// the resource lists 50 principals, the group of the requester last.
func authzBenchEnv(b *testing.B) *directory.Snapshot {
	e := benchEnv(b, storeKinds[0], 1000)
	e.create(&directory.Account{Name: "res$", Kind: directory.KindComputer}, nil)
	e.group("Outer")
	for g := range 10 {
		name := fmt.Sprint("Tier", g)
		e.group(name)
		e.member("Outer", name)
		for i := g; i < 1000; i += 10 {
			e.member(name, fmt.Sprint("host", i, "$"))
		}
	}
	var list []string
	for i := 500; i < 549; i++ {
		list = append(list, fmt.Sprint("host", i, "$"))
	}
	list = append(list, "Outer")
	e.setDelegation("res$", directory.DelegationChange{AllowedToAct: &list})
	return e.snap()
}

func BenchmarkSIDs(b *testing.B) {
	s := authzBenchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(s.SIDs("host7$")) != 4 {
			b.Fatal("wrong SIDs")
		}
	}
}

func BenchmarkAllowedToAct(b *testing.B) {
	s := authzBenchEnv(b)
	for _, c := range []struct {
		name, requester string
		ok              bool
	}{
		{"own SID first in list", "host500$", true},
		{"through a nested group, last in list", "host7$", true},
		{"refused", "Administrator", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, _ := s.AllowedToAct("res$", c.requester); ok != c.ok {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}

// BenchmarkSnapshotBuild is the cost of rebuilding the snapshot (with the
// precomputed SIDs) after a change, with 1000 accounts.
func BenchmarkSnapshotBuild(b *testing.B) {
	e := benchEnv(b, storeKinds[0], 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := e.admin().UpdateAccount(ctx, "host1$", 0, func(a *directory.Account) error { a.Description = fmt.Sprint(i); return nil }); err != nil {
			b.Fatal(err)
		}
		e.snap()
	}
}
