// Package pkgdoc holds a test that every package of the module has exactly
// one package comment (as tailscale's pkgdoc_test does); it has no code.
package pkgdoc
