// Package lab is hop's main job on one machine: hop lab stands up a
// throw-away domain on loopback (the KDC and its admin API, agents for
// b.lab.test and c.lab.test, the client as host A), then performs every
// way of making the second hop — none, CredSSP, resource-based and classic
// constrained delegation, unconstrained delegation, JEA, RunAs, explicit
// credentials, Remote Credential Guard and Restricted Admin — for a normal
// user, a sensitive account, a member of Protected Users and a helpdesk
// administrator, and reports what happened, cell by cell.
//
// Every cell is measured, not assumed: the lab runs the real hop binary
// and MIT's kvno as a user would, asks B's credential broker what reached
// B, checks that against a scan of B's memory and files, and after the
// session tries, as an attacker holding B would, to reach C with what it
// could have taken. The lab drives the system from outside: it imports no
// server package; it talks to it through the hop binary, the KDC's
// protocol and the sessions' KCM sockets.
//
// Run starts everything, performs the methods and returns the Report;
// with Options.Keep it leaves the lab running (Down stops it). The lab
// never leaves processes or local accounts behind.
package lab
