package agent

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"hop/krb5"
)

// localUser is a local account sessions run as.
type localUser struct {
	Name   string
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups
	Home   string
	Shell  string
}

// passwdFile is where login shells are read (os/user does not give them).
var passwdFile = "/etc/passwd"

// lookupLocalUser finds the account name.
func lookupLocalUser(name string) (*localUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	return fromOSUser(u)
}

// currentUser is the agent's own account.
func currentUser() (*localUser, error) {
	u, err := user.LookupId(strconv.Itoa(os.Getuid()))
	if err != nil {
		// A uid without a passwd entry (containers): run as it anyway.
		home := os.Getenv("HOME")
		if home == "" {
			home = "/"
		}
		return &localUser{Name: strconv.Itoa(os.Getuid()), UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Home: home, Shell: "/bin/sh"}, nil
	}
	return fromOSUser(u)
}

func fromOSUser(u *user.User) (*localUser, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("agent: user %s has uid %q", u.Username, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("agent: user %s has gid %q", u.Username, u.Gid)
	}
	lu := &localUser{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir, Shell: loginShell(u.Username)}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				lu.Groups = append(lu.Groups, uint32(g))
			}
		}
	}
	return lu, nil
}

// loginShell reads name's shell from the passwd file (default /bin/sh).
func loginShell(name string) string {
	f, err := os.Open(passwdFile)
	if err != nil {
		return "/bin/sh"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name {
			if sh := fields[6]; sh != "" && filepath.IsAbs(sh) {
				return sh
			}
			break
		}
	}
	return "/bin/sh"
}

// noLogin reports whether shell refuses interactive logins.
func noLogin(shell string) bool {
	switch filepath.Base(shell) {
	case "nologin", "false":
		return true
	}
	return false
}

// mapUser returns the local account name of principal p: the user_map
// entry for the principal, else for its user part, else the user part.
func (c *Config) mapUser(p krb5.Principal) string {
	user := userPart(p)
	for k, v := range c.UserMap {
		if strings.EqualFold(k, p.String()) {
			return v
		}
	}
	for k, v := range c.UserMap {
		if !strings.Contains(k, "@") && k == user {
			return v
		}
	}
	return user
}

// userPart is a principal's first component without an enterprise
// suffix: alice for alice@EXAMPLE.TEST and alice@example.test@EXAMPLE.TEST.
func userPart(p krb5.Principal) string {
	if len(p.Name.Components) == 0 {
		return ""
	}
	u := p.Name.Components[0]
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return u
}
