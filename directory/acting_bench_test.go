package directory_test

import (
	"testing"

	"hop/directory"
)

// BenchmarkSetKeys measures a key change on a 1000-account directory in
// memory: as LocalAdmin (the CLI's path) and as a manager, whose rights the
// directory works out from the group graph in the same transaction.
func BenchmarkSetKeys(b *testing.B) {
	for _, c := range []struct {
		name  string
		actor directory.Actor
	}{{"local", directory.LocalAdmin}, {"manager", directory.Actor{Name: "mgr"}}} {
		b.Run(c.name, func(b *testing.B) {
			e := benchEnv(b, storeKinds[0], 1000)
			e.create(&directory.Account{Name: "mgr", Kind: directory.KindUser}, nil)
			e.group("Helpdesk", "mgr")
			e.setDelegation("host7$", directory.DelegationChange{ManagedBy: listp("Helpdesk")})
			x := e.dir.As(c.actor)
			keys := aesKeys(1, "")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.SetKeys(ctx, "host7$", keys, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetPassword measures a password change, dominated by the key
// derivations (PBKDF2: 4096 iterations for the SHA-1 types, 32768 for the
// SHA-2 types; RFC 3962, RFC 8009) and the history check.
func BenchmarkSetPassword(b *testing.B) {
	e := benchEnv(b, storeKinds[0], 10)
	e.create(&directory.Account{Name: "alice", Kind: directory.KindUser}, nil)
	if _, err := e.admin().SetPolicy(ctx, directory.Policy{PasswordHistory: directory.NoPasswordHistory}); err != nil {
		b.Fatal(err)
	}
	x := e.dir.As(directory.LocalAdmin)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.SetPassword(ctx, "alice", "Bench-password-1", 0); err != nil {
			b.Fatal(err)
		}
	}
}
