//go:build !linux

package agent

import "os/exec"

// sessionNamespaces is false: mount namespaces are Linux's.
func sessionNamespaces() bool { return false }

func startWithKCMSocket(cmd *exec.Cmd, socket string) error { return startChild(cmd) }
