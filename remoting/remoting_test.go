package remoting_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"hop/remoting"
)

// TestEndpointRequestRoundTrip: the payload is one SSH string (RFC 4251
// §5), and what the encoder writes the decoder reads back.
func TestEndpointRequestRoundTrip(t *testing.T) {
	for _, name := range []string{"default", "dns-ops", "", strings.Repeat("e", remoting.MaxEndpointName)} {
		b := remoting.EncodeEndpointRequest(name)
		want := append([]byte{0, 0, 0, byte(len(name))}, name...)
		if !bytes.Equal(b, want) {
			t.Errorf("EncodeEndpointRequest(%q) = %x, want %x", name, b, want)
		}
		got, err := remoting.DecodeEndpointRequest(b)
		if err != nil || got != name {
			t.Errorf("DecodeEndpointRequest(%x) = %q, %v; want %q", b, got, err, name)
		}
	}
}

func TestDecodeEndpointRequestRefuses(t *testing.T) {
	ok := remoting.EncodeEndpointRequest("ops")
	for what, b := range map[string][]byte{
		"empty":     nil,
		"short":     ok[:3],
		"truncated": ok[:len(ok)-1],
		"trailing":  append(append([]byte(nil), ok...), 0),
		"overlong":  remoting.EncodeEndpointRequest(strings.Repeat("e", remoting.MaxEndpointName+1)),
		"huge":      {0xff, 0xff, 0xff, 0xf0, 'a', 'b', 'c'},
		"NUL":       remoting.EncodeEndpointRequest("a\x00b"),
	} {
		if name, err := remoting.DecodeEndpointRequest(b); err == nil {
			t.Errorf("%s: DecodeEndpointRequest(%x) = %q, want an error", what, b, name)
		}
	}
}

// TestEndpointsRoundTrip: the reply is the JSON of []EndpointInfo with the
// field names the agent has always sent.
func TestEndpointsRoundTrip(t *testing.T) {
	eps := []remoting.EndpointInfo{
		{Name: "backup", Type: "runas", RunAs: "svc-backup"},
		{Name: "default", Type: "default", Allowed: true},
		{Name: "dns-ops", Type: "jea", Allowed: true, RunAs: "hop-dns", Commands: []string{"/usr/sbin/rndc reload|status [NAME]"}},
	}
	b, err := remoting.EncodeEndpoints(eps)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"name":"backup","type":"runas","allowed":false,"run_as":"svc-backup"},` +
		`{"name":"default","type":"default","allowed":true},` +
		`{"name":"dns-ops","type":"jea","allowed":true,"run_as":"hop-dns","commands":["/usr/sbin/rndc reload|status [NAME]"]}]`
	if string(b) != want {
		t.Errorf("EncodeEndpoints = %s\nwant %s", b, want)
	}
	got, err := remoting.DecodeEndpoints(b)
	if err != nil || !reflect.DeepEqual(got, eps) {
		t.Errorf("DecodeEndpoints(EncodeEndpoints(eps)) = %+v, %v", got, err)
	}
	if b, err := remoting.EncodeEndpoints([]remoting.EndpointInfo{}); err != nil || string(b) != "[]" {
		t.Errorf("EncodeEndpoints(empty) = %s, %v", b, err)
	}
}

func TestDecodeEndpoints(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		name string
	}{
		{`[]`, true, ""},
		{`[{"name":"a\u001b[31mb","type":"default","allowed":true}]`, true, "a[31mb"},
		{`[{"name":"x","future_field":1}]`, true, "x"},
		{`[{"type":"default"}]`, false, ""},
		{`[{"name":"\u0007\b","type":"default"}]`, false, ""}, // no name once printable
		{`{"name":"x"}`, false, ""},
		{`[{"name":"x","commands":` + `[` + strings.Repeat(`"c",`, remoting.MaxCommands) + `"c"]}]`, false, ""},
		{`[` + strings.Repeat(`{"name":"x"},`, remoting.MaxEndpoints) + `{"name":"x"}]`, false, ""},
		{`["` + strings.Repeat("x", remoting.MaxEndpointsReply) + `"]`, false, ""},
		{`not json`, false, ""},
	} {
		eps, err := remoting.DecodeEndpoints([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("DecodeEndpoints(%.40q) = %v", tc.in, err)
			continue
		}
		if tc.name != "" && eps[0].Name != tc.name {
			t.Errorf("name %q, want %q", eps[0].Name, tc.name)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 100, "plain"},
		{"a\tb", 100, "a b"},
		{"\x1b]0;owned\x07\r\nok", 100, "]0;ownedok"},
		{"bad\xffutf8", 100, "badutf8"},
		{"ééé", 5, "éé"}, // cut at a character boundary, not inside é
		{"abc", 0, ""},
	} {
		if got := remoting.Printable(tc.in, tc.max); got != tc.want {
			t.Errorf("Printable(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestSignalName(t *testing.T) {
	if got := remoting.SignalName(34); got != "SIG34@hop" {
		t.Errorf("SignalName(34) = %q", got)
	}
}

func TestDelegateRequest(t *testing.T) {
	for _, m := range remoting.Modes {
		got, err := remoting.DecodeDelegateRequest(remoting.EncodeDelegateRequest(m))
		if err != nil || got != m {
			t.Errorf("%s: decoded %q, %v", m, got, err)
		}
	}
	for _, b := range [][]byte{nil, remoting.EncodeEndpointRequest("everything"), remoting.EncodeEndpointRequest(""), append(remoting.EncodeDelegateRequest(remoting.ModeNone), 0), {0, 0, 0, 5, 'n', 'o', 'n', 'e'}} {
		if m, err := remoting.DecodeDelegateRequest(b); err == nil {
			t.Errorf("%x decoded to %q", b, m)
		}
	}
	if _, err := remoting.ParseMode("unconstrained"); err == nil || !strings.Contains(err.Error(), "use none, restricted-admin, remote-guard, constrained, forward or credssp") {
		t.Errorf("remoting.ParseMode(unconstrained): %v", err)
	}
}

func TestCredentialRequest(t *testing.T) {
	name, secret, err := remoting.DecodeCredentialRequest(remoting.EncodeCredentialRequest("svc-sql@EXAMPLE.TEST", []byte("Pw-1")))
	if err != nil || name != "svc-sql@EXAMPLE.TEST" || string(secret) != "Pw-1" {
		t.Fatalf("round trip: %q %q %v", name, secret, err)
	}
	for _, b := range [][]byte{
		nil,
		remoting.EncodeCredentialRequest("svc sql", []byte("x")),
		remoting.EncodeCredentialRequest("svc", nil),
		remoting.EncodeCredentialRequest("svc", []byte("a\x00b")),
		remoting.EncodeCredentialRequest("svc", bytes.Repeat([]byte("x"), remoting.MaxCredentialSecret+1)),
		append(remoting.EncodeCredentialRequest("svc", []byte("x")), 0),
		{0, 0, 0, 3, 's', 'v', 'c'},
	} {
		if n, _, err := remoting.DecodeCredentialRequest(b); err == nil {
			t.Errorf("%x decoded (name %q)", b, n)
		}
	}
	if remoting.CredentialCache("svc") != "credential:svc" {
		t.Errorf("CredentialCache: %q", remoting.CredentialCache("svc"))
	}
}

func TestTicketMessages(t *testing.T) {
	var b bytes.Buffer
	q := &remoting.TicketRequest{Target: "cifs/c.example.test@EXAMPLE.TEST", Host: "b.example.test", Session: "s1"}
	if err := remoting.WriteTicketMessage(&b, q); err != nil {
		t.Fatal(err)
	}
	got, err := remoting.ReadTicketRequest(&b)
	if err != nil || !reflect.DeepEqual(got, q) {
		t.Fatalf("request round trip: %+v %v", got, err)
	}
	remoting.WriteTicketMessage(&b, &remoting.TicketReply{Error: "no\x1b[2J"})
	if p, err := remoting.ReadTicketReply(&b); err != nil || p.Error != "no[2J" {
		t.Errorf("reply: %+v %v", p, err)
	}
	for _, bad := range []string{`{"target":"krbtgt"}`, `{"target":"a/b","via":["1","2","3","4","5","6","7","8","9"]}`, `[`} {
		if _, err := remoting.DecodeTicketRequest([]byte(bad)); err == nil {
			t.Errorf("request %s accepted", bad)
		}
	}
	for _, bad := range []string{`{}`, `{"credential":"AAAA","error":"x"}`} {
		if _, err := remoting.DecodeTicketReply([]byte(bad)); err == nil {
			t.Errorf("reply %s accepted", bad)
		}
	}
	// A frame longer than the bound is refused before it is read.
	b.Reset()
	b.Write([]byte{0, 0x10, 0, 1})
	if _, err := remoting.ReadTicketRequest(&b); err == nil {
		t.Error("an oversized frame was read")
	}
}
