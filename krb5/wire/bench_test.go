package wire

import "testing"

// Benchmarks on the KDC's hot path, with captured MIT messages.

func benchParse[T any](b *testing.B, file string, parse func([]byte) (*T, error)) {
	in := readTestdata(b, file)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseASReq(b *testing.B) { benchParse(b, "mit-as-req-preauth.der", ParseKDCReq) }

func BenchmarkParseTGSReq(b *testing.B) { benchParse(b, "mit-tgs-req.der", ParseKDCReq) }

// BenchmarkParseAPReq is the second half of TGS-REQ decoding: the
// PA-TGS-REQ value.
func BenchmarkParseAPReq(b *testing.B) { benchParse(b, "mit-ap-req-tgs.der", ParseAPReq) }

func BenchmarkParseEncTicketPart(b *testing.B) {
	benchParse(b, "mit-enc-ticket-part-tgt.der", ParseEncTicketPart)
}

// BenchmarkMarshalKDCRep encodes an AS-REP whose ticket is encoded from
// its fields, as the KDC does for a fresh ticket.
func BenchmarkMarshalKDCRep(b *testing.B) {
	r, err := ParseKDCRep(readTestdata(b, "mit-as-rep.der"))
	if err != nil {
		b.Fatal(err)
	}
	r.Ticket.Raw = nil
	out, err := r.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalEncKDCRepPart(b *testing.B) {
	p, tag, err := ParseEncKDCRepPart(readTestdata(b, "mit-enc-as-rep-part.der"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Marshal(tag); err != nil {
			b.Fatal(err)
		}
	}
}
