package admin

import (
	"context"
	"encoding/json"
	"time"

	"hop/delegation"
)

// Service is everything the hop command line does to a domain. Each call
// acts for one caller, whose rights the directory checks. A rev argument
// other than 0 makes a change conditional on the object's revision.
type Service interface {
	Whoami(ctx context.Context) (*Identity, error)

	Domain(ctx context.Context) (*Domain, error)
	SetPolicy(ctx context.Context, c PolicyChange) (*Domain, error)

	Accounts(ctx context.Context, kind string) ([]Account, error)
	Account(ctx context.Context, name string) (*Account, error)
	CreateAccount(ctx context.Context, a NewAccount) (*Account, error)
	UpdateAccount(ctx context.Context, name string, rev uint64, c AccountChange) (*Account, error)
	DeleteAccount(ctx context.Context, name string, rev uint64) error
	SetPassword(ctx context.Context, name string, rev uint64, c PasswordChange) (*Account, error)
	// AccountKeys returns the account's keys for a keytab, after giving it
	// new random keys if r.Rotate.
	AccountKeys(ctx context.Context, name string, rev uint64, r KeysRequest) (*Keys, error)
	AddSPN(ctx context.Context, name string, rev uint64, spn string) (*Account, error)
	RemoveSPN(ctx context.Context, name string, rev uint64, spn string) (*Account, error)

	Groups(ctx context.Context) ([]Group, error)
	Group(ctx context.Context, name string) (*Group, error)
	CreateGroup(ctx context.Context, g NewGroup) (*Group, error)
	DeleteGroup(ctx context.Context, name string, rev uint64) error
	AddMember(ctx context.Context, group string, rev uint64, member string) (*Group, error)
	RemoveMember(ctx context.Context, group string, rev uint64, member string) (*Group, error)
	SetGroupManagers(ctx context.Context, group string, rev uint64, managers []string) (*Group, error)

	Explain(ctx context.Context, user, service, target string, s4u2self bool) (*delegation.Explanation, error)

	CreateJoinToken(ctx context.Context, r JoinTokenRequest) (*JoinToken, error)
	Join(ctx context.Context, r JoinRequest) (*Joined, error)
	// HostKeys returns the SSH host keys registered for a host (by its DNS
	// name), in authorized_keys format; an unknown host is ErrNotFound.
	HostKeys(ctx context.Context, host string) ([]string, error)
	// DelegationPolicy returns the domain's restriction of its clients'
	// delegation modes (hop domain set --restrict-delegation). Like host
	// keys, it is public: clients read it without authenticating.
	DelegationPolicy(ctx context.Context) (*DelegationPolicy, error)

	// Audit returns audit log lines, oldest first (Domain Admins only).
	Audit(ctx context.Context, q AuditQuery) ([]json.RawMessage, error)
}

// AuditQuery selects audit events: those at or after Since, naming
// Principal (as client, service, actor or target), of Type; at most Limit
// (0 = DefaultAuditLimit), the newest ones.
type AuditQuery struct {
	Since     time.Time `json:"since,omitzero"`
	Principal string    `json:"principal,omitempty"`
	Type      string    `json:"type,omitempty"`
	Limit     int       `json:"limit,omitempty"`
}

// Audit query bounds.
const (
	DefaultAuditLimit = 1000
	MaxAuditLimit     = 100_000
)
