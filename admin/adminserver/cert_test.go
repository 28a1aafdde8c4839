package adminserver

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hop/admin"
)

func TestPinnedTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	pair, missing, err := LoadOrCreateCert(certFile, keyFile, []string{"kdc.example.test", "127.0.0.1"}, time.Now())
	if err != nil || len(missing) != 0 {
		t.Fatal(err, missing)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	// A second load for another name re-issues the certificate with the
	// same key: the new name verifies and the pin stays.
	again, missing, err := LoadOrCreateCert(certFile, keyFile, []string{"kdc.example.test", "other.example.test"}, time.Now())
	if err != nil || len(missing) != 0 {
		t.Fatal(err, missing)
	}
	if admin.Pin(again.Leaf) != admin.Pin(pair.Leaf) {
		t.Fatal("reloading changed the key")
	}
	for _, h := range []string{"kdc.example.test", "other.example.test", "127.0.0.1"} {
		if err := again.Leaf.VerifyHostname(h); err != nil {
			t.Errorf("the re-issued certificate: %v", err)
		}
	}
	third, _, err := LoadOrCreateCert(certFile, keyFile, []string{"other.example.test"}, time.Now())
	if err != nil || !third.Leaf.Equal(again.Leaf) {
		t.Fatal("a load that needs no new name re-issued the certificate", err)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
	srv.StartTLS()
	defer srv.Close()

	get := func(pin string) error {
		cfg, err := admin.PinnedTLSConfig(pin)
		if err != nil {
			return err
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(admin.Pin(pair.Leaf)); err != nil {
		t.Fatalf("the pinned key was refused: %v", err)
	}
	// The pin is computed independently here from the PEM on disk.
	b, _ := os.ReadFile(certFile)
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || admin.Pin(cert) != admin.Pin(pair.Leaf) {
		t.Fatal("pin of the file differs", err)
	}
	other, _, err := GenerateCert([]string{"kdc.example.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	blk, _ = pem.Decode(other)
	oc, _ := x509.ParseCertificate(blk.Bytes)
	if err := get(admin.Pin(oc)); err == nil || !strings.Contains(err.Error(), "not the pinned one") {
		t.Fatalf("another key was accepted: %v", err)
	}
	for _, bad := range []string{"", "sha256//", "sha256//!!!", "md5//AAAA", "sha256//" + strings.Repeat("A", 40)} {
		if _, err := admin.PinnedTLSConfig(bad); err == nil {
			t.Errorf("pin %q accepted", bad)
		}
	}
}

func TestLoadOrCreateCertRefusesHalfAPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	if err := os.WriteFile(certFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateCert(certFile, keyFile, []string{"a"}, time.Now()); err == nil || !strings.Contains(err.Error(), "only one of") {
		t.Fatalf("got %v", err)
	}
}
