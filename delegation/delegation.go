// Package delegation is the vocabulary of delegation decisions that the KDC
// makes (package kdc: S4U2Self, S4U2Proxy, unconstrained delegation) and the
// admin API reports (GET /v1/explain, hop explain). It imports only the
// standard library, so that the admin client can carry an [Explanation]
// without depending on the KDC.
package delegation

// Explanation says whether a service may reach a target on a user's behalf,
// and why: every check in the order the KDC takes it, the rule that
// decided, and what to change.
type Explanation struct {
	User     string  `json:"user"`
	Service  string  `json:"service"`
	Target   string  `json:"target"`
	S4U2Self bool    `json:"s4u2self"`
	Allowed  bool    `json:"allowed"`
	Rule     string  `json:"rule"`
	Code     string  `json:"code,omitempty"`     // the KRB-ERROR code of a refusal
	NTStatus string  `json:"ntstatus,omitempty"` // and its NTSTATUS
	Reason   string  `json:"reason"`
	Checks   []Check `json:"checks"`
}

// Check is one step of a delegation decision, in the order the KDC takes
// them.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}
