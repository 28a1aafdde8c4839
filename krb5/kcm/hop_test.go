package kcm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestBrokerStatus: a server with Broker answers OpHopBroker with what the
// hook returns for the peer's uid and the query; one without it is not a
// broker, and the client says so.
func TestBrokerStatus(t *testing.T) {
	var got struct {
		uid uint32
		q   BrokerQuery
	}
	want := &BrokerStatus{Host: "b.example.test", Session: "s1", Endpoint: "default", User: "alice@EXAMPLE.TEST", Mode: "none", How: "nothing",
		Target: &BrokerTarget{Name: "host/c.example.test@EXAMPLE.TEST", Explain: "no delegated credential"}}
	c := serve(t, &Server{Broker: func(_ context.Context, uid uint32, q *BrokerQuery) (*BrokerStatus, error) {
		got.uid, got.q = uid, *q
		return want, nil
	}})
	st, err := c.BrokerStatus(t.Context(), "0", "host/c.example.test@EXAMPLE.TEST")
	if err != nil {
		t.Fatal(err)
	}
	if got.uid != uint32(os.Getuid()) || got.q.Cache != "0" || got.q.Target != "host/c.example.test@EXAMPLE.TEST" {
		t.Errorf("the hook saw uid %d, query %+v", got.uid, got.q)
	}
	if st.Mode != "none" || st.Target == nil || st.Target.Explain != "no delegated credential" || st.User != want.User {
		t.Errorf("status %+v", st)
	}

	plain := serve(t, &Server{})
	if _, err := plain.BrokerStatus(t.Context(), "", ""); !errors.Is(err, ErrNotBroker) {
		t.Errorf("a server without Broker: %v, want ErrNotBroker", err)
	}
	failing := serve(t, &Server{Broker: func(context.Context, uint32, *BrokerQuery) (*BrokerStatus, error) {
		return nil, ErrNoCache
	}})
	if _, err := failing.BrokerStatus(t.Context(), "x", ""); !errors.Is(err, ErrNoCache) {
		t.Errorf("a hook's Status: %v, want ErrNoCache", err)
	}
	// Garbage arguments: KRB5_CC_FORMAT, and the connection still serves.
	if _, err := c.Do(t.Context(), &Request{Op: OpHopBroker, Raw: []byte("{")}); !errors.Is(err, ErrFormat) {
		t.Errorf("malformed query: %v, want ErrFormat", err)
	}
	if _, err := c.BrokerStatus(t.Context(), "", ""); err != nil {
		t.Errorf("after a malformed query: %v", err)
	}
}

func brokerSeeds() [][]byte {
	return [][]byte{
		[]byte(`{}`),
		[]byte(`{"cache":"0","target":"cifs/c.example.test@EXAMPLE.TEST"}`),
		[]byte(`{"host":"b.example.test","session":"1","endpoint":"default","user":"alice@EXAMPLE.TEST","mode":"constrained","identity":"alice@EXAMPLE.TEST","how":"S4U2Proxy","credentials":["svc"],"target":{"name":"cifs/c","possible":true,"refused":"KDC_ERR_BADOPTION","explain":"x"}}`),
	}
}

// FuzzDecodeBroker checks that no input makes the OpHopBroker decoders
// panic, and that what they refuse wraps ErrMalformed.
func FuzzDecodeBroker(f *testing.F) {
	for _, b := range brokerSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeBrokerQuery(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("query error %v does not wrap ErrMalformed", err)
		}
		if _, err := DecodeBrokerStatus(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("status error %v does not wrap ErrMalformed", err)
		}
	})
}

// TestBrokerFuzzCorpus keeps testdata/fuzz/FuzzDecodeBroker in step with
// brokerSeeds.
func TestBrokerFuzzCorpus(t *testing.T) {
	files := map[string]string{}
	for i, b := range brokerSeeds() {
		files[filepath.Join("FuzzDecodeBroker", fmt.Sprintf("seed-%02d", i))] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
	}
	checkCorpus(t, files)
}
