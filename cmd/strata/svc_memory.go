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
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != self {
			continue
		}
		// Only mappings never written: dropping a written private page
		// would bring back the file's contents.
		if perms := fields[1]; perms != "r-xp" && perms != "r--p" {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		// A raw call: these pages are not Go memory to make a slice of.
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
