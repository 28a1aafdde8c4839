// Package krb5 is the vocabulary of Kerberos V5 shared by every part of hop:
// principal names and realms, encryption and checksum types, ticket flags and
// KDC options, message and pre-authentication types, key usage numbers and the
// protocol's error codes.
//
// It imports only the standard library. Numbers come from RFC 4120 (§5, §7.5),
// RFC 3961/3962/8009 (encryption types), RFC 6806 (enterprise names and
// canonicalization) and MS-KILE/MS-SFU (Microsoft's pre-authentication types).
package krb5
