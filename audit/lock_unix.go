//go:build unix

package audit

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockTimeout bounds how long a writer or verifier waits for another
// process's lock on the head file.
const lockTimeout = 10 * time.Second

// flock takes the head file's lock, exclusive or shared, polling so that
// a stuck process cannot stall the caller for more than lockTimeout.
func flock(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	deadline := time.Now().Add(lockTimeout)
	wait := 500 * time.Microsecond
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.EWOULDBLOCK):
			return fmt.Errorf("audit: lock %s: %w", f.Name(), err)
		case time.Now().After(deadline):
			return fmt.Errorf("audit: %s stayed locked by another process for %s (is a hop command stuck?)", f.Name(), lockTimeout)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}

func funlock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_UN)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
