// Package spnego negotiates the Kerberos V5 GSS-API mechanism
// (hop/krb5/gssapi) with SPNEGO (RFC 4178) and carries it over HTTP
// (RFC 4559, HTTP Negotiate).
//
// # Tokens
//
// The initiator's first token is an RFC 2743 InitialContextToken of the
// SPNEGO OID 1.3.6.1.5.5.2 holding NegTokenInit (mechTypes, reqFlags, the
// optimistic mechToken, mechListMIC; Microsoft's NegTokenInit2 is read
// too, its negHints skipped); every later token is the negTokenResp choice
// (negState, supportedMech, responseToken, mechListMIC), DER throughout
// (golang.org/x/crypto/cryptobyte). Decoders bound their work: at most
// MaxMechTypes mechanisms, no recursion, input aliased rather than copied.
//
// # Negotiation (RFC 4178 §5)
//
// The acceptor (Acceptor.Start, Negotiation.Step) offers Kerberos V5 only,
// under either OID (1.2.840.113554.1.2.2, or Microsoft's 1.2.840.48018.1.2.2
// that Windows lists first), and answers with the OID the initiator listed.
// When Kerberos is the initiator's first mechanism, its optimistic AP-REQ
// is accepted at once: it is the preferred mechanism of both sides, so the
// mechListMIC exchange is optional and the reply is accept-completed with
// the AP-REP (MIT's curl and Windows browsers take this path). When the
// initiator lists another mechanism first (NTLM, NEGOEX), the optimistic
// token is ignored and the answer is negState request-mic with supportedMech
// Kerberos: the initiator sends its AP-REQ next, and mechListMICs over the
// initiator's DER MechTypeList are exchanged once the Kerberos context is
// up, so that a man in the middle cannot have removed Kerberos from the
// head of the list. This follows MIT krb5's spnego_mech.c. An initiator
// that offers no Kerberos gets negState reject. A bare Kerberos token (not
// SPNEGO) is accepted too and answered with a bare one.
//
// The initiator (Initiate, Initiation.Step) offers Kerberos alone, with
// mutual authentication: the acceptor's AP-REP must verify, and a
// mechListMIC it sends is verified and answered.
//
// # HTTP
//
// HTTPAuth.Wrap protects an http.Handler: a request needs "Authorization:
// Negotiate <base64>" holding a token that completes the negotiation in
// one step; the client's identity (service.Accepted, with the PAC) is then
// in the request's context (Identity), and the AP-REP goes back in
// "WWW-Authenticate: Negotiate <base64>" on the response. Anything else is
// answered 401 with "WWW-Authenticate: Negotiate". A negotiation needing
// more round trips is refused (ErrMoreRounds): RFC 4559 would continue it
// on the same connection, which a handler cannot identify.
//
// Transport is the client side: an http.RoundTripper that asks a callback
// for a ticket to HTTP/<host of the URL>, sends the SPNEGO token, and
// refuses a response whose mutual-authentication token is missing or does
// not verify (ErrMutualAuth).
package spnego
