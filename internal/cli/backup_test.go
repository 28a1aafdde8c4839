package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/audit"
	"hop/dc"
	"hop/domain"
	"hop/internal/testio"
	"hop/krb5"
	"hop/krb5/client"
)

func TestDomainBackupRestore(t *testing.T) {
	dir := newTestDomain(t)
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	var accounts []json.RawMessage
	if err := json.Unmarshal([]byte(ok(t, "", "account", "list", "--dir", dir, "--json")), &accounts); err != nil {
		t.Fatal(err)
	}
	counted := fmt.Sprintf("EXAMPLE.TEST (%d accounts", len(accounts))
	bak := filepath.Join(t.TempDir(), "hop.bak")
	fails(t, 2, "-o FILE is required", "", "domain", "backup", "--dir", dir)
	out := ok(t, "", "domain", "backup", "--dir", dir, "-o", bak)
	if !strings.Contains(out, "Backed up "+counted) || !strings.Contains(out, "keep it as secret as") {
		t.Errorf("backup said %q", out)
	}
	st, err := os.Stat(bak)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v", err, st.Mode().Perm())
	}
	b, _ := os.ReadFile(bak)
	if !bytes.HasPrefix(b, []byte("hop-domain-backup v1\nrealm: EXAMPLE.TEST\ncreated: ")) {
		t.Errorf("backup begins %q", b[:60])
	}
	ents, _ := os.ReadDir(filepath.Dir(bak))
	if len(ents) != 1 {
		t.Errorf("backup folder holds %d files, want only the backup", len(ents))
	}

	ok(t, "Bob-pw-1\n", "account", "add", "bob", "--dir", dir)
	fails(t, 1, "already holds a domain", "", "domain", "restore", "--dir", dir, bak)
	ok(t, "", "account", "show", "bob", "--dir", dir)

	out = ok(t, "", "domain", "restore", "--dir", dir, "--force", bak)
	if !strings.Contains(out, "Restored "+counted) || !strings.Contains(out, "directory.db.before-restore") {
		t.Errorf("restore said %q", out)
	}
	fails(t, 1, `no account "bob"`, "", "account", "show", "bob", "--dir", dir)
	ok(t, "", "account", "show", "alice", "--dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "directory.db.before-restore")); err != nil {
		t.Error(err)
	}

	// Into an empty folder, through standard output and input.
	stdout := ok(t, "", "domain", "backup", "--dir", dir, "-o", "-")
	other := filepath.Join(t.TempDir(), "restored")
	ok(t, stdout, "domain", "restore", "--dir", other, "-")
	ok(t, "", "account", "show", "alice", "--dir", other)

	// Damaged backups are refused before anything changes.
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, []byte("hello\n"), 0o600)
	fails(t, 1, "nothing was restored: bolt: not a hop domain backup", "", "domain", "restore", "--dir", dir, "--force", garbage)
	flipped := bytes.Clone(b)
	flipped[len(flipped)/2] ^= 1
	os.WriteFile(garbage, flipped, 0o600)
	fails(t, 1, "checksum does not match", "", "domain", "restore", "--dir", dir, "--force", garbage)
	os.WriteFile(garbage, b[:len(b)-100], 0o600)
	fails(t, 1, "cut short", "", "domain", "restore", "--dir", dir, "--force", garbage)
	ok(t, "", "account", "show", "alice", "--dir", dir)

	// Both are audited, in the chain.
	events := ok(t, "", "audit", "--dir", dir, "--type", "domain")
	if strings.Count(events, "domain.backup") != 2 || strings.Count(events, "domain.restore") != 1 {
		t.Errorf("audit of backups and restores:\n%s", events)
	}
	if out := ok(t, "", "audit", "verify", "--dir", dir); !strings.HasPrefix(out, "audit log OK") {
		t.Errorf("verify: %s", out)
	}
	if help := ok(t, "", "domain", "backup", "--help"); !strings.Contains(help, "AS SECRET AS THE MASTER KEY") {
		t.Errorf("backup help does not say the file is secret:\n%s", help)
	}
}

// TestRestoreUnderRunningKDC: a hop kdc keeps serving across a restore
// and, from its next request, serves the restored directory.
func TestRestoreUnderRunningKDC(t *testing.T) {
	dir := newTestDomain(t)
	ok(t, "Alice-pw-1\n", "account", "add", "alice", "--dir", dir)
	bak := filepath.Join(t.TempDir(), "hop.bak")
	ok(t, "", "domain", "backup", "--dir", dir, "-o", bak)
	ok(t, "Bob-pw-1\n", "account", "add", "bob", "--dir", dir)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var kdcOut, kdcErr testio.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"kdc", "--dir", dir, "--listen", "127.0.0.1:0", "--log-level", "warn"}, strings.NewReader(""), &kdcOut, &kdcErr)
	}()
	var addr string
	for addr == "" {
		if b, err := os.ReadFile(domain.Folder(dir).State()); err == nil {
			var st dc.State
			if json.Unmarshal(b, &st) == nil && len(st.Listen) > 0 {
				addr = st.Listen[0]
			}
		}
		select {
		case err := <-done:
			t.Fatalf("hop kdc: %v\n%s", err, kdcErr.String())
		case <-ctx.Done():
			t.Fatal("hop kdc did not start")
		case <-time.After(10 * time.Millisecond):
		}
	}
	login := func(name, pw string) error {
		c := client.Dial(addr, client.UDPThenTCP, 5*time.Second)
		defer c.Close()
		_, _, err := c.Login(ctx, &client.Request{Client: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: "EXAMPLE.TEST"}}, pw)
		return err
	}
	if err := login("bob", "Bob-pw-1"); err != nil {
		t.Fatalf("bob before the restore: %v", err)
	}
	ok(t, "", "domain", "restore", "--dir", dir, "--force", bak)
	err := login("bob", "Bob-pw-1")
	var ke *client.Error
	if !errors.As(err, &ke) || ke.Code != krb5.KDCErrCPrincipalUnknown {
		t.Errorf("bob after the restore: %v, want KDC_ERR_C_PRINCIPAL_UNKNOWN", err)
	}
	if err := login("alice", "Alice-pw-1"); err != nil {
		t.Errorf("alice after the restore: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("hop kdc: %v", err)
	}
	// The KDC's events and the commands' are one chain.
	res, err := audit.Verify(domain.Folder(dir).AuditLog())
	if err != nil {
		t.Fatal(err)
	}
	log := ok(t, "", "audit", "--dir", dir, "--principal", "bob")
	if !strings.Contains(log, "as.issued") || !strings.Contains(log, "directory.") {
		t.Errorf("audit of bob (%d events in all):\n%s", res.Events, log)
	}
}
