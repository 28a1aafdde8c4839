package service_test

import (
	"errors"
	"testing"

	"hop/krb5"
	"hop/krb5/service"
	"hop/krb5/service/servicetest"
)

// FuzzAccept feeds Accept arbitrary AP-REQs: it must never panic, every
// refusal must be an *service.Error, and anything accepted must name the
// fixture's client and service. Seeds: a valid AP-REQ of the fixture (with
// a PAC, mutual, subkey), one without a PAC, and the corpus in
// testdata/fuzz/FuzzAccept.
func FuzzAccept(f *testing.F) {
	fx := newFixture(f)
	c := fx.ticket(f, servicetest.TicketOptions{})
	f.Add(fx.apReq(f, c, servicetest.APReqOptions{Options: krb5.APMutualRequired}))
	f.Add(fx.apReq(f, fx.ticket(f, servicetest.TicketOptions{NoPAC: true}), servicetest.APReqOptions{}))
	f.Add([]byte{0x6e, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := fx.acc.Accept(b)
		if err != nil {
			var se *service.Error
			if !errors.As(err, &se) {
				t.Fatalf("refusal is not a *service.Error: %v", err)
			}
			return
		}
		if x.Client.String() != fx.alice.String() || x.Server.String() != fx.web.String() {
			t.Fatalf("accepted %s for %s", x.Client, x.Server)
		}
	})
}
