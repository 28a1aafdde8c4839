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
//   - Each account keeps its current keys (one per encryption type, all with
//     the current kvno) and the two previous generations, as AD's
//     KERB_STORED_CREDENTIAL_NEW does ([MS-SAMR] §2.2.10.6), so that tickets
//     issued before a key change stay valid until they expire.
//
// # Storage
//
// Records live in a small transactional key-value [Store] (implemented by
// hop/directory/bolt and hop/directory/mem), one JSON record per key in the
// buckets "domain", "accounts" (key: the lower-cased name), "groups", "spns"
// and "upns" (the uniqueness indexes: lower-cased name → account name) and
// "meta" (schema version, RID counter, generation counter, master-key check
// value). Long-term keys are sealed with AES-256-GCM under a [MasterKey];
// the additional data binds each sealed key to its account, kvno, encryption
// type and salt, so a sealed key copied to another record does not open.
//
// # Reading from the KDC
//
// The KDC reads through [Directory.Snapshot], an immutable in-memory view
// that is rebuilt only when the store has changed. Stores that implement
// [Changes] make that check cheap; the directory asks at most once per
// millisecond, and always after its own writes.
//
// [MS-ADTS]: https://learn.microsoft.com/openspecs/windows_protocols/ms-adts
// [MS-SAMR]: https://learn.microsoft.com/openspecs/windows_protocols/ms-samr
// [MS-DTYP]: https://learn.microsoft.com/openspecs/windows_protocols/ms-dtyp
// [MS-KILE]: https://learn.microsoft.com/openspecs/windows_protocols/ms-kile
package directory
