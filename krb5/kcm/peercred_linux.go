package kcm

import (
	"fmt"
	"net"
	"syscall"
)

// peerUID returns the uid of the process at the other end of c (SO_PEERCRED,
// as the kernel recorded it at connect).
func peerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("kcm: peer credentials: %w", err)
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, fmt.Errorf("kcm: peer credentials: %w", err)
	}
	if credErr != nil {
		return 0, fmt.Errorf("kcm: peer credentials: %w", credErr)
	}
	return cred.Uid, nil
}
