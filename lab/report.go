package lab

import "hop/krb5/kcm"

// Report is everything the lab did and measured (hop lab --json).
type Report struct {
	Realm string `json:"realm"`
	Dir   string `json:"dir"`
	// Removed reports whether the lab removed its folder when it ended
	// (a temporary one, not kept).
	Removed bool `json:"removed"`
	// Root reports whether the lab ran as root: sessions as real local
	// accounts, one per user. Fidelity says what a run as an ordinary
	// user could not do as a real deployment does (empty as root).
	Root     bool     `json:"root"`
	Fidelity []string `json:"fidelity"`
	// Kvno is the MIT kvno the sessions ran ("" when none is installed:
	// the kvno cells are then absent).
	Kvno  string `json:"kvno"`
	Hosts []Host `json:"hosts"`
	Users []User `json:"users"`
	// Methods are the seed's comparison, measured: every method for
	// every user.
	Methods []Method `json:"methods"`
	// Guard compares a plain session, remote-guard and restricted-admin as
	// the Remote Credential Guard document does, from the cells above.
	Guard Comparison `json:"guard"`
	// Beyond is what no original does, performed.
	Beyond []Demo `json:"beyond"`
	// Seconds is how long the lab took, from start to the last cell.
	Seconds float64 `json:"seconds"`
	// Keep says how to use a lab left running (--keep), nil otherwise.
	Keep *Kept `json:"keep,omitempty"`
}

// Host is one machine of the lab.
type Host struct {
	Name string `json:"name"` // b.lab.test
	Role string `json:"role"` // what it is in the lab
	Addr string `json:"addr"` // where it listens ("" for the client)
}

// User is one of the users every method is performed for.
type User struct {
	Name  string `json:"name"`  // the account (alice)
	Kind  string `json:"kind"`  // normal, sensitive, protected or helpdesk
	About string `json:"about"` // what makes the account that kind
	Local string `json:"local"` // the local account its sessions run as on B
}

// Method is one way of making the second hop, performed for every user.
type Method struct {
	ID    string `json:"id"`    // rbcd
	Title string `json:"title"` // resource-based constrained delegation
	// Seed is the source document's verdict on the method, in a phrase.
	Seed string `json:"seed"`
	// How is the hop command the users ran (with USER for the account).
	How string `json:"how"`
	// Configured is what had to be set up for it, by whom.
	Configured []Action `json:"configured"`
	// DomainAdmin reports whether a Domain Admin had to act for it.
	DomainAdmin bool   `json:"domain_admin"`
	Cells       []Cell `json:"cells"`
}

// Action is one configuration step, by the account that would take it in
// a real domain.
type Action struct {
	By          string `json:"by"`           // Administrator, carol, B's administrator, the user
	DomainAdmin bool   `json:"domain_admin"` // By is a Domain Admin acting as one
	What        string `json:"what"`         // the setting, in words
	Command     string `json:"command"`      // the command, as typed
}

// Cell is one method performed for one user: A → B, then from B → C.
type Cell struct {
	User string `json:"user"`
	// Session is "opened", or why B refused the first hop.
	Session string `json:"session"`
	// SecondHop reports whether hop exec c.lab.test from the session on B
	// worked; Reason is why not (the command's own error).
	SecondHop bool   `json:"second_hop"`
	Reason    string `json:"reason,omitempty"`
	// CSaw is the principal C authenticated ("" when the hop failed).
	CSaw string `json:"c_saw"`
	// Kvno is MIT kvno host/c.lab.test in the session (nil without kvno).
	Kvno *Outcome `json:"kvno,omitempty"`
	// Reached is what credential material reached B, by kind (the
	// kcm.Hold* kinds; empty: nothing): from the broker's report, checked
	// by Scan. Holds is the broker's report itself.
	Reached []string      `json:"reached"`
	Holds   []kcm.Holding `json:"holds"`
	Scan    Scan          `json:"scan"`
	// After is what B could still do once the session had ended, tried.
	After After `json:"after"`
	// Seconds is how long the cell took.
	Seconds float64 `json:"seconds"`
}

// Outcome is a command's result.
type Outcome struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"` // its last line of output
}

// Scan is what a search of B's session state found of the user's secrets.
type Scan struct {
	// During are the secrets found while the session ran (in the agent's
	// memory or in B's files), After those still there once it ended.
	During []string `json:"during"`
	After  []string `json:"after"`
	// Agrees reports whether the broker's report explains every secret
	// found during the session, and nothing was left after.
	Agrees bool `json:"agrees"`
	// Bytes is how much of the agent's memory was read (0: it could not
	// be read, and the scan covered files only).
	Bytes int64 `json:"bytes"`
}

// After is what was tried once the session had ended.
type After struct {
	// AsUser reports whether anything B held or holds still reached C as
	// the user; Summary says what, in a phrase.
	AsUser  bool   `json:"as_user"`
	Summary string `json:"summary"`
	// Until is when what reached C as the user stops working (its
	// ticket's end time, RFC 3339; "" when nothing did).
	Until string `json:"until,omitempty"`
	Tries []Try  `json:"tries"`
}

// Try is one attempt to reach C after the session.
type Try struct {
	With   string `json:"with"`            // what was used
	Short  string `json:"short"`           // the same, in a few words
	OK     bool   `json:"ok"`              // it got a ticket to C or a session there
	As     string `json:"as"`              // whose ticket it got
	Result string `json:"result"`          // the ticket's end, or the refusal
	Until  string `json:"until,omitempty"` // when what worked expires (RFC 3339)
}

// Comparison is the Remote Credential Guard document's table, measured.
type Comparison struct {
	Columns []string        `json:"columns"` // the modes compared
	Rows    []ComparisonRow `json:"rows"`
}

// ComparisonRow is one feature of the comparison: a cell per column.
type ComparisonRow struct {
	Feature string   `json:"feature"`
	Cells   []string `json:"cells"`
}

// Demo is one thing no original does, performed.
type Demo struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	OK      bool     `json:"ok"` // it behaved as hop promises
	Steps   []string `json:"steps"`
	Seconds float64  `json:"seconds"`
}

// Kept is how to use a lab left running.
type Kept struct {
	Env      []string `json:"env"`      // export these
	Commands []string `json:"commands"` // then try these
	Down     string   `json:"down"`     // and stop it with this
	// SSHConfig is an ssh_config block for OpenSSH's ssh to B as the
	// first user, with the command that writes its known_hosts file.
	SSHConfig string `json:"ssh_config"`
}
