// Package crypto implements the Kerberos V5 encryption and checksum
// profiles hop uses: the simplified profile of RFC 3961 (§5) with AES in
// CBC-CTS mode and HMAC-SHA1 (RFC 3962: aes128-cts-hmac-sha1-96, etype 17,
// and aes256-cts-hmac-sha1-96, etype 18), AES with HMAC-SHA2 (RFC 8009:
// aes128-cts-hmac-sha256-128, etype 19, and aes256-cts-hmac-sha384-192,
// etype 20) and Microsoft's RC4-HMAC (RFC 4757: rc4-hmac, etype 23, with the
// HMAC-MD5 checksum, type -138, that MS-PAC signatures use).
//
// A Key holds the material of one encryption type. It derives the
// per-usage keys of RFC 3961 §5.3 (Kc, Ke, Ki; RFC 8009 §5 for the SHA-2
// types, the usage key K1 of RFC 4757 §4 for RC4) the first time a usage is
// used and keeps them, with the expanded AES key schedule and the HMAC pad
// states, for the life of the Key, so a long-lived key (a krbtgt key, a
// service key) costs only the cipher and the MAC per message. A Key is
// immutable once made and safe for concurrent use by many goroutines.
//
// Encrypt draws its confounder (RFC 3961 §5.3) from the io.Reader it is
// given, so tests can fix it; Decrypt answers ErrIntegrity, and nothing
// else, for any ciphertext it rejects (too short, bad MAC), so that a peer
// cannot tell one failure from another.
//
// String-to-key follows RFC 3962 §4 (PBKDF2-HMAC-SHA1, then DK with
// "kerberos"), RFC 8009 §4 (PBKDF2-HMAC-SHA256/384 over the enctype name,
// then the SP 800-108 KDF) and RFC 4757 §3 (MD4 of the UTF-16LE password).
// Iteration counts received from a KDC are bounded (RFC 3962 §4 allows a
// client to refuse large counts).
//
// RC4 keys its messages with Microsoft's message type T rather than the
// usage (RFC 4757 §4): usage 3 (the AS-REP part) becomes 8 and usage 23
// becomes 13; per the RFC's erratum usage 9 stays 9, as MIT krb5, Samba
// and impacket have it. The HMAC-MD5 checksum maps usages the same way.
//
// Beyond RFC 3961's encryption and checksum operations, the package
// provides the pseudo-random function of each type (RFC 3961 §5.3,
// RFC 8009 §5; HMAC-SHA1 for RC4 as MIT krb5 does) and KRB-FX-CF2 of
// RFC 6113 §5.1, which FAST armor keys are made with.
package crypto
