// Package admin is hop's directory administration API: what the hop command
// line does to a domain, as a Go interface ([Service]) with two
// implementations: [Local], which acts on a directory directly on behalf of
// one actor, and [Client], which sends the same requests over HTTP to a
// [Handler] serving a Local for each authenticated caller.
//
// Over the network, callers authenticate with Kerberos through SPNEGO
// ("Negotiate", RFC 4559); the directory decides what each caller may do
// (see directory.Acting), so the CLI on the directory's host and a remote
// administrator obey the same rules. Bodies are JSON, capped at
// [MaxBodyBytes]; unknown fields are refused. Objects carry a revision;
// a change sent with "If-Match: <revision>" fails with 409 Conflict if the
// object changed meanwhile (optimistic concurrency).
//
// Errors are JSON objects {"error": {"status", "kind", "message"}} whose
// message says what was wrong and what to do; [Client] turns them back into
// *[Error] values that match the directory's error kinds with errors.Is.
package admin
