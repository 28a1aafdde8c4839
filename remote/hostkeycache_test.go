package remote_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"hop/remote"
	"hop/remote/remotetest"
)

// switchDirectory answers like the admin API (keys, computer names) until
// it is down, then fails as an unreachable server does.
type switchDirectory struct {
	mu    sync.Mutex
	down  bool
	keys  map[string][]ssh.PublicKey
	names map[string]string // short name -> DNS name
}

func (d *switchDirectory) set(f func(d *switchDirectory)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

func (d *switchDirectory) unreachable() error {
	return &remote.UnreachableError{Where: "the admin server https://kdc.example.test:8749", Err: errors.New("connection refused")}
}

func (d *switchDirectory) HostKeys(_ context.Context, h string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return nil, d.unreachable()
	}
	var out []string
	for _, k := range d.keys[h] {
		out = append(out, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))))
	}
	return out, nil
}

func (d *switchDirectory) HostName(_ context.Context, short string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return "", d.unreachable()
	}
	return d.names[short], nil
}

// cacheFixture is a HostKeyCache over a switchDirectory, with a clock and
// the warnings it gave.
type cacheFixture struct {
	dir      *switchDirectory
	path     string
	now      time.Time
	warnings []string
}

// cache returns a new HostKeyCache on the fixture's file, as a new hop
// process makes one.
func (f *cacheFixture) cache() *remote.HostKeyCache {
	return &remote.HostKeyCache{
		Directory: remote.DirectoryHostKeys{Directory: f.dir}, Path: f.path,
		Now: func() time.Time { return f.now }, Warn: func(m string) { f.warnings = append(f.warnings, m) },
	}
}

func newCacheFixture(t *testing.T) *cacheFixture {
	return &cacheFixture{
		dir:  &switchDirectory{keys: map[string][]ssh.PublicKey{}, names: map[string]string{"b": host}},
		path: filepath.Join(t.TempDir(), "hop", "host-keys.json"),
		now:  time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
	}
}

func sameKeys(got []ssh.PublicKey, want ...ssh.PublicKey) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if string(got[i].Marshal()) != string(want[i].Marshal()) {
			return false
		}
	}
	return true
}

// TestHostKeyCacheServesWhileUnreachable: the keys the directory gave are
// kept, and serve, with a warning naming their age, only while the
// directory cannot be reached; a host never read is refused with what to
// do.
func TestHostKeyCacheServesWhileUnreachable(t *testing.T) {
	f := newCacheFixture(t)
	k1 := remotetest.HostSigner(t, "k1").PublicKey()
	f.dir.keys[host] = []ssh.PublicKey{k1}
	ctx := context.Background()

	if keys, err := f.cache().Keys(ctx, host); err != nil || !sameKeys(keys, k1) {
		t.Fatalf("directory up: %v, %v", keys, err)
	}
	if len(f.warnings) != 0 {
		t.Errorf("warnings with the directory up: %q", f.warnings)
	}
	if st, err := os.Stat(f.path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", st, err)
	}

	f.now = f.now.Add(3*time.Hour + 12*time.Minute)
	f.dir.set(func(d *switchDirectory) { d.down = true })
	keys, err := f.cache().Keys(ctx, host)
	if err != nil || !sameKeys(keys, k1) {
		t.Fatalf("directory down: %v, %v", keys, err)
	}
	want := "cannot reach the admin server https://kdc.example.test:8749: connection refused; using the SSH host keys of b.example.test as read from the directory 3h12m ago (kept in " + f.path + ")"
	if len(f.warnings) != 1 || f.warnings[0] != want {
		t.Errorf("warnings %q, want %q", f.warnings, want)
	}

	// A host whose keys were never read: refused, as unreachable.
	_, err = f.cache().Keys(ctx, "c.example.test")
	if !errors.As(err, new(*remote.UnreachableError)) || !strings.Contains(err.Error(), "no copy of its keys was kept from an earlier read") {
		t.Errorf("never read: %v", err)
	}
	// A short name resolves from the copy too.
	if got, err := remote.ResolveHost(ctx, f.cache(), "b:2222"); err != nil || got != host+":2222" {
		t.Errorf("ResolveHost(b:2222) while down = %q, %v", got, err)
	}
}

// TestHostKeyCacheNeverOverridesTheDirectory: once the directory answers
// other keys (a re-join) or none, the copy follows it: the old key never
// serves again, not even while the directory is down.
func TestHostKeyCacheNeverOverridesTheDirectory(t *testing.T) {
	f := newCacheFixture(t)
	k1, k2 := remotetest.HostSigner(t, "k1").PublicKey(), remotetest.HostSigner(t, "k2").PublicKey()
	ctx := context.Background()
	f.dir.keys[host] = []ssh.PublicKey{k1}
	if _, err := f.cache().Keys(ctx, host); err != nil {
		t.Fatal(err)
	}
	f.dir.keys[host] = []ssh.PublicKey{k2}
	if keys, err := f.cache().Keys(ctx, host); err != nil || !sameKeys(keys, k2) {
		t.Fatalf("the directory's new key: %v, %v", keys, err)
	}
	f.dir.set(func(d *switchDirectory) { d.down = true })
	if keys, err := f.cache().Keys(ctx, host); err != nil || !sameKeys(keys, k2) {
		t.Fatalf("down after a re-join: %v, %v; want only the new key", keys, err)
	}
	// The host leaves the directory: its copy goes.
	f.dir.set(func(d *switchDirectory) { d.down = false; delete(d.keys, host) })
	if keys, err := f.cache().Keys(ctx, host); err != nil || len(keys) != 0 {
		t.Fatalf("removed host: %v, %v", keys, err)
	}
	f.dir.set(func(d *switchDirectory) { d.down = true })
	if keys, err := f.cache().Keys(ctx, host); err == nil {
		t.Fatalf("down after the host left: the copy served %v", keys)
	}
	// An answer that is an error (not unreachable) is not replaced by
	// the copy.
	f.dir.set(func(d *switchDirectory) { d.down = false; d.keys[host] = []ssh.PublicKey{k1} })
	if _, err := f.cache().Keys(ctx, host); err != nil {
		t.Fatal(err)
	}
	c := f.cache()
	c.Directory = remote.DirectoryHostKeys{Directory: directory{}}
	if _, err := c.Keys(ctx, host); err == nil || !strings.Contains(err.Error(), "no computer b.example.test") {
		t.Errorf("the directory's error: %v", err)
	}
}

// TestDialWithCachedKeysAndShortName: Dial resolves a short name through
// the directory, gets its ticket for host/<fqdn> (the test agent's only
// key), and, with the directory down, connects with the kept keys or
// says to give --known-hosts.
func TestDialWithCachedKeysAndShortName(t *testing.T) {
	fx := newFixture(t)
	s := remotetest.Start(t, fx.lab, remotetest.Config{Host: host})
	f := newCacheFixture(t)
	f.dir.keys[host] = []ssh.PublicKey{s.HostKey}
	ctx := context.Background()
	o := fx.options(s)
	o.HostKeys = f.cache()
	c, err := remote.Dial(ctx, "b", o)
	if err != nil {
		t.Fatalf("Dial(b): %v", err)
	}
	if c.Host() != host {
		t.Errorf("Host() = %q", c.Host())
	}
	c.Close()
	l, err := fx.src.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hostTickets := 0
	for _, ti := range l.Tickets {
		if strings.HasPrefix(ti.Server.String(), "host/") {
			hostTickets++
			if ti.Server.String() != "host/b.example.test@EXAMPLE.TEST" {
				t.Errorf("a ticket for %s", ti.Server)
			}
		}
	}
	if hostTickets == 0 {
		t.Error("no ticket for host/b.example.test in the cache")
	}

	f.dir.set(func(d *switchDirectory) { d.down = true })
	o.HostKeys = f.cache()
	c, err = remote.Dial(ctx, "b", o)
	if err != nil {
		t.Fatalf("Dial(b) with the directory down: %v", err)
	}
	c.Close()
	if len(f.warnings) != 1 {
		t.Errorf("warnings %q", f.warnings)
	}
	// Without a copy: what to do.
	os.Remove(f.path)
	o.HostKeys = f.cache()
	_, err = remote.Dial(ctx, host, o)
	want := "b.example.test: cannot check the host's identity: reading the SSH host keys of b.example.test from the directory: cannot reach the admin server https://kdc.example.test:8749: connection refused; no copy of its keys was kept from an earlier read; give --known-hosts FILE (hop known-hosts > FILE writes one where the directory can be reached)"
	if err == nil || err.Error() != want {
		t.Errorf("no copy: %v\nwant %s", err, want)
	}
	_, err = remote.Dial(ctx, "b", o)
	if err == nil || !strings.Contains(err.Error(), "b: cannot resolve the short name") || !strings.Contains(err.Error(), "give --known-hosts FILE") {
		t.Errorf("short name, no copy: %v", err)
	}
}

func TestResolveHost(t *testing.T) {
	ctx := context.Background()
	k := remotetest.HostSigner(t, "k").PublicKey()
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	dir := remote.DirectoryHostKeys{Directory: &switchDirectory{names: map[string]string{"b": host, "odd": "other.example.test"}}}
	known := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(known, []byte("b.example.test,b "+line+"\nc.example.test,c "+line+"\nc.other.test,c "+line+"\n[d.example.test]:2222,d "+line+"\n"), 0o644)
	file := remote.KnownHostsFile{Path: known}
	for _, tc := range []struct {
		src       remote.HostKeySource
		in, want  string
		errSubstr string
	}{
		{dir, "b", host, ""},
		{dir, "B:2222", host + ":2222", ""},
		{dir, "x.example.test", "x.example.test", ""},
		{dir, "c", "", "the directory has no joined host named c (no computer account c$ with a DNS name)"},
		{dir, "odd", "", "which is not a DNS name starting with odd."},
		{remote.DirectoryHostKeys{Directory: directory{}}, "b", "", "give the host's DNS name"},
		{file, "b", host, ""},
		{file, "d", "d.example.test", ""},
		{file, "c", "", "names several hosts c: c.example.test, c.other.test"},
		{file, "e", "", "no line of " + known + " names e with its DNS name"},
	} {
		got, err := remote.ResolveHost(ctx, tc.src, tc.in)
		if tc.errSubstr == "" && (err != nil || got != tc.want) || tc.errSubstr != "" && (err == nil || !strings.Contains(err.Error(), tc.errSubstr)) {
			t.Errorf("ResolveHost(%T, %q) = %q, %v; want %q, %q", tc.src, tc.in, got, err, tc.want, tc.errSubstr)
		}
	}
}
