package remote

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/kcm"
	"hop/krb5/tickets"
)

// TestTicketErrorByType checks that ticketError picks its advice from the
// error's type, not its text: a principal or path that reads "expired"
// does not make a missing ticket an expired one.
func TestTicketErrorByType(t *testing.T) {
	who := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "expired"), Realm: "EXAMPLE.TEST"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"expired", &tickets.TGTError{Reason: tickets.ErrExpired, Cache: "/tmp/cc", Client: who, Expired: time.Unix(1, 0)}, "your ticket expired: run hop login"},
		{"expired, wrapped", fmt.Errorf("get a ticket: %w", &tickets.TGTError{Reason: tickets.ErrExpired, Client: who}), "your ticket expired: run hop login"},
		{"no TGT of a user named expired", &tickets.TGTError{Reason: tickets.ErrNoTGT, Cache: "/tmp/expired", Client: who}, "you have no Kerberos ticket: run hop login (or kinit)"},
		{"no cache named expired", &tickets.TGTError{Reason: tickets.ErrNoCache, Cache: "/tmp/expired"}, "you have no Kerberos ticket: run hop login (or kinit)"},
		{"other text with expired", errors.New("the certificate expired"), "no ticket for host/b.example.test: the certificate expired"},
		{"a hop session's broker explains", &tickets.BrokerError{Target: who, Status: &kcm.BrokerStatus{Target: &kcm.BrokerTarget{Explain: "no delegated credential on this hop"}}}, "no delegated credential on this hop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ticketError("b.example.test", tc.err)
			var e *Error
			if !errors.As(err, &e) || e.Msg != tc.want {
				t.Fatalf("ticketError(%v) = %v, want the message %q", tc.err, err, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("ticketError does not wrap its cause")
			}
			if !strings.HasPrefix(err.Error(), "b.example.test: ") {
				t.Errorf("%q does not name the host", err)
			}
		})
	}
}
