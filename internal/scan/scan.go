// Package scan looks for secrets where they must not be: in a process's
// memory and in files. hop lab and the second-hop tests use it to check
// what credential material reached a host, rather than assume it.
package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memChunk is how much of a mapping Memory reads at once.
const memChunk = 1 << 20

// maxMapping is the largest mapping Memory reads.
const maxMapping = 1 << 30

// Memory reads the memory of process pid, every readable private or
// anonymous mapping up to maxMapping (heap, stack, data, anonymous
// arenas), and returns the indexes of the needles it holds and how many
// bytes it read. Reading another process's memory needs root, or the
// process being a child of this one (ptrace access).
func Memory(pid int, needles [][]byte) (found []int, scanned int64, err error) {
	return memory(pid, memChunk, needles)
}

// memory is Memory reading chunk bytes at a time.
func memory(pid, chunk int, needles [][]byte) (found []int, scanned int64, err error) {
	longest := 0
	for _, n := range needles {
		if len(n) == 0 {
			return nil, 0, errors.New("scan: an empty needle")
		}
		longest = max(longest, len(n))
	}
	maps, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, 0, fmt.Errorf("scan: %w", err)
	}
	defer maps.Close()
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, 0, fmt.Errorf("scan: %w", err)
	}
	defer mem.Close()
	seen := make([]bool, len(needles))
	// A needle may straddle two chunks: each read starts longest-1 bytes
	// before the end of the previous one.
	buf := make([]byte, chunk+longest-1)
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		perms, inode := f[1], f[4]
		path := ""
		if len(f) >= 6 {
			path = f[5]
		}
		if len(perms) < 4 || perms[0] != 'r' || (perms[3] != 'p' && inode != "0") || path == "[vvar]" || path == "[vsyscall]" || path == "[vvar_vclock]" {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start || end-start > maxMapping {
			continue
		}
		carry := 0
		for off := start; off < end; {
			n := min(uint64(chunk), end-off)
			m, err := mem.ReadAt(buf[carry:carry+int(n)], int64(off))
			scanned += int64(m)
			window := buf[:carry+m]
			for i, nd := range needles {
				if !seen[i] && bytes.Contains(window, nd) {
					seen[i] = true
				}
			}
			if err != nil && !errors.Is(err, io.EOF) || m < int(n) {
				break // unreadable from here on
			}
			off += n
			carry = min(longest-1, len(window))
			copy(buf, window[len(window)-carry:])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, scanned, fmt.Errorf("scan: %w", err)
	}
	for i, s := range seen {
		if s {
			found = append(found, i)
		}
	}
	return found, scanned, nil
}

// Hit is a needle found in a file.
type Hit struct {
	Needle int    // its index in the needles
	Path   string // the file
}

// maxFile is the largest file Files reads.
const maxFile = 64 << 20

// Files walks the folders dirs recursively (symbolic links are not
// followed), reads every regular file up to maxFile and reports which
// needles each holds, and how many files it read. Files that cannot be
// read (gone meanwhile, no permission) are skipped; a folder of dirs that
// cannot be read is an error.
func Files(needles [][]byte, dirs ...string) (hits []Hit, files int, err error) {
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == dir {
					return err
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil || fi.Size() > maxFile {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			files++
			for i, n := range needles {
				if bytes.Contains(b, n) {
					hits = append(hits, Hit{i, p})
				}
			}
			return nil
		})
		if err != nil {
			return hits, files, fmt.Errorf("scan: %w", err)
		}
	}
	return hits, files, nil
}
