package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hop/internal/atomicfile"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The admin server's TLS certificate is self-signed: clients trust it by
// its public key's pin, which the client configuration carries (hop
// client-config writes it), in curl's --pinnedpubkey format.

// PinPrefix starts a pin: "sha256//" and the base64 SHA-256 of the
// certificate's SubjectPublicKeyInfo.
const PinPrefix = "sha256//"

// CertValidity is how long a generated certificate is valid.
const CertValidity = 10 * 365 * 24 * time.Hour

// GenerateCert makes a self-signed ECDSA P-256 certificate for hosts (DNS
// names or IP addresses) and returns it and its private key in PEM.
func GenerateCert(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("admin: a certificate needs at least one host name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("admin: generating the TLS key: %w", err)
	}
	certPEM, err = selfSigned(key, hosts, now)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("admin: %w", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// selfSigned makes a self-signed certificate of key for hosts (DNS names
// or IP addresses), in PEM.
func selfSigned(key *ecdsa.PrivateKey, hosts []string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
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
		return nil, fmt.Errorf("admin: creating the certificate: %w", err)
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
			return tls.Certificate{}, nil, fmt.Errorf("admin: %w", err)
		}
		if err := writeNew(keyFile, k, 0o600); err != nil {
			return tls.Certificate{}, nil, err
		}
		if err := writeNew(certFile, c, 0o644); err != nil {
			return tls.Certificate{}, nil, err
		}
	case errC != nil && !errors.Is(errC, os.ErrNotExist):
		return tls.Certificate{}, nil, fmt.Errorf("admin: %w", errC)
	case errors.Is(errC, os.ErrNotExist) || errors.Is(errK, os.ErrNotExist):
		return tls.Certificate{}, nil, fmt.Errorf("admin: only one of %s and %s exists; remove the other to have a new pair generated", certFile, keyFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("admin: loading the TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("admin: %w", err)
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
		return tls.Certificate{}, nil, fmt.Errorf("admin: %w", err)
	}
	if err := replaceFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key, Leaf: leaf}, nil, nil
}

// replaceFile writes b to path atomically.
func replaceFile(path string, b []byte, mode os.FileMode) error {
	if err := atomicfile.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("admin: writing %s: %w", path, err)
	}
	return nil
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	if err := atomicfile.WriteNew(path, b, mode); err != nil {
		return fmt.Errorf("admin: writing %s: %w", path, err)
	}
	return nil
}

// Pin returns cert's public key pin, "sha256//" + base64(SHA-256(SPKI)).
func Pin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return PinPrefix + base64.StdEncoding.EncodeToString(sum[:])
}

// PinnedTLSConfig returns a client TLS configuration that accepts exactly
// the server whose leaf certificate's public key has pin, whatever its
// issuer or names: the pin is the trust anchor.
func PinnedTLSConfig(pin string) (*tls.Config, error) {
	want, err := parsePin(pin)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not verified against a CA: VerifyConnection below
		// accepts only the pinned key.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the admin server sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
			if subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return fmt.Errorf("the admin server's TLS key is not the pinned one (it has %s; the client configuration pins %s): if the server's certificate was replaced on purpose, update admin_tls_pin in krb5.conf's [hop] section (hop client-config prints it)", Pin(leaf), pin)
			}
			if now := time.Now(); now.After(leaf.NotAfter) {
				return fmt.Errorf("the admin server's certificate expired on %s", leaf.NotAfter.Format(time.RFC3339))
			}
			return nil
		},
	}, nil
}

func parsePin(pin string) ([]byte, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(pin), PinPrefix)
	if !ok {
		return nil, fmt.Errorf("admin: %q is not a pin: expected %sBASE64 (as hop client-config prints)", pin, PinPrefix)
	}
	sum, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("admin: %q is not a pin: after %s comes the base64 of a 32-byte SHA-256", pin, PinPrefix)
	}
	return sum, nil
}
