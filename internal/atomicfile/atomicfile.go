// Package atomicfile writes files so that a reader sees either the old
// content or the whole new content, never a part: a temporary file in the
// same folder, written, synced, renamed over the target, and the folder
// synced so the rename survives a crash. It is hop's one owner of that
// sequence (credential caches, keytabs, backups, certificates, state files).
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is a temporary file that replaces its target on Commit. Write to it
// (it is an *os.File: Seek and read back work), then Commit or Abort; Abort
// after Commit does nothing, so "defer f.Abort()" is the idiom.
type File struct {
	*os.File
	path string // the target
	done bool
}

// Create starts the replacement of path: a new temporary file beside it,
// with mode perm (not masked by the umask).
func Create(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, fmt.Errorf("atomicfile: %q names no file", path)
	}
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Commit syncs the temporary file, closes it, renames it over the target
// and syncs the folder. On error the temporary file is removed and the
// target is as it was.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	tmp := f.Name()
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort closes and removes the temporary file, leaving the target as it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile replaces path with data, atomically and durably, with mode perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// WriteNew creates path with data and mode perm, failing if it exists (an
// error that matches os.ErrExist), and syncs it. A failed write removes the
// part written.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir makes renames and creations in dir durable. A folder that cannot
// be opened cannot be synced; the files in it are in place, so that is not
// an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	return d.Sync()
}
