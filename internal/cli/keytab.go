package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/keytab"
)

func keytabCommand() *command {
	return &command{
		name:    "keytab",
		summary: "export an account's keys to an MIT keytab",
		subs: []*command{
			{name: "export", summary: "write a keytab for an account and its SPNs",
				usage: "keytab export ACCOUNT -o FILE [--dir DIR] [--current-only] [--json]",
				help: `Writes an MIT keytab (version 2, mode 0600) with an entry per key type for
the account's own principal (e.g. b$@REALM) and for each of its SPNs
(host/b.example.test@REALM, ...). Keys of the previous kvno are included too, so
that tickets issued before the last key change still decrypt; --current-only
leaves them out. FILE is replaced.`,
				run: runKeytabExport},
		},
	}
}

func runKeytabExport(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	out := fs.String("o", "", "the keytab `FILE` to write")
	fs.StringVar(out, "output", "", "same as -o")
	currentOnly := fs.Bool("current-only", false, "only the current kvno's keys")
	asJSON := fs.Bool("json", false, "print the entries written as JSON")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("%s: give the output file with -o FILE", c.path)
	}
	d, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	a, err := d.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	kt := keytabFor(dom.Realm, a, !*currentOnly, time.Now())
	if len(kt.Entries) == 0 {
		return fmt.Errorf("account %s has no keys to export; give it keys with hop account passwd %s --random-key", a.Name, a.Name)
	}
	if err := kt.Save(*out); err != nil {
		return err
	}
	type entryJSON struct {
		Principal string `json:"principal"`
		KVNO      uint32 `json:"kvno"`
		EType     string `json:"etype"`
	}
	if *asJSON {
		rows := []entryJSON{}
		for _, en := range kt.Entries {
			rows = append(rows, entryJSON{en.Principal.String(), en.KVNO, en.EncType.String()})
		}
		return printJSON(e.stdout, rows)
	}
	principals := []string{a.Principal(dom.Realm).String()}
	for _, s := range a.SPNs {
		principals = append(principals, s+"@"+string(dom.Realm))
	}
	fmt.Fprintf(e.stdout, "Wrote %d keys (kvno %d) for %s to %s.\n", len(kt.Entries), a.KVNO, strings.Join(principals, ", "), *out)
	return nil
}

// keytabFor lists an account's keys under its own principal and each SPN.
func keytabFor(realm krb5.Realm, a *directory.Account, withOld bool, now time.Time) *keytab.Keytab {
	names := []krb5.PrincipalName{krb5.NewName(krb5.NTPrincipal, a.Name)}
	for _, s := range a.SPNs {
		names = append(names, krb5.NewName(krb5.NTPrincipal, strings.Split(s, "/")...))
	}
	keys := a.Keys
	if withOld {
		keys = append(append([]directory.Key(nil), a.Keys...), a.OldKeys...)
	}
	kt := &keytab.Keytab{}
	for _, n := range names {
		for _, k := range keys {
			kt.Entries = append(kt.Entries, keytab.Entry{
				Principal: krb5.Principal{Name: n, Realm: realm},
				Timestamp: now, KVNO: k.KVNO, EncType: k.EncType, Key: k.Material(),
			})
		}
	}
	return kt
}
