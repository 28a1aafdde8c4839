package adminserver

import (
	"net/http"
	"strings"
	"testing"

	"hop/admin"
)

// FuzzDecode feeds request bodies to the strict JSON decoding every
// endpoint uses: it must never panic, and what it accepts must be one JSON
// object of the endpoint's shape.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"description":"web","allowed_to_act_add":["b$"],"max_ticket_life":"10h"}`,
		`{"kind":"computer","name":"b.example.test"}`,
		`{"old":"a","new":"b"}`,
		`{"host":"b.example.test","ssh_host_keys":["ssh-ed25519 AAAA"],"token":"hop-join-x"}`,
		`{"managed_by":null}`, `[]`, `{"description":1}`, `{}{}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&admin.AccountChange{}, &admin.NewAccount{}, &admin.PasswordChange{}, &admin.JoinRequest{}, &admin.PolicyChange{}, &admin.JoinTokenRequest{}} {
			r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
			err := decode(r, v)
			if err == nil && !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
				t.Fatalf("accepted a body that is not an object: %q", body)
			}
			if err != nil && toError(err).Status != 400 && toError(err).Status != 413 {
				t.Fatalf("decode error %v has status %d", err, toError(err).Status)
			}
		}
	})
}
