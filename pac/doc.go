// Package pac encodes, decodes, signs and verifies the Microsoft Privilege
// Attribute Certificate ([MS-PAC]) that hop's KDC puts in every ticket.
//
// # Layout
//
// A PAC is a PACTYPE header ([MS-PAC] §2.3: buffer count, version 0) followed
// by PAC_INFO_BUFFER entries (§2.4: type, size, 64-bit offset) and the
// buffers themselves, each starting on an 8-byte boundary and padded with
// zeros to the next one. Marshal writes the buffers in ascending order of
// type, as Windows Server 2022 does; Parse accepts any order.
//
// The buffers hop decodes:
//
//   - KERB_VALIDATION_INFO (§2.5, type 1), encoded with NDR ([MS-RPCE]
//     §2.2.6 type serialization version 1: an 8-byte common header, an
//     8-byte private header holding the padded length, then the top-level
//     unique pointer and the structure, with its deferred pointees —
//     RPC_UNICODE_STRING buffers as conformant varying arrays, RPC_SID as a
//     conformant structure, GROUP_MEMBERSHIP and KERB_SID_AND_ATTRIBUTES as
//     conformant arrays — in NDR order, referent IDs 0x00020000, 0x00020004,
//     ... as Windows numbers them);
//   - PAC_CLIENT_INFO (§2.7, type 10): the authentication time as a FILETIME
//     and the client name, its length given in bytes;
//   - S4U_DELEGATION_INFO (§2.9, type 11), NDR-encoded like type 1;
//   - UPN_DNS_INFO (§2.10, type 12): the UPN and DNS domain name, and with
//     the S flag (0x2) the sAMAccountName and SID, each at an offset from the
//     start of the buffer, 8-byte aligned as Windows places them;
//   - PAC_ATTRIBUTES_INFO (§2.14, type 17) and PAC_REQUESTOR (§2.15, type 18);
//   - PAC_SIGNATURE_DATA (§2.8, types 6, 7, 16 and 19): the checksum type,
//     the checksum and an optional RODCIdentifier trailer.
//
// Other buffers (credentials, claims, device information, types hop does not
// know) are kept byte for byte in PAC.Other. Strings are UTF-16LE on the wire
// and never NUL-terminated; times are FILETIMEs (100 ns since 1601), where
// the zero time.Time stands for 0x7FFFFFFFFFFFFFFF, "never", as Active
// Directory writes it.
//
// # Signatures
//
// Sign follows [MS-PAC] §2.8.1-§2.8.5 as a domain controller patched for
// CVE-2022-37967 (November 2022) signs, and as MIT krb5's pac_sign.c does:
//
//  1. the ticket signature (§2.8.3, type 16, KDC key) covers the DER
//     EncTicketPart with the PAC's ad-data replaced by the single byte 0
//     (TicketSigningInput makes that encoding);
//  2. the full PAC checksum (§2.8.5, type 19, KDC key) covers the PAC with
//     the server, KDC and full signature values zeroed — the ticket
//     signature value is included;
//  3. the server signature (§2.8.1, type 6, the key the ticket is encrypted
//     in) covers the PAC with the server and KDC signature values zeroed —
//     the ticket and full checksum values are included;
//  4. the KDC signature (§2.8.2, type 7, krbtgt key) covers the server
//     signature value.
//
// Tickets for the krbtgt service (TGTs and referral tickets) carry neither the
// ticket signature nor the full checksum, as Active Directory and MIT krb5
// (k5_pac_should_have_ticket_signature) issue them: a TGT's PAC is copied by
// the KDC into the service tickets it issues, which get both. Every checksum
// is the key's mandatory keyed checksum (RFC 3961 §4: HMAC-SHA1-96-AES128/256
// for aes128/aes256-cts-hmac-sha1-96, the RFC 8009 HMAC-SHA2 checksums for
// etypes 19 and 20, HMAC-MD5, -138, for rc4-hmac) with key usage 17,
// KERB_NON_KERB_CKSUM_SALT.
//
// Verify checks a signature only with the key of the checksum type the PAC
// names, which must be the key's mandatory type; checksums are compared in
// constant time by hop/krb5/crypto.
//
// # Untrusted input
//
// Parse is the KDC's attack surface: at most MaxBuffers buffers, every offset
// and size checked against the input, buffers may neither overlap nor repeat
// a type, NDR array counts are bounded by the bytes that remain before
// anything is allocated, nothing recurses, and no input panics. Errors wrap
// ErrMalformed; signature failures wrap ErrBadSignature.
package pac
