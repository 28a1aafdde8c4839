package wire

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"hop/krb5"
)

// A tiny, independent DER writer for hand-built test vectors: it shares no
// code with the package's encoder.

// der returns the element with identifier octet(s) id and the given
// contents, with a minimal length.
func der(id []byte, parts ...[]byte) []byte {
	var c []byte
	for _, p := range parts {
		c = append(c, p...)
	}
	out := append([]byte(nil), id...)
	switch n := len(c); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, c...)
}

func seq(parts ...[]byte) []byte          { return der([]byte{0x30}, parts...) }
func ctx(n int, parts ...[]byte) []byte   { return der([]byte{0xa0 | byte(n)}, parts...) }
func app(n int, parts ...[]byte) []byte   { return der([]byte{0x60 | byte(n)}, parts...) }
func octs(b []byte) []byte                { return der([]byte{0x04}, b) }
func gstr(s string) []byte                { return der([]byte{0x1b}, []byte(s)) }
func gtime(s string) []byte               { return der([]byte{0x18}, []byte(s)) }
func intRaw(b ...byte) []byte             { return der([]byte{0x02}, b) }
func bits(unused byte, b ...byte) []byte  { return der([]byte{0x03}, append([]byte{unused}, b...)) }
func boolean1(v byte) []byte              { return der([]byte{0x01}, []byte{v}) }
func ctxInt(n int, b ...byte) []byte      { return ctx(n, intRaw(b...)) }
func ctxStr(n int, s string) []byte       { return ctx(n, gstr(s)) }
func ctxOcts(n int, b []byte) []byte      { return ctx(n, octs(b)) }
func ctxTime(n int, s string) []byte      { return ctx(n, gtime(s)) }
func name(t byte, comps ...string) []byte { return seq(ctxInt(0, t), ctx(1, seq(gstrs(comps)...))) }

func gstrs(comps []string) [][]byte {
	var out [][]byte
	for _, c := range comps {
		out = append(out, gstr(c))
	}
	return out
}

// h decodes hex, ignoring spaces and newlines.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func rep(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// Fixed values for the round trips.
var (
	t0 = time.Date(2026, 11, 23, 19, 44, 36, 0, time.UTC)
	t1 = t0.Add(10 * time.Hour)
	t2 = t0.Add(7 * 24 * time.Hour)

	alice = krb5.NewName(krb5.NTPrincipal, "alice")
	tgs   = krb5.NewName(krb5.NTSrvInst, "krbtgt", "HOP.TEST")
	host  = krb5.NewName(krb5.NTSrvHst, "host", "server.hop.test")
)

func u32(v uint32) *uint32 { return &v }
func i32(v int32) *int32   { return &v }
func str(s string) *string { return &s }
func pn(p krb5.PrincipalName) *krb5.PrincipalName {
	return &p
}

func sampleTicket() Ticket {
	return Ticket{
		Realm: "HOP.TEST", SName: tgs,
		EncPart: EncryptedData{EType: krb5.AES256CTSHMACSHA196, KVNO: 2, HasKVNO: true, Cipher: []byte("ticket-cipher-bytes")},
	}
}

// clearRaw drops the received-bytes fields, so that a parsed value can be
// compared with one built by hand and re-encoded from its fields.
func clearRaw(v any) {
	switch v := v.(type) {
	case *Ticket:
		v.Raw = nil
	case *KDCReq:
		v.RawBody = nil
		for i := range v.Body.AdditionalTickets {
			v.Body.AdditionalTickets[i].Raw = nil
		}
	case *KDCReqBody:
		for i := range v.AdditionalTickets {
			v.AdditionalTickets[i].Raw = nil
		}
	case *KDCRep:
		v.Ticket.Raw = nil
	case *APReq:
		v.Ticket.Raw = nil
	case *KRBCred:
		for i := range v.Tickets {
			v.Tickets[i].Raw = nil
		}
	}
}

func mustMarshal(t *testing.T, b []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}
