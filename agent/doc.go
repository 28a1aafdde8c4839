// Package agent is the hop agent: the SSH server (RFC 4251-4254, through
// golang.org/x/crypto/ssh) that runs on every host and gives users remote
// sessions authenticated with Kerberos — hop's counterpart of PowerShell
// Remoting's WinRM listener and session configurations.
//
// # Authentication
//
// The only user authentication method is gssapi-with-mic (RFC 4462 §3)
// with the Kerberos V5 mechanism (RFC 4121), implemented by hop's
// krb5/gssapi: the acceptor takes AP-REQs for host/<fqdn>@REALM only, with
// the host keytab (read again when it changes), checks the clock skew and a
// replay cache shared by all connections, verifies the PAC's server
// signature ([MS-PAC] §2.8.1), and answers with an AP-REP (mutual
// authentication). The MIC over the SSH session identifier (RFC 4462 §3.5)
// binds the authentication to the connection. A refused AP-REQ is answered
// with a KRB-ERROR token (RFC 4121 §4.1) carrying the error code, which the
// initiator reports (KRB_AP_ERR_TKT_EXPIRED, KRB_AP_ERR_SKEW, …). Each
// connection gets its own GSSAPIServer; the handshake is bounded by
// HandshakeTimeout and Config.MaxAuthTries, connections by
// Config.MaxConnections. Connections that have not authenticated yet are
// bounded apart, below MaxConnections, as OpenSSH's MaxStartups does:
// max_startups in all and max_startups_per_source from one address; a new
// one beyond either bound takes the place of the one (of that address, or
// of all) that has waited longest, and the closings are logged and
// audited ("connection.refused") at most once per 10 s, so that clients
// that connect and never authenticate cannot lock everyone out.
//
// A credential the client delegates (a forwarded TGT, RFC 4121 §4.1.1.1)
// is kept with the connection's context, for its sessions in mode
// forward, and zeroed when the connection ends.
//
// A ticket whose PAC carries SERVICE_ASSERTED_IDENTITY (S-1-18-2,
// [MS-SFU] §3.2.5.1.2) was obtained by a service through protocol
// transition (S4U2Self), not by the user: such logons are allowed, as
// Windows allows them, and flagged "service-asserted-identity" in the
// session.start event; refuse_service_asserted refuses them, for hosts
// where no service should open sessions in users' names (a service
// trusted for protocol transition to host/<fqdn> could otherwise log on
// as anyone).
//
// # Who may log on
//
// The principal's groups come from the PAC's KERB_VALIDATION_INFO
// ([MS-PAC] §2.5: group RIDs under the logon domain SID, extra SIDs and
// resource groups; hop's KDC lists nested groups). A principal in one of
// logon_groups or admin_groups may log on; configured group names are
// resolved to SIDs through the admin API (GET /v1/groups/NAME) as the host
// (host/<fqdn> with the keytab), at start and every ResolveInterval, and
// the last good mapping is kept in the state directory. SID strings need no
// resolution. A refusal is sent as an SSH banner (RFC 4252 §5.4) that says
// what to do, and audited ("logon.refused"). The principal maps to a local
// account ([user_map] by principal or account name; default the account's
// name: the single component of a plain principal of the agent's realm,
// the PAC's account name for an alias such as an SPN or UPN). Principals
// of other realms, and default mappings that land on root or a system
// account (uid below login.defs' UID_MIN), need an explicit [user_map]
// entry. An agent that is not root runs every session as its own account.
// Login shells come from /etc/passwd, else from the name service (getent
// passwd NAME, /usr/bin/getent run without a shell), so that the nologin
// or restricted shell of a directory (sssd, LDAP) account holds; an
// account whose shell cannot be read is refused.
//
// # Sessions (RFC 4254 §6)
//
// A "session" channel accepts "pty-req", "window-change", "env" (LANG,
// LC_*, TERM and HOP_* only), "exec", "shell", "signal" (forwarded to the
// process group) and hop's "endpoint@hop" (remoting.EndpointRequest), which
// chooses the endpoint, "delegate@hop" (remoting.DelegateRequest), which
// chooses the delegation mode, and "credential@hop"
// (remoting.CredentialRequest), which passes a credential; the global request "endpoints@hop"
// (remoting.EndpointsRequest) returns the JSON of []remoting.EndpointInfo. A session ends with "exit-status" or
// "exit-signal" (§6.10). Endpoints: "default" (the mapped account's login
// shell, interactive or with -c COMMAND as sshd runs it, so that a
// restricted login shell stays in force), "runas" (the same as a configured
// account) and "jea" (package jea: commands checked against role
// capabilities and executed without a shell, with a transcript). The
// environment is fixed: HOME, USER, LOGNAME, SHELL, PATH (Config.Path),
// TERM with a pty, LANG/LC_*/HOP_* from the client, HOP_SESSION_ID,
// HOP_CLIENT and HOP_ENDPOINT, KRB5CCNAME=KCM: and KRB5_CONFIG naming the
// session broker's krb5.conf, then the agent's.
//
// # The credential broker
//
// Each session has its own credential broker (package broker), started
// before its program and closed when the session ends, however it ends; a
// session whose broker cannot start is refused and audited. The broker
// serves the session's KCM cache on a socket in runtime_dir/session-ID
// (runtime_dir default /run/hop-agent, made 0755 if missing, cleared at
// start of the folders of an agent that crashed; the session's folder is
// 0700 and the session's account owns it), admitting only the session's
// uid and root, so that MIT and Heimdal programs in the session keep their
// tickets in the agent, never in a file on the host. Heimdal's library
// connects only to its fixed path /var/run/.heim_org.h5l.kcm-socket: a root
// agent starts the program of a session (not run as root) in a mount
// namespace of its own where that path is the session's socket
// (heimdalkcm_linux.go).
//
// Whose tickets the broker obtains, and how (delegation.go): in a default
// session the user's, by the delegation mode the client chose (delegate@hop;
// without it, forward when the client delegated a TGT, as ssh -K does, else
// none) and the endpoint allows (Endpoint.Delegation): none obtains
// nothing, forward uses the delegated TGT, constrained performs S4U2Proxy
// as host/<fqdn> with the user's ticket to this host as evidence. A RunAs
// session's broker obtains the RunAs account's tickets with the endpoint's
// keytab, which the session is not told of; a JEA session's, the host's or
// the endpoint's network_keytab account's. Credentials passed with
// credential@hop are logged on at once and kept as TGTs in caches of their
// own (remoting.CredentialCache). Every ticket obtained or refused is
// audited ("broker.issued", "broker.refused") with the whole chain.
//
// Every session's process leads its own process group (a new session with
// a pty). When the client disconnects, closes the channel or stays idle
// for Config.IdleTimeout, and when the process exits leaving children, the
// agent sends the group SIGHUP and SIGTERM, then SIGKILL after KillDelay.
// "signal" requests are ignored once the leader has exited (the group's id
// could be reused), the teardown handles what it left. An agent that is
// PID 1 (a container's init) makes itself a child subreaper and reaps the
// orphans sessions leave.
// Sessions are bounded per connection (MaxSessionsPerConnection) and per
// agent (Config.MaxSessions). Every session start, end and refusal and
// every JEA command is audited in the KDC's hash-chained format
// (hop/audit).
//
// All decoders of channel request payloads bound their input and never
// panic (FuzzChannelRequest).
package agent
