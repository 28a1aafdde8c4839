package adminserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"hop/internal/atomicfile"
)

// The admin server's TLS certificate is self-signed: clients trust it by
// its public key's pin (admin.Pin), which the client configuration
// carries.

// CertValidity is how long a generated certificate is valid.
const CertValidity = 10 * 365 * 24 * time.Hour

// GenerateCert makes a self-signed ECDSA P-256 certificate for hosts (DNS
// names or IP addresses) and returns it and its private key in PEM.
func GenerateCert(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("adminserver: a certificate needs at least one host name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("adminserver: generating the TLS key: %w", err)
	}
	certPEM, err = selfSigned(key, hosts, now)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("adminserver: %w", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// selfSigned makes a self-signed certificate of key for hosts (DNS names
// or IP addresses), in PEM.
func selfSigned(key *ecdsa.PrivateKey, hosts []string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("adminserver: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"hop admin server"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("adminserver: creating the certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// LoadOrCreateCert loads the certificate and key in certFile and keyFile,
// creating them (key 0600) for hosts when neither exists. A certificate
// that lacks one of hosts is issued again with the same key for its names
// and the missing ones, so that clients checking names accept it and the
// pin of the key stays valid; the missing names are returned only when
// that cannot be done (a key hop did not make).
func LoadOrCreateCert(certFile, keyFile string, hosts []string, now time.Time) (tls.Certificate, []string, error) {
	_, errC := os.Stat(certFile)
	_, errK := os.Stat(keyFile)
	switch {
	case errors.Is(errC, os.ErrNotExist) && errors.Is(errK, os.ErrNotExist):
		c, k, err := GenerateCert(hosts, now)
		if err != nil {
			return tls.Certificate{}, nil, err
		}
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("adminserver: %w", err)
		}
		if err := writeNew(keyFile, k, 0o600); err != nil {
			return tls.Certificate{}, nil, err
		}
		if err := writeNew(certFile, c, 0o644); err != nil {
			return tls.Certificate{}, nil, err
		}
	case errC != nil && !errors.Is(errC, os.ErrNotExist):
		return tls.Certificate{}, nil, fmt.Errorf("adminserver: %w", errC)
	case errors.Is(errC, os.ErrNotExist) || errors.Is(errK, os.ErrNotExist):
		return tls.Certificate{}, nil, fmt.Errorf("adminserver: only one of %s and %s exists; remove the other to have a new pair generated", certFile, keyFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("adminserver: loading the TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("adminserver: %w", err)
	}
	pair.Leaf = leaf
	var missing []string
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 || len(hosts) == 0 {
		return pair, nil, nil
	}
	// Re-issue the certificate for the old names and the missing ones with
	// the same key: the pin, which names the key, stays valid.
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return pair, missing, nil
	}
	names := append(append([]string(nil), leaf.DNSNames...), missing...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	certPEM, err := selfSigned(key, names, now)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	blk, _ := pem.Decode(certPEM)
	leaf, err = x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("adminserver: %w", err)
	}
	if err := replaceFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key, Leaf: leaf}, nil, nil
}

// replaceFile writes b to path atomically.
func replaceFile(path string, b []byte, mode os.FileMode) error {
	if err := atomicfile.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("adminserver: writing %s: %w", path, err)
	}
	return nil
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	if err := atomicfile.WriteNew(path, b, mode); err != nil {
		return fmt.Errorf("adminserver: writing %s: %w", path, err)
	}
	return nil
}
