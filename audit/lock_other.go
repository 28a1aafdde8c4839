//go:build !unix

package audit

import "os"

// flock is a no-op where flock does not exist: there, only one process
// may write a log at a time (hop runs on Linux).
func flock(*os.File, bool) error { return nil }

func funlock(*os.File) error { return nil }
