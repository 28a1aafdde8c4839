//go:build !linux

package kcm

import (
	"errors"
	"net"
)

func peerUID(c *net.UnixConn) (uint32, error) {
	return 0, errors.New("kcm: peer credentials are only read on Linux")
}
