package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
)

// errFolder: a path that names a file names a folder.
var errFolder = errors.New("is a folder")

// readableFile checks that path is a file the agent can open.
func readableFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errFolder
	}
	return nil
}

// fileError is the one-line error for the file at path, named by the
// configuration's key, that readableFile refused: the key, its line, the
// path, what is wrong and what to do (ifMissing: what to do when the file
// does not exist). It wraps err.
func (c *Config) fileError(key, path string, err error, ifMissing string) error {
	var what string
	switch {
	case errors.Is(err, errFolder):
		what = "is a folder, not a file: give the file's path"
	case errors.Is(err, fs.ErrNotExist):
		what = "does not exist: " + ifMissing
	case errors.Is(err, fs.ErrPermission):
		what = "cannot be read by the agent: run it as root, or let the account it runs as read the file"
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		what = fmt.Sprintf("cannot be read (%v)", err)
	}
	return &fileProblem{msg: fmt.Sprintf("agent: %s = %q%s %s", key, path, c.where(key), what), err: err}
}

// fileProblem is a file the configuration names that the agent cannot
// use: the line a user sees, and the cause (readableFile's error).
type fileProblem struct {
	msg string
	err error
}

func (e *fileProblem) Error() string { return e.msg }
func (e *fileProblem) Unwrap() error { return e.err }

// fileOr is the configuration file's path, or the usual one.
func (c *Config) fileOr() string {
	if c.file != "" {
		return c.file
	}
	return "/etc/hop/agent.toml"
}

// checkFiles checks, at start, the files the configuration names: the
// host keytab and the host key (missing: generated) must be usable; an
// endpoint's keytab that is a folder is an error, one missing or
// unreadable a warning (its sessions are refused until it is there).
func (c *Config) checkFiles(warn func(error)) error {
	if err := readableFile(c.Keytab); err != nil {
		return c.fileError("keytab", c.Keytab, err, "join the host (hop host join --agent-config "+c.fileOr()+" writes it), or correct the path")
	}
	if err := readableFile(c.HostKey); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c.fileError("host_key", c.HostKey, err, "")
	}
	for _, e := range sortedEndpoints(c) {
		if err := c.checkEndpointKeytab(e); errors.Is(err, errFolder) {
			return err
		} else if err != nil {
			warn(err)
		}
	}
	return nil
}

// checkEndpointKeytab checks the keytab of a runas endpoint (keytab) or a
// JEA endpoint (network_keytab), if it names one.
func (c *Config) checkEndpointKeytab(e *Endpoint) error {
	key, path := endpointKey(e.Name)+".keytab", e.Keytab
	if e.jea != nil {
		key = endpointKey(e.Name) + ".network_keytab"
		path, _ = e.jea.policy.Network()
	}
	if path == "" {
		return nil
	}
	if err := readableFile(path); err != nil {
		return c.fileError(key, path, err, "export the account's keys there (hop keytab export ACCOUNT -o "+path+"), or correct the path")
	}
	return nil
}

// listenError is the one-line error for a listen address that cannot be
// bound.
func (c *Config) listenError(addr string, err error) error {
	where := c.where("listen")
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		_, port, _ := net.SplitHostPort(addr)
		return fmt.Errorf("agent: listen %s%s: something already listens there (another hop agent, or sshd?): stop it or choose another address; ss -ltnp 'sport = :%s' shows which program", addr, where, port)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("agent: listen %s%s: this host has no such address: give one of its addresses (ip -brief address shows them), or 0.0.0.0", addr, where)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("agent: listen %s%s: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE", addr, where)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return fmt.Errorf("agent: listen %s%s: %s", addr, where, strings.TrimPrefix(err.Error(), "listen tcp "+addr+": "))
}
