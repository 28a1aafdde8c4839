package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hop/admin"
	"hop/krb5"
	"hop/krb5/keytab"
)

func keytabCommand() *command {
	return &command{
		name:    "keytab",
		summary: "export an account's keys to an MIT keytab",
		subs: []*command{
			{name: "export", summary: "write a keytab for an account and its SPNs",
				usage: "keytab export ACCOUNT -o FILE [--dir DIR | --server URL] [--rotate] [--current-only] [--json]",
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
	tgt := e.targetFlags(fs)
	out := fs.String("o", "", "the keytab `FILE` to write")
	fs.StringVar(out, "output", "", "same as -o")
	currentOnly := fs.Bool("current-only", false, "only the current kvno's keys")
	rotate := fs.Bool("rotate", false, "give the account new random keys first (its kvno increases); what managers of the account may do")
	asJSON := fs.Bool("json", false, "print the entries written as JSON")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("%s: give the output file with -o FILE", c.path)
	}
	// Before the keys are read (or, with --rotate, changed).
	if fi, err := os.Stat(*out); err == nil && fi.IsDir() {
		return usagef("%s: -o %s is a folder; give the keytab's file name, e.g. -o %s", c.path, *out, filepath.Join(*out, strings.TrimSuffix(pos[0], "$")+".keytab"))
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	keys, err := svc.AccountKeys(ctx, pos[0], 0, admin.KeysRequest{Rotate: *rotate})
	if err != nil {
		return err
	}
	kt, err := keytabOf(keys, !*currentOnly, time.Now())
	if err != nil {
		return err
	}
	if len(kt.Entries) == 0 {
		return fmt.Errorf("account %s has no keys to export; give it keys with hop account passwd %s --random-key", keys.Account, keys.Account)
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
	var principals []string
	for _, en := range kt.Entries {
		if p := en.Principal.String(); !slices.Contains(principals, p) {
			principals = append(principals, p)
		}
	}
	fmt.Fprintf(e.stdout, "Wrote %d keys (kvno %d) for %s to %s.\n", len(kt.Entries), keys.KVNO, strings.Join(principals, ", "), *out)
	return nil
}

// keytabOf makes a keytab of keys, with the previous kvnos' keys too when
// withOld. It clears the key material it was given.
func keytabOf(keys *admin.Keys, withOld bool, now time.Time) (*keytab.Keytab, error) {
	kt := &keytab.Keytab{}
	for i := range keys.Keys {
		k := &keys.Keys[i]
		if !withOld && k.KVNO != keys.KVNO {
			continue
		}
		p, err := krb5.ParsePrincipal(k.Principal)
		if err != nil {
			return nil, fmt.Errorf("the server sent a key for %q: %v", k.Principal, err)
		}
		kt.Entries = append(kt.Entries, keytab.Entry{
			Principal: p, Timestamp: now, KVNO: k.KVNO, EncType: krb5.EncType(k.EType), Key: bytes.Clone(k.Material),
		})
		clear(k.Material)
	}
	return kt, nil
}
