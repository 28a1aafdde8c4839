// Package interop proves, with real third-party clients, that hop's realm
// works as a user would use it: the hop binary is built and driven through
// its command line (domain init, account add, keytab export, client-config,
// kdc), and MIT's kinit/klist/kvno, Heimdal's kinit/kgetcred and impacket's
// getTGT.py/getST.py are the judges. The package has only tests.
package interop
