// Package keytab reads and writes MIT Kerberos keytab files, the FILE:
// keytab type used by MIT krb5, Heimdal, Samba, Java and Windows' ktpass
// for the long-term keys of services (RFC 4120 §5.2.9 EncryptionKey,
// RFC 3961 §8 encryption type numbers).
//
// The format is MIT's, documented in doc/formats/keytab_file_format.rst of
// the MIT krb5 source. A file starts with the byte 5 and a version byte:
// version 1 (0x0501) stores integers in the writing host's byte order and
// counts the realm among the name components; version 2 (0x0502) is
// big-endian and adds the name type. Then come records, each a signed 32-bit
// length and that many bytes: a positive length holds an entry (possibly
// followed by zero fill), a negative length marks a hole of that many
// zero bytes left by a deleted entry, and a zero length ends the file.
//
// An entry is:
//
//	num_components  uint16 (version 1: plus one, for the realm)
//	realm           uint16 length + bytes
//	components      uint16 length + bytes, num_components times
//	name_type       uint32 (version 2 only; RFC 4120 §6.2)
//	timestamp       uint32, seconds since 1970
//	vno8            uint8, the low 8 bits of the key version
//	enctype         uint16 (sign-extended, as MIT does)
//	key             uint16 length + key bytes
//	vno             uint32, optional: when at least four bytes remain in
//	                the record and they are not zero, they override vno8
//
// Parse reads versions 1 and 2; version 1 is read in this host's byte
// order, as MIT itself does. Marshal writes version 2 and always writes the
// 32-bit key version. Parse bounds its work: records are at most 64 KiB,
// names have at most krb5.MaxNameComponents components of at most
// krb5.MaxComponentLen bytes, and malformed input gives an error wrapping
// ErrMalformed, never a panic.
//
// Keys are kept as raw bytes in Entry.Key; an Entry never prints them, in
// any fmt verb.
package keytab
