package wire

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"hop/krb5"
)

// Every decoder is fuzzed: no input may panic, errors carry the package
// prefix, and whatever parses must marshal and parse again to an equal
// value, both with the received-bytes fields (Raw, RawBody) kept and with
// them cleared so that the encoder writes every field itself.
//
// Seeds come from f.Add and from testdata/fuzz/FuzzXxx, which
// `go test -run TestFuzzCorpus -update-corpus` regenerates from the
// captured messages in testdata/*.der.

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz from testdata/*.der")

func checkCodec[T any](t *testing.T, b []byte, parse func([]byte) (*T, error), marshal func(*T) ([]byte, error)) {
	t.Helper()
	v, err := parse(b)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "wire: ") {
			t.Fatalf("error without the package prefix: %v", err)
		}
		return
	}
	out, err := marshal(v)
	if err != nil {
		t.Fatalf("parsed %+v but cannot marshal it: %v", v, err)
	}
	v2, err := parse(out)
	if err != nil {
		t.Fatalf("cannot parse own output % x: %v", out, err)
	}
	if !reflect.DeepEqual(v, v2) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", v2, v)
	}
	clearRaw(v)
	out, err = marshal(v)
	if err != nil {
		t.Fatalf("cannot marshal %+v from its fields: %v", v, err)
	}
	v3, err := parse(out)
	if err != nil {
		t.Fatalf("cannot parse own output % x: %v", out, err)
	}
	clearRaw(v3)
	if !reflect.DeepEqual(v, v3) {
		t.Fatalf("round trip from fields differs:\n got %+v\nwant %+v", v3, v)
	}
}

// slicePtr adapts the codecs of slice types to checkCodec.
func slicePtr[T any](parse func([]byte) ([]T, error)) func([]byte) (*[]T, error) {
	return func(b []byte) (*[]T, error) {
		v, err := parse(b)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
}

func marshalSlice[T any](marshal func([]T) ([]byte, error)) func(*[]T) ([]byte, error) {
	return func(v *[]T) ([]byte, error) { return marshal(*v) }
}

// fuzzSeeds lists the captured files whose bytes seed each target.
var fuzzSeeds = map[string][]string{
	"FuzzParseKDCReq": {"mit-as-req.der", "mit-as-req-preauth.der", "mit-as-req-nopreauth.der", "mit-tgs-req.der",
		"impacket-as-req.der", "impacket-as-req-preauth.der", "impacket-tgs-req.der", "impacket-tgs-req-s4u2self.der"},
	"FuzzParseKDCRep":            {"mit-as-rep.der", "mit-as-rep-nopreauth.der", "mit-tgs-rep.der"},
	"FuzzParseAPReq":             {"mit-ap-req.der", "mit-ap-req-tgs.der", "mit-ap-rep.der", "mit-enc-ap-rep-part.der"},
	"FuzzParseKRBError":          {"mit-krb-error-preauth-required.der", "mit-krb-error-inapp-cksum.der"},
	"FuzzParseEncKDCRepPart":     {"mit-enc-as-rep-part.der", "mit-enc-tgs-rep-part.der"},
	"FuzzParseEncTicketPart":     {"mit-enc-ticket-part-tgt.der", "mit-enc-ticket-part-service.der"},
	"FuzzParseAuthenticator":     {"mit-authenticator-tgs.der", "mit-authenticator-ap.der", "impacket-authenticator-tgs.der"},
	"FuzzParseKRBCred":           {"impacket-krb-cred.der", "impacket-enc-krb-cred-part.der"},
	"FuzzParseAuthorizationData": nil, // from the tickets' authorization-data, below
	"FuzzParsePAData": {"mit-pa-enc-ts-enc.der", "impacket-pa-enc-ts-enc.der", "impacket-pa-pac-request.der",
		"impacket-pa-for-user.der"},
}

// extraSeeds derives seeds from inside the captured messages.
func extraSeeds(t testing.TB, target string) [][]byte {
	var out [][]byte
	switch target {
	case "FuzzParseAuthorizationData":
		for _, f := range []string{"mit-enc-ticket-part-tgt.der", "mit-enc-ticket-part-service.der"} {
			e, err := ParseEncTicketPart(readTestdata(t, f))
			if err != nil {
				t.Fatal(err)
			}
			ad, err := e.AuthorizationData.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ad, e.AuthorizationData[0].Data)
		}
	case "FuzzParsePAData":
		e, err := ParseKRBError(readTestdata(t, "mit-krb-error-preauth-required.der"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.EData)
		md, _ := ParseMethodData(e.EData)
		out = append(out, findPA(md, krb5.PAETypeInfo2))
		r, err := ParseKDCReq(readTestdata(t, "mit-as-req-preauth.der"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, findPA(r.PAData, krb5.PAEncTimestamp))
		opts, _ := (&PAPACOptions{Flags: PACOptClaims | PACOptResourceBasedDelegation}).Marshal()
		out = append(out, opts)
	case "FuzzParseKRBCred":
		c, err := ParseKRBCred(readTestdata(t, "impacket-krb-cred.der"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Tickets[0].Raw)
	}
	return out
}

// emptyVectorTargets maps emptyOptionalVectors to the targets they seed.
var emptyVectorTargets = map[string]string{
	"KRB-ERROR": "FuzzParseKRBError", "AS-REQ": "FuzzParseKDCReq", "EncTicketPart": "FuzzParseEncTicketPart",
	"EncKrbCredPart": "FuzzParseKRBCred", "EncTGSRepPart": "FuzzParseEncKDCRepPart",
	"Authenticator": "FuzzParseAuthenticator", "ETYPE-INFO2": "FuzzParsePAData",
}

func seeds(t testing.TB, target string) [][]byte {
	var out [][]byte
	for _, f := range fuzzSeeds[target] {
		out = append(out, readTestdata(t, f))
	}
	out = append(out, extraSeeds(t, target)...)
	vectors := emptyOptionalVectors()
	for _, name := range slices.Sorted(maps.Keys(vectors)) {
		if emptyVectorTargets[name] == target {
			out = append(out, vectors[name])
		}
	}
	return out
}

func addSeeds(f *testing.F, target string) {
	for _, s := range seeds(f, target) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
}

// TestFuzzCorpus checks (or with -update-corpus rewrites) the seed corpus
// files: one per seed, in Go's corpus format.
func TestFuzzCorpus(t *testing.T) {
	for target := range fuzzSeeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i, s := range seeds(t, target) {
				var b strings.Builder
				b.WriteString("go test fuzz v1\n[]byte(\"")
				for _, c := range s {
					fmt.Fprintf(&b, "\\x%02x", c)
				}
				b.WriteString("\")\n")
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) < len(seeds(t, target)) {
			t.Errorf("%s: %d corpus files, want %d (run go test -run TestFuzzCorpus -update-corpus)", dir, len(files), len(seeds(t, target)))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n[]byte(") {
				t.Errorf("%s is not a corpus file: %v", f, err)
			}
		}
	}
}

func FuzzParseKDCReq(f *testing.F) {
	addSeeds(f, "FuzzParseKDCReq")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseKDCReq, (*KDCReq).Marshal)
		checkCodec(t, b, ParseKDCReqBody, (*KDCReqBody).Marshal)
		if r, err := ParseKDCReq(b); err == nil {
			checkCodec(t, r.RawBody, ParseKDCReqBody, (*KDCReqBody).Marshal)
			if mt, ok := MsgTypeOf(b); !ok || mt != r.MsgType {
				t.Fatalf("MsgTypeOf = %v, %v; parsed %v", mt, ok, r.MsgType)
			}
		}
	})
}

func FuzzParseKDCRep(f *testing.F) {
	addSeeds(f, "FuzzParseKDCRep")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseKDCRep, (*KDCRep).Marshal)
		checkCodec(t, b, ParseTicket, (*Ticket).Marshal)
	})
}

func FuzzParseAPReq(f *testing.F) {
	addSeeds(f, "FuzzParseAPReq")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseAPReq, (*APReq).Marshal)
		checkCodec(t, b, ParseAPRep, (*APRep).Marshal)
		checkCodec(t, b, ParseEncAPRepPart, (*EncAPRepPart).Marshal)
	})
}

func FuzzParseKRBError(f *testing.F) {
	addSeeds(f, "FuzzParseKRBError")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseKRBError, (*KRBError).Marshal)
	})
}

func FuzzParseEncKDCRepPart(f *testing.F) {
	addSeeds(f, "FuzzParseEncKDCRepPart")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, parseEncKDCRepPartCase, (*encKDCRepPartCase).marshal)
	})
}

func FuzzParseEncTicketPart(f *testing.F) {
	addSeeds(f, "FuzzParseEncTicketPart")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseEncTicketPart, (*EncTicketPart).Marshal)
	})
}

func FuzzParseAuthenticator(f *testing.F) {
	addSeeds(f, "FuzzParseAuthenticator")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseAuthenticator, (*Authenticator).Marshal)
	})
}

func FuzzParseAuthorizationData(f *testing.F) {
	addSeeds(f, "FuzzParseAuthorizationData")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, parseADPtr, (*AuthorizationData).marshalPtr)
	})
}

func FuzzParseKRBCred(f *testing.F) {
	addSeeds(f, "FuzzParseKRBCred")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParseKRBCred, (*KRBCred).Marshal)
		checkCodec(t, b, ParseEncKRBCredPart, (*EncKRBCredPart).Marshal)
		checkCodec(t, b, ParseTicket, (*Ticket).Marshal)
	})
}

// FuzzParsePAData covers the padata-value structures and METHOD-DATA.
func FuzzParsePAData(f *testing.F) {
	addSeeds(f, "FuzzParsePAData")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b, ParsePAEncTSEnc, (*PAEncTSEnc).Marshal)
		checkCodec(t, b, slicePtr(ParseETypeInfo2), marshalSlice(MarshalETypeInfo2))
		checkCodec(t, b, ParsePAPACRequest, (*PAPACRequest).Marshal)
		checkCodec(t, b, ParsePAForUser, (*PAForUser).Marshal)
		checkCodec(t, b, ParsePAPACOptions, (*PAPACOptions).Marshal)
		checkCodec(t, b, slicePtr(ParseMethodData), marshalSlice(MarshalMethodData))
		checkCodec(t, b, ParseEncryptedData, (*EncryptedData).Marshal)
		checkCodec(t, b, ParseEncryptionKey, (*EncryptionKey).Marshal)
		checkCodec(t, b, ParseChecksum, (*Checksum).Marshal)
	})
}
