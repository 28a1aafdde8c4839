package service_test

import (
	"testing"
	"time"

	"hop/krb5/service/servicetest"
)

// BenchmarkAccept measures Accept of an AP-REQ whose ticket carries a PAC
// (aes256-cts-hmac-sha1-96 ticket and session keys): two decryptions, the
// PAC's server signature and the replay cache.
func BenchmarkAccept(b *testing.B) {
	f := newFixture(b)
	c := f.ticket(b, servicetest.TicketOptions{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		req := f.apReq(b, c, servicetest.APReqOptions{CTime: now.Add(time.Duration(i) * time.Microsecond)})
		b.StartTimer()
		if _, err := f.acc.Accept(req); err != nil {
			b.Fatal(err)
		}
	}
}
