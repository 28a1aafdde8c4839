package kcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
)

var (
	alice = krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: "EXAMPLE.TEST"}
	tgs   = krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", "EXAMPLE.TEST"), Realm: "EXAMPLE.TEST"}
	hostB = krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test"), Realm: "EXAMPLE.TEST"}
	when  = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
)

func testCred(server krb5.Principal, key byte) ccache.Credential {
	return ccache.Credential{
		Client: alice, Server: server, KeyType: krb5.AES256CTSHMACSHA196, Key: bytes.Repeat([]byte{key}, 32),
		AuthTime: when, StartTime: when, EndTime: when.Add(10 * time.Hour), RenewTill: when.Add(24 * time.Hour),
		Flags:     krb5.TktForwardable | krb5.TktInitial,
		Addresses: []ccache.Address{{Type: 2, Data: []byte{127, 0, 0, 1}}},
		AuthData:  []ccache.AuthData{{Type: 1, Data: []byte{0x30, 0}}},
		Ticket:    []byte{0x61, 3, 1, 2, 3},
	}
}

func requests() []*Request {
	c1, c2 := testCred(tgs, 1), testCred(hostB, 2)
	return []*Request{
		{Op: OpNoop},
		{Op: OpGenNew},
		{Op: OpInitialize, Name: "1000", Principal: alice},
		{Op: OpDestroy, Name: "1000"},
		{Op: OpStore, Name: "1000", Credential: &c1},
		{Op: OpRetrieve, Name: "1000", Flags: GCCached | TCMatchTimes, Match: &Match{Client: &alice, Server: &hostB, EndTime: when}},
		{Op: OpRetrieve, Name: "x", Match: &Match{
			Client: &alice, Server: &hostB, KeyType: krb5.AES128CTSHMACSHA196, Key: []byte{9, 9},
			IsSKey: true, Flags: krb5.TktForwardable, Addresses: c1.Addresses, AuthData: c1.AuthData,
			Ticket: []byte{1}, SecondTicket: []byte{2},
		}},
		{Op: OpRemoveCred, Name: "1000", Flags: TCMatchSrvNameOnly, Match: &Match{Server: &hostB}},
		{Op: OpGetPrincipal, Name: "1000"},
		{Op: OpGetCredUUIDList, Name: "1000"},
		{Op: OpGetCredByUUID, Name: "1000", UUID: UUID{1, 2, 3}},
		{Op: OpGetCacheUUIDList},
		{Op: OpGetCacheByUUID, UUID: UUID{15: 7}},
		{Op: OpGetDefaultCache},
		{Op: OpSetDefaultCache, Name: "1000:abc"},
		{Op: OpGetKDCOffset, Name: "1000"},
		{Op: OpSetKDCOffset, Name: "1000", Offset: -42},
		{Op: OpGetCredList, Name: "1000"},
		{Op: OpReplace, Name: "1000", Offset: 3, Principal: alice, Credentials: []ccache.Credential{c1, c2}},
		{Op: OpSetFlags, Raw: []byte("1000\x00\x00\x00\x00\x01")},
		{Op: 28}, // GET_NTLM_USER_LIST, not decoded
	}
}

func replies() []struct {
	op  Op
	rep *Reply
} {
	c1, c2 := testCred(tgs, 1), testCred(hostB, 2)
	return []struct {
		op  Op
		rep *Reply
	}{
		{OpNoop, &Reply{}},
		{OpGenNew, &Reply{Name: "1000:0123456789ab"}},
		{OpGetDefaultCache, &Reply{Name: "1000"}},
		{OpGetCacheByUUID, &Reply{Name: "x"}},
		{OpGetPrincipal, &Reply{Principal: alice}},
		{OpRetrieve, &Reply{Credential: &c2}},
		{OpGetCredByUUID, &Reply{Credential: &c1}},
		{OpGetCredUUIDList, &Reply{UUIDs: []UUID{{1}, {2}}}},
		{OpGetCredUUIDList, &Reply{}},
		{OpGetCacheUUIDList, &Reply{UUIDs: []UUID{{3}}}},
		{OpGetKDCOffset, &Reply{Offset: -7}},
		{OpGetCredList, &Reply{Credentials: []ccache.Credential{c1, c2}}},
		{OpGetCredList, &Reply{Credentials: []ccache.Credential{}}},
		{OpRetrieve, &Reply{Status: ErrNotFound}},
		{OpGetPrincipal, &Reply{Status: ErrNoCache}},
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, req := range requests() {
		t.Run(req.Op.String(), func(t *testing.T) {
			b, err := req.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(req)) {
				t.Errorf("decoded %#v\nwant    %#v", *got, *req)
			}
			again, err := got.Marshal()
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs (%v):\n%x\n%x", err, again, b)
			}
		})
	}
}

// normalize makes empty and nil slices equal for reflect.DeepEqual.
func normalize(req *Request) Request {
	r := *req
	if len(r.Raw) == 0 {
		r.Raw = nil
	}
	if len(r.Credentials) == 0 {
		r.Credentials = nil
	}
	return r
}

func TestReplyRoundTrip(t *testing.T) {
	for _, tc := range replies() {
		t.Run(tc.op.String(), func(t *testing.T) {
			b, err := tc.rep.Marshal(tc.op)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeReply(tc.op, b)
			if err != nil {
				t.Fatal(err)
			}
			want := *tc.rep
			if len(want.Credentials) == 0 {
				want.Credentials, got.Credentials = nil, nil
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("decoded %#v, want %#v", *got, want)
			}
		})
	}
}

// TestRequestBytes checks the encoding against the layout of MIT's kcm.h
// and cc_kcm.c, written out by hand: version 2.0, opcode, NUL-terminated
// name, then the arguments.
func TestRequestBytes(t *testing.T) {
	b, err := (&Request{Op: OpSetKDCOffset, Name: "ab", Offset: -2}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{2, 0, 0, 23, 'a', 'b', 0, 0xff, 0xff, 0xff, 0xfe}; !bytes.Equal(b, want) {
		t.Errorf("SET_KDC_OFFSET = %x, want %x", b, want)
	}
	b, err = (&Request{Op: OpGetCredList, Name: "1"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{2, 0, 0x32, 0xc9, '1', 0}; !bytes.Equal(b, want) { // 13001
		t.Errorf("GET_CRED_LIST = %x, want %x", b, want)
	}
	// A credential tag with only a server: header 2, the principal, four
	// zero times, is_skey 0, flags 0.
	b, err = (&Request{Op: OpRetrieve, Name: "", Flags: GCCached, Match: &Match{Server: &alice}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{2, 0, 0, 7, 0, 0, 0, 0, 1, 0, 0, 0, 2}
	want = append(want, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 12)
	want = append(want, "EXAMPLE.TEST"...)
	want = append(want, 0, 0, 0, 5)
	want = append(want, "alice"...)
	want = append(want, make([]byte, 16+1+4)...)
	if !bytes.Equal(b, want) {
		t.Errorf("RETRIEVE = %x\nwant       %x", b, want)
	}
}

func TestDecodeRequestRejects(t *testing.T) {
	good, err := (&Request{Op: OpReplace, Name: "n", Principal: alice, Credentials: []ccache.Credential{testCred(tgs, 1)}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	manyCreds := []byte{2, 0, 0x32, 0xca, 'n', 0, 0, 0, 0, 0}
	manyCreds, _ = ccache.AppendPrincipal(manyCreds, alice)
	manyCreds = binary.BigEndian.AppendUint32(manyCreds, MaxListCredentials+1)
	manyCreds = append(manyCreds, make([]byte, 4*(MaxListCredentials+1))...)
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "major version"},
		{"no opcode", []byte{2, 0, 0}, "opcode"},
		{"version 1", []byte{1, 0, 0, 0}, "protocol version 1.0"},
		{"unterminated name", []byte{2, 0, 0, 5, 'a', 'b'}, "not terminated"},
		{"long name", append(append([]byte{2, 0, 0, 5}, strings.Repeat("a", MaxNameLen+1)...), 0), "more than 255"},
		{"trailing bytes", []byte{2, 0, 0, 5, 'a', 0, 1}, "1 bytes after"},
		{"short UUID", []byte{2, 0, 0, 19, 1, 2, 3}, "UUID"},
		{"truncated replace", good[:len(good)-1], "credential"},
		{"too many credentials", manyCreds, "more than 4096"},
		{"unknown tag bits", []byte{2, 0, 0, 7, 'n', 0, 0, 0, 0, 0, 0, 0, 1, 0}, "unknown bits"},
		{"huge", make([]byte, MaxRequestSize+1), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeRequest(tc.b)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeRequest = %v, want ErrMalformed saying %q", err, tc.want)
			}
		})
	}
}

func TestDecodeReplyHeimdalEmptyPrincipal(t *testing.T) {
	// Heimdal answers GET_PRINCIPAL for a cache without one with status 0
	// and nothing else; MIT reads that as KRB5_FCC_NOFILE.
	rep, err := DecodeReply(OpGetPrincipal, []byte{0, 0, 0, 0})
	if err != nil || rep.Status != ErrNoCache {
		t.Errorf("DecodeReply = %v, %v; want status ErrNoCache", rep, err)
	}
	if _, err := DecodeReply(OpGetCredUUIDList, []byte{0, 0, 0, 0, 1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Errorf("a UUID list of 3 bytes decoded: %v", err)
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	c := testCred(hostB, 0xAB)
	m := &Match{Client: &alice, Server: &hostB, KeyType: c.KeyType, Key: c.Key, Ticket: c.Ticket}
	values := []any{*m, m, Request{Op: OpStore, Credential: &c}, Request{Op: OpRetrieve, Match: m},
		Reply{Credential: &c}, Reply{Credentials: []ccache.Credential{c}},
		Cache{Name: "x", Principal: alice, Entries: []Entry{{Credential: c}}}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, "abab") || strings.Contains(s, "171, 171") || strings.Contains(s, "\xab\xab") || strings.Contains(strings.ToLower(s), "ababab") {
				t.Errorf("%s of %T shows the key: %s", verb, v, s)
			}
		}
	}
}

func TestStatus(t *testing.T) {
	for _, s := range []Status{ErrNotSupp, ErrIO, ErrInternal} {
		if !s.Unsupported() {
			t.Errorf("%v is not read as unsupported", s)
		}
	}
	if ErrNotFound.Unsupported() || StatusOK.Unsupported() {
		t.Error("KRB5_CC_NOTFOUND or 0 read as unsupported")
	}
	if got := ErrNoCache.Error(); !strings.Contains(got, "KRB5_FCC_NOFILE") {
		t.Errorf("ErrNoCache.Error() = %q", got)
	}
}
