// Package directory is hop's domain directory: the realm and its policy, the
// accounts (users, computers, services), groups, service principal names and
// long-term keys that the KDC serves and the CLI administers.
//
// # Model
//
// The model follows Active Directory, as Kerberos clients and MS-KILE expect
// it:
//
//   - An account is named by its sAMAccountName ([MS-ADTS] §3.1.1.5.2.4 and
//     the naming rules of [MS-SAMR] §3.1.1.6), unique case-insensitively
//     across accounts and groups. Its Kerberos name is the one-component
//     NT-PRINCIPAL name equal to the sAMAccountName (RFC 4120 §6.2).
//     Computer account names end in "$".
//   - Service principal names ("service/host[:port][/name]", [MS-ADTS]
//     §5.1.1.4 and RFC 4120 §6.2.1) are unique across the domain,
//     case-insensitively.
//   - An account may carry a user principal name; NT-ENTERPRISE names
//     (RFC 6806 §5) resolve by UPN first and then by sAMAccountName when the
//     suffix is the realm, as AD does ([MS-KILE] §3.3.5.6.1.1).
//   - Security identifiers are S-1-5-21-a-b-c for the domain and the domain
//     SID plus a relative identifier for each account and group ([MS-DTYP]
//     §2.4.2). The built-in accounts and groups keep their well-known RIDs
//     ([MS-DTYP] §2.4.2.4): Administrator 500, Guest 501, krbtgt 502, Domain
//     Admins 512, Domain Users 513, Domain Guests 514, Domain Computers 515,
//     Domain Controllers 516, Protected Users 525. New objects get RIDs from
//     1100 on. krbtgt is disabled, as in AD: it serves as the TGS's service
//     account but never logs on as a client.
//   - The built-in service account kadmin (RID 600, hop's own) holds the
//     SPN kadmin/changepw, the principal MIT and Heimdal kpasswd ask the KDC
//     for (RFC 3244), with random keys of its own: AD gives that SPN to
//     krbtgt, so that a kpasswd ticket is encrypted in krbtgt's key; hop
//     keeps them apart, so that such a ticket can never pass for a TGT.
//   - Each account keeps its current keys (one per encryption type, all with
//     the current kvno) and the two previous generations, as AD's
//     KERB_STORED_CREDENTIAL_NEW does ([MS-SAMR] §2.2.10.6), so that tickets
//     issued before a key change stay valid until they expire.
//
// # Delegation
//
// Each account carries Microsoft's delegation settings ([MS-SFU], [MS-KILE]
// §3.3.5.1), whose zero values are the secure default:
//
//   - TrustedForDelegation: unconstrained delegation (userAccountControl
//     TRUSTED_FOR_DELEGATION, [MS-ADTS] §2.2.16);
//   - AllowedToDelegateTo and TrustedToAuthForDelegation: classic
//     constrained delegation (msDS-AllowedToDelegateTo, the SPNs the account
//     may reach with S4U2Proxy, [MS-SFU] §3.2.5.2.1) and protocol transition
//     (TRUSTED_TO_AUTH_FOR_DELEGATION, S4U2Self, [MS-SFU] §3.2.5.1.2);
//   - AllowedToActOnBehalfOf: resource-based constrained delegation on the
//     resource (msDS-AllowedToActOnBehalfOfOtherIdentity, [MS-ADA2] §2.210),
//     stored as SIDs so that it survives renames; groups count,
//     transitively;
//   - Sensitive (NOT_DELEGATED) and NoAuthDataRequired
//     (NO_AUTH_DATA_REQUIRED);
//   - ManagedBy: the accounts and groups that manage the account.
//
// They change only through [Acting.SetDelegation] (or [Acting.Update]),
// which enforces who may change what, as AD does: the domain administrator
// acting on the store ([LocalAdmin]) and the members of Domain Admins may
// change everything; the managers of an account (ManagedBy, directly or
// through a group) may also change its resource-based delegation list — the
// seed's "Set-ADComputer C -PrincipalsAllowedToDelegateToAccount B", which
// needs no domain admin — but an account never manages itself, and managers
// lose that right on a protected account (see Authorization). A refusal
// wraps [ErrAccessDenied] and says who may and how. CreateAccount and
// UpdateAccount refuse these fields.
//
// A principal deleted while listed stays listed by its SID and shows as the
// SID string ([Snapshot.NameOf]); RIDs are never reused, so no new account
// inherits its place.
//
// The [Snapshot] answers the KDC's questions from what it computes for an
// account the first time it is asked and keeps, without allocating after
// that: [Snapshot.SIDs] (the SIDs of a PAC: the account, its
// primary group, its groups transitively; [MS-PAC] §2.5),
// [Snapshot.IsSensitive], [Snapshot.InProtectedUsers] and
// [Snapshot.AllowedToAct]. A change takes effect in the next snapshot, at
// once: there is no negative cache to purge.
//
// # Authorization
//
// [Directory.As] returns the operations of one actor ([Acting]): the
// account a network request authenticated as, or [LocalAdmin]. Each checks
// the actor's rights in the transaction that makes the change:
//
//   - Domain Admins (enabled members, directly, through nested groups or as
//     their primary group) and LocalAdmin may do everything. A disabled,
//     expired or unknown actor may do nothing, not even read.
//   - The managers of an account (Account.ManagedBy, directly or through a
//     group) may set its password or keys, read its keys for a keytab,
//     edit its SPNs, set its resource-based delegation list and re-join its
//     host. Only Domain Admins set unconstrained delegation, constrained
//     delegation and protocol transition, "sensitive", no-PAC, the managers,
//     and every other setting, and create users and services.
//   - Protected accounts keep only Domain Admins: the members (transitively,
//     or by primary group) of the privileged groups — Domain Admins, Domain
//     Controllers, Schema and Enterprise Admins, Read-only Domain
//     Controllers, the BUILTIN administrative groups when a group has their
//     name, and Protected Users — and the accounts Administrator, krbtgt and
//     kadmin, as AdminSDHolder protects them in AD ([MS-ADTS] §3.1.1.6.1.2);
//     [Snapshot.ProtectedBy] says why an account or group is protected. A
//     privileged group's members, and those of a group nested in one, are
//     changed by Domain Admins only; other groups' by Domain Admins and the
//     group's managers (Group.ManagedBy, set by Domain Admins).
//   - An account sets its own password only when it proved the current one
//     in the same request (Actor.Initial: an INITIAL ticket, RFC 3244 §2), or
//     changes it by giving the current one ([Acting.ChangePassword]; a wrong
//     one counts as a failed logon).
//   - Any enabled account may create computer accounts up to the domain's
//     machine account quota, 0 by default (Policy.MachineAccountQuota says
//     why); the creator is recorded (CreatorSID) and manages the computer.
//   - Reading needs only an enabled account, as AD's Authenticated Users
//     read; what is read carries no key material.
//
// Every change goes through Acting, the one write API ([LocalAdmin] acts
// through d.As(LocalAdmin) as any other actor does), and is one audit event
// to Options.Audit: "directory.<op>", the actor, the target, and each
// changed field's old and new value as the CLI shows it; keys show as their
// kvno, passwords not at all. A refusal is a "directory.denied" event with
// the reason. The KDC's failed-logon bookkeeping (RecordPreauthFailure) is
// audited by the KDC, not here.
//
// Accounts and groups carry a revision, 1 when created and one more with
// every change; a change may be made conditional on the revision the
// caller read (ifRev), and fails with [ErrConflict] if another came first.
//
// # Passwords
//
// The directory derives password keys itself ([PasswordKeys]: the default
// salt of RFC 4120 §4, the types of [DefaultETypes]) and applies the
// domain's policy to every new password, whoever sets it: at least
// Policy.MinPasswordLength characters (default 8) and none of the last
// Policy.PasswordHistory passwords (default 24). The history keeps, sealed,
// the aes256-cts-hmac-sha1-96 key of each password, never the password; a
// refusal is [ErrPolicy], which kpasswd answers with a soft error.
//
// # Joining hosts
//
// [Directory.JoinHost] creates a host's computer account (b.example.test →
// b$, SPNs host/b.example.test and host/b) with the keys the host made, or
// gives an existing one new keys, and records the host's SSH public keys
// ([Snapshot.HostKeys]). A host joins with the rights of whoever runs the
// join, or with a one-time join token ([Acting.CreateJoinToken]) that
// carries its creator's rights and is stored only as its SHA-256.
//
// # Storage
//
// Records live in a small transactional key-value [Store] (implemented by
// hop/directory/bolt and hop/directory/mem), one JSON record per key in the
// buckets "domain", "accounts" (key: the lower-cased name), "groups", "spns"
// and "upns" (the uniqueness indexes: lower-cased name → account name),
// "join-tokens" (key: the token's hex SHA-256), "meta" (schema version,
// RID counter, generation counter, master-key check value) and
// "change-log" (what each update wrote; see below). Schema version
// 2 added the primary group and the delegation settings to account
// records; version 3 the revisions, creator SIDs, SSH host keys, password
// histories, group managers, the password and machine account policy, the
// join tokens and the kadmin account. [Open] upgrades a version-1 or -2
// directory in place, its records reading with the new fields at their
// defaults (revision 0 reads as 1), and adds kadmin. Long-term keys and
// password histories are sealed with AES-256-GCM under a [MasterKey]; the
// additional data binds each sealed key to its account, kvno, encryption
// type and salt, so a sealed key copied to another record does not open.
//
// # Reading from the KDC
//
// The KDC reads through [Directory.Snapshot], an immutable in-memory view
// that is made again only when the store has changed. Stores that
// implement [Changes] make that check cheap; the directory asks at most
// once per millisecond, and always after its own writes.
//
// A snapshot follows changes without reading the whole store: every write
// transaction records, in the transaction, the keys of the accounts and
// groups it wrote (and whether the domain record) in the bucket
// "change-log", under the store's update number ([Sequenced]: bolt and mem
// count every Update, whichever process makes it). The next snapshot reads
// the entries since its own and decodes and indexes only those records,
// sharing the rest with the snapshot before it: its large indexes are a
// base shared by successive snapshots under a small overlay of changed
// entries, folded into a new base in the background when it grows. A
// snapshot reads the store whole when the log cannot prove it covers the
// gap: a store restored from a backup (each entry carries a random nonce
// the snapshot checks), an update without an entry (a hop that keeps no
// log, a write behind the directory's back), more than 4096 updates, or a
// change it cannot apply exactly as a whole read would (a new domain SID;
// two records claiming one SPN, UPN or RID). A change to an account costs
// well under a millisecond with a million accounts; a new or deleted
// account also changes its primary group, whose record lists every
// account of its kind and is decoded again (some 30 ms for a million).
// Accounts whose groups changed get their PAC SIDs computed again; when a
// change reaches more than 1024 accounts (nesting a large group), every
// account's are, lazily.
//
// A snapshot holds each account in a compact binary form, its keys
// opened, and decodes the [Account] the first time it is asked for; the
// SIDs of the PAC and the other answers of the authorization questions are
// computed on first use too. Reading a million accounts whole takes some
// three seconds on two cores and 450 MiB of memory.
//
// [MS-ADTS]: https://learn.microsoft.com/openspecs/windows_protocols/ms-adts
// [MS-SAMR]: https://learn.microsoft.com/openspecs/windows_protocols/ms-samr
// [MS-DTYP]: https://learn.microsoft.com/openspecs/windows_protocols/ms-dtyp
// [MS-KILE]: https://learn.microsoft.com/openspecs/windows_protocols/ms-kile
// [MS-SFU]: https://learn.microsoft.com/openspecs/windows_protocols/ms-sfu
// [MS-ADA2]: https://learn.microsoft.com/openspecs/windows_protocols/ms-ada2
// [MS-PAC]: https://learn.microsoft.com/openspecs/windows_protocols/ms-pac
package directory
