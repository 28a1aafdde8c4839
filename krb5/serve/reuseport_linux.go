package serve

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortWorks: Linux spreads the datagrams of a SO_REUSEPORT group over
// its sockets, by the sender's address and port.
const reusePortWorks = true

// reusePort sets SO_REUSEPORT on a socket before it is bound.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
