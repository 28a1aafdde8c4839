// Package gssapi is the Kerberos V5 mechanism of the GSS-API (RFC 4121,
// which updates RFC 1964) for hop: the acceptor that SSH's
// gssapi-with-mic (RFC 4462) and HTTP Negotiate (RFC 4559, through
// hop/krb5/spnego) need, and an initiator for tests and clients.
//
// # Context establishment (RFC 4121 §4.1)
//
// The initiator's token is an RFC 2743 §3.1 InitialContextToken: the byte
// 0x60, a DER length, the mechanism OID (1.2.840.113554.1.2.2, or
// Microsoft's 1.2.840.48018.1.2.2 that Windows puts first in SPNEGO), then
// TOK_ID 01 00 and the AP-REQ. The acceptor also takes a bare AP-REQ and
// answers it with a bare AP-REP. The authenticator's checksum is the 0x8003
// checksum of RFC 4121 §4.1.1: Lgth (16, little-endian), Bnd (the MD5 of the
// channel bindings, §4.1.1.2, or zeros), Flags (little-endian GSS flags),
// and with the delegation flag DlgOpt 1, Dlgth and a KRB-CRED holding a
// forwarded TGT (§4.1.1.1), then extensions (type and length big-endian).
// Like MIT krb5, the acceptor also takes an authenticator without a
// checksum (flags all clear, as MS-KILE §3.4.5.2.1 allows) or with an
// ordinary checksum over nothing (Samba; replay, sequence and the AP
// option's mutual flags).
//
// Channel bindings, when the caller gives them, must match: an initiator
// that sent none (all-zero Bnd) is refused unless
// Acceptor.InsecureAcceptUnbound is set (MIT krb5 accepts it unless the
// authenticator asserts KERB_AP_OPTIONS_CBT).
//
// When mutual authentication is asked for, the acceptor answers with
// TOK_ID 02 00 and an AP-REP. As MIT krb5 does for RFC 4121 contexts, it
// asserts a subkey of its own in the AP-REP (of the initiator subkey's
// type), and both sides then protect messages with it, flagged
// AcceptorSubkey; its sequence numbers start at a random 30-bit value.
// Without mutual authentication the acceptor's sequence numbers start
// where the initiator's do, as in MIT krb5.
//
// The delegated credential (GSS_C_DELEG_FLAG) is decrypted with the
// ticket's session key (RFC 4121 §4.1.1.1; the subkey is tried too, and an
// unencrypted enc-part, etype 0, is accepted since the authenticator
// protects it) and exposed as a DelegatedCredential. Its client must be the
// authenticated client.
//
// # Per-message tokens (RFC 4121 §4.2)
//
// MIC tokens (TOK_ID 04 04) carry Flags, five 0xFF filler bytes, the 64-bit
// sequence number and a checksum over the message followed by the 16-byte
// header, with key usage 25 (initiator) or 23 (acceptor). Wrap tokens
// (TOK_ID 05 04) carry EC and RRC: with confidentiality the message,
// EC filler bytes and the header (RRC zero) are encrypted with key usage 24
// or 22 and EC counts the filler; without, EC is the length of the
// checksum appended after the message, computed over the message and the
// header with EC and RRC zero. Wrap writes EC 0 and RRC 0, as MIT krb5
// does; Unwrap undoes any rotation (RRC, as Windows uses) and accepts any
// EC. Direction is checked with the SentByAcceptor flag; the key is the
// acceptor subkey when the token says AcceptorSubkey, else the initiator's
// subkey (or the session key).
//
// Replay and sequence detection (GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG)
// follow MIT krb5's window of 64: a duplicate or a token older than the
// window is refused (ErrDuplicateToken, ErrOldToken); a gap or an
// out-of-order token is accepted with ErrGapToken or ErrUnseqToken, RFC 2743
// §1.2.3's supplementary information, alongside the message.
//
// Only the RFC 4121 token formats are implemented: a context whose
// initiator key is rc4-hmac or des3 (RFC 1964 and RFC 4757 §7 tokens) is
// refused with ErrUnsupportedEncType. An initiator made here with an rc4-hmac
// ticket uses an aes256-cts-hmac-sha1-96 subkey, so that its context uses
// RFC 4121 tokens.
//
// All parsers bound their work by the input's length and never panic.
package gssapi
