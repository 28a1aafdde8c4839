package tickets_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/ccache"
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
			if !errors.Is(err, tickets.ErrNoTicket) || !errors.Is(err, tc.reason) {
				t.Fatalf("err = %v, want ErrNoTicket and %v", err, tc.reason)
			}
			for _, other := range []error{tickets.ErrNoCache, tickets.ErrNoTGT, tickets.ErrExpired} {
				if other != tc.reason && errors.Is(err, other) {
					t.Errorf("err %v also matches %v", err, other)
				}
			}
			var te *tickets.TGTError
			if !errors.As(err, &te) || te.Cache != tc.cache {
				t.Fatalf("err = %#v, want a *TGTError for %s", err, tc.cache)
			}
			if tc.reason == tickets.ErrExpired && !te.Expired.Equal(tgtEnd) {
				t.Errorf("Expired = %v, want the TGT's end %v", te.Expired, tgtEnd)
			}
			if !strings.Contains(err.Error(), "kinit") {
				t.Errorf("%q does not say what to do", err)
			}
		})
	}
}
