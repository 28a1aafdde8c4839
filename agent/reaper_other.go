//go:build !linux

package agent

import (
	"context"
	"os/exec"
)

func startChild(cmd *exec.Cmd) error { return cmd.Start() }

func childReaped(pid int) {}

// waitExited returns at once: without waitid's WNOWAIT, "signal" requests
// race with the leader's exit as they do with other SSH servers.
func waitExited(pid int) {}

// reapOrphans is a no-op outside Linux (no child subreapers).
func reapOrphans(ctx context.Context) error { return nil }
