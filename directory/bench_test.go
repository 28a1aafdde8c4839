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
