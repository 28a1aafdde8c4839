// Package service is the server side of the Kerberos V5 client/server
// exchange: it accepts an AP-REQ (RFC 4120 §3.2.3, §5.5.1) with the
// service's long-term keys and builds the AP-REP of mutual authentication
// (§3.2.4, §5.5.2). The GSS-API mechanism (hop/krb5/gssapi), HTTP
// Negotiate (hop/krb5/spnego) and kpasswd build on it.
//
// # Checks
//
// Acceptor.Accept checks, in this order, and refuses with the KRB-ERROR code
// a service must answer (an *Error):
//
//   - the AP-REQ decodes (KRB_AP_ERR_MSG_TYPE; a wrong pvno,
//     KRB_AP_ERR_BADVERSION) and does not ask for user-to-user
//     authentication, which hop does not offer (KRB_AP_ERR_METHOD);
//   - the ticket's server is acceptable (Acceptor.AcceptServer, KRB_AP_ERR_NOT_US)
//     and Keys has its key of the ticket's encryption type and key version
//     (KRB_AP_ERR_NOT_US for an unknown server, KRB_AP_ERR_BADKEYVER for a
//     missing version, KRB_AP_ERR_NOKEY for a missing encryption type);
//   - the ticket decrypts (key usage 2) and the authenticator decrypts with
//     its session key (key usage 11; KRB_AP_ERR_BAD_INTEGRITY for both);
//   - the authenticator's crealm and cname are the ticket's
//     (KRB_AP_ERR_BADMATCH);
//   - the authenticator's ctime is within MaxSkew of now (KRB_AP_ERR_SKEW);
//   - the ticket is not INVALID and its starttime (or authtime) is not
//     later than now plus MaxSkew (KRB_AP_ERR_TKT_NYV), and its endtime is
//     not earlier than now minus MaxSkew (KRB_AP_ERR_TKT_EXPIRED);
//   - the PAC, when the ticket has one ([MS-PAC] §2.1: AD-WIN2K-PAC inside
//     AD-IF-RELEVANT), decodes, carries a server signature ([MS-PAC] §2.8.1)
//     that verifies with the ticket's key — the only PAC signature a service
//     can check: the KDC signature needs the krbtgt key — and its
//     PAC_CLIENT_INFO (§2.7) names the ticket's client and authtime, as MIT
//     krb5 checks it (KRB_AP_ERR_MODIFIED otherwise);
//   - the authenticator was not seen before (KRB_AP_ERR_REPEAT, see
//     ReplayCache). This check comes last, so that only authenticators that
//     pass every other check take room in the cache.
//
// Host addresses in a ticket are not checked (hop's realm issues
// address-less tickets, as RFC 4120 §5.3 permits) and neither is the
// transited field: a ticket encrypted in a key of hop's realm was issued by
// hop's KDC, which checks the transit path itself.
//
// The authenticator's checksum is left to the application protocol: the
// GSS-API mechanism reads the 0x8003 checksum of RFC 4121 §4.1.1, kpasswd
// (RFC 3244) has none.
//
// # Replay cache
//
// A ReplayCache remembers, in memory, the SHA-256 of every authenticator
// ciphertext accepted, until the authenticator could no longer pass the
// clock skew check (its ctime plus the window). Two different ciphertexts
// of the same authenticator can only be made with the session key, which
// only the client and the service hold, so the hash identifies a replay as
// MIT krb5 (1.18 and later) identifies it. The cache is bounded
// (DefaultReplayLimit entries): when it is full of unexpired entries it
// refuses new authenticators (fail closed, KRB_ERR_GENERIC with
// ErrReplayCacheFull) rather than forget entries, which would let a replay
// through; only authenticators that passed every other check, and so come
// from holders of valid tickets, can fill it.
//
// # Errors
//
// Every refusal is an *Error carrying the KRB-ERROR code; errors.Is(err,
// krb5.KRBAPErrSkew) and the like work on it. Its text is for logs;
// ErrorReply builds the KRB-ERROR a protocol such as kpasswd returns, with
// the code and the server's time only, so that a client learns no more
// than the code.
package service
