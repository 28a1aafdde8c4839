// Package client is a Kerberos V5 client for the KDC exchanges: the
// Authentication Service exchange with PA-ENC-TIMESTAMP pre-authentication
// (RFC 4120 §3.1, §5.2.7.2) and the Ticket-Granting Service exchange
// (§3.3), over UDP with a fall back to TCP on KRB_ERR_RESPONSE_TOO_BIG or
// over TCP alone (§7.2).
//
// It also speaks Microsoft's Service for User extensions (MS-SFU): a
// request with Request.Impersonate is S4U2Self (PA-FOR-USER, MS-SFU
// §2.2.1, and PA-S4U-X509-USER, §2.2.2, whose echo in the reply it
// verifies), one with Request.Evidence is S4U2Proxy (cname-in-addl-tkt,
// §2.2.3, with PA-PAC-OPTIONS, MS-KILE §2.2.10, for resource-based
// delegation). A refusal is an *Error that carries the NTSTATUS of
// KERB-ERROR-DATA (MS-KILE §2.2.1) when the KDC sent one.
//
// It talks to any RFC 4120 KDC: hop's own, MIT's krb5kdc or Heimdal's kdc.
// hop's load generator (hop bench kdc) and its tests use it; it checks every
// reply the way a careful client does (the nonce, the names, that the
// encrypted part decrypts with the expected key), so that a benchmark counts
// only replies a real client would accept.
package client
