package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The admin server's TLS certificate is self-signed: clients trust it by
// its public key's pin, which the client configuration carries (hop
// client-config writes it), in curl's --pinnedpubkey format.

// PinPrefix starts a pin: "sha256//" and the base64 SHA-256 of the
// certificate's SubjectPublicKeyInfo.
const PinPrefix = "sha256//"

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
