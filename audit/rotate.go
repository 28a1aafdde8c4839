package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults of Options' bounds: a log that nobody rotates still cannot
// fill the disk.
const (
	DefaultMaxSize  = 100 << 20 // bytes of one file before it is rotated
	DefaultMaxFiles = 10        // rotated files kept (audit.log.1 … .10)
	DefaultMinFree  = 256 << 20 // free bytes below which the log raises an alarm
	// spaceCheckEvery spaces the free-space checks; spaceAlarmEvery the
	// alarms.
	spaceCheckEvery = 10 * time.Second
	spaceAlarmEvery = time.Hour
)

// TypeSpace is the type of the event that says the log's filesystem is
// nearly full.
const TypeSpace = "audit.space"

// rotateIfFull renames a log that reached the size bound out of the way
// (audit.log → audit.log.1, .1 → .2, …, the oldest beyond MaxFiles
// removed) and opens a new one, whose first line continues the chain
// (the head file keeps its end). The head lock is held, so that writers
// of other processes rotate once and follow.
func (a *File) rotateIfFull(size int64) error {
	if a.maxSize <= 0 || size < a.maxSize {
		return nil
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit: sync the log before rotating it: %w", err)
	}
	os.Remove(a.path + "." + strconv.Itoa(a.maxFiles))
	for i := a.maxFiles - 1; i >= 1; i-- {
		from := a.path + "." + strconv.Itoa(i)
		if err := os.Rename(from, a.path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("audit: rotate the log: %w", err)
		}
	}
	if err := os.Rename(a.path, a.path+".1"); err != nil {
		return fmt.Errorf("audit: rotate the log: %w", err)
	}
	a.logger.Info("audit log rotated", "file", a.path, "size", size, "kept", a.maxFiles)
	return a.currentLog()
}

// Rotated returns the rotated files of the log at path that exist, oldest
// first, then path itself: the order Verify wants.
func Rotated(path string) []string {
	var out []string
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		out = append([]string{p}, out...)
	}
	return append(out, path)
}

// checkSpace raises an alarm (an error log line and an audit.space event,
// at most every spaceAlarmEvery) when the log's filesystem has less than
// MinFree bytes free, so that the disk does not fill unnoticed. a.mu is
// held.
func (a *File) checkSpace(now time.Time) {
	if a.minFree <= 0 || now.Sub(a.spaceChecked) < spaceCheckEvery {
		return
	}
	a.spaceChecked = now
	free, err := a.statFree(filepath.Dir(a.path))
	if err != nil || free >= uint64(a.minFree) || now.Sub(a.spaceAlarm) < spaceAlarmEvery {
		return
	}
	a.spaceAlarm = now
	msg := fmt.Sprintf("the filesystem of %s has %d MiB free, less than %d MiB: make room before the audit log cannot be written (audit_max_size and audit_max_files bound the log itself)", a.path, free>>20, a.minFree>>20)
	a.logger.Error("audit log: "+msg, "file", a.path, "free", free)
	a.encode(Event{Time: now, Type: TypeSpace, Reason: msg, Flags: "free=" + strconv.FormatUint(free, 10)})
}

// statFree returns the bytes free for unprivileged writers on dir's
// filesystem.
func statFree(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
