// Package kpasswd is the Kerberos password-changing service on port 464: the
// change-password protocol (draft-ietf-cat-kerb-chg-password-02, version
// 0x0001, what MIT's kpasswd sends) and Microsoft's set-password protocol of
// RFC 3244 (version 0xff80, what MIT's krb5_set_password and Heimdal's
// kpasswd send), server and client.
//
// # Protocol
//
// A request is framed as RFC 3244 §2 draws it: message length, protocol
// version, AP-REQ length (16 bits each, big-endian), an AP-REQ (RFC 4120
// §5.5.1) for kadmin/changepw@REALM whose authenticator carries a subkey and
// a sequence number, and a KRB-PRIV (RFC 4120 §5.7) sealed in that subkey,
// with the same sequence number (MIT's kpasswd sends none in either, which
// counts as 0, as in MIT's own server), whose user-data is the new password
// (version 1) or a ChangePasswdData naming the new password and optionally
// the principal to set it for (version 0xff80). Over TCP each message is
// preceded by its length in four bytes; over UDP it fills one datagram.
//
// The reply has the same framing, version 1: an AP-REP (sequence number
// chosen by the server, the client's subkey echoed as MIT's kadmind does) and
// a KRB-PRIV sealed in the client's subkey, carrying the server's sequence
// number and the result: a 16-bit code (ResultCode, RFC 3244 §2) and a UTF-8
// message. Requests refused before the AP-REQ is accepted are answered with a
// KRB-ERROR whose e-data holds the result, framed with an empty AP-REP for
// version 1 and bare for version 0xff80, as RFC 3244 specifies. MIT's and
// Heimdal's clients accept both forms.
//
// The KRB-PRIV's addresses are not checked: the server sends the directional
// acceptor address of RFC 4120 §8.1 as its s-address, as MIT's kadmind does
// when it does not know its own, and the client sends the initiator's.
// Replay protection is the AP-REQ's (the Acceptor's replay cache) plus the
// sequence numbers, which tie each KRB-PRIV to its AP exchange.
//
// # Rules
//
// The ticket must be for kadmin/changepw in the directory's realm, and its
// client an account of that realm. Changing one's own password — version 1,
// version 0xff80 without targname, or with the client's own name, as Heimdal
// sends — needs a ticket with the INITIAL flag (obtained with the current
// password in an AS exchange, RFC 3244 §2), else INITIAL_FLAG_NEEDED; the
// directory then applies the password policy. Setting another account's
// password uses the client's rights in the directory (Domain Admins, or the
// account's managers). Directory refusals map to result codes: a policy
// refusal (too short, reused) to SOFTERROR, a missing right to
// ACCESSDENIED, an unknown account and any other failure to HARDERROR; the
// message is the directory's own explanation. Every request is recorded in
// the audit log (type kpasswd.change, kpasswd.set or, when the request did
// not parse, kpasswd.request) with the client, the target and the result;
// never the password.
//
// The service principal's keys come from the directory (Keytab): the
// account that holds the SPN kadmin/changepw, its current and previous
// key generations.
package kpasswd
