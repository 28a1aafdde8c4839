//go:build !linux

package serve

import "syscall"

// reusePortWorks: elsewhere one UDP socket is read by several goroutines.
const reusePortWorks = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
