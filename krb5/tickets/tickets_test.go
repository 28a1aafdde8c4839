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
