//go:build !linux

package bolt

import "os"

// statFile on systems other than Linux uses the portable fields only
// (without device, inode and change time, a file replaced by an older copy
// of the same size and times would go unnoticed; hop runs on Linux).
func statFile(path string) (fileStat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{size: fi.Size(), mtime: fi.ModTime(), ctime: fi.ModTime()}, nil
}
