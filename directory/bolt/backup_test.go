package bolt_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hop/directory"
	"hop/directory/bolt"
	"hop/krb5"
)

var backupTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const testRealm = krb5.Realm("EXAMPLE.TEST")

func testKey(seed byte) []directory.Key {
	return []directory.Key{directory.NewKeyMaterial(krb5.AES256CTSHMACSHA196, "", bytes.Repeat([]byte{seed}, 32))}
}

// newDomain makes a domain in dir (directory.db and master.key).
func newDomain(t *testing.T, dir string) (*bolt.Store, *directory.Directory) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(dir, "directory.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mk.Save(filepath.Join(dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	d, err := directory.Init(ctx, st, mk, testRealm, testKey(1), testKey(2), directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st, d
}

// openDomain opens the domain in dir as hop does.
func openDomain(t *testing.T, dir string) *directory.Directory {
	t.Helper()
	mk, err := directory.LoadMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(dir, "directory.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.Open(ctx, st, mk, directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func addService(d *directory.Directory, name string) error {
	_, err := d.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: name, Kind: directory.KindService,
		SPNs: []string{"svc/" + name + ".example.test"}, UPN: name + "@example.test"}, testKey(3))
	return err
}

func backupBytes(t *testing.T, st *bolt.Store, dir string) ([]byte, *bolt.BackupInfo) {
	t.Helper()
	var buf bytes.Buffer
	info, err := st.Backup(ctx, filepath.Join(dir, "master.key"), &buf, backupTime)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), info
}

// rawIndex reads the name index bucket of a database file directly.
func rawBucket(t *testing.T, path, bucket string) map[string]string {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			b.ForEach(func(k, v []byte) error { out[string(k)] = string(v); return nil })
		}
		return nil
	})
	return out
}

// checkConsistent checks a restored domain: every account decodes with its
// keys, and the SPN and UPN index buckets agree with the account records.
func checkConsistent(t *testing.T, dir string) *directory.Snapshot {
	t.Helper()
	d := openDomain(t, dir)
	snap, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatalf("restored directory: %v", err)
	}
	wantSPN, wantUPN := map[string]string{}, map[string]string{}
	for _, a := range snap.Accounts() {
		for _, k := range a.Keys {
			if k.Len() == 0 {
				t.Errorf("account %s has an empty key", a.Name)
			}
		}
		if a.Name != "Guest" && len(a.Keys) == 0 {
			t.Errorf("account %s has no keys", a.Name)
		}
		for _, s := range a.SPNs {
			wantSPN[strings.ToLower(s)] = a.Name
		}
		if a.UPN != "" {
			wantUPN[strings.ToLower(a.UPN)] = a.Name
		}
	}
	db := filepath.Join(dir, "directory.db")
	for _, c := range []struct {
		bucket string
		want   map[string]string
	}{{"spns", wantSPN}, {"upns", wantUPN}} {
		got := rawBucket(t, db, c.bucket)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("index %s disagrees with the accounts:\n got %v\nwant %v", c.bucket, got, c.want)
		}
	}
	return snap
}

// TestBackupUnderLoad: a backup taken while four writers create accounts
// restores to a directory that is consistent and that holds, for each
// writer, a prefix of its accounts (the state at one point in time).
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	st, d := newDomain(t, dir)
	base, err := d.As(directory.LocalAdmin).Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 4
	per := 200
	if testing.Short() {
		per = 50
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	started := make(chan struct{}, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				if err := addService(d, fmt.Sprintf("w%d-%03d", w, i)); err != nil {
					errs <- err
					return
				}
				if i == 20 {
					started <- struct{}{}
				}
			}
		})
	}
	for range writers {
		<-started
	}
	// Back up again and again while the writers run, and once after.
	var backups [][]byte
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()
	for more := true; more; {
		select {
		case <-writing:
			more = false
		case <-time.After(300 * time.Millisecond):
		}
		b, info := backupBytes(t, st, dir)
		if info.Realm != testRealm || info.Accounts < len(base) {
			t.Errorf("info = %+v", info)
		}
		backups = append(backups, b)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, b := range backups {
		rdir := t.TempDir()
		res, err := bolt.Restore(ctx, bytes.NewReader(b), filepath.Join(rdir, "directory.db"), filepath.Join(rdir, "master.key"), bolt.RestoreOptions{})
		if err != nil {
			t.Fatalf("restore of backup %d: %v", i, err)
		}
		if res.Replaced || res.KeyChanged {
			t.Errorf("restore into an empty folder: %+v", res)
		}
		snap := checkConsistent(t, rdir)
		n := 0
		for w := range writers {
			k := 0
			for ; k < per; k++ {
				if _, ok := snap.Account(fmt.Sprintf("w%d-%03d", w, k)); !ok {
					break
				}
			}
			for j := k; j < per; j++ {
				if _, ok := snap.Account(fmt.Sprintf("w%d-%03d", w, j)); ok {
					t.Errorf("backup %d holds w%d-%03d but not w%d-%03d: not one point in time", i, w, j, w, k)
				}
			}
			n += k
		}
		if got := len(snap.Accounts()); got != len(base)+n || got != res.Info.Accounts {
			t.Errorf("backup %d: %d accounts, want %d base + %d created = info's %d", i, got, len(base), n, res.Info.Accounts)
		}
		t.Logf("backup %d: %d of %d created accounts", i, n, writers*per)
		if i == len(backups)-1 && n != writers*per {
			t.Errorf("the backup taken after the writes holds %d of %d accounts", n, writers*per)
		}
	}
	// The live directory is complete.
	if all, err := d.As(directory.LocalAdmin).Accounts(ctx); err != nil || len(all) != len(base)+writers*per {
		t.Errorf("live directory: %d accounts, %v", len(all), err)
	}
}

func TestBackupFormat(t *testing.T) {
	dir := t.TempDir()
	st, _ := newDomain(t, dir)
	b, info := backupBytes(t, st, dir)
	stash, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	wantHead := fmt.Sprintf("hop-domain-backup v1\nrealm: EXAMPLE.TEST\ncreated: 2026-03-04T05:06:07Z\nmaster-key: %d\ndirectory: %d\n\n", len(stash), info.DBSize)
	if !bytes.HasPrefix(b, []byte(wantHead)) {
		t.Fatalf("backup begins %q, want %q", b[:min(len(b), 200)], wantHead)
	}
	if !bytes.Equal(b[len(wantHead):len(wantHead)+len(stash)], stash) {
		t.Error("the master key stash does not follow the header")
	}
	if got := int64(len(b)); got != int64(len(wantHead))+info.KeySize+info.DBSize+int64(len("sha256: \n")+64) {
		t.Errorf("backup of %d bytes does not match its header", got)
	}
	if !bytes.HasSuffix(b, []byte("sha256: "+info.Checksum+"\n")) {
		t.Error("the backup does not end with its checksum")
	}
	got, n, err := bolt.ParseBackupHeader(b)
	if err != nil || n != len(wantHead) || got.Realm != testRealm || !got.Created.Equal(backupTime) {
		t.Errorf("ParseBackupHeader = %+v, %d, %v", got, n, err)
	}
	if _, err := bolt.CheckBackup(ctx, bytes.NewReader(b), t.TempDir()); err != nil {
		t.Errorf("CheckBackup: %v", err)
	}
}

// TestRestoreRefusesBadBackups: garbage, cut and damaged backups are
// refused with a clear error, and the destination is left alone.
func TestRestoreRefusesBadBackups(t *testing.T) {
	dir := t.TempDir()
	st, _ := newDomain(t, dir)
	good, info := backupBytes(t, st, dir)
	hdr := bytes.Index(good, []byte("\n\n")) + 2
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x10
		return b
	}
	otherDir := t.TempDir()
	otherStore, _ := newDomain(t, otherDir)
	other, _ := backupBytes(t, otherStore, otherDir)
	// A backup whose header names another realm, with a valid checksum.
	forged := bytes.Replace(good[:len(good)-73], []byte("realm: EXAMPLE.TEST"), []byte("realm: EXAMPLE.TEXT"), 1)
	forged = appendChecksum(forged)
	// A valid checksum over a database with a flipped byte: in an account
	// record, and in the page header of the first data page.
	dbAt := hdr + int(info.KeySize)
	rec := bytes.Index(good[dbAt:], []byte(`"name":"Administrator"`))
	if rec < 0 {
		t.Fatal("no Administrator record in the backup")
	}
	damagedRecord := appendChecksum(flip(dbAt + rec + len(`"name":"`))[:len(good)-73])
	page := rec / os.Getpagesize() * os.Getpagesize()
	damagedPage := appendChecksum(flip(dbAt + page + 8)[:len(good)-73]) // the flags of the record's page
	// The master key of another domain with this database.
	otherStash := other[bytes.Index(other, []byte("\n\n"))+2:][:info.KeySize]
	wrongKey := bytes.Clone(good[:len(good)-73])
	copy(wrongKey[hdr:], otherStash)
	wrongKey = appendChecksum(wrongKey)

	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a hop domain backup"},
		{"garbage", bytes.Repeat([]byte("garbage\n"), 300), "not a hop domain backup"},
		{"a master key stash", []byte("hop-master-key-v1\nAAAA\n"), "not a hop domain backup"},
		{"future version", []byte("hop-domain-backup v2\nrealm: X\n\n"), "format \"hop-domain-backup v2\" is not one this hop reads"},
		{"cut in the header", good[:30], "header is damaged or cut short"},
		{"cut in the key", good[:hdr+10], "cut short"},
		{"cut in the directory", good[:len(good)/2], "cut short"},
		{"cut in the checksum", good[:len(good)-10], "cut short"},
		{"without checksum", good[:len(good)-73], "cut short"},
		{"trailing data", append(bytes.Clone(good), '\n'), "data after its checksum line"},
		{"flipped bit in the header", flip(30), "damaged"},
		{"flipped bit in the key", flip(hdr + 25), "checksum does not match"},
		{"flipped bit in the directory", flip(len(good) - 1000), "checksum does not match"},
		{"flipped bit in the checksum", flip(len(good) - 5), "checksum"},
		{"header size too small", bytes.Replace(good, []byte(fmt.Sprintf("directory: %d", info.DBSize)), []byte(fmt.Sprintf("directory: %d", info.DBSize-1)), 1), "checksum line is damaged"},
		{"realm forged", forged, "names realm EXAMPLE.TEXT but its directory holds realm EXAMPLE.TEST"},
		{"damaged record, good checksum", damagedRecord, "contents do not check out"},
		{"damaged page, good checksum", damagedPage, "contents do not check out"},
		{"another domain's key, good checksum", wrongKey, "master key does not open this directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdir := filepath.Join(t.TempDir(), "d")
			_, err := bolt.Restore(ctx, bytes.NewReader(tc.b), filepath.Join(rdir, "directory.db"), filepath.Join(rdir, "master.key"), bolt.RestoreOptions{Force: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore = %v, want an error with %q", err, tc.want)
			}
			t.Log(err)
			if ents, _ := os.ReadDir(rdir); len(ents) != 0 {
				t.Errorf("a refused restore left %v behind", ents)
			}
		})
	}
}

func appendChecksum(b []byte) []byte {
	sum := sha256Hex(b)
	return append(b, "sha256: "+sum+"\n"...)
}

// TestRestoreOverLiveDomain: without Force a restore is refused after the
// backup was checked; with Force, the live domain is replaced atomically,
// the old files kept, and a Directory already open sees the restored state
// at its next read.
func TestRestoreOverLiveDomain(t *testing.T) {
	dir := t.TempDir()
	st, d := newDomain(t, dir)
	if err := addService(d, "before"); err != nil {
		t.Fatal(err)
	}
	b, _ := backupBytes(t, st, dir)
	if err := addService(d, "after"); err != nil {
		t.Fatal(err)
	}
	db, key := filepath.Join(dir, "directory.db"), filepath.Join(dir, "master.key")
	oldDB, _ := os.ReadFile(db)

	res, err := bolt.Restore(ctx, bytes.NewReader(b), db, key, bolt.RestoreOptions{})
	if !errors.Is(err, bolt.ErrDomainInPlace) || res == nil || res.Info.Realm != testRealm {
		t.Fatalf("Restore over a live domain without Force = %+v, %v", res, err)
	}
	if now, _ := os.ReadFile(db); !bytes.Equal(now, oldDB) {
		t.Error("a refused restore changed the database")
	}
	if _, err := d.Account(ctx, "after"); err != nil {
		t.Errorf("after a refused restore: %v", err)
	}
	assertNoTemp(t, dir)

	// d stays open, as a running KDC's directory does.
	snap, _ := d.Snapshot(ctx)
	if _, ok := snap.Account("after"); !ok {
		t.Fatal("the live snapshot lacks the account")
	}
	res, err = bolt.Restore(ctx, bytes.NewReader(b), db, key, bolt.RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Replaced || res.KeyChanged {
		t.Errorf("result = %+v, want Replaced and the same key", res)
	}
	snap, err = d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Account("after"); ok {
		t.Error("the open directory still sees the account created after the backup")
	}
	if _, ok := snap.Account("before"); !ok {
		t.Error("the open directory does not see the restored account")
	}
	if kept, _ := os.ReadFile(db + ".before-restore"); !bytes.Equal(kept, oldDB) {
		t.Error("the replaced database was not kept as directory.db.before-restore")
	}
	if _, err := os.Stat(key + ".before-restore"); !errors.Is(err, os.ErrNotExist) {
		t.Error("an unchanged master key was moved aside")
	}
	// The open directory keeps working on the restored file.
	if err := addService(d, "later"); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, dir)
	assertNoTemp(t, dir)

	// Restoring another domain (another master key) replaces both files
	// and says the key changed.
	odir := t.TempDir()
	ost, od := newDomain(t, odir)
	if err := addService(od, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	ob, _ := backupBytes(t, ost, odir)
	oldKey, _ := os.ReadFile(key)
	res, err = bolt.Restore(ctx, bytes.NewReader(ob), db, key, bolt.RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.KeyChanged {
		t.Error("KeyChanged not set for another domain's key")
	}
	if kept, _ := os.ReadFile(key + ".before-restore"); !bytes.Equal(kept, oldKey) {
		t.Error("the replaced master key was not kept")
	}
	if _, err := openDomain(t, dir).Account(ctx, "elsewhere"); err != nil {
		t.Error(err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".hop-") {
			t.Errorf("temporary %s left in the folder", e.Name())
		}
	}
}

// TestBackupInfoJSONFree: the backup never holds the key in its header or
// info (the info has no field for it).
func TestBackupInfoHasNoKey(t *testing.T) {
	dir := t.TempDir()
	st, _ := newDomain(t, dir)
	_, info := backupBytes(t, st, dir)
	j, _ := json.Marshal(info)
	stash, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	key := strings.Split(string(stash), "\n")[1]
	if strings.Contains(string(j), key) {
		t.Error("BackupInfo holds the master key")
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FuzzParseBackupHeader: the header parser on untrusted bytes never panics,
// and what it accepts is within bounds and re-encodes to the same bytes.
func FuzzParseBackupHeader(f *testing.F) {
	f.Add([]byte("hop-domain-backup v1\nrealm: EXAMPLE.TEST\ncreated: 2026-03-04T05:06:07Z\nmaster-key: 63\ndirectory: 32768\n\nhop-master-key-v1\n"))
	f.Add([]byte("hop-domain-backup v1\nrealm: EXAMPLE.TEST\ncreated: 2026-03-04T05:06:07+01:00\nmaster-key: 63\ndirectory: 32768\n\n"))
	f.Add([]byte("hop-domain-backup v1\nrealm: \ncreated: x\nmaster-key: -1\ndirectory: 0\n\n"))
	f.Add([]byte("hop-domain-backup v2\n\n"))
	f.Add([]byte("hop-domain-backup v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, n, err := bolt.ParseBackupHeader(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) || info.KeySize <= 0 || info.KeySize > 1024 || info.DBSize <= 0 || info.Realm == "" {
			t.Fatalf("ParseBackupHeader(%q) = %+v, %d", b, info, n)
		}
		again := fmt.Sprintf("hop-domain-backup v1\nrealm: %s\ncreated: %s\nmaster-key: %d\ndirectory: %d\n\n",
			info.Realm, info.Created.Format(time.RFC3339), info.KeySize, info.DBSize)
		if again != string(b[:n]) {
			t.Fatalf("ParseBackupHeader(%q) accepted a header that encodes as %q", b[:n], again)
		}
	})
}
