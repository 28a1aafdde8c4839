package gssapi

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestTLSServerEndPoint: RFC 5929 §4.1: the certificate's signature hash,
// SHA-256 for SHA-1 (and MD5) signatures, after the prefix.
func TestTLSServerEndPoint(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alg  x509.SignatureAlgorithm
		hash crypto.Hash
	}{
		{x509.ECDSAWithSHA256, crypto.SHA256},
		{x509.ECDSAWithSHA384, crypto.SHA384},
		{x509.ECDSAWithSHA512, crypto.SHA512},
	} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin.example.test"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: c.alg}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		h := c.hash.New()
		h.Write(der)
		want := "tls-server-end-point:" + string(h.Sum(nil))
		if got := TLSServerEndPoint(cert); string(got.ApplicationData) != want || got.InitiatorAddrType != 0 || got.AcceptorAddress != nil {
			t.Errorf("%v: %q, want %q", c.alg, got.ApplicationData, want)
		}
	}
}
