package domain

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/audit"
	"hop/directory"
	"hop/directory/bolt"
	"hop/krb5"
)

var when = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newDomain(t *testing.T, dir string) {
	t.Helper()
	_, err := Create(context.Background(), dir, CreateOptions{Realm: "example.test", AdminPassword: "Admin-pw-1", AdminNames: []string{"dc.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
}

// tree returns the files and folders under dir with their contents
// ("<dir>" for folders).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			m[rel] = "<dir>"
			return nil
		}
		b, err := os.ReadFile(p)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCreateAndOpen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	newDomain(t, dir)
	f := Folder(dir)
	for _, name := range []string{MasterKeyFile, DirectoryFile, AuditFile, audit.HeadPath(AuditFile), AdminKeyFile} {
		st, err := os.Stat(f.Path(name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want it with mode 0600", name, err, st.Mode().Perm())
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the folder: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	if _, err := os.Stat(f.Path(AdminCertFile)); err != nil {
		t.Error(err)
	}
	if _, err := audit.Verify(f.AuditLog()); err != nil {
		t.Errorf("the new audit log: %v", err)
	}

	before := tree(t, dir)
	_, err := Create(ctx, dir, CreateOptions{Realm: "other.test", AdminPassword: "x"})
	if err == nil || !strings.Contains(err.Error(), "already holds a domain") {
		t.Errorf("Create over a domain: %v; want a refusal", err)
	}
	if after := tree(t, dir); !maps.Equal(before, after) {
		t.Error("a refused Create changed the folder")
	}

	d, err := Open(ctx, dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dom, err := d.Directory.Domain(ctx)
	if err != nil || dom.Realm != "EXAMPLE.TEST" {
		t.Errorf("Domain() = %v, %v; want realm EXAMPLE.TEST", dom, err)
	}
	if _, err := d.Directory.Account(ctx, directory.NameAdministrator); err != nil {
		t.Error(err)
	}
	if err := d.Close(); err != nil {
		t.Error(err)
	}
}

func TestCreateNeedsAPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	_, err := Create(context.Background(), dir, CreateOptions{Realm: "EXAMPLE.TEST"})
	if err == nil || !strings.Contains(err.Error(), "password is empty") {
		t.Errorf("Create without a password: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Create without a password left %s behind (%v)", dir, err)
	}
}

func TestOpenWithoutDomain(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), dir, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "no hop domain in") {
		t.Errorf("Open of an empty folder: %v", err)
	}
	os.WriteFile(Folder(dir).MasterKey(), []byte("x"), 0o600)
	if _, err := Open(context.Background(), dir, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "has a master key but no directory.db") {
		t.Errorf("Open of a folder with only a master key: %v", err)
	}
}

// A Create that fails midway leaves no file it made and every file that
// was there as it was.
func TestCreateRollsBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		realm   string
		setup   func(t *testing.T, dir string) // the folder exists when setup is set
		wantErr string
	}{
		{
			name: "the certificate's key is missing (after the master key)", realm: "example.test",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, AdminCertFile), []byte("an old certificate"), 0o644)
				os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
			},
			wantErr: "only one of",
		},
		{
			name: "the audit log cannot be opened (after the master key, certificate and database)", realm: "example.test",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, AuditFile), []byte("old events\n"), 0o600)
				os.Mkdir(filepath.Join(dir, audit.HeadPath(AuditFile)), 0o700)
			},
			wantErr: "audit",
		},
		{
			name: "the directory refuses the realm (after every file), in a folder that existed", realm: "bad realm",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
			},
			wantErr: "realm",
		},
		{name: "the directory refuses the realm, in new folders", realm: "bad realm", wantErr: "realm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "x", "dom")
			if tc.setup != nil {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				tc.setup(t, dir)
			}
			before := tree(t, base)
			_, err := Create(context.Background(), dir, CreateOptions{Realm: "example.test", AdminPassword: "Admin-pw-1"}.with(tc.realm))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Create: %v; want an error about %q", err, tc.wantErr)
			}
			after := tree(t, base)
			for p, v := range after {
				if w, ok := before[p]; !ok {
					t.Errorf("a failed Create left %s", p)
				} else if w != v {
					t.Errorf("a failed Create changed %s: %q, was %q", p, v, w)
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("a failed Create removed %s, which it did not make", p)
				}
			}
		})
	}
}

func (o CreateOptions) with(realm string) CreateOptions {
	o.Realm = krb5.Realm(realm)
	return o
}

func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	src := Folder(filepath.Join(t.TempDir(), "src"))
	newDomain(t, string(src))
	out := filepath.Join(t.TempDir(), "domain.backup")
	info, err := src.BackupFile(ctx, out, when)
	if err != nil {
		t.Fatal(err)
	}
	if info.Realm != "EXAMPLE.TEST" || !info.Created.Equal(when) {
		t.Errorf("backup info %+v", info)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	if err := src.Record(audit.Event{Time: when, Type: "domain.backup"}); err != nil {
		t.Fatal(err)
	}
	if lines, err := audit.Read(ctx, src.AuditLog(), audit.Query{Types: []string{"domain.backup"}}); err != nil || len(lines) != 1 {
		t.Errorf("the recorded backup: %q, %v", lines, err)
	}

	dst := Folder(filepath.Join(t.TempDir(), "dst"))
	restore := func(force bool) (*bolt.RestoreResult, error) {
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return dst.Restore(ctx, f, force)
	}
	if _, err := restore(false); err != nil {
		t.Fatal(err)
	}
	d, err := Open(ctx, string(dst), OpenOptions{Audit: audit.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if dom, err := d.Directory.Domain(ctx); err != nil || dom.Realm != "EXAMPLE.TEST" {
		t.Errorf("restored domain: %v, %v", dom, err)
	}
	d.Close()
	if _, err := restore(false); !errors.Is(err, bolt.ErrDomainInPlace) {
		t.Errorf("restore over a domain without force: %v; want ErrDomainInPlace", err)
	}
	if dst.Serving() {
		t.Error("Serving() without a state file")
	}
	if res, err := restore(true); err != nil || !res.Replaced || res.KeyChanged {
		t.Errorf("forced restore of the same domain: %+v, %v; want Replaced, not KeyChanged", res, err)
	}
}

// The domain's password policy applies to Administrator's password too:
// the default minimum length, 8, as for every other password.
func TestCreateAppliesThePasswordPolicy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	_, err := Create(context.Background(), dir, CreateOptions{Realm: "EXAMPLE.TEST", AdminPassword: "short"})
	if !errors.Is(err, directory.ErrPolicy) || !strings.Contains(err.Error(), "the new password has 5 characters; this domain requires at least 8") {
		t.Errorf("Create with a 5-character password: %v; want the policy's refusal", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused Create left %s behind (%v)", dir, err)
	}
}

// Create writes the domain's creation as the log's first event, so that
// deleting it from an otherwise empty log shows.
func TestCreateAuditsTheCreation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	newDomain(t, dir)
	log := Folder(dir).AuditLog()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	ev, err := audit.ParseLine([]byte(lines[0]))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != CreateEvent || ev.Target != "EXAMPLE.TEST" || ev.Actor != directory.LocalAdmin.String() ||
		len(ev.Changes) != 2 || ev.Changes[1].Field != "sid" || !strings.HasPrefix(ev.Changes[1].New, "S-1-5-21-") {
		t.Errorf("the log's first event = %+v; want the domain's creation", ev)
	}
	if _, err := audit.Verify(log); err != nil {
		t.Fatalf("the new log: %v", err)
	}
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(log); err == nil {
		t.Error("Verify of the log without its creation event passed; want the deleted lines found")
	}
}
