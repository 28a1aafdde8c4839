package kcm

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
)

// start runs srv.ListenAndServe on a socket in a temporary folder and
// returns a client connected to it, the socket's path and the function that
// stops the server and returns what ListenAndServe returned.
func start(t *testing.T, srv *Server) (*Client, string, func() error) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "kcm.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, sock) }()
	for i := 0; ; i++ {
		c, err := Dial(t.Context(), sock)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c, sock, func() error { cancel(); return <-done }
		}
		if i > 500 {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// serve is start with the server stopped when the test ends.
func serve(t *testing.T, srv *Server) *Client {
	t.Helper()
	c, _, stop := start(t, srv)
	t.Cleanup(func() {
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("ListenAndServe returned %v, want context.Canceled", err)
		}
	})
	return c
}

func TestServerCacheLifecycle(t *testing.T) {
	store := &Mem{}
	c := serve(t, &Server{Store: store})
	ctx := t.Context()
	name, err := c.DefaultCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(os.Getuid()); name != want {
		t.Errorf("default cache %q, want the uid %q", name, want)
	}
	if _, err := c.Principal(ctx, name); !errors.Is(err, ErrNoCache) {
		t.Fatalf("Principal of a missing cache: %v, want ErrNoCache", err)
	}
	if err := c.Store(ctx, name, &ccache.Credential{Client: alice, Server: tgs}); !errors.Is(err, ErrNoCache) {
		t.Fatalf("Store into a missing cache: %v, want ErrNoCache", err)
	}
	if err := c.Initialize(ctx, name, alice); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Principal(ctx, name); err != nil || p.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf("Principal = %v, %v", p, err)
	}
	tgt, st := testCred(tgs, 1), testCred(hostB, 2)
	for _, cr := range []*ccache.Credential{&tgt, &st} {
		if err := c.Store(ctx, name, cr); err != nil {
			t.Fatal(err)
		}
	}
	creds, err := c.Credentials(ctx, name)
	if err != nil || len(creds) != 2 || creds[0].Server.String() != tgs.String() || !bytes.Equal(creds[1].Key, st.Key) {
		t.Fatalf("Credentials = %v, %v", creds, err)
	}

	// The UUIDs stay the same while the credentials are there.
	list := func() []UUID {
		rep, err := c.Do(ctx, &Request{Op: OpGetCredUUIDList, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return rep.UUIDs
	}
	uuids := list()
	if len(uuids) != 2 || uuids[0] == uuids[1] {
		t.Fatalf("UUIDs %v", uuids)
	}
	if again := list(); again[0] != uuids[0] || again[1] != uuids[1] {
		t.Errorf("UUIDs changed: %v then %v", uuids, again)
	}
	rep, err := c.Do(ctx, &Request{Op: OpGetCredByUUID, Name: name, UUID: uuids[1]})
	if err != nil || rep.Credential.Server.String() != hostB.String() {
		t.Fatalf("GET_CRED_BY_UUID = %v, %v", rep, err)
	}

	// RETRIEVE with MIT's flags: times and the session key's type.
	m := &Match{Client: &alice, Server: &hostB, EndTime: when.Add(time.Hour)}
	got, err := c.Retrieve(ctx, name, GCCached|TCMatchTimes, m)
	if err != nil || !bytes.Equal(got.Key, st.Key) {
		t.Fatalf("Retrieve = %v, %v", got, err)
	}
	m.EndTime = when.Add(11 * time.Hour) // after the ticket ends
	if _, err := c.Retrieve(ctx, name, GCCached|TCMatchTimes, m); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retrieve of an expired ticket: %v, want ErrNotFound", err)
	}

	// REMOVE_CRED by server name only.
	other := krb5.Principal{Name: hostB.Name, Realm: "OTHER.TEST"}
	if _, err := c.Do(ctx, &Request{Op: OpRemoveCred, Name: name, Flags: TCMatchSrvNameOnly, Match: &Match{Server: &other}}); err != nil {
		t.Fatal(err)
	}
	if creds, _ := c.Credentials(ctx, name); len(creds) != 1 {
		t.Errorf("after REMOVE_CRED %d credentials, want 1", len(creds))
	}

	// KDC offset, cache list, default cache.
	if _, err := c.Do(ctx, &Request{Op: OpSetKDCOffset, Name: name, Offset: -5}); err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Do(ctx, &Request{Op: OpGetKDCOffset, Name: name}); err != nil || rep.Offset != -5 {
		t.Errorf("GET_KDC_OFFSET = %v, %v", rep, err)
	}
	rep, err = c.Do(ctx, &Request{Op: OpGetCacheUUIDList})
	if err != nil || len(rep.UUIDs) != 1 {
		t.Fatalf("GET_CACHE_UUID_LIST = %v, %v", rep, err)
	}
	if r, err := c.Do(ctx, &Request{Op: OpGetCacheByUUID, UUID: rep.UUIDs[0]}); err != nil || r.Name != name {
		t.Errorf("GET_CACHE_BY_UUID = %v, %v", r, err)
	}
	if _, err := c.Do(ctx, &Request{Op: OpGetCacheByUUID, UUID: UUID{1}}); !errors.Is(err, ErrEnd) {
		t.Errorf("GET_CACHE_BY_UUID of an unknown UUID: %v, want ErrEnd", err)
	}
	if _, err := c.Do(ctx, &Request{Op: OpSetDefaultCache, Name: "other"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.DefaultCache(ctx); n != "other" {
		t.Errorf("default cache %q after SET_DEFAULT_CACHE other", n)
	}

	// DESTROY zeroes the keys the store held.
	var held []byte
	store.Update(ctx, name, func(c *Cache) (*Cache, error) {
		held = c.Entries[0].Credential.Key
		return c, nil
	})
	if err := c.Destroy(ctx, name); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(held, make([]byte, len(held))) {
		t.Errorf("the destroyed cache's key is still %x", held)
	}
	if _, err := c.Principal(ctx, name); !errors.Is(err, ErrNoCache) {
		t.Errorf("Principal after DESTROY: %v", err)
	}
}

// TestServerEmptyNameIsTheDefault: Heimdal 7's client sends the cache name
// "" for KRB5CCNAME=KCM:; the server reads and writes the caller's default
// cache for it.
func TestServerEmptyNameIsTheDefault(t *testing.T) {
	store := &Mem{}
	c := serve(t, &Server{Store: store})
	ctx := t.Context()
	uid := uint32(os.Getuid())
	if err := store.SetDefault(ctx, uid, "named"); err != nil {
		t.Fatal(err)
	}
	if err := c.Initialize(ctx, "", alice); err != nil {
		t.Fatal(err)
	}
	tgt := testCred(tgs, 1)
	if err := c.Store(ctx, "", &tgt); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Principal(ctx, "named"); err != nil || p.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf("the default cache's principal = %v, %v: INITIALIZE \"\" went elsewhere", p, err)
	}
	creds, err := c.Credentials(ctx, "named")
	if err != nil || len(creds) != 1 || creds[0].Server.String() != tgs.String() {
		t.Fatalf("the default cache holds %v, %v", creds, err)
	}
	if p, err := c.Principal(ctx, ""); err != nil || p.String() != "alice@EXAMPLE.TEST" {
		t.Fatalf(`Principal("") = %v, %v`, p, err)
	}
	if ids, err := store.Caches(ctx); err != nil || len(ids) != 1 || ids[0].Name != "named" {
		t.Errorf("caches %v, %v: want only the default one", ids, err)
	}
}

func TestServerUnsupported(t *testing.T) {
	c := serve(t, &Server{})
	for _, op := range []Op{OpSetFlags, OpChown, OpGetTicket, 28, 999} {
		if _, err := c.Do(t.Context(), &Request{Op: op}); !errors.Is(err, ErrNotSupp) {
			t.Errorf("%s: %v, want ErrNotSupp", op, err)
		}
	}
	if _, err := c.Do(t.Context(), &Request{Op: OpNoop}); err != nil {
		t.Errorf("NOOP: %v", err)
	}
}

func TestServerMalformedRequest(t *testing.T) {
	c := serve(t, &Server{})
	// A name without its NUL byte: the server answers KRB5_CC_FORMAT and
	// keeps the connection.
	if err := writeRequest(c.conn, []byte{2, 0, 0, 8, 'x'}); err != nil {
		t.Fatal(err)
	}
	b, err := readReply(c.conn)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := DecodeReply(OpNoop, b); err != nil || rep.Status != ErrFormat {
		t.Errorf("reply %v, %v; want ErrFormat", rep, err)
	}
	if _, err := c.DefaultCache(t.Context()); err != nil {
		t.Errorf("the connection did not survive a malformed request: %v", err)
	}
	// A length beyond the bound closes the connection.
	c.conn.Write([]byte{0xff, 0xff, 0xff, 0xff})
	if _, err := readReply(c.conn); err == nil {
		t.Error("the server answered a 4 GiB request")
	}
}

func TestServerRefusesPeer(t *testing.T) {
	asked := make(chan uint32, 1)
	c := serve(t, &Server{Allow: func(uid uint32) bool { asked <- uid; return false }})
	if _, err := c.DefaultCache(t.Context()); err == nil {
		t.Fatal("a refused peer got a reply")
	}
	if uid := <-asked; uid != uint32(os.Getuid()) {
		t.Errorf("Allow was asked about uid %d, want %d", uid, os.Getuid())
	}
}

func TestServerFetch(t *testing.T) {
	st := testCred(hostB, 3)
	var mu sync.Mutex
	var calls []string
	called := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), calls...)
	}
	c := serve(t, &Server{Fetch: func(ctx context.Context, cache string, client, server krb5.Principal) (*ccache.Credential, error) {
		mu.Lock()
		calls = append(calls, cache+" "+client.String()+" "+server.String())
		mu.Unlock()
		switch server.String() {
		case hostB.String():
			cr := st
			return &cr, nil
		case tgs.String():
			return nil, errors.New("no TGT in this mode")
		}
		return nil, nil
	}})
	ctx := t.Context()
	m := &Match{Client: &alice, Server: &hostB}
	// No cache: no fetch.
	if _, err := c.Retrieve(ctx, "1", GCCached, m); !errors.Is(err, ErrNoCache) {
		t.Fatalf("Retrieve from a missing cache: %v", err)
	}
	if err := c.Initialize(ctx, "1", alice); err != nil {
		t.Fatal(err)
	}
	got, err := c.Retrieve(ctx, "1", GCCached, m)
	if err != nil || !bytes.Equal(got.Key, st.Key) {
		t.Fatalf("Retrieve = %v, %v", got, err)
	}
	// The second time the cache has it.
	if _, err := c.Retrieve(ctx, "1", GCCached, m); err != nil {
		t.Fatal(err)
	}
	if calls := called(); len(calls) != 1 || calls[0] != "1 alice@EXAMPLE.TEST host/b.example.test@EXAMPLE.TEST" {
		t.Errorf("Fetch calls %q", calls)
	}
	if creds, _ := c.Credentials(ctx, "1"); len(creds) != 1 {
		t.Errorf("the fetched ticket was not stored: %d credentials", len(creds))
	}
	// A ticket that must last longer than the cached one is fetched again
	// and replaces it: the cache does not grow.
	later := &Match{Client: &alice, Server: &hostB, EndTime: st.EndTime.Add(time.Hour)}
	if _, err := c.Retrieve(ctx, "1", GCCached|TCMatchTimes, later); err != nil {
		t.Fatal(err)
	}
	if creds, _ := c.Credentials(ctx, "1"); len(creds) != 1 || len(called()) != 2 {
		t.Errorf("after a second fetch: %d credentials, %d fetches", len(creds), len(called()))
	}
	mu.Lock()
	calls = calls[:1]
	mu.Unlock()
	// A refusal and a configuration entry are "not found".
	conf := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, ccache.ConfigName, "fast_avail"), Realm: ccache.ConfigRealm}
	for _, server := range []krb5.Principal{tgs, conf} {
		if _, err := c.Retrieve(ctx, "1", GCCached, &Match{Server: &server}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Retrieve %s: %v, want ErrNotFound", server, err)
		}
	}
	if calls := called(); len(calls) != 2 {
		t.Errorf("Fetch calls %q, want a second one for the TGT and none for the configuration entry", calls)
	}
}

func TestServerBounds(t *testing.T) {
	c := serve(t, &Server{MaxCredentials: 2, MaxCaches: 1})
	ctx := t.Context()
	if err := c.Initialize(ctx, "a", alice); err != nil {
		t.Fatal(err)
	}
	if err := c.Initialize(ctx, "b", alice); !errors.Is(err, ErrNoMem) {
		t.Errorf("a second cache: %v, want ErrNoMem", err)
	}
	cr := testCred(tgs, 1)
	for i := range 3 {
		err := c.Store(ctx, "a", &cr)
		if (i < 2) != (err == nil) {
			t.Errorf("store %d: %v", i, err)
		}
	}
}

func TestServerStops(t *testing.T) {
	c, sock, stop := start(t, &Server{})
	if _, err := c.DefaultCache(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ListenAndServe = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop with an open connection")
	}
	if _, err := c.DefaultCache(t.Context()); err == nil {
		t.Error("the connection still answers after the server stopped")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is still there: %v", err)
	}
}

func TestMatch(t *testing.T) {
	c := testCred(hostB, 1)
	other := krb5.Principal{Name: hostB.Name, Realm: "OTHER.TEST"}
	bob := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "bob"), Realm: "EXAMPLE.TEST"}
	for _, tc := range []struct {
		name  string
		m     Match
		flags uint32
		want  bool
	}{
		{"server", Match{Server: &hostB}, 0, true},
		{"other client", Match{Client: &bob, Server: &hostB}, 0, false},
		{"other realm", Match{Server: &other}, 0, false},
		{"other realm, name only", Match{Server: &other}, TCMatchSrvNameOnly, true},
		{"key type", Match{Server: &hostB, KeyType: krb5.AES128CTSHMACSHA196}, TCMatchKeyType, false},
		{"key type ignored", Match{Server: &hostB, KeyType: krb5.AES128CTSHMACSHA196}, 0, true},
		{"flags subset", Match{Server: &hostB, Flags: krb5.TktForwardable}, TCMatchFlags, true},
		{"flags exact", Match{Server: &hostB, Flags: krb5.TktForwardable}, TCMatchFlagsExact, false},
		{"lasts long enough", Match{Server: &hostB, EndTime: when.Add(time.Hour)}, TCMatchTimes, true},
		{"ends too early", Match{Server: &hostB, EndTime: when.Add(11 * time.Hour)}, TCMatchTimes, false},
		{"is_skey", Match{Server: &hostB, IsSKey: true}, TCMatchIsSKey, false},
		{"second ticket", Match{Server: &hostB, SecondTicket: []byte{1}}, TCMatch2ndTkt, false},
		{"authdata", Match{Server: &hostB, AuthData: c.AuthData}, TCMatchAuthData, true},
	} {
		if got := tc.m.Matches(tc.flags, &c); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestClientFallsBackToUUIDs checks Client.Credentials against a server
// that answers GET_CRED_LIST as Heimdal's kcm does (KRB5_FCC_INTERNAL):
// the client walks the UUID list instead, skipping a credential removed
// meanwhile, as MIT's client does.
func TestClientFallsBackToUUIDs(t *testing.T) {
	cliEnd, srvEnd := net.Pipe()
	defer srvEnd.Close()
	c := &Client{conn: cliEnd}
	defer c.Close()
	cred := testCred(tgs, 4)
	var seen []Op
	go func() {
		for {
			b, err := readFrame(srvEnd, MaxRequestSize)
			if err != nil {
				return
			}
			req, err := DecodeRequest(b)
			if err != nil {
				return
			}
			seen = append(seen, req.Op)
			rep := &Reply{}
			switch {
			case req.Op == OpGetCredList:
				rep.Status = ErrInternal
			case req.Op == OpGetCredUUIDList:
				rep.UUIDs = []UUID{{1}, {2}}
			case req.Op == OpGetCredByUUID && req.UUID == UUID{1}:
				rep.Status = ErrEnd
			case req.Op == OpGetCredByUUID:
				rep.Credential = &cred
			}
			out, _ := rep.Marshal(req.Op)
			if writeReply(srvEnd, out) != nil {
				return
			}
		}
	}()
	creds, err := c.Credentials(t.Context(), "x")
	if err != nil || len(creds) != 1 || !bytes.Equal(creds[0].Key, cred.Key) {
		t.Fatalf("Credentials = %v, %v", creds, err)
	}
	want := []Op{OpGetCredList, OpGetCredUUIDList, OpGetCredByUUID, OpGetCredByUUID}
	if len(seen) != len(want) {
		t.Fatalf("requests %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("requests %v, want %v", seen, want)
		}
	}
}

func TestMemZeroes(t *testing.T) {
	m := &Mem{}
	ctx := t.Context()
	cr := testCred(tgs, 5)
	key := cr.Key
	put := func(c *Cache) {
		if err := m.Update(ctx, "x", func(*Cache) (*Cache, error) { return c, nil }); err != nil {
			t.Fatal(err)
		}
	}
	put(&Cache{Principal: alice, Entries: []Entry{{Credential: cr}}})
	// INITIALIZE replaces the cache: the old credential's key is zeroed.
	put(&Cache{Principal: alice})
	if !bytes.Equal(key, make([]byte, len(key))) {
		t.Errorf("the replaced credential's key is %x", key)
	}
	cr2 := testCred(tgs, 6)
	put(&Cache{Principal: alice, Entries: []Entry{{Credential: cr2}}})
	// An error of fn changes nothing.
	boom := errors.New("boom")
	if err := m.Update(ctx, "x", func(c *Cache) (*Cache, error) { c.Entries = nil; return nil, boom }); err != boom {
		t.Fatalf("Update = %v", err)
	}
	if err := m.Update(ctx, "x", func(c *Cache) (*Cache, error) {
		if len(c.Entries) != 1 || c.Entries[0].UUID == (UUID{}) {
			t.Errorf("entries after a failed update: %v", c.Entries)
		}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if !bytes.Equal(cr2.Key, make([]byte, len(cr2.Key))) {
		t.Errorf("Close left the key %x", cr2.Key)
	}
}
