// Package kdc is hop's Kerberos V5 Key Distribution Center: the
// Authentication Service (AS) and Ticket-Granting Service (TGS) exchanges of
// RFC 4120 §3.1 and §3.3, served over UDP and TCP (§7.2.1, §7.2.2).
//
// A request flows one way: wire bytes are decoded by krb5/wire (which keeps
// the exact bytes of the request body, because the TGS authenticator's
// checksum covers them, RFC 4120 §3.3.2 and §5.5.1), accounts and keys come
// from an immutable directory.Snapshot (re-read only when the directory
// changes, so a changed setting takes effect at the next request and the hot
// path touches no disk), the reply is built and encrypted with krb5/crypto,
// and encoded back to bytes. Decisions that refuse a request return a
// krb5.ErrorCode wrapped with a human explanation that is sent as the
// KRB-ERROR's e-text and written to the audit log.
//
// Behaviour follows Active Directory where RFC 4120 leaves room:
//   - an account's sAMAccountName is a principal (alice, b$), its SPNs are
//     aliases of the same account, and enterprise names (NT-ENTERPRISE,
//     RFC 6806 §5) resolve through the UPN or the account name;
//   - realms compare case-insensitively; without the canonicalize option the
//     reply echoes the names the client sent, with it the canonical names
//     (RFC 6806 §6);
//   - a TGS-REQ whose authenticator carries no checksum is accepted (impacket
//     sends none), a checksum that does not match the body is refused with
//     KRB_AP_ERR_MODIFIED, and an unkeyed checksum with KRB_AP_ERR_INAPP_CKSUM;
//   - the session key's type is the strongest type both the client's request
//     and the service's keys allow; the ticket is sealed with the strongest
//     service key of a type the client also lists (else the service's
//     strongest), since some clients will not store a ticket of a type they
//     do not know;
//   - disabled and locked-out accounts get KDC_ERR_CLIENT_REVOKED, and a
//     disabled client is refused at the TGS too, at once.
//
// Every ticket carries an MS-PAC (package pac), signed as a patched AD DC
// signs it; service tickets get a PAC built from the directory as it is now,
// and the PAC of every TGT presented is verified (MS-PAC §2.8).
//
// Delegation follows MS-SFU: S4U2Self (s4u.go) and S4U2Proxy with classic
// constrained delegation and then resource-based delegation (s4uproxy.go);
// the decision functions there are also what Explain runs. An evidence
// ticket's PAC verifies with the krbtgt generation that signed it, current
// or kept (MS-SFU §3.2.5.2.2). Each delegation decision is an audit event
// (tgs.s4u2self, tgs.s4u2proxy, and .refused) naming the user, the target,
// the rule and the requesting service. AS-REP and TGS-REP echo the
// request's PA-PAC-OPTIONS bits 0-3 in encrypted-pa-data (MS-KILE §2.2.10;
// see pacOptionsEcho).
//
// Postdated tickets are not issued (KDC_ERR_BADOPTION for POSTDATED,
// KDC_ERR_CANNOT_POSTDATE for a future start time) and user-to-user
// (ENC-TKT-IN-SKEY) is refused with KDC_ERR_BADOPTION.
package kdc
