package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

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

// passwdFile is where login shells are read first (os/user does not give
// them).
var passwdFile = "/etc/passwd"

// getentPath is the getent(1) that looks up the accounts of other NSS
// sources (sssd, LDAP, winbind): a fixed path, run without a shell.
const getentPath = "/usr/bin/getent"

// getentTimeout bounds a getent lookup.
const getentTimeout = 5 * time.Second

// maxPasswdEntry bounds the passwd entry read from getent.
const maxPasswdEntry = 64 << 10

// lookupPasswdEntry returns name's passwd(5) line from the name service
// (getent passwd NAME); tests replace it.
var lookupPasswdEntry = getentPasswd

// errShell marks an account whose login shell cannot be told.
var errShell = errors.New("agent: the login shell cannot be determined")

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
	lu, err := fromOSUser(u)
	if errors.Is(err, errShell) {
		// The agent's own account (lab mode): its shell is no boundary.
		lu, err = fromOSUserShell(u, "/bin/sh")
	}
	return lu, err
}

func fromOSUser(u *user.User) (*localUser, error) {
	shell, err := loginShell(u.Username)
	if err != nil {
		return nil, err
	}
	return fromOSUserShell(u, shell)
}

func fromOSUserShell(u *user.User, shell string) (*localUser, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("agent: user %s has uid %q", u.Username, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("agent: user %s has gid %q", u.Username, u.Gid)
	}
	lu := &localUser{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir, Shell: shell}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				lu.Groups = append(lu.Groups, uint32(g))
			}
		}
	}
	return lu, nil
}

// loginShell returns name's login shell: from the passwd file, else, for
// an account of another name service (a directory user of sssd or LDAP),
// from getent passwd NAME, so that its nologin or restricted shell is
// honoured. An empty shell is /bin/sh (passwd(5)). An account whose
// shell cannot be read, or is not an absolute path, is an error
// (errShell): a session must not run a shell the account does not have.
func loginShell(name string) (string, error) {
	if f, err := os.Open(passwdFile); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			if sh, ok := passwdShell(sc.Text(), name); ok {
				return checkShell(name, sh)
			}
		}
	}
	line, err := lookupPasswdEntry(context.Background(), name)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", errShell, name, err)
	}
	sh, ok := passwdShell(strings.TrimRight(line, "\n"), name)
	if !ok {
		return "", fmt.Errorf("%w: %s: the name service has no passwd entry for it", errShell, name)
	}
	return checkShell(name, sh)
}

// passwdShell returns the shell field of line if it is name's passwd
// entry.
func passwdShell(line, name string) (string, bool) {
	fields := strings.Split(line, ":")
	if len(fields) != 7 || fields[0] != name {
		return "", false
	}
	return fields[6], true
}

func checkShell(name, sh string) (string, error) {
	switch {
	case sh == "":
		return "/bin/sh", nil
	case !filepath.IsAbs(sh):
		return "", fmt.Errorf("%w: %s has the shell %q, not an absolute path", errShell, name, sh)
	}
	return sh, nil
}

// getentPasswd runs getent passwd NAME (no shell, fixed path, bounded in
// time and output) and returns the first line of its answer.
func getentPasswd(ctx context.Context, name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "-") || strings.ContainsAny(name, ":\n\x00") {
		return "", fmt.Errorf("agent: %q is not a user name", name)
	}
	ctx, cancel := context.WithTimeout(ctx, getentTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, getentPath, "passwd", name)
	cmd.Env = []string{}
	out := &limitedBuffer{max: maxPasswdEntry}
	cmd.Stdout = out
	if err := startChild(cmd); err != nil {
		return "", fmt.Errorf("agent: %s: %w", getentPath, err)
	}
	err := cmd.Wait()
	childReaped(cmd.Process.Pid)
	if err != nil {
		// getent exits 2 for an unknown key.
		return "", fmt.Errorf("agent: %s passwd %s: %w", getentPath, name, err)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	return line, nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	strings.Builder
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Builder.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// noLogin reports whether shell refuses interactive logins.
func noLogin(shell string) bool {
	switch filepath.Base(shell) {
	case "nologin", "false":
		return true
	}
	return false
}

// mapUser returns the local account name of principal p, whose PAC names
// the directory account pacName (KERB_VALIDATION_INFO's EffectiveName, ""
// if none), and whether [user_map] chose it: the entry for the principal
// (any realm), else the entry for its account name, else the account name
// itself. It returns "" when p has no account name (see accountName) and
// no entry of its own: a principal of another realm, or one that is not
// plainly a user's name, is never mapped by default.
func (c *Config) mapUser(p krb5.Principal, pacName string) (local string, explicit bool) {
	full := p.String()
	keys := make([]string, 0, len(c.UserMap))
	for k := range c.UserMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "@") && strings.EqualFold(k, full) {
			return c.UserMap[k], true
		}
	}
	name := c.accountName(p, pacName)
	if name == "" {
		return "", false
	}
	if v, ok := c.UserMap[name]; ok {
		return v, true
	}
	return name, false
}

// accountName is the directory account principal p authenticates, for
// user_map name keys and the default mapping: the single component of a
// plain user principal of the agent's realm (alice@EXAMPLE.TEST), or, when
// the ticket names the account another way — by one of its SPNs
// (postgres/db.example.test), a UPN or enterprise name, another case — the
// PAC's account name (its sAMAccountName), never the alias's first
// component. "" for a principal of another realm, and for an alias
// without a PAC account name.
func (c *Config) accountName(p krb5.Principal, pacName string) string {
	if !p.Realm.Equal(krb5.Realm(c.Realm)) {
		return ""
	}
	plain := ""
	if len(p.Name.Components) == 1 && !strings.Contains(p.Name.Components[0], "@") {
		plain = p.Name.Components[0]
	}
	if pacName == "" || strings.EqualFold(pacName, plain) {
		return plain
	}
	return pacName
}

// systemAccount reports whether u is root or a system account (a uid
// below UID_MIN of login.defs, default 1000): an account a principal
// reaches only through an explicit [user_map] entry, never by having the
// same name (a domain account "root", "postgres" or "backup").
func systemAccount(u *localUser) bool {
	return u.UID == 0 || u.UID < uidMin()
}

// loginDefsFile is where UID_MIN is read.
var loginDefsFile = "/etc/login.defs"

// defaultUIDMin is UID_MIN when login.defs does not set it.
const defaultUIDMin = 1000

// uidMin returns login.defs' UID_MIN, the first uid of ordinary users.
func uidMin() uint32 {
	f, err := os.Open(loginDefsFile)
	if err != nil {
		return defaultUIDMin
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "UID_MIN" {
			if n, err := strconv.ParseUint(fields[1], 10, 32); err == nil && n > 0 {
				return uint32(n)
			}
			break
		}
	}
	return defaultUIDMin
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
