// Package importpolicy holds the test that keeps hop's layers pointing down:
// which of the module's packages each package may import, directly or
// through others. It has no code; the rules are in policy_test.go, one per
// layer, each with the reason a newcomer needs. A change that adds a
// forbidden edge fails the test with a message that names the edge and the
// chain of imports that makes it.
package importpolicy
