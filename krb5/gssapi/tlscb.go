package gssapi

import (
	"crypto"
	"crypto/x509"
)

// TLSServerEndPoint returns the channel bindings of a TLS connection to a
// server with certificate cert, as RFC 5929 §4 defines
// "tls-server-end-point": the prefix, then the hash of the certificate's
// DER with the hash function of its signature algorithm, SHA-256 in place
// of MD5 and SHA-1 (§4.1). Windows' Extended Protection binds HTTP
// Negotiate to TLS this way; hop's admin client and server do.
func TLSServerEndPoint(cert *x509.Certificate) *ChannelBindings {
	h := crypto.SHA256
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	}
	d := h.New()
	d.Write(cert.Raw)
	return &ChannelBindings{ApplicationData: d.Sum([]byte("tls-server-end-point:"))}
}
