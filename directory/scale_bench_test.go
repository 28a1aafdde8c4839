package directory_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hop/directory"
	"hop/krb5"
)

// Benchmarks at scale: a directory of HOP_BENCH_ACCOUNTS accounts
// (default 100,000; hop domain populate makes them the same way) in a
// bolt file: 99% users with UPNs, 1% computers with two SPNs, a group per
// hundred accounts nesting four deep, each user in two groups.
//
//	go test ./directory -run XXX -bench Scale -benchtime 20x
//	HOP_BENCH_ACCOUNTS=1000000 go test ./directory -run XXX -bench Scale -benchtime 5x -timeout 30m

func benchAccounts(b *testing.B) int {
	if v := os.Getenv("HOP_BENCH_ACCOUNTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("HOP_BENCH_ACCOUNTS=%q: want a number of accounts, at least 100", v)
		}
		return n
	}
	return 100_000
}

// scaleEnv returns a bolt directory of n accounts.
func scaleEnv(b *testing.B, n int) (*env, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "directory.db")
	e := newEnv(b, func(testing.TB) directory.Store { return boltAt(b, path) })
	start := time.Now()
	groups := max(1, n/100)
	batch := &directory.Batch{}
	for i := range groups {
		batch.Groups = append(batch.Groups, directory.BatchGroup{Name: fmt.Sprintf("group%05d", i)})
		if i > 0 {
			batch.Members = append(batch.Members, directory.BatchMember{Group: fmt.Sprintf("group%05d", (i-1)/10), Member: fmt.Sprintf("group%05d", i)})
		}
	}
	if err := e.admin().CreateBatch(ctx, batch); err != nil {
		b.Fatal(err)
	}
	const size = 20_000
	for first := 0; first < n; first += size {
		batch = &directory.Batch{}
		for i := first; i < min(first+size, n); i++ {
			keys := aesKeys(byte(i), "")
			if i%100 == 99 {
				name := fmt.Sprintf("pc%07d", i)
				batch.Accounts = append(batch.Accounts, directory.BatchAccount{Account: &directory.Account{Name: name + "$", Kind: directory.KindComputer,
					DNSHostName: name + ".example.test", SPNs: []string{"host/" + name + ".example.test", "HOST/" + name}}, Keys: keys})
				continue
			}
			name := fmt.Sprintf("user%07d", i)
			batch.Accounts = append(batch.Accounts, directory.BatchAccount{Account: &directory.Account{Name: name, Kind: directory.KindUser, UPN: name + "@example.test"}, Keys: keys})
			for _, g := range []int{i % groups, (i * 7) % groups} {
				if g != i%groups || len(batch.Members) == 0 || batch.Members[len(batch.Members)-1].Member != name {
					batch.Members = append(batch.Members, directory.BatchMember{Group: fmt.Sprintf("group%05d", g), Member: name})
				}
			}
		}
		if err := e.admin().CreateBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d accounts and %d groups made in %s", n, groups, time.Since(start).Round(time.Millisecond))
	return e, path
}

// BenchmarkSnapshotBuildScale reads a directory whole, as the KDC does
// when it starts.
func BenchmarkSnapshotBuildScale(b *testing.B) {
	n := benchAccounts(b)
	e, _ := scaleEnv(b, n)
	b.ResetTimer()
	for b.Loop() {
		d, err := directory.Open(ctx, e.store, e.mk, directory.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "accounts")
}

// BenchmarkSnapshotApplyScale measures how long a KDC's snapshot takes to
// follow a change another process made: one account's description (or a
// new account, or a membership), read from the change log.
func BenchmarkSnapshotApplyScale(b *testing.B) {
	n := benchAccounts(b)
	e, path := scaleEnv(b, n)
	kdc, err := directory.Open(ctx, boltAt(b, path), e.mk, directory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kdc.Snapshot(ctx); err != nil {
		b.Fatal(err)
	}
	i, in := 0, false
	for _, c := range []struct {
		name   string
		change func() error
	}{
		{"description", func() error {
			_, err := e.admin().UpdateAccount(ctx, "user0000001", 0, func(a *directory.Account) error { a.Description = fmt.Sprint(i); return nil })
			return err
		}},
		{"membership", func() error { // a user in and out of a group
			var err error
			if in = !in; in {
				_, err = e.admin().AddMember(ctx, "group00003", "user0000001", 0)
			} else {
				_, err = e.admin().RemoveMember(ctx, "group00003", "user0000001", 0)
			}
			return err
		}},
		{"new account", func() error {
			_, err := e.admin().CreateAccount(ctx, &directory.Account{Name: fmt.Sprint("new", i), Kind: directory.KindUser}, nil)
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				i++
				b.StopTimer()
				if err := c.change(); err != nil {
					b.Fatal(err)
				}
				time.Sleep(2 * time.Millisecond) // past the KDC's check interval
				b.StartTimer()
				s, err := kdc.Snapshot(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if c.name == "description" {
					if a, _ := s.Account("user0000001"); a.Description != fmt.Sprint(i) {
						b.Fatal("the change is not in the snapshot")
					}
				}
			}
		})
	}
	full, followed := kdc.SnapshotBuilds()
	b.Logf("snapshots: %d read whole, %d followed changes", full, followed)
}

// BenchmarkLookupScale resolves names in a large directory.
func BenchmarkLookupScale(b *testing.B) {
	n := benchAccounts(b)
	e, _ := scaleEnv(b, n)
	s := e.snap()
	host := fmt.Sprintf("pc%07d", 99+100*(n/200))
	user := fmt.Sprintf("user%07d", n/2)
	for _, c := range []struct {
		name string
		p    krb5.PrincipalName
	}{
		{"user", krb5.NewName(krb5.NTPrincipal, user)},
		{"SPN", krb5.NewName(krb5.NTSrvHst, "host", host+".example.test")},
		{"UPN", krb5.NewName(krb5.NTEnterprise, user+"@example.test")},
		{"krbtgt", krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST")},
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
	b.Run("SIDs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(s.SIDs(user)) < 3 {
				b.Fatal("no groups")
			}
		}
	})
}
