// Package admin is hop's directory administration API as its clients see
// it: what the hop command line does to a domain, as a Go interface
// ([Service]), the JSON types that cross the wire, the API's errors, and
// [Client], which sends the requests over HTTP to an admin server. The
// server side (the Service acting on a directory, the HTTP handler, the
// server's certificate) is package hop/admin/adminserver; admin itself
// depends on neither the directory nor the KDC, so that a host's agent can
// talk to the API without linking them.
//
// Over the network, callers authenticate with Kerberos through SPNEGO
// ("Negotiate", RFC 4559); the directory decides what each caller may do,
// so the CLI on the directory's host and a remote administrator obey the
// same rules. Bodies are JSON, capped at 1 MiB (adminserver.MaxBodyBytes);
// unknown fields are refused. Objects carry a revision; a change sent with
// "If-Match: <revision>" fails with 409 Conflict if the object changed
// meanwhile (optimistic concurrency).
//
// [NewClient] is the one way to make a Client. It owns the trust rule for
// admin URLs: SPNEGO authenticates the request, not the reply, so a client
// that relies on what the server answers (host keys, group SIDs, keys)
// accepts only https (trusted by the pinned key of [PinnedTLSConfig], or
// the system's roots) or plain http to this machine (a loopback address
// or "localhost", in any case).
//
// Errors are JSON objects {"error": {"status", "kind", "message"}} whose
// message says what was wrong and what to do; the Client turns them back
// into *[Error] values that match [ErrAccessDenied], [ErrNotFound] and the
// other kinds with errors.Is. A message never carries the text of a
// server-side cause.
package admin
