package bolt

import (
	"os"
	"syscall"
	"time"
)

func statFile(path string) (fileStat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	st := fileStat{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino = uint64(sys.Dev), sys.Ino
		st.ctime = time.Unix(int64(sys.Ctim.Sec), int64(sys.Ctim.Nsec))
	}
	return st, nil
}
