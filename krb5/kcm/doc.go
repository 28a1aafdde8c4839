// Package kcm speaks the KCM protocol, the credential-cache daemon protocol
// of Heimdal that MIT krb5 (since 1.13, src/lib/krb5/ccache/cc_kcm.c) and
// Heimdal use for caches named KCM:. An MIT program with KRB5CCNAME=KCM: and
// kcm_socket = PATH in the [libdefaults] of its krb5.conf reads and writes
// its tickets through the daemon listening on that unix socket instead of a
// file. Without kcm_socket MIT 1.20 uses /var/run/.heim_org.h5l.kcm-socket,
// the path Heimdal's library has built in (Heimdal reads no setting for it).
//
// # Framing
//
// A request is a 32-bit big-endian length, then that many bytes: the protocol
// version (two bytes, 2 and 0), a 16-bit big-endian opcode and the opcode's
// arguments. A reply is a 32-bit length, a 32-bit status of the transport
// (always 0 here), then that many bytes: a 32-bit status code (a com_err code
// of MIT's krb5 error table, 0 for success) and the results. MIT reads at
// most 10 MiB of reply; this package also bounds requests (MaxRequestSize).
//
// # Arguments
//
// Arguments follow each other without delimiters: cache names are
// NUL-terminated strings, flags and offsets 32-bit big-endian integers,
// UUIDs 16 bytes, UUID lists run to the end of the message, and principals
// and credentials use the encoding of version 4 of the FILE credential cache
// (krb5/ccache). RETRIEVE and REMOVE_CRED identify a credential by a
// "credential tag": a 32-bit word saying which optional fields follow, then
// the client and server principals, the session key, the four times,
// is_skey, the ticket flags, the addresses, authorization data, ticket and
// second ticket, each optional field present only when its bit is set. Their
// flags use Heimdal's KRB5_TC_ values (TCMatch…), not MIT's.
//
// The opcodes MIT 1.20 sends are GEN_NEW, INITIALIZE, DESTROY, STORE,
// RETRIEVE, GET_PRINCIPAL, GET_CRED_UUID_LIST, GET_CRED_BY_UUID, REMOVE_CRED,
// GET_CACHE_UUID_LIST, GET_CACHE_BY_UUID, GET_DEFAULT_CACHE,
// SET_DEFAULT_CACHE, GET_KDC_OFFSET, SET_KDC_OFFSET and MIT's extensions
// GET_CRED_LIST and REPLACE (13001, 13002). When a server answers RETRIEVE,
// GET_CRED_LIST or REPLACE with KRB5_CC_NOSUPP, KRB5_CC_IO or
// KRB5_FCC_INTERNAL, MIT falls back to iterating over the UUID list or to
// INITIALIZE and STORE; a server answers every other opcode it does not
// implement with KRB5_CC_NOSUPP. An uninitialized or unknown cache is
// KRB5_FCC_NOFILE, a credential not found KRB5_CC_NOTFOUND, the end of a list
// KRB5_CC_END.
//
// Server serves the protocol on a unix socket from a Store (Mem keeps caches
// in memory) and lets its owner obtain a ticket the cache lacks when a
// program asks for it (Server.Fetch); Client is the client side.
package kcm
