// Package testrealm starts a hop domain with its KDC on loopback for tests
// of the packages built on Kerberos (the admin API, kpasswd, the remoting
// agent): an in-memory directory, a KDC serving UDP and TCP on
// 127.0.0.1, a krb5.conf naming it, and helpers that give users
// credential caches as kinit would.
package testrealm

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"hop/admin/adminserver"
	"hop/audit"
	"hop/directory"
	"hop/directory/mem"
	"hop/kdc"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/client"
	"hop/krb5/config"
)

// Realm is the test domain's realm.
const Realm krb5.Realm = "EXAMPLE.TEST"

// AdminPassword is Administrator's password.
const AdminPassword = "admin-pw-0123"

// Lab is a running test domain.
type Lab struct {
	Dir     *directory.Directory
	KDC     *kdc.KDC
	Addr    string // the KDC's address, UDP and TCP
	Audit   *audit.Memory
	TempDir string
	// Krb5Conf is a krb5.conf naming the KDC; Config is it parsed.
	Krb5Conf string
	Config   *config.Config
}

// Start starts a domain whose KDC listens on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Lab {
	t.Helper()
	ctx := context.Background()
	mk, err := directory.NewMasterKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	events := &audit.Memory{}
	etypes := directory.DefaultETypes(false)
	adminKeys, err := directory.PasswordKeys(Realm, directory.NameAdministrator, AdminPassword, etypes)
	if err != nil {
		t.Fatal(err)
	}
	tgtKeys, err := directory.RandomKeys(etypes, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.Init(ctx, newStore(), mk, Realm, adminKeys, tgtKeys, directory.Options{Audit: events})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kdc.New(kdc.Config{Directory: d, Audit: events})
	if err != nil {
		t.Fatal(err)
	}
	l := &Lab{Dir: d, KDC: k, Audit: events, TempDir: t.TempDir()}
	// serve.Server finds a port free for both UDP and TCP.
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- k.ListenAndServe(ctx, "127.0.0.1:0", func(u, _ net.Addr) { ready <- u.String() })
	}()
	select {
	case l.Addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	l.Krb5Conf = filepath.Join(l.TempDir, "krb5.conf")
	conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	forwardable = true

[realms]
	%[1]s = {
		kdc = %[2]s
	}

[domain_realm]
	.example.test = %[1]s
	example.test = %[1]s
`, Realm, l.Addr)
	if err := os.WriteFile(l.Krb5Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse(l.Krb5Conf, []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	l.Config = config.New(f)
	return l
}

func newStore() directory.Store { return mem.New() }

// AddUser creates a user with password pw.
func (l *Lab) AddUser(t testing.TB, name, pw string) *directory.Account {
	t.Helper()
	keys, err := directory.PasswordKeys(Realm, name, pw, directory.DefaultETypes(false))
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.Dir.As(directory.LocalAdmin).CreateAccount(context.Background(), &directory.Account{Name: name, Kind: directory.KindUser}, keys)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// AddService creates a service account with spns and random keys, and
// returns its keys.
func (l *Lab) AddService(t testing.TB, name string, spns ...string) []directory.Key {
	t.Helper()
	keys, err := directory.RandomKeys(directory.DefaultETypes(false), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Dir.As(directory.LocalAdmin).CreateAccount(context.Background(), &directory.Account{Name: name, Kind: directory.KindService, SPNs: spns}, keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

// Login gets name's TGT with pw, as kinit does, into a new credential
// cache file, and returns its path.
func (l *Lab) Login(t testing.TB, name, pw string) string {
	t.Helper()
	conn := client.Dial(l.Addr, client.UDPThenTCP, 0)
	defer conn.Close()
	p := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, name), Realm: Realm}
	cred, _, err := conn.Login(context.Background(), &client.Request{Client: p, Options: krb5.OptForwardable}, pw)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	raw := cred.Ticket.Raw
	if len(raw) == 0 {
		if raw, err = cred.Ticket.Marshal(); err != nil {
			t.Fatal(err)
		}
	}
	c := &ccache.Cache{Default: p, Credentials: []ccache.Credential{{
		Client: cred.Client, Server: cred.Server, KeyType: cred.SessionKey.EncType(), Key: cred.SessionKey.Material(),
		AuthTime: cred.AuthTime, StartTime: cred.StartTime, EndTime: cred.EndTime, RenewTill: cred.RenewTill,
		Flags: cred.Flags, Ticket: raw,
	}}}
	path := filepath.Join(l.TempDir, "krb5cc_"+name)
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// ServeAdmin serves the admin API s (its Dir the lab's when nil) over HTTP
// on 127.0.0.1, with the HTTP/ SPNs of s.Names registered, until the test
// ends.
func (l *Lab) ServeAdmin(t testing.TB, s *adminserver.HTTPServer) *httptest.Server {
	t.Helper()
	if s.Dir == nil {
		s.Dir = l.Dir
	}
	ctx := context.Background()
	if err := s.EnsureSPNs(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := s.Handler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
