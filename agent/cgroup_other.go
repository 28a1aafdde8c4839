//go:build !linux

package agent

import "errors"

// Session cgroups exist on Linux only; elsewhere sessions end by process
// group.
type sessionCgroups struct{}

type sessionCgroup struct{ fd int }

func newSessionCgroups() (*sessionCgroups, error) {
	return nil, errors.New("cgroups exist on Linux only")
}

func (s *sessionCgroups) session(id string) (*sessionCgroup, error) { return nil, nil }

func (c *sessionCgroup) kill() error { return nil }

func (s *sessionCgroups) close() {}
