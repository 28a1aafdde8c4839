package directory

import "slices"

// Privileged groups and protected accounts.
//
// Active Directory protects the members of its administrative groups from
// the people their other permissions were delegated to: every hour the
// SDProp task gives each protected object (the privileged groups, their
// members transitively, and the accounts Administrator and krbtgt) the
// security descriptor of the AdminSDHolder object, removing the access
// that managers were granted ([MS-ADTS] §3.1.1.6.1.2, "Protected
// Objects"). hop applies the same rule at once, in each decision: the
// managers of a protected account may not reset its password or keys, edit
// its SPNs or its resource-based delegation list, and only Domain Admins
// change the membership of a privileged group.

// Well-known RIDs of the privileged domain groups hop does not create
// ([MS-DTYP] §2.4.2.4); a group with one of them (from another tool) is
// privileged too.
const (
	ridSchemaAdmins     = 518
	ridEnterpriseAdmins = 519
	ridReadOnlyDCs      = 521
)

// privilegedRIDs are the RIDs of the privileged groups of the domain: the
// protected groups of [MS-ADTS] §3.1.1.6.1.2 that live in a domain (Domain
// Admins, Domain Controllers, Schema Admins, Enterprise Admins, Read-only
// Domain Controllers), and Protected Users, which hop adds because removing
// a member lifts that member's protection against delegation and RC4
// ([MS-KILE] §3.3.5.1), a change as sensitive as an administrator's.
var privilegedRIDs = []uint32{RIDDomainAdmins, RIDDomainControllers, ridSchemaAdmins, ridEnterpriseAdmins, ridReadOnlyDCs, RIDProtectedUsers}

// privilegedNames are the folded names of the privileged groups, including
// the protected groups of the BUILTIN domain (Administrators, Account
// Operators, Server Operators, Print Operators, Backup Operators,
// Replicator; [MS-ADTS] §3.1.1.6.1.2), which hop does not create: a group
// created under one of these names is taken to mean what it means in AD.
var privilegedNames = []string{
	"domain admins", "domain controllers", "schema admins", "enterprise admins",
	"read-only domain controllers", "protected users", "administrators",
	"account operators", "server operators", "print operators", "backup operators",
	"replicator",
}

// protectedAccountRIDs are the accounts protected by themselves
// (Administrator and krbtgt, [MS-ADTS] §3.1.1.6.1.2) and hop's kpasswd
// service account.
var protectedAccountRIDs = []uint32{RIDAdministrator, RIDKrbtgt, RIDKadmin}

// isPrivilegedGroup reports whether g is one of the privileged groups
// themselves.
func isPrivilegedGroup(g *Group) bool {
	return slices.Contains(privilegedRIDs, g.RID) || slices.Contains(privilegedNames, fold(g.Name))
}

// protectedAccount says why account a is protected ("" if it is not): "the
// built-in account krbtgt", "a member of Domain Admins". Membership counts
// directly, through nested groups and as the primary group.
func protectedAccount(gr groupGraph, a *Account) string {
	if slices.Contains(protectedAccountRIDs, a.RID) {
		return "the built-in account " + a.Name
	}
	for _, g := range closure(gr, a.Name, a.PrimaryGroupRID) {
		if isPrivilegedGroup(g) {
			return "a member of " + g.Name
		}
	}
	return ""
}

// protectedGroup says why group g is privileged ("" if it is not): "the
// privileged group Domain Admins", or "a member of Domain Admins" for a
// group nested in one, whose membership is as sensitive.
func protectedGroup(gr groupGraph, g *Group) string {
	if isPrivilegedGroup(g) {
		return "the privileged group " + g.Name
	}
	for _, p := range closure(gr, g.Name, 0) {
		if isPrivilegedGroup(p) {
			return "a member of " + p.Name
		}
	}
	return ""
}

// ProtectedBy says why the account or group named name is protected: ""
// when it is not, else a phrase naming the privileged group ("a member of
// Domain Admins", "the privileged group Domain Controllers", "the built-in
// account krbtgt"). Only Domain Admins change a protected account's
// password, keys, SPNs and delegation list, or a protected group's
// members; its managers may not (AdminSDHolder, [MS-ADTS] §3.1.1.6.1.2).
func (s *Snapshot) ProtectedBy(name string) string {
	if a, ok := s.Account(name); ok {
		return protectedAccount(s, a)
	}
	if g, ok := s.Group(name); ok {
		return protectedGroup(s, g)
	}
	return ""
}
