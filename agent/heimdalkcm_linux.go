//go:build linux

package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// heimdalKCMSocket is where Heimdal's library connects for KCM: the
// heim-ipc service "ANY:org.h5l.kcm" of lib/krb5/kcm.c as a UNIX socket,
// "/var/run/.heim_<service>-socket" in lib/ipc/client.c. Heimdal 7 (Debian
// 12 ships 7.8) reads no krb5.conf key and no environment variable for it
// (HEIM_IPC_DIR came later, in Heimdal's master branch), so a session's
// program sees its broker there through a mount namespace of its own.
const heimdalKCMSocket = "/var/run/.heim_org.h5l.kcm-socket"

// sessionNamespaces reports whether the agent can give a session a mount
// namespace: it needs CAP_SYS_ADMIN, which root in a container may lack.
var sessionNamespaces = sync.OnceValue(func() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_SYS_ADMIN/32].Effective&(1<<(unix.CAP_SYS_ADMIN%32)) != 0
})

// startWithKCMSocket starts cmd, one of the agent's children, in a new
// mount namespace where Heimdal's KCM socket path is a bind mount of
// socket, the session's broker. The agent's own namespace is unchanged:
// the namespace is made on an OS thread of its own, which ends once the
// child started, and the child, forked from that thread, is born in it.
// cmd then drops to the session's account as any other child does. On
// error nothing started.
func startWithKCMSocket(cmd *exec.Cmd, socket string) error {
	target, err := heimdalKCMTarget()
	if err != nil {
		return err
	}
	return onDisposableThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("make a mount namespace for Heimdal's KCM socket: %w", err)
		}
		// The mount that holds the target stops propagating to the
		// host, so that the bind mount stays in the session; every other
		// mount keeps its propagation, so that mounts come and go as on
		// the host.
		parent, err := mountPointOf(filepath.Dir(target))
		if err != nil {
			return err
		}
		if err := unix.Mount("", parent, "", unix.MS_SLAVE, ""); err != nil {
			return fmt.Errorf("make %s a slave mount in the session's namespace: %w", parent, err)
		}
		if err := unix.Mount(socket, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind the session's KCM socket on %s: %w", target, err)
		}
		return startChild(cmd)
	})
}

// onDisposableThread runs f on a locked OS thread that ends when f
// returns, so that what f changes in the thread (its mount namespace)
// goes with it. The runtime ends a thread whose goroutine exits locked,
// except the main thread, which it keeps: f never runs there.
func onDisposableThread(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// While this goroutine holds the main thread, the next one
			// runs on another.
			errc <- onDisposableThread(f)
			runtime.UnlockOSThread()
			return
		}
		errc <- f()
	}()
	return <-errc
}

// heimdalKCMTarget resolves heimdalKCMSocket (/var/run is a link to /run on
// most systems) and makes sure something is there to mount on: when
// nothing is, an empty file, root's, 0644, which stays. A live socket (a
// Heimdal kcm daemon of the host) is left alone: only the sessions'
// namespaces see the broker over it.
func heimdalKCMTarget() (string, error) {
	dir, err := filepath.EvalSymlinks(filepath.Dir(heimdalKCMSocket))
	if err != nil {
		return "", fmt.Errorf("find Heimdal's KCM socket folder: %w", err)
	}
	target := filepath.Join(dir, filepath.Base(heimdalKCMSocket))
	for range 2 {
		fi, err := os.Lstat(target)
		if err == nil {
			if t := fi.Mode().Type(); t != 0 && t != fs.ModeSocket {
				return "", fmt.Errorf("%s is neither Heimdal's KCM socket nor a file (%v): remove it", target, t)
			}
			return target, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue // another session made it: check it
		}
		if err != nil {
			return "", fmt.Errorf("make a placeholder for Heimdal's KCM socket: %w", err)
		}
		err = f.Chmod(0o644)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("make a placeholder for Heimdal's KCM socket: %w", err)
		}
		return target, nil
	}
	return "", fmt.Errorf("%s keeps changing", target)
}

// mountPointOf returns the mount point of the mount that holds dir, an
// absolute path without links, in the calling thread's namespace.
func mountPointOf(dir string) (string, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	best := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// ID parent major:minor root mount-point options ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountInfo(fields[4])
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best = mp
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read the mount table: %w", err)
	}
	if best == "" {
		return "", fmt.Errorf("no mount holds %s", dir)
	}
	return best, nil
}

// unescapeMountInfo undoes mountinfo's octal escapes (\040 is a space).
func unescapeMountInfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
