package tickets

import (
	"context"
	"errors"
	"os"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/config"
)

// credCache is a credential cache hop reads and writes: a file (FILE, DIR)
// or a cache of a KCM server. A missing cache is an error wrapping
// os.ErrNotExist, whatever the kind.
type credCache interface {
	// load returns the cache's principal, time offset and credentials.
	load(ctx context.Context) (*ccache.Cache, error)
	// replace makes the cache hold c's principal, time offset and
	// credentials and nothing else, creating it, as kinit does.
	replace(ctx context.Context, c *ccache.Cache) error
	// store adds a credential.
	store(ctx context.Context, cred ccache.Credential) error
	// destroy removes the cache, as kdestroy does.
	destroy(ctx context.Context) error
	// retrieve asks the cache's server for a ticket it does not list, as
	// MIT's client does with KCM_OP_RETRIEVE before it looks for a TGT: a
	// hop session broker obtains it then. Nil, nil when there is none
	// (always, for a file).
	retrieve(ctx context.Context, client, server krb5.Principal) (*ccache.Credential, error)
	// whyNot explains, when the cache's server is a hop session broker,
	// why the session has no ticket for target; nil otherwise.
	whyNot(ctx context.Context, target krb5.Principal) error
}

// openCache is the credential cache in use, with its names.
type openCache struct {
	credCache
	shown string // as klist names it: FILE:path, DIR::path, KCM:name
	where string // as hop's messages name it: the file's path, or KCM:name
	path  string // the file; "" for a KCM cache
	close func()
}

// open resolves the credential cache in use (Name). For a login (create),
// a DIR collection's directory and primary file are created first, as
// MIT's library does when it resolves one. It returns the cache's name
// even when it fails after resolving it.
func (s *Source) open(ctx context.Context, create bool) (config.CCache, *openCache, error) {
	name, err := s.Name()
	if err != nil {
		return config.CCache{}, nil, err
	}
	if name.Type == "KCM" {
		c, err := s.openKCM(ctx, name)
		return name, c, err
	}
	if create {
		if err := prepareDir(name); err != nil {
			return name, nil, err
		}
	}
	path, err := s.Path()
	if err != nil {
		return name, nil, err
	}
	return name, &openCache{credCache: &fileCache{path: path}, shown: displayName(name, path), where: path, path: path, close: func() {}}, nil
}

// fileCache is a cache in a file in MIT's format (FILE, or a cache of a
// DIR collection).
type fileCache struct {
	path   string
	loaded *ccache.Cache // as load read it; store adds to it
}

func (f *fileCache) load(context.Context) (*ccache.Cache, error) {
	c, err := ccache.Load(f.path)
	if err != nil {
		return nil, err
	}
	f.loaded = c
	return c, nil
}

// replace writes c atomically with mode 0600.
func (f *fileCache) replace(_ context.Context, c *ccache.Cache) error { return c.Save(f.path) }

// store adds cred to the cache as load read it (replacing a credential
// for the same server) and rewrites the file.
func (f *fileCache) store(ctx context.Context, cred ccache.Credential) error {
	if f.loaded == nil {
		if _, err := f.load(ctx); err != nil {
			return err
		}
	}
	f.loaded.Add(cred)
	return f.loaded.Save(f.path)
}

// destroy unlinks the file, as MIT's kdestroy does.
func (f *fileCache) destroy(context.Context) error { return os.Remove(f.path) }

func (f *fileCache) retrieve(context.Context, krb5.Principal, krb5.Principal) (*ccache.Credential, error) {
	return nil, nil
}

func (f *fileCache) whyNot(context.Context, krb5.Principal) error { return nil }

// openLoaded opens the cache in use and loads it; a missing cache is a
// *TGTError with ErrNoCache. The caller closes the cache.
func (s *Source) openLoaded(ctx context.Context) (*openCache, *ccache.Cache, error) {
	_, cc, err := s.open(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	c, err := cc.load(ctx)
	if err != nil {
		cc.close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, &TGTError{Reason: ErrNoCache, Cache: cc.where}
		}
		return nil, nil, err
	}
	return cc, c, nil
}
