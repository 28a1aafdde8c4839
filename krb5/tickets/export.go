package tickets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hop/internal/atomicfile"
	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/config"
)

// ParseSPN parses a service principal name as hop's commands take it:
// service/host (more components are allowed), with an optional @REALM,
// e.g. cifs/c.example.test or HTTP/web.example.test@EXAMPLE.TEST. A name
// of two components has the type NT-SRV-HST, as HostService's.
func ParseSPN(s string) (krb5.Principal, error) {
	p, err := krb5.ParsePrincipal(s)
	if err != nil || len(p.Name.Components) < 2 {
		return krb5.Principal{}, fmt.Errorf("tickets: %q is not a service principal name such as cifs/c.example.test (service/host, @REALM optional)", s)
	}
	if len(p.Name.Components) == 2 {
		p.Name.Type = krb5.NTSrvHst
	}
	return p, nil
}

// ErrNotService is wrapped by Export's error for a name that is not a
// service's: a ticket-granting service (krbtgt/…), whose ticket Export
// never writes.
var ErrNotService = errors.New("tickets: export writes service tickets only, never a ticket-granting ticket")

func isTGS(n krb5.PrincipalName) bool {
	return len(n.Components) > 0 && strings.EqualFold(n.Components[0], "krbtgt")
}

// Export obtains a service ticket for each of spns through the credential
// cache in use (ServiceTicket: in a hop session, the session's broker
// obtains it by the session's delegation mode) and writes those tickets,
// and nothing else, into a new credential cache file at path, for a program
// that cannot read the cache in use (Java, gokrb5 and others without KCM).
// The file is in MIT's format with mode 0600, and its principal is the
// cache's. A ticket-granting ticket is never written: a krbtgt name is
// refused (ErrNotService). An SPN without a realm is in the realm of the
// cache's principal; another realm is refused.
//
// path is a file path or FILE:path. An existing file is refused (an error
// wrapping os.ErrExist) unless force; either way the file appears whole
// (written beside it, then linked or renamed into place), and either every
// ticket is written or nothing is. Export returns the new file described.
func (s *Source) Export(ctx context.Context, spns []krb5.Principal, path string, force bool) (*Listing, error) {
	file, err := exportPath(path)
	if err != nil {
		return nil, err
	}
	if len(spns) == 0 {
		return nil, errors.New("tickets: export needs at least one service principal name, e.g. HTTP/web.example.test")
	}
	for _, p := range spns {
		if isTGS(p.Name) {
			return nil, fmt.Errorf("%w: %s names a ticket-granting service; name the services the program reaches instead (e.g. HTTP/web.example.test)", ErrNotService, p)
		}
		if len(p.Name.Components) < 2 {
			return nil, fmt.Errorf("tickets: %s is not a service principal name such as cifs/c.example.test", p)
		}
	}
	if err := checkTarget(file, force); err != nil {
		return nil, err
	}

	cc, src, err := s.openLoaded(ctx)
	if err != nil {
		return nil, err
	}
	cc.close()
	realm := src.Default.Realm
	out := &ccache.Cache{Version: 4, Default: src.Default, TimeOffset: src.TimeOffset, HasTimeOffset: src.HasTimeOffset}
	defer func() {
		for i := range out.Credentials {
			clear(out.Credentials[i].Key)
		}
	}()
	for _, p := range spns {
		if p.Realm != "" && !p.Realm.Equal(realm) {
			return nil, fmt.Errorf("tickets: %s is in realm %s, but the tickets of %s are in %s: export tickets of the cache's realm only", p, p.Realm, src.Default, realm)
		}
		p.Realm = realm
		if _, ok := out.Find(p); ok {
			continue
		}
		cred, err := s.ServiceTicket(ctx, p.Name)
		if err != nil {
			return nil, fmt.Errorf("tickets: no ticket for %s, nothing written to %s: %w", p, file, err)
		}
		c := ccache.FromClient(cred)
		cred.SessionKey.Zero()
		if isTGS(c.Server.Name) {
			clear(c.Key)
			return nil, fmt.Errorf("%w: the ticket obtained for %s is for %s; nothing written to %s", ErrNotService, p, c.Server, file)
		}
		// Under the name asked for, which the program looks its ticket up
		// by, whatever name the KDC answered with (canonicalization).
		c.Server = p
		out.Credentials = append(out.Credentials, c)
	}
	b, err := out.Marshal()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	if force {
		err = atomicfile.WriteFile(file, b, 0o600)
	} else {
		err = createNew(file, b)
	}
	if errors.Is(err, os.ErrExist) {
		return nil, existsError(file)
	}
	if err != nil {
		return nil, fmt.Errorf("tickets: write %s: %w", file, err)
	}
	l := Describe(out, s.now())
	l.Name, l.Path = "FILE:"+file, file
	return l, nil
}

// exportPath is the file of Export's path: a path or FILE:path.
func exportPath(path string) (string, error) {
	if path == "" {
		return "", errors.New("tickets: export needs the file to write, e.g. /tmp/krb5cc_app")
	}
	name, err := config.ParseCCacheName(path)
	if err != nil {
		return "", fmt.Errorf("tickets: %w", err)
	}
	if name.Type != "FILE" || name.Residual == "" {
		return "", fmt.Errorf("tickets: export writes a FILE cache, for programs that read no other kind: name a file (FILE:/tmp/krb5cc_app or a path), not %s", path)
	}
	return name.Residual, nil
}

func existsError(file string) error {
	return fmt.Errorf("tickets: %s already exists: name a new file, or replace it with --force (%w)", file, os.ErrExist)
}

// checkTarget refuses, before any ticket is asked for, a file that exists
// (unless force) and a folder.
func checkTarget(file string, force bool) error {
	fi, err := os.Lstat(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("tickets: %w", err)
	case fi.IsDir():
		return fmt.Errorf("tickets: %s is a folder: name a file in it, e.g. %s", file, filepath.Join(file, "krb5cc_app"))
	case !force:
		return existsError(file)
	}
	return nil
}

// createNew writes b into a new file at path with mode 0600, whole or not
// at all: a temporary file beside it is written and synced, then linked to
// path, which link(2) never replaces (an error matching os.ErrExist when
// path exists). On a file system without hard links it creates path
// exclusively and writes it.
func createNew(path string, b []byte) error {
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), path); err != nil {
		var le *os.LinkError
		if errors.Is(err, os.ErrExist) || !errors.As(err, &le) {
			return err
		}
		f.Abort()
		return atomicfile.WriteNew(path, b, 0o600)
	}
	f.Abort() // removes the temporary name only
	return atomicfile.SyncDir(filepath.Dir(path))
}
