package remoting

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzDecodeEndpointRequest feeds endpoint@hop payloads (sent by the
// client) to the decoder: no panic, a bounded name without NUL, and a name
// it accepts encodes back to the same bytes.
func FuzzDecodeEndpointRequest(f *testing.F) {
	f.Add(EncodeEndpointRequest("dns-ops"))
	f.Add(EncodeEndpointRequest(strings.Repeat("e", MaxEndpointName+1)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := DecodeEndpointRequest(b)
		if err != nil {
			return
		}
		if len(name) > MaxEndpointName || strings.IndexByte(name, 0) >= 0 {
			t.Fatalf("accepted %q", name)
		}
		if !bytes.Equal(EncodeEndpointRequest(name), b) {
			t.Fatalf("%x decodes to %q, which encodes to %x", b, name, EncodeEndpointRequest(name))
		}
	})
}

// FuzzDecodeEndpoints feeds endpoints@hop replies (sent by the agent) to
// the decoder: no panic, bounded output, printable strings, and what it
// returns survives an encode and a decode unchanged.
func FuzzDecodeEndpoints(f *testing.F) {
	f.Add([]byte(`[{"name":"default","type":"default","allowed":true,"run_as":"","commands":null}]`))
	f.Add([]byte(`[{"name":"dns-ops","type":"jea","allowed":true,"run_as":"hop-dns","commands":["/usr/sbin/rndc reload|status [NAME]"]}]`))
	f.Add([]byte(`[{"name":"x\u001b]0;owned\u0007","commands":["\r\n"]}]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		eps, err := DecodeEndpoints(b)
		if err != nil {
			return
		}
		if len(eps) > MaxEndpoints {
			t.Fatalf("%d endpoints", len(eps))
		}
		n := 0
		for _, e := range eps {
			n += len(e.Commands)
			for _, s := range append([]string{e.Name, e.Type, e.RunAs}, e.Commands...) {
				if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
					t.Fatalf("unprintable %q", s)
				}
			}
		}
		if n > MaxCommands {
			t.Fatalf("%d commands", n)
		}
		if eps == nil {
			return // the JSON null
		}
		re, err := EncodeEndpoints(eps)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeEndpoints(re)
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", eps, err)
		}
		for i := range eps {
			// Empty and null command lists encode alike (omitempty).
			if len(eps[i].Commands) == 0 {
				eps[i].Commands, again[i].Commands = nil, nil
			}
		}
		if !reflect.DeepEqual(again, eps) {
			t.Fatalf("decode(encode(%+v)) = %+v", eps, again)
		}
	})
}

// FuzzDecodeDelegateRequest feeds delegate@hop payloads (sent by the
// client) to the decoder: no panic, only known modes, and what it accepts
// encodes back to the same bytes.
func FuzzDecodeDelegateRequest(f *testing.F) {
	for _, m := range Modes {
		f.Add(EncodeDelegateRequest(m))
	}
	f.Add(EncodeEndpointRequest("unconstrained"))
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeDelegateRequest(b)
		if err != nil {
			return
		}
		if _, err := ParseMode(string(m)); err != nil {
			t.Fatalf("accepted %q", m)
		}
		if !bytes.Equal(EncodeDelegateRequest(m), b) {
			t.Fatalf("%x decodes to %q, which encodes to %x", b, m, EncodeDelegateRequest(m))
		}
	})
}

// FuzzDecodeCredentialRequest feeds credential@hop payloads (sent by the
// client) to the decoder: no panic, bounded valid output, and what it
// accepts encodes back to the same bytes.
func FuzzDecodeCredentialRequest(f *testing.F) {
	f.Add(EncodeCredentialRequest("svc-sql", []byte("Secret-1")))
	f.Add(EncodeCredentialRequest("svc sql", []byte("x")))
	f.Add(EncodeCredentialRequest("a", nil))
	f.Add([]byte{0, 0, 0, 1, 'a', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, secret, err := DecodeCredentialRequest(b)
		if err != nil {
			return
		}
		if !ValidCredentialName(name) || len(secret) == 0 || len(secret) > MaxCredentialSecret || bytes.IndexByte(secret, 0) >= 0 {
			t.Fatalf("accepted %q / %d bytes", name, len(secret))
		}
		if !bytes.Equal(EncodeCredentialRequest(name, secret), b) {
			t.Fatalf("%x does not re-encode", b)
		}
	})
}

// FuzzDecodeTicketMessages feeds ticket@hop messages to both decoders (a
// request is what a host sends the client; a reply what the client sends
// the host): no panic, bounded, printable output.
func FuzzDecodeTicketMessages(f *testing.F) {
	f.Add([]byte(`{"target":"cifs/c.example.test@EXAMPLE.TEST","host":"b.example.test","session":"1f2e"}`))
	f.Add([]byte(`{"credential":"AAAA"}`))
	f.Add([]byte(`{"error":"host/d.example.test is not in the hops allowed"}`))
	f.Add([]byte(`{"target":"x","via":["a","b"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if q, err := DecodeTicketRequest(b); err == nil {
			if !strings.Contains(q.Target, "/") || len(q.Via) > maxTicketVia || Printable(q.Host, maxTicketHost) != q.Host {
				t.Fatalf("accepted %+v", q)
			}
		}
		if p, err := DecodeTicketReply(b); err == nil {
			if (len(p.Credential) == 0) == (p.Error == "") || Printable(p.Error, 1024) != p.Error {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}
