package directory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"hop/delegation"
	"hop/krb5"
	"hop/sid"
)

// Buckets and meta keys of the store layout. Records are JSON; see doc.go.
const (
	bucketDomain   = "domain"
	bucketAccounts = "accounts"
	bucketGroups   = "groups"
	bucketSPNs     = "spns"
	bucketUPNs     = "upns"
	bucketMeta     = "meta"
	// bucketJoinTokens holds the join tokens (schema 3), keyed by the hex
	// SHA-256 of the token; see join.go.
	bucketJoinTokens = "join-tokens"
	// bucketNameKeys is the look-alike index (schema 4): nameKey of every
	// account and group name → the name.
	bucketNameKeys = "name-keys"

	keyDomain   = "domain"
	metaSchema  = "schema"
	metaNextRID = "next-rid"
	metaGen     = "generation"
	metaMKCheck = "master-key-check"
	// metaAuditChanges counts the changes that had audit events: each
	// event of the n-th carries the flag change=n (outbox.go).
	metaAuditChanges = "audit-changes"
	// schemaVersion is the layout this code writes. Version 2 added the
	// primary group and the delegation settings to account records;
	// version 3 added revisions, the creator SID, SSH host keys and the
	// password history to accounts, managers and revisions to groups, the
	// password policy and machine account quota to the domain, the join
	// tokens and the built-in kadmin account. Open upgrades older
	// directories in place (their records read as they are, the new fields
	// taking their defaults, and revision 0 reading as 1), so that a hop
	// that does not know the new fields can no longer rewrite records and
	// drop them. Version 4 added the look-alike index of names
	// (bucketNameKeys), which Open builds for older directories.
	schemaVersion = 4
	// oldestSchema is the oldest layout Open upgrades.
	oldestSchema = 1
)

// mkCheckPlain is sealed under the master key at Init; Open proves the key
// by opening it.
var (
	mkCheckPlain = []byte("hop directory master key check v1")
	mkCheckAAD   = []byte("hop directory master-key-check v1")
)

type keyRecord struct {
	EType  int32  `json:"etype"`
	KVNO   uint32 `json:"kvno"`
	Salt   string `json:"salt,omitempty"`
	Sealed []byte `json:"sealed"`
}

type accountRecord struct {
	Name              string        `json:"name"`
	Kind              string        `json:"kind"`
	RID               uint32        `json:"rid"`
	SPNs              []string      `json:"spns,omitempty"`
	DNSHostName       string        `json:"dnsHostName,omitempty"`
	UPN               string        `json:"upn,omitempty"`
	Description       string        `json:"description,omitempty"`
	Disabled          bool          `json:"disabled,omitempty"`
	Expires           time.Time     `json:"expires,omitzero"`
	PasswordLastSet   time.Time     `json:"passwordLastSet,omitzero"`
	PasswordExpires   time.Time     `json:"passwordExpires,omitzero"`
	NoPreauthRequired bool          `json:"noPreauthRequired,omitempty"`
	AllowRC4          bool          `json:"allowRC4,omitempty"`
	MaxTicketLife     time.Duration `json:"maxTicketLife,omitempty"`
	MaxRenewLife      time.Duration `json:"maxRenewLife,omitempty"`
	PrimaryGroupRID   uint32        `json:"primaryGroupRID,omitempty"`
	KVNO              uint32        `json:"kvno"`
	Keys              []keyRecord   `json:"keys,omitempty"`
	OldKeys           []keyRecord   `json:"oldKeys,omitempty"`
	BadPwdCount       int           `json:"badPwdCount,omitempty"`
	BadPwdTime        time.Time     `json:"badPwdTime,omitzero"`
	LockedUntil       time.Time     `json:"lockedUntil,omitzero"`
	Created           time.Time     `json:"created,omitzero"`
	Modified          time.Time     `json:"modified,omitzero"`

	// Delegation (schema 2), named after their AD attributes.
	TrustedForDelegation       bool      `json:"trustedForDelegation,omitempty"`
	TrustedToAuthForDelegation bool      `json:"trustedToAuthForDelegation,omitempty"`
	AllowedToDelegateTo        []string  `json:"allowedToDelegateTo,omitempty"`
	AllowedToActOnBehalfOf     []sid.SID `json:"allowedToActOnBehalfOfOtherIdentity,omitempty"`
	NotDelegated               bool      `json:"notDelegated,omitempty"`
	NoAuthDataRequired         bool      `json:"noAuthDataRequired,omitempty"`
	ManagedBy                  []sid.SID `json:"managedBy,omitempty"`

	// Schema 3.
	Revision        uint64          `json:"revision,omitempty"`
	CreatorSID      sid.SID         `json:"creatorSID,omitzero"`
	SSHHostKeys     []string        `json:"sshHostKeys,omitempty"`
	PasswordHistory []historyRecord `json:"passwordHistory,omitempty"`
}

// historyRecord is one sealed entry of an account's password history: the
// aes256-cts-hmac-sha1-96 key a previous password gave with Salt.
type historyRecord struct {
	EType  int32  `json:"etype"`
	Salt   string `json:"salt,omitempty"`
	Sealed []byte `json:"sealed"`
}

type groupRecord struct {
	Name        string    `json:"name"`
	RID         uint32    `json:"rid"`
	Description string    `json:"description,omitempty"`
	Members     []string  `json:"members,omitempty"`
	ManagedBy   []sid.SID `json:"managedBy,omitempty"` // schema 3
	Revision    uint64    `json:"revision,omitempty"`  // schema 3
}

type policyRecord struct {
	MaxTicketLife         time.Duration `json:"maxTicketLife,omitempty"`
	MaxRenewLife          time.Duration `json:"maxRenewLife,omitempty"`
	ClockSkew             time.Duration `json:"clockSkew,omitempty"`
	LockoutThreshold      int           `json:"lockoutThreshold,omitempty"`
	LockoutWindow         time.Duration `json:"lockoutWindow,omitempty"`
	LockoutDuration       time.Duration `json:"lockoutDuration,omitempty"`
	ProtectedUsersTGTLife time.Duration `json:"protectedUsersTGTLife,omitempty"`
	MinPasswordLength     int           `json:"minPasswordLength,omitempty"`   // schema 3
	PasswordHistory       int           `json:"passwordHistory,omitempty"`     // schema 3
	MachineAccountQuota   int           `json:"machineAccountQuota,omitempty"` // schema 3
	RestrictDelegation    string        `json:"restrictDelegation,omitempty"`
	NameScripts           string        `json:"nameScripts,omitempty"`
}

type domainRecord struct {
	Realm       string       `json:"realm"`
	SID         sid.SID      `json:"sid"`
	NetBIOSName string       `json:"netbiosName"`
	Policy      policyRecord `json:"policy"`
	Created     time.Time    `json:"created,omitzero"`
}

// keyAAD binds a sealed key to its account, kvno, type and salt.
func keyAAD(name string, kvno uint32, e krb5.EncType, salt string) []byte {
	return appendKeyAAD(make([]byte, 0, 32+len(name)+len(salt)), name, kvno, e, salt)
}

// appendKeyAAD appends keyAAD's additional data to b.
func appendKeyAAD(b []byte, name string, kvno uint32, e krb5.EncType, salt string) []byte {
	n := fold(name)
	b = append(b, "hop directory key v1"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
	b = append(b, n...)
	b = binary.BigEndian.AppendUint32(b, kvno)
	b = binary.BigEndian.AppendUint32(b, uint32(e))
	b = binary.BigEndian.AppendUint32(b, uint32(len(salt)))
	b = append(b, salt...)
	return b
}

func sealKeys(mk *MasterKey, rand io.Reader, name string, keys []Key) ([]keyRecord, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	out := make([]keyRecord, len(keys))
	for i, k := range keys {
		sealed, err := mk.seal(rand, keyAAD(name, k.KVNO, k.EncType, k.Salt), k.material)
		if err != nil {
			return nil, err
		}
		out[i] = keyRecord{EType: int32(k.EncType), KVNO: k.KVNO, Salt: k.Salt, Sealed: sealed}
	}
	return out, nil
}

func openKeys(mk *MasterKey, name string, recs []keyRecord) ([]Key, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if err := checkKeyCount(recs); err != nil {
		return nil, err
	}
	out := make([]Key, len(recs))
	var aad []byte
	for i, r := range recs {
		m, err := openKey(nil, &aad, mk, name, r)
		if err != nil {
			return nil, err
		}
		out[i] = Key{EncType: krb5.EncType(r.EType), KVNO: r.KVNO, Salt: r.Salt, material: m}
	}
	return out, nil
}

func checkKeyCount(recs []keyRecord) error {
	if len(recs) > 3*maxKeysPerGeneration {
		return fmt.Errorf("%d keys is more than an account holds", len(recs))
	}
	return nil
}

// openKey appends the material of the sealed key r of the account named
// name to dst, building its additional data in *aad (reused).
func openKey(dst []byte, aad *[]byte, mk *MasterKey, name string, r keyRecord) ([]byte, error) {
	e := krb5.EncType(r.EType)
	n, ok := keyLen(e)
	if !ok {
		return nil, fmt.Errorf("key of unknown type %d", r.EType)
	}
	*aad = appendKeyAAD((*aad)[:0], name, r.KVNO, e, r.Salt)
	out, err := mk.openAppend(dst, *aad, r.Sealed)
	if err != nil {
		return nil, fmt.Errorf("%s key kvno %d %w (damaged record, or a key copied from another account)", e, r.KVNO, err)
	}
	if m := out[len(dst):]; len(m) != n {
		return nil, fmt.Errorf("%s key kvno %d is %d bytes, not %d", e, r.KVNO, len(m), n)
	}
	return out, nil
}

func encodeAccount(mk *MasterKey, rand io.Reader, a *Account) ([]byte, error) {
	keys, err := sealKeys(mk, rand, a.Name, a.Keys)
	if err != nil {
		return nil, err
	}
	old, err := sealKeys(mk, rand, a.Name, a.OldKeys)
	if err != nil {
		return nil, err
	}
	return json.Marshal(accountRecord{
		Name: a.Name, Kind: a.Kind.String(), RID: a.RID, SPNs: a.SPNs,
		DNSHostName: a.DNSHostName, UPN: a.UPN, Description: a.Description,
		Disabled: a.Disabled, Expires: a.Expires, PasswordLastSet: a.PasswordLastSet,
		PasswordExpires: a.PasswordExpires, NoPreauthRequired: a.NoPreauthRequired,
		AllowRC4: a.AllowRC4, MaxTicketLife: a.MaxTicketLife, MaxRenewLife: a.MaxRenewLife,
		KVNO: a.KVNO, Keys: keys, OldKeys: old, BadPwdCount: a.BadPwdCount,
		BadPwdTime: a.BadPwdTime, LockedUntil: a.LockedUntil, Created: a.Created, Modified: a.Modified,
		PrimaryGroupRID: a.PrimaryGroupRID, TrustedForDelegation: a.TrustedForDelegation,
		TrustedToAuthForDelegation: a.TrustedToAuthForDelegation, AllowedToDelegateTo: a.AllowedToDelegateTo,
		AllowedToActOnBehalfOf: a.AllowedToActOnBehalfOf, NotDelegated: a.Sensitive,
		NoAuthDataRequired: a.NoAuthDataRequired, ManagedBy: a.ManagedBy,
		Revision: a.Revision, CreatorSID: a.CreatorSID, SSHHostKeys: a.SSHHostKeys, PasswordHistory: a.history,
	})
}

// decodeAccount decodes the record stored under key (the folded name) and
// opens its keys. It checks the record's structure, not the naming rules of
// the day, so that records written under older rules still load.
func decodeAccount(mk *MasterKey, key string, raw []byte) (*Account, error) {
	var r accountRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, corrupt(bucketAccounts, key, err)
	}
	kind, err := r.check(key)
	if err != nil {
		return nil, err
	}
	keys, err := openKeys(mk, r.Name, r.Keys)
	if err != nil {
		return nil, corrupt(bucketAccounts, key, err)
	}
	if err := r.checkKVNO(key, keys); err != nil {
		return nil, err
	}
	old, err := openKeys(mk, r.Name, r.OldKeys)
	if err != nil {
		return nil, corrupt(bucketAccounts, key, err)
	}
	return r.account(kind, keys, old), nil
}

// check checks the structure of the record stored under key, and sets the
// defaults of fields older schemas did not write (the primary group, the
// revision). It returns the account's kind.
func (r *accountRecord) check(key string) (Kind, error) {
	fail := func(why string) (Kind, error) { return 0, corrupt(bucketAccounts, key, errors.New(why)) }
	if r.Name == "" || fold(r.Name) != key {
		return fail("the name " + strconv.Quote(r.Name) + " does not match the record's key")
	}
	kind, err := ParseKind(r.Kind)
	if err != nil {
		return fail("unknown kind " + strconv.Quote(r.Kind))
	}
	if len(r.SPNs) > maxSPNsPerAccount {
		return fail("too many SPNs")
	}
	if r.BadPwdCount < 0 || r.MaxTicketLife < 0 || r.MaxRenewLife < 0 {
		return fail("negative counter or lifetime")
	}
	if r.PrimaryGroupRID == 0 { // written by schema 1
		r.PrimaryGroupRID = defaultPrimaryGroup(kind, r.RID)
	} else if !validPrimaryGroup(kind, r.PrimaryGroupRID) {
		return fail(fmt.Sprintf("primary group RID %d is not one a %s can have", r.PrimaryGroupRID, kind))
	}
	if len(r.AllowedToDelegateTo) > maxDelegateTo || len(r.AllowedToActOnBehalfOf) > maxPrincipalList || len(r.ManagedBy) > maxPrincipalList {
		return fail("too many delegation entries")
	}
	for _, s := range r.AllowedToDelegateTo {
		if s == "" || len(s) > maxSPNLen {
			return fail("an empty or overlong delegation target")
		}
	}
	for _, l := range [][]sid.SID{r.AllowedToActOnBehalfOf, r.ManagedBy} {
		for _, s := range l {
			if s.IsZero() {
				return fail("an empty SID in a delegation list")
			}
		}
	}
	if len(r.SSHHostKeys) > maxHostKeys {
		return fail("too many SSH host keys")
	}
	for _, k := range r.SSHHostKeys {
		if k == "" || len(k) > maxHostKeyLen {
			return fail("an empty or overlong SSH host key")
		}
	}
	if len(r.PasswordHistory) > maxPasswordHistory {
		return fail("too long a password history")
	}
	for _, h := range r.PasswordHistory {
		if krb5.EncType(h.EType) != historyEType || len(h.Sealed) > 128 || len(h.Salt) > maxUPNLen*2 {
			return fail("a malformed password history entry")
		}
	}
	if r.Revision == 0 { // written before schema 3
		r.Revision = 1
	}
	return kind, nil
}

// checkKVNO checks that the current keys have the account's kvno.
func (r *accountRecord) checkKVNO(key string, keys []Key) error {
	for _, k := range keys {
		if err := r.checkKeyKVNO(key, k.EncType, k.KVNO); err != nil {
			return err
		}
	}
	return nil
}

// checkKeyKVNO checks that a current key of type e has the account's kvno.
func (r *accountRecord) checkKeyKVNO(key string, e krb5.EncType, kvno uint32) error {
	if kvno != r.KVNO {
		return corrupt(bucketAccounts, key, fmt.Errorf("current key %s has kvno %d, the account kvno %d", e, kvno, r.KVNO))
	}
	return nil
}

// account returns the account the checked record r describes, with its
// opened keys.
func (r *accountRecord) account(kind Kind, keys, old []Key) *Account {
	return &Account{
		Name: r.Name, Kind: kind, RID: r.RID, SPNs: r.SPNs, DNSHostName: r.DNSHostName,
		UPN: r.UPN, Description: r.Description, Disabled: r.Disabled, Expires: r.Expires,
		PasswordLastSet: r.PasswordLastSet, PasswordExpires: r.PasswordExpires,
		NoPreauthRequired: r.NoPreauthRequired, AllowRC4: r.AllowRC4,
		MaxTicketLife: r.MaxTicketLife, MaxRenewLife: r.MaxRenewLife,
		KVNO: r.KVNO, Keys: keys, OldKeys: old, BadPwdCount: r.BadPwdCount,
		BadPwdTime: r.BadPwdTime, LockedUntil: r.LockedUntil, Created: r.Created, Modified: r.Modified,
		PrimaryGroupRID: r.PrimaryGroupRID, TrustedForDelegation: r.TrustedForDelegation,
		TrustedToAuthForDelegation: r.TrustedToAuthForDelegation, AllowedToDelegateTo: r.AllowedToDelegateTo,
		AllowedToActOnBehalfOf: r.AllowedToActOnBehalfOf, Sensitive: r.NotDelegated,
		NoAuthDataRequired: r.NoAuthDataRequired, ManagedBy: r.ManagedBy,
		Revision: r.Revision, CreatorSID: r.CreatorSID, SSHHostKeys: r.SSHHostKeys, history: r.PasswordHistory,
	}
}

func encodeGroup(g *Group) ([]byte, error) {
	return json.Marshal(groupRecord{Name: g.Name, RID: g.RID, Description: g.Description, Members: g.Members, ManagedBy: g.ManagedBy, Revision: g.Revision})
}

func decodeGroup(key string, raw []byte) (*Group, error) {
	return decodeOwnGroup(key, bytes.Clone(raw))
}

// decodeOwnGroup is decodeGroup of a raw record it may keep (the group's
// members share its memory): one Tx.Get returned.
func decodeOwnGroup(key string, raw []byte) (*Group, error) {
	var r groupRecord
	if err := parseOwnGroupRecord(raw, &r); err != nil {
		return nil, corrupt(bucketGroups, key, err)
	}
	if r.Name == "" || fold(r.Name) != key {
		return nil, corrupt(bucketGroups, key, errors.New("the name "+strconv.Quote(r.Name)+" does not match the record's key"))
	}
	if len(r.Members) > memberLimit(r.RID) {
		return nil, corrupt(bucketGroups, key, errors.New("too many members"))
	}
	for _, m := range r.Members {
		if m == "" {
			return nil, corrupt(bucketGroups, key, errors.New("an empty member name"))
		}
	}
	if len(r.ManagedBy) > maxPrincipalList {
		return nil, corrupt(bucketGroups, key, errors.New("too many managers"))
	}
	for _, s := range r.ManagedBy {
		if s.IsZero() {
			return nil, corrupt(bucketGroups, key, errors.New("an empty manager SID"))
		}
	}
	if r.Revision == 0 { // written before schema 3
		r.Revision = 1
	}
	return &Group{Name: r.Name, RID: r.RID, Description: r.Description, Members: r.Members, ManagedBy: r.ManagedBy, Revision: r.Revision}, nil
}

func encodeDomain(d *Domain) ([]byte, error) {
	p := d.Policy
	return json.Marshal(domainRecord{
		Realm: string(d.Realm), SID: d.SID, NetBIOSName: d.NetBIOSName, Created: d.Created,
		Policy: policyRecord{
			MaxTicketLife: p.MaxTicketLife, MaxRenewLife: p.MaxRenewLife, ClockSkew: p.ClockSkew,
			LockoutThreshold: p.LockoutThreshold, LockoutWindow: p.LockoutWindow,
			LockoutDuration: p.LockoutDuration, ProtectedUsersTGTLife: p.ProtectedUsersTGTLife,
			MinPasswordLength: p.MinPasswordLength, PasswordHistory: p.PasswordHistory,
			MachineAccountQuota: p.MachineAccountQuota, RestrictDelegation: string(p.RestrictDelegation),
			NameScripts: p.NameScripts,
		},
	})
}

func decodeDomain(raw []byte) (*Domain, error) {
	var r domainRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, corrupt(bucketDomain, keyDomain, err)
	}
	if err := validateRealm(krb5.Realm(r.Realm)); err != nil {
		return nil, corrupt(bucketDomain, keyDomain, err)
	}
	if r.SID.IsZero() {
		return nil, corrupt(bucketDomain, keyDomain, errors.New("no domain SID"))
	}
	p := Policy{
		MaxTicketLife: r.Policy.MaxTicketLife, MaxRenewLife: r.Policy.MaxRenewLife,
		ClockSkew: r.Policy.ClockSkew, LockoutThreshold: r.Policy.LockoutThreshold,
		LockoutWindow: r.Policy.LockoutWindow, LockoutDuration: r.Policy.LockoutDuration,
		ProtectedUsersTGTLife: r.Policy.ProtectedUsersTGTLife,
		MinPasswordLength:     r.Policy.MinPasswordLength, PasswordHistory: r.Policy.PasswordHistory,
		MachineAccountQuota: r.Policy.MachineAccountQuota, RestrictDelegation: delegation.Restriction(r.Policy.RestrictDelegation),
		NameScripts: r.Policy.NameScripts,
	}
	if err := p.Validate(); err != nil {
		return nil, corrupt(bucketDomain, keyDomain, err)
	}
	return &Domain{Realm: krb5.Realm(r.Realm), SID: r.SID, NetBIOSName: r.NetBIOSName, Policy: p, Created: r.Created}, nil
}

func encodeUint(v uint64) []byte { return strconv.AppendUint(nil, v, 10) }

func decodeUint(bucket, key string, raw []byte) (uint64, error) {
	if len(raw) == 0 || len(raw) > 20 {
		return 0, corrupt(bucket, key, errors.New("not a number"))
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, corrupt(bucket, key, err)
	}
	return v, nil
}
