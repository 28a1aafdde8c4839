package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/directory/bolt"
	"hop/domain"
)

func domainBackupCommand() *command {
	return &command{
		name:    "backup",
		summary: "write the domain (directory and master key) to a backup file",
		usage:   "domain backup [--dir DIR] -o FILE|-",
		help: `Writes one file holding the directory database — copied in a single read
transaction, so it is consistent even while the KDC and other hop commands
run — and the master key that seals its keys, with a header (format version,
realm, time) and a SHA-256 checksum. Before writing, the copy is checked: the
master key opens it and every account's keys decrypt. A backup written to a
FILE is read back and checked again before it replaces FILE.

THE BACKUP IS AS SECRET AS THE MASTER KEY: whoever reads it can decrypt every
account's keys and impersonate every user and service of the domain. It is
written with mode 0600. Keep it encrypted and away from the domain's host,
e.g.:  hop domain backup -o - | age -r RECIPIENT > domain.backup.age

The audit log is not part of the backup.`,
		run: runDomainBackup,
	}
}

func domainRestoreCommand() *command {
	return &command{
		name:    "restore",
		summary: "restore the domain from a backup file",
		usage:   "domain restore [--dir DIR] [--force] FILE|-",
		help: `Reads a backup written by hop domain backup ("-" = standard input) and
checks it completely before touching DIR: its checksum, that its database
opens, that its master key opens the directory and decrypts every account's
keys, and that the directory's realm is the one its header names.

If DIR already holds a domain, restore refuses unless --force is given. With
--force, DIR/directory.db (and DIR/master.key, if the backup's differs) are
replaced atomically, each by a rename; the replaced files are kept as
directory.db.before-restore and master.key.before-restore (replacing older
ones). A running KDC serves the restored directory from its next request
when the master key is unchanged (a backup of this same domain); when it
changed, restart the KDC. The audit log is not rolled back: the restore is
recorded in it.`,
		run: runDomainRestore,
	}
}

func runDomainBackup(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	out := fs.String("o", "", "write the backup to `FILE` (mode 0600; \"-\" = standard output)")
	fs.StringVar(out, "output", "", "the same as -o")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("%s: -o FILE is required (\"-\" writes to standard output)", c.path)
	}
	f := domain.Folder(*dir)
	now := time.Now()
	var info *bolt.BackupInfo
	var err error
	if *out == "-" {
		info, err = f.Backup(ctx, e.stdout, now)
	} else {
		info, err = f.BackupFile(ctx, *out, now)
	}
	if err != nil {
		return err
	}
	where := *out
	if where == "-" {
		where = "standard output"
	}
	auditDomainEvent(e, *dir, audit.Event{Time: now, Type: "domain.backup", Actor: directory.LocalAdmin.String(), Target: string(info.Realm),
		Reason: fmt.Sprintf("backup (directory and master key) written to %s, sha256 %s", where, info.Checksum)})
	msg := fmt.Sprintf("Backed up %s (%d accounts, %d groups) to %s.\nIt holds the master key: keep it as secret as %s.\n",
		info.Realm, info.Accounts, info.Groups, where, f.MasterKey())
	if *out == "-" {
		fmt.Fprint(e.stderr, msg)
	} else {
		fmt.Fprint(e.stdout, msg)
	}
	return nil
}

func runDomainRestore(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder to restore the domain into")
	force := fs.Bool("force", false, "replace the domain already in DIR (its files are kept as *.before-restore)")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	var in io.Reader = e.stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("open the backup: %w", err)
		}
		defer f.Close()
		in = f
	}
	f := domain.Folder(*dir)
	res, err := f.Restore(ctx, in, *force)
	if errors.Is(err, bolt.ErrDomainInPlace) {
		kdc := ""
		if f.Serving() {
			kdc = " and a KDC is serving it"
		}
		return fmt.Errorf("the backup checks out (realm %s, %d accounts, taken %s), but %s already holds a domain%s; nothing was changed. To replace it, run again with --force (the current files are kept as *.before-restore)",
			res.Info.Realm, res.Info.Accounts, res.Info.Created.Format(time.RFC3339), *dir, kdc)
	}
	if err != nil {
		return fmt.Errorf("nothing was restored: %w", err)
	}
	reason := fmt.Sprintf("restored from %s (backup of %s, sha256 %s)", pos[0], res.Info.Created.Format(time.RFC3339), res.Info.Checksum)
	if res.Replaced {
		reason += "; the replaced files are kept as *.before-restore"
	}
	auditDomainEvent(e, *dir, audit.Event{Time: time.Now(), Type: "domain.restore", Actor: directory.LocalAdmin.String(), Target: string(res.Info.Realm), Reason: reason})
	fmt.Fprintf(e.stdout, "Restored %s (%d accounts, %d groups; backup taken %s) into %s.\n",
		res.Info.Realm, res.Info.Accounts, res.Info.Groups, res.Info.Created.Format(time.RFC3339), *dir)
	switch {
	case res.KeyChanged:
		fmt.Fprintf(e.stdout, "The master key changed: restart any KDC serving %s. The previous files are %s.before-restore and %s.before-restore.\n", *dir, domain.DirectoryFile, domain.MasterKeyFile)
	case res.Replaced:
		fmt.Fprintf(e.stdout, "A running KDC serves the restored directory from its next request. The previous directory is %s.before-restore.\n", domain.DirectoryFile)
	}
	return nil
}

// auditDomainEvent records a backup or restore in DIR/audit.log. The
// operation is done by then, so a failure is reported, not returned.
func auditDomainEvent(e *env, dir string, ev audit.Event) {
	if err := domain.Folder(dir).Record(ev); err != nil {
		fmt.Fprintf(e.stderr, "hop: warning: the %s was not recorded in the audit log: %v\n", ev.Type, err)
	}
}
