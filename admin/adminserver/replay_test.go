package adminserver_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"hop/admin/adminserver"
	"hop/internal/testrealm"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/spnego"
)

// aliceTickets starts a realm with alice, logs her on, and returns the
// realm and her service tickets' source.
func aliceTickets(t *testing.T) (*testrealm.Lab, func(context.Context, krb5.PrincipalName) (*client.Credential, error)) {
	t.Helper()
	l := testrealm.Start(t)
	l.AddUser(t, "alice", "Alice-Pass-1")
	kc := client.Dial(l.Addr, client.UDPThenTCP, 5*time.Second)
	t.Cleanup(func() { kc.Close() })
	tgt, _, err := kc.Login(context.Background(), &client.Request{Client: krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "alice"), Realm: testrealm.Realm}}, "Alice-Pass-1")
	if err != nil {
		t.Fatal(err)
	}
	return l, func(ctx context.Context, spn krb5.PrincipalName) (*client.Credential, error) {
		return kc.ServiceTicket(ctx, tgt, &client.Request{Service: spn})
	}
}

// recorder keeps the last Authorization header a request carried.
type recorder struct{ header string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if h := req.Header.Get("Authorization"); h != "" {
		r.header = h
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestReplayAcrossRestart: a captured "Authorization: Negotiate" header
// is refused when sent again, and still after the server restarts with
// the same replay cache file (it was accepted again before, within the
// clock skew).
func TestReplayAcrossRestart(t *testing.T) {
	l, credential := aliceTickets(t)
	path := filepath.Join(t.TempDir(), "admin-replay.cache")
	serve := func() string {
		return l.ServeAdmin(t, &adminserver.HTTPServer{Names: []string{"127.0.0.1"}, ReplayCache: path}).URL
	}
	first := serve()
	rec := &recorder{}
	hc := &http.Client{Transport: &spnego.Transport{Base: rec, Preemptive: true, Credential: credential}}
	resp, err := hc.Get(first + "/v1/accounts/alice")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || rec.header == "" {
		t.Fatalf("alice's request: %d, header %q", resp.StatusCode, rec.header)
	}
	replay := func(url string) int {
		req, _ := http.NewRequest("GET", url+"/v1/accounts/alice", nil)
		req.Header.Set("Authorization", rec.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := replay(first); got != http.StatusUnauthorized {
		t.Errorf("the header replayed: %d, want 401", got)
	}
	if got := replay(serve()); got != http.StatusUnauthorized {
		t.Errorf("the header replayed to a restarted server: %d, want 401", got)
	}
}
