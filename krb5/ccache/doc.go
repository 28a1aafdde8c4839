// Package ccache reads and writes MIT Kerberos credential caches of the
// FILE: type (the files named by KRB5CCNAME=FILE:/tmp/krb5cc_1000), in
// format versions 3 and 4, so that tickets hop obtains work with MIT's and
// Heimdal's klist, kvno, ssh and every GSS-API program, and tickets they
// obtain work with hop.
//
// The format is MIT's, documented in doc/formats/ccache_file_format.rst of
// the MIT krb5 source; every integer is big-endian. A file is:
//
//	version     0x0503 or 0x0504
//	header      version 4 only: uint16 length, then fields of
//	            uint16 tag, uint16 length, value; tag 1 (deltatime) holds
//	            two int32s, the seconds and microseconds of the KDC's clock
//	            minus the client's
//	principal   the default principal (the cache's owner)
//	credential  repeated until the end of the file
//
// A principal is a uint32 name type (RFC 4120 §6.2), a uint32 component
// count, the realm and the components; every counted string ("data") has a
// uint32 length. A credential holds the client and server principals, the
// session key (an int16 encryption type, written twice in version 3, then
// data; RFC 4120 §5.2.9), authtime, starttime, endtime and renew-till as
// uint32 seconds since 1970, is_skey (one byte), the ticket flags (RFC 4120
// §5.3, bit 0 the most significant), the client addresses (uint32 count,
// then uint16 type and data each; RFC 4120 §5.2.5), the authorization data
// (the same shape; RFC 4120 §5.2.6), and the DER-encoded ticket and second
// ticket (RFC 4120 §5.3) as data.
//
// MIT also stores configuration entries as credentials: the server
// principal has the realm "X-CACHECONF:" and the components
// "krb5_ccache_conf_data", a key and optionally a principal name, and the
// value is in the ticket field (for example fast_avail, pa_type,
// pa_config_data, refresh_time). This package keeps them like any other
// credential so that rewriting a cache loses nothing; Credential.IsConfig
// tells them apart and Cache.Config and Cache.SetConfig read and write them.
//
// Parse bounds its work: lengths and counts are checked against the bytes
// that remain, names have at most krb5.MaxNameComponents components of at
// most krb5.MaxComponentLen bytes, and malformed input gives an error
// wrapping ErrMalformed, never a panic. Session keys and tickets are never
// printed: Credential formats without them in every fmt verb.
package ccache
