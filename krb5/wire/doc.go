// Package wire encodes and decodes the Kerberos V5 messages of RFC 4120 §5
// in ASN.1 DER, together with the pre-authentication and authorization
// structures hop uses from RFC 4120 §5.2.7, RFC 6806, MS-KILE §2.2 and
// MS-SFU §2.2.
//
// Every top-level type T has ParseT(b []byte) and (*T).Marshal(). Decoders are
// the KDC's attack surface and follow these rules:
//
//   - Work is bounded: SEQUENCE OF fields have fixed maximum counts
//     (MaxPAData, MaxETypes, MaxTickets, MaxADEntries, MaxAddresses, ...),
//     principal names at most krb5.MaxNameComponents components of at most
//     krb5.MaxComponentLen bytes, and nothing recurses.
//   - Malformed input returns an error prefixed "wire: "; no input panics.
//     A wrong protocol version wraps ErrBadPVNO and a msg-type that does not
//     match the application tag wraps ErrMsgType.
//   - Trailing bytes after a top-level message are rejected.
//   - Extensibility (RFC 4120 §5.1): context-tagged fields a decoder does not
//     know are skipped, as long as tags increase.
//
// Decoding is liberal where deployed implementations differ from DER:
// a BOOLEAN is true for any non-zero octet (pyasn1/impacket writes 0x01);
// KerberosFlags may have any length and are padded or truncated to 32 bits;
// the UInt32 fields (nonce, kvno, seq-number) accept both the negative Int32
// and the unsigned encoding of values at or above 2^31; KerberosTime
// accepts fractional seconds, which are discarded (KerberosTime has whole
// seconds, RFC 4120 §5.2.3); KerberosString also accepts UTF8String,
// IA5String, VisibleString and PrintableString; lengths may use
// non-minimal long forms. The encoder always writes DER: BOOLEAN TRUE as
// 0xFF, flags as 32 bits, UInt32 values as non-negative INTEGERs, times as
// "YYYYMMDDHHMMSSZ", strings as GeneralString.
//
// Optional fields are omitted on encode when they hold their zero value
// (zero time, nil pointer, empty slice, empty string, KVNO unless HasKVNO),
// and an optional field received empty decodes to its zero value, so that
// parse, marshal and parse again gives the same value.
//
// Parsed values alias the input: their byte slices (ciphertexts, padata
// values, Ticket.Raw, KDCReq.RawBody, ...) point into b, with their
// capacity clipped, so b must not be modified while the result is in use.
// Strings are copied.
//
// Ticket.Raw and KDCReq.RawBody keep the exact bytes received: the TGS-REQ
// authenticator checksum covers the req-body as sent (RFC 4120 §7.2.2 and
// §5.4.1), and a ticket is relayed verbatim. Marshal writes them unchanged
// when they are non-nil, so clear them after changing a parsed value.
//
// EncryptionKey never prints its key value and compares in constant time.
package wire
