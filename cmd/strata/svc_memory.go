package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseMemory shrinks an idle supervisor: the heap goes back to the
// kernel, and the pages of strata's own code and read-only data that
// starting the run faulted in are unmapped from this process. Those are
// file pages: they stay in the page cache for every other strata, and
// fault back in (minor faults) if the supervisor needs them again, on a
// restart or a stop. What an idle supervisor keeps is its wait, its log
// pipes and their goroutines.
func releaseMemory() {
	debug.FreeOSMemory()
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	for _, r := range cleanFileMappings(self) {
		// A raw call: these pages are not Go memory to make a slice of.
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

// cleanFileMappings lists the read-only mappings of file that hold no
// private (written) page, from /proc/self/smaps. Only those may be
// dropped: a written page of a private mapping, such as a dynamically
// linked build's relocated GOT behind RELRO (r--p once relocated),
// would come back as the file's unrelocated bytes.
func cleanFileMappings(file string) [][2]uintptr {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][2]uintptr
	var cur [2]uintptr
	candidate := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: start-end perms offset dev inode [path]
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			perms := fields[1]
			candidate = err1 == nil && err2 == nil && len(fields) == 6 && fields[5] == file &&
				(perms == "r-xp" || perms == "r--p")
			cur = [2]uintptr{uintptr(start), uintptr(end)}
			continue
		}
		if candidate && fields[0] == "Anonymous:" {
			if len(fields) >= 2 && fields[1] == "0" {
				out = append(out, cur)
			}
			candidate = false
		}
	}
	return out
}
