package cli

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"hop/directory"
)

// Bounds of hop domain populate.
const (
	maxPopulateAccounts = 5_000_000
	maxPopulateGroups   = 100_000
	// populateBatch is how many accounts one transaction creates by
	// default: large enough that the fsync and the primary group's record
	// (which lists every account of its kind) are written rarely.
	populateBatch = 25_000
	// groupFanout is how many groups nest in each: group i is a member of
	// group (i-1)/groupFanout, so that 10,000 groups nest four levels deep.
	groupFanout = 10
	// maxPopulateBatch keeps a batch's accounts and their memberships (at
	// most five each) within directory.MaxBatch.
	maxPopulateBatch = directory.MaxBatch / 6
)

func domainPopulateCommand() *command {
	return &command{name: "populate", summary: "fill a directory with generated accounts and groups (for benchmarks)",
		usage: "domain populate --dir DIR --users N [--computers N] [--groups N] [--seed S] [--batch N]",
		help: `Creates N users (user0000001, ...; UPN user0000001@DOMAIN), computers
(pc0000001$, ...; DNS host name pc0000001.DOMAIN, SPNs host/pc0000001.DOMAIN
and HOST/pc0000001) and groups (group00001, ...) in the domain of DIR, through
the directory's checks and indexes, as the domain administrator. Every account
gets random keys (aes256 and aes128; no password: export a keytab to use one).

Groups nest: group i is a member of group (i-1)/10, so 10,000 groups nest four
levels deep. Each user is in one to four random groups, each computer in one.
Some accounts get delegation settings: every 1,000th computer unconstrained
delegation, every 500th constrained delegation to the next computer's host SPN
with protocol transition, the one after it resource-based delegation from the
previous one; every 1,000th user is sensitive, every 10,000th in Protected
Users. The same --seed gives the same directory (except its random keys).

It writes in transactions of --batch accounts, each audited as one event, and
prints its progress on standard error. It refuses more than 5,000,000 accounts,
and a directory that already holds the names it would create.`,
		run: runDomainPopulate}
}

// populatePlan generates the objects of hop domain populate.
type populatePlan struct {
	users, computers, groups int
	dns                      string // the realm in lower case
	seed                     uint64
}

func userName(i int) string     { return fmt.Sprintf("user%07d", i+1) }
func computerName(i int) string { return fmt.Sprintf("pc%07d", i+1) }
func groupName(i int) string    { return fmt.Sprintf("group%05d", i+1) }

func runDomainPopulate(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet("populate", flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	users := fs.Int("users", 0, "how many user accounts to create")
	computers := fs.Int("computers", 0, "how many computer accounts to create")
	groups := fs.Int("groups", 0, "how many groups to create")
	seed := fs.Uint64("seed", 1, "the seed of the generated memberships and keys")
	batch := fs.Int("batch", populateBatch, "accounts per transaction")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	switch {
	case *users < 0 || *computers < 0 || *groups < 0:
		return usagef("%s: --users, --computers and --groups count objects; they cannot be negative", c.path)
	case *users+*computers == 0 && *groups == 0:
		return usagef("%s: give --users N, --computers N or --groups N", c.path)
	case *users+*computers > maxPopulateAccounts:
		return usagef("%s: %d accounts is more than the %d this command creates", c.path, *users+*computers, maxPopulateAccounts)
	case *groups > maxPopulateGroups:
		return usagef("%s: %d groups is more than the %d this command creates", c.path, *groups, maxPopulateGroups)
	case *batch < 1 || *batch > maxPopulateBatch:
		return usagef("%s: --batch must be between 1 and %d", c.path, maxPopulateBatch)
	}
	d, done, err := openDirectory(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	dom, err := d.Domain(ctx)
	if err != nil {
		return err
	}
	x := d.As(directory.LocalAdmin)
	for _, name := range []string{userName(0), computerName(0) + "$", groupName(0)} {
		_, errA := x.Account(ctx, name)
		_, errG := x.Group(ctx, name)
		if errA == nil || errG == nil {
			return fmt.Errorf("%s already holds %s, which hop domain populate would create: populate a new domain (hop domain init --dir NEWDIR)", *dir, name)
		}
		for _, err := range []error{errA, errG} {
			if !errors.Is(err, directory.ErrNotFound) {
				return err
			}
		}
	}
	p := &populatePlan{users: *users, computers: *computers, groups: *groups, dns: strings.ToLower(string(dom.Realm)), seed: *seed}
	start := time.Now()
	total := *users + *computers
	made := 0
	progress := func() {
		el := time.Since(start)
		fmt.Fprintf(e.stderr, "populate: %d of %d accounts, %d groups, %.1fs (%.0f accounts/s)\n",
			made, total, *groups, el.Seconds(), float64(made)/max(el.Seconds(), 1e-9))
	}
	for b, err := range p.batches(*batch) {
		if err != nil {
			return err
		}
		if err := x.CreateBatch(ctx, b); err != nil {
			return fmt.Errorf("after %d accounts: %w", made, err)
		}
		made += len(b.Accounts)
		progress()
	}
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "Populated %s in %s: %d users, %d computers, %d groups in %.1fs (%.0f accounts/s).\n",
		dom.Realm, *dir, *users, *computers, *groups, el.Seconds(), float64(total)/max(el.Seconds(), 1e-9))
	return nil
}

// batches yields the batches to create, in order: the groups and their
// nesting first, then the accounts, size at a time, with their
// memberships and delegation settings.
func (p *populatePlan) batches(size int) func(yield func(*directory.Batch, error) bool) {
	return func(yield func(*directory.Batch, error) bool) {
		var s [32]byte
		binary.LittleEndian.PutUint64(s[:], p.seed)
		keyRand := rand.NewChaCha8(s)
		s[8] = 1
		r := rand.New(rand.NewChaCha8(s))
		etypes := directory.DefaultETypes(false)
		b := &directory.Batch{}
		for i := range p.groups {
			b.Groups = append(b.Groups, directory.BatchGroup{Name: groupName(i), Description: "generated by hop domain populate"})
			if i > 0 {
				b.Members = append(b.Members, directory.BatchMember{Group: groupName((i - 1) / groupFanout), Member: groupName(i)})
			}
		}
		if len(b.Groups) > 0 && !yield(b, nil) {
			return
		}
		total := p.users + p.computers
		for first := 0; first < total; first += size {
			b = &directory.Batch{}
			for n := first; n < min(first+size, total); n++ {
				keys, err := directory.RandomKeys(etypes, keyRand)
				if err != nil {
					yield(nil, err)
					return
				}
				if n < p.users {
					b.Accounts = append(b.Accounts, p.user(n, keys, r, b))
				} else {
					b.Accounts = append(b.Accounts, p.computer(n-p.users, keys, r, b))
				}
			}
			if !yield(b, nil) {
				return
			}
		}
	}
}

func (p *populatePlan) user(i int, keys []directory.Key, r *rand.Rand, b *directory.Batch) directory.BatchAccount {
	name := userName(i)
	ba := directory.BatchAccount{Account: &directory.Account{Name: name, Kind: directory.KindUser, UPN: name + "@" + p.dns}, Keys: keys}
	if p.groups > 0 {
		n := 1 + r.IntN(4)
		seen := map[int]bool{}
		for range n {
			g := r.IntN(p.groups)
			if !seen[g] {
				seen[g] = true
				b.Members = append(b.Members, directory.BatchMember{Group: groupName(g), Member: name})
			}
		}
	}
	if (i+1)%1000 == 0 {
		ba.Delegation.Sensitive = ptr(true)
	}
	if (i+1)%10000 == 0 {
		b.Members = append(b.Members, directory.BatchMember{Group: directory.NameProtectedUsers, Member: name})
	}
	return ba
}

func (p *populatePlan) computer(i int, keys []directory.Key, r *rand.Rand, b *directory.Batch) directory.BatchAccount {
	host := computerName(i)
	fqdn := host + "." + p.dns
	ba := directory.BatchAccount{Account: &directory.Account{Name: host + "$", Kind: directory.KindComputer, DNSHostName: fqdn,
		SPNs: []string{"host/" + fqdn, "HOST/" + host}}, Keys: keys}
	if p.groups > 0 {
		b.Members = append(b.Members, directory.BatchMember{Group: groupName(r.IntN(p.groups)), Member: host + "$"})
	}
	switch n := i + 1; {
	case n%1000 == 0:
		ba.Delegation.TrustedForDelegation = ptr(true)
	case n%500 == 1 && i+1 < p.computers:
		ba.Delegation.AllowedToDelegateTo = &[]string{"host/" + computerName(i+1) + "." + p.dns}
		ba.Delegation.TrustedToAuthForDelegation = ptr(true)
	case n%500 == 2:
		ba.Delegation.AllowedToAct = &[]string{computerName(i-1) + "$"}
	}
	return ba
}

func ptr[T any](v T) *T { return &v }
