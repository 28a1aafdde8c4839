// Package thirdparty drives third-party Kerberos V5 implementations from Go
// tests: MIT krb5's clients (kinit, klist, kvno, kdestroy, ktutil) and KDC
// (krb5kdc), Heimdal's clients (kinit, klist, kgetcred) and KDC, and
// impacket's getTGT.py. hop's interoperability is proved against them: they
// are independent implementations of RFC 4120 (the protocol), RFC 3961/3962
// and RFC 8009 (the AES encryption types) and RFC 4120 §7.2.1-§7.2.2 (UDP and
// TCP transport on port 88). It also starts PostgreSQL servers that
// authenticate their users with GSSAPI through MIT's library (StartPostgres),
// queried with psql (RequirePsql).
//
// scripts/install-test-deps installs them (MIT and impacket as Debian
// packages, Heimdal unpacked into a private prefix because its packages
// conflict with MIT's) and writes $HOP_TOOLS_DIR/env (default
// /opt/hop-tools/env) with their paths; scripts/test sources that file. When
// a test runs without those variables, the helpers read the env file
// themselves.
//
// Every Require* helper skips the test when its tool is missing, except when
// HOP_INTEROP=1 (as in CI): then a missing tool fails the test, so that CI
// cannot pass by skipping the interoperability tests.
//
// Processes run with a timeout (Run), in their own process group, which is
// killed when they end; KDCs listen on loopback addresses only and are stopped
// by t.Cleanup. impacket talks to port 88 over TCP only (its -dc-ip option
// takes no port), so OnPort88 finds a loopback address (127.0.0.88 first)
// where port 88 is free.
package thirdparty
