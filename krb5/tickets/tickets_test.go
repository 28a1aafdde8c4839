package tickets_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/config"
	"hop/krb5/kcm"
	"hop/krb5/kcm/kcmtest"
	"hop/krb5/tickets"
)

func issued(l *testrealm.Lab) int {
	n := 0
	for _, e := range l.Audit.Events() {
		if e.Type == "tgs.issued" {
			n++
		}
	}
	return n
}

func TestServiceTicketIsFetchedOnceAndCached(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	l.AddService(t, "web", "HTTP/web.example.test")
	cc := l.Login(t, "alice", "alice-pw-1234")
	src := &tickets.Source{Config: l.Config, CCache: cc}
	spn := tickets.HostService("HTTP", "Web.Example.Test.")
	cred, err := src.ServiceTicket(context.Background(), spn)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Client.Name.String() != "alice" || !strings.EqualFold(cred.Server.Name.String(), "HTTP/web.example.test") {
		t.Fatalf("got a ticket %s → %s", cred.Client, cred.Server)
	}
	if n := issued(l); n != 1 {
		t.Fatalf("%d TGS exchanges, want 1", n)
	}
	// The ticket is in the cache file now, next to the TGT.
	c, err := ccache.Load(cc)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Find(krb5.Principal{Name: spn, Realm: testrealm.Realm}); !ok || len(c.Credentials) != 2 {
		t.Fatalf("cache holds %d credentials", len(c.Credentials))
	}
	if _, err := src.ServiceTicket(context.Background(), spn); err != nil {
		t.Fatal(err)
	}
	if n := issued(l); n != 1 {
		t.Fatalf("the cached ticket was not reused: %d TGS exchanges", n)
	}
	// Close to its end, the cached ticket is replaced.
	late := &tickets.Source{Config: l.Config, CCache: cc, Now: func() time.Time { return cred.EndTime.Add(-30 * time.Second) }}
	if _, err := late.ServiceTicket(context.Background(), spn); err == nil {
		// The TGT expires with the service ticket here, so a refusal is
		// right too; what matters is that the stale ticket is not used.
		if n := issued(l); n != 2 {
			t.Fatalf("a ticket with 30s left was reused")
		}
	}
}

func TestServiceTicketErrorsSayWhatToDo(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	cc := l.Login(t, "alice", "alice-pw-1234")
	ctx := context.Background()

	missing := &tickets.Source{Config: l.Config, CCache: filepath.Join(t.TempDir(), "none")}
	if _, err := missing.ServiceTicket(ctx, tickets.HostService("HTTP", "web.example.test")); !errors.Is(err, tickets.ErrNoTicket) || !strings.Contains(err.Error(), "kinit") {
		t.Errorf("no cache: %v", err)
	}
	expired := &tickets.Source{Config: l.Config, CCache: cc, Now: func() time.Time { return time.Now().Add(48 * time.Hour) }}
	if _, err := expired.ServiceTicket(ctx, tickets.HostService("HTTP", "web.example.test")); !errors.Is(err, tickets.ErrNoTicket) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	src := &tickets.Source{Config: l.Config, CCache: cc}
	if _, err := src.ServiceTicket(ctx, tickets.HostService("HTTP", "nowhere.example.test")); err == nil || !strings.Contains(err.Error(), "knows no service") {
		t.Errorf("unknown service: %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "cc")
	os.WriteFile(garbage, []byte("not a ccache"), 0o600)
	bad := &tickets.Source{Config: l.Config, CCache: garbage}
	if _, err := bad.ServiceTicket(ctx, tickets.HostService("HTTP", "web.example.test")); err == nil {
		t.Error("a garbage cache was accepted")
	}
}

// TestServiceTicketTypedErrors checks that each reason ServiceTicket cannot
// use the cache is told by errors.Is, not by the text.
func TestServiceTicketTypedErrors(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	cc := l.Login(t, "alice", "alice-pw-1234")
	c, err := ccache.Load(cc)
	if err != nil {
		t.Fatal(err)
	}
	tgtEnd := c.Credentials[0].EndTime
	// A cache of alice's without her TGT: a principal named "expired"
	// would not change the reason.
	noTGT := filepath.Join(t.TempDir(), "notgt")
	empty := &ccache.Cache{Default: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "expired"), Realm: testrealm.Realm}}
	if err := empty.Save(noTGT); err != nil {
		t.Fatal(err)
	}
	missingPath := filepath.Join(t.TempDir(), "none")
	for _, tc := range []struct {
		name   string
		src    *tickets.Source
		reason error
		cache  string
	}{
		{"no cache", &tickets.Source{Config: l.Config, CCache: missingPath}, tickets.ErrNoCache, missingPath},
		{"no TGT", &tickets.Source{Config: l.Config, CCache: noTGT}, tickets.ErrNoTGT, noTGT},
		{"expired TGT", &tickets.Source{Config: l.Config, CCache: cc, Now: func() time.Time { return tgtEnd.Add(time.Second) }}, tickets.ErrExpired, cc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.src.ServiceTicket(context.Background(), tickets.HostService("HTTP", "web.example.test"))
			checkTGTError(t, err, tc.reason, tc.cache, tgtEnd)
		})
	}
}

// checkTGTError checks that err is a *TGTError for cache with reason and
// no other, that errors.Is tells it, and that it says what to do.
func checkTGTError(t *testing.T, err, reason error, cache string, tgtEnd time.Time) {
	t.Helper()
	if !errors.Is(err, tickets.ErrNoTicket) || !errors.Is(err, reason) {
		t.Fatalf("err = %v, want ErrNoTicket and %v", err, reason)
	}
	for _, other := range []error{tickets.ErrNoCache, tickets.ErrNoTGT, tickets.ErrExpired} {
		if other != reason && errors.Is(err, other) {
			t.Errorf("err %v also matches %v", err, other)
		}
	}
	var te *tickets.TGTError
	if !errors.As(err, &te) || te.Cache != cache {
		t.Fatalf("err = %#v, want a *TGTError for %s", err, cache)
	}
	if reason == tickets.ErrExpired && !te.Expired.Equal(tgtEnd) {
		t.Errorf("Expired = %v, want the TGT's end %v", te.Expired, tgtEnd)
	}
	if !strings.Contains(err.Error(), "kinit") {
		t.Errorf("%q does not say what to do", err)
	}
}

// startKCM serves hop's KCM server (an in-memory store, for this test's
// own uid) on a socket in a temporary folder until the test ends.
func startKCM(t *testing.T) string {
	t.Helper()
	return serveKCM(t, &kcm.Server{})
}

// serveKCM serves srv on a socket in a temporary folder until the test
// ends and returns the socket.
func serveKCM(t *testing.T, srv *kcm.Server) string { return kcmtest.Serve(t, srv) }

// kcmConfig is the lab's krb5.conf with kcm_socket = sock.
func kcmConfig(t *testing.T, l *testrealm.Lab, sock string) *config.Config {
	t.Helper()
	f, err := config.Parse(l.Krb5Conf, []byte(kcmtest.Conf(t, l.Krb5Conf, sock)))
	if err != nil {
		t.Fatal(err)
	}
	return config.New(f)
}

func dialKCM(t *testing.T, sock string) *kcm.Client {
	t.Helper()
	c, err := kcm.Dial(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func kcmServers(t *testing.T, c *kcm.Client, name string) []string {
	t.Helper()
	creds, err := c.Credentials(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cr := range creds {
		out = append(out, cr.Server.String())
	}
	return out
}

// TestKCMLoginListServiceTicketDestroy runs hop login, hop tickets, a
// service ticket and hop logout against a KCM server, and checks what the
// server holds after each with a KCM client of its own.
func TestKCMLoginListServiceTicketDestroy(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	l.AddService(t, "web", "HTTP/web.example.test")
	sock := startKCM(t)
	cfg := kcmConfig(t, l, sock)
	kc := dialKCM(t, sock)
	ctx := context.Background()
	uid := strconv.Itoa(os.Getuid())
	tgt := "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"

	for _, tc := range []struct{ ccache, server, shown string }{
		// "KCM:" is the server's default cache for the user; the zero
		// server names it by the uid, as Heimdal's kcm does.
		{"KCM:", uid, "KCM:" + uid},
		{"KCM:mine", "mine", "KCM:mine"},
	} {
		t.Run(tc.ccache, func(t *testing.T) {
			src := &tickets.Source{Config: cfg, CCache: tc.ccache}
			if _, err := src.Login(ctx, &tickets.LoginRequest{Client: alice(), Password: password("alice-pw-1234")}); err != nil {
				t.Fatal(err)
			}
			p, err := kc.Principal(ctx, tc.server)
			if err != nil || p.String() != "alice@EXAMPLE.TEST" {
				t.Fatalf("the server's cache %s: principal %s, %v", tc.server, p, err)
			}
			// The TGT and kinit's pa_type entry, as MIT's kinit stores them.
			if got := kcmServers(t, kc, tc.server); len(got) != 2 || got[0] != tgt || !strings.Contains(got[1], "pa_type") {
				t.Fatalf("the server's cache holds %q, want the TGT and pa_type", got)
			}
			rep, err := kc.Do(ctx, &kcm.Request{Op: kcm.OpGetKDCOffset, Name: tc.server})
			if err != nil || rep.Offset < -2 || rep.Offset > 2 {
				t.Errorf("KDC offset %v, %v; want about 0 (the lab's KDC shares our clock)", rep, err)
			}

			li, err := src.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if li.Name != tc.shown || li.Path != "" || li.Default.String() != "alice@EXAMPLE.TEST" ||
				len(li.Tickets) != 1 || li.Tickets[0].Server.String() != tgt || li.Tickets[0].Expired ||
				len(li.Config) != 1 || li.Config[0].Key != "pa_type" || !li.HasTimeOffset || !li.HasValid() {
				t.Fatalf("List() = %+v", li)
			}

			before := issued(l)
			spn := tickets.HostService("HTTP", "web.example.test")
			cred, err := src.ServiceTicket(ctx, spn)
			if err != nil {
				t.Fatal(err)
			}
			if cred.Client.String() != "alice@EXAMPLE.TEST" || !strings.EqualFold(cred.Server.Name.String(), "HTTP/web.example.test") {
				t.Fatalf("got a ticket %s → %s", cred.Client, cred.Server)
			}
			if n := issued(l) - before; n != 1 {
				t.Fatalf("%d TGS exchanges, want 1", n)
			}
			// Kept in the server's cache, and used from there next time.
			if got := kcmServers(t, kc, tc.server); len(got) != 3 || got[2] != "HTTP/web.example.test@EXAMPLE.TEST" {
				t.Fatalf("after ServiceTicket the server's cache holds %q", got)
			}
			again, err := src.ServiceTicket(ctx, spn)
			if err != nil {
				t.Fatal(err)
			}
			if n := issued(l) - before; n != 1 || !again.EndTime.Equal(cred.EndTime.Truncate(time.Second)) {
				t.Fatalf("the kept ticket was not reused: %d TGS exchanges", n)
			}

			name, err := src.Destroy(t.Context())
			if err != nil || name.Type != "KCM" {
				t.Fatalf("Destroy() = %v, %v", name, err)
			}
			if _, err := kc.Principal(ctx, tc.server); !errors.Is(err, kcm.ErrNoCache) {
				t.Fatalf("after Destroy the server still has %s: %v", tc.server, err)
			}
			if _, err := src.List(t.Context()); !errors.Is(err, tickets.ErrNoCache) || !strings.Contains(err.Error(), tc.shown+":") {
				t.Errorf("List after Destroy: %v", err)
			}
			if _, err := src.Destroy(t.Context()); !errors.Is(err, os.ErrNotExist) || err.Error() != "there is no credential cache "+tc.shown+" to destroy: file does not exist" {
				t.Errorf("a second Destroy: %v", err)
			}
		})
	}
}

// TestKCMServiceTicketTypedErrors checks that a KCM cache without a usable
// TGT gives the same typed errors as a cache file.
func TestKCMServiceTicketTypedErrors(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	sock := startKCM(t)
	cfg := kcmConfig(t, l, sock)
	kc := dialKCM(t, sock)
	ctx := context.Background()

	login := &tickets.Source{Config: cfg, CCache: "KCM:alice"}
	tgt, err := login.Login(ctx, &tickets.LoginRequest{Client: alice(), Password: password("alice-pw-1234")})
	if err != nil {
		t.Fatal(err)
	}
	tgtEnd := tgt.EndTime.Truncate(time.Second)
	// A cache with a principal and no credentials (kinit's first step).
	if err := kc.Initialize(ctx, "empty", alice()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		src    *tickets.Source
		reason error
		cache  string
	}{
		{"no cache", &tickets.Source{Config: cfg, CCache: "KCM:none"}, tickets.ErrNoCache, "KCM:none"},
		{"no TGT", &tickets.Source{Config: cfg, CCache: "KCM:empty"}, tickets.ErrNoTGT, "KCM:empty"},
		{"expired TGT", &tickets.Source{Config: cfg, CCache: "KCM:alice", Now: func() time.Time { return tgtEnd.Add(time.Second) }}, tickets.ErrExpired, "KCM:alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.src.ServiceTicket(ctx, tickets.HostService("HTTP", "web.example.test"))
			checkTGTError(t, err, tc.reason, tc.cache, tgtEnd)
			// The messages that name the cache name it as MIT does.
			if tc.reason != tickets.ErrExpired && !strings.Contains(err.Error(), " "+tc.cache+" ") && !strings.Contains(err.Error(), " "+tc.cache+";") {
				t.Errorf("%q does not name the cache %s", err, tc.cache)
			}
		})
	}
}

// TestKCMNoServer checks the error when nothing serves kcm_socket: absent,
// or a socket nobody listens on any more.
func TestKCMNoServer(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	ctx := context.Background()
	for _, sock := range []string{filepath.Join(dir, "absent.sock"), stale} {
		src := &tickets.Source{Config: kcmConfig(t, l, sock), CCache: "KCM:"}
		_, listErr := src.List(t.Context())
		_, stErr := src.ServiceTicket(ctx, tickets.HostService("HTTP", "web.example.test"))
		_, destroyErr := src.Destroy(t.Context())
		_, loginErr := src.Login(ctx, &tickets.LoginRequest{Client: alice(), Password: password("alice-pw-1234")})
		for what, err := range map[string]error{"List": listErr, "ServiceTicket": stErr, "Destroy": destroyErr, "Login": loginErr} {
			want := "tickets: no KCM server answers at " + sock + " (kcm_socket in krb5.conf): start one, or set KRB5CCNAME=FILE:/tmp/krb5cc_" + strconv.Itoa(os.Getuid())
			if !errors.Is(err, tickets.ErrNoKCMServer) || err.Error() != want {
				t.Errorf("%s with %s: %v\nwant %s", what, filepath.Base(sock), err, want)
			}
		}
	}
}

// startNoReplace serves, on a socket of its own, the KCM server at sock
// without MIT's REPLACE: it answers REPLACE as Heimdal's kcm answers an
// opcode it does not know (KRB5_FCC_INTERNAL) and passes the rest on.
func startNoReplace(t *testing.T, sock string) string {
	t.Helper()
	front := filepath.Join(t.TempDir(), "front.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: front, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	back := dialKCM(t, sock)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					var hdr [4]byte
					if _, err := io.ReadFull(c, hdr[:]); err != nil {
						return
					}
					b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
					if _, err := io.ReadFull(c, b); err != nil {
						return
					}
					req, err := kcm.DecodeRequest(b)
					if err != nil {
						return
					}
					rep := &kcm.Reply{Status: kcm.ErrInternal}
					if req.Op != kcm.OpReplace {
						var st kcm.Status
						if rep, err = back.Do(context.Background(), req); errors.As(err, &st) {
							rep = &kcm.Reply{Status: st}
						} else if err != nil {
							return
						}
					}
					out, err := rep.Marshal(req.Op)
					if err != nil {
						return
					}
					c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(out))), append(make([]byte, 4), out...)...))
				}
			}()
		}
	}()
	return front
}

// TestKCMLoginWithoutReplace checks MIT's fallback for a server without
// REPLACE: INITIALIZE, SET_KDC_OFFSET and a STORE per credential.
func TestKCMLoginWithoutReplace(t *testing.T) {
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "alice-pw-1234")
	sock := startKCM(t)
	kc := dialKCM(t, sock)
	if _, err := kc.Do(t.Context(), &kcm.Request{Op: kcm.OpReplace, Name: "x", Principal: alice()}); err != nil {
		t.Fatalf("the server itself has REPLACE: %v", err)
	}
	src := &tickets.Source{Config: kcmConfig(t, l, startNoReplace(t, sock)), CCache: "KCM:alice"}
	if _, err := src.Login(t.Context(), &tickets.LoginRequest{Client: alice(), Password: password("alice-pw-1234")}); err != nil {
		t.Fatal(err)
	}
	if p, err := kc.Principal(t.Context(), "alice"); err != nil || p.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf("principal %s, %v", p, err)
	}
	if got := kcmServers(t, kc, "alice"); len(got) != 2 || got[0] != "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST" || !strings.Contains(got[1], "pa_type") {
		t.Fatalf("the server's cache holds %q, want the TGT and pa_type", got)
	}
	li, err := src.List(t.Context())
	if err != nil || li.Name != "KCM:alice" || len(li.Tickets) != 1 || !li.HasTimeOffset || !li.HasValid() {
		t.Fatalf("List() = %+v, %v", li, err)
	}
}
