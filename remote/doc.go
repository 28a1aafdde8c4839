// Package remote is hop's remoting client: it opens SSH connections
// (RFC 4251, RFC 4253) to the hop agent of a host, authenticates with the
// user's Kerberos tickets through gssapi-with-mic (RFC 4462 §3) and runs
// commands, interactive shells and hop's endpoint queries over session
// channels (RFC 4254 §6) — the client side of hop exec, hop shell and hop
// endpoints.
//
// # Authentication (RFC 4462 §3)
//
// The only user authentication method is gssapi-with-mic with the Kerberos
// V5 mechanism (OID 1.2.840.113554.1.2.2, RFC 4121). Dial gets a service
// ticket for host/<fqdn> from the user's credential cache
// (hop/krb5/tickets.Source), starts a security context with mutual
// authentication (hop/krb5/gssapi.InitSecContext), checks the agent's
// AP-REP (RFC 4462 §3.4), and signs the RFC 4462 §3.5 MIC field — the SSH
// session identifier, SSH_MSG_USERAUTH_REQUEST, the user name, the service
// and the method name — with Context.MakeMIC. The SSH user name is the
// user part of the ticket's client principal; the agent maps the principal
// to a local account itself.
//
// A refusal by the agent after authentication (the user is not in the
// host's logon groups, say) arrives as an SSH_MSG_USERAUTH_BANNER (RFC 4252
// §5.4) before the failure: Dial returns its text as the error.
//
// # Host authenticity
//
// There is no trust on first use. The agent's host key (RFC 4253 §8) must be
// one of the keys a HostKeySource gives for the host: the keys registered in
// the directory at hop host join (DirectoryHostKeys, read through the admin
// API with the user's own ticket) or the lines of an OpenSSH known_hosts file
// (KnownHostsFile, as hop known-hosts writes it). Dial offers only the
// registered keys' algorithms, so that an agent with several host keys shows
// one that can match; any other key refuses the connection with both
// SHA-256 fingerprints (HostKeyError). HostKeyCache keeps a copy of the
// directory's answers in a file, which serves, with a warning, only while
// the directory cannot be reached (UnreachableError); the directory's
// answer always replaces it.
//
// A short host name ("b") is resolved as the directory names hosts
// (ResolveHost): the DNS name of the computer account b$ (or of the
// "b.example.test,b" line of a known_hosts file); the ticket, the host
// keys and the address are then the DNS name's.
//
// # Sessions (RFC 4254 §6)
//
// Conn.Run sends hop's channel request endpoint@hop (the endpoint name as an
// SSH string, want-reply) when an endpoint other than "default" is asked for,
// then "exec"; it streams standard input, output and error and returns the
// command's exit status, or 128+N for a command killed by signal N as shells
// report it (RFC 4254 §6.10 exit-signal). Conn.Shell asks for a pseudo-terminal
// (§6.2, with $TERM and the terminal's size), puts the local terminal in raw
// mode, forwards SIGWINCH as window-change (§6.7) and restores the terminal
// on every path. Conn.Endpoints sends the global request endpoints@hop
// (RFC 4254 §4) and decodes the JSON list the agent answers with.
//
// Errors that a user can act on — no ticket, an expired one, clock skew, an
// unknown host, nothing listening, a refused group, a host key mismatch, a
// refused endpoint — are *Error values whose text is one line that says
// what to do.
package remote
