package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/snapshot"
)

// isMountPoint reports whether something is mounted at dir, from
// /proc/self/mountinfo: umount uses it to say "not mounted" instead of
// "Unmounted" a second time.
func isMountPoint(dir string) bool {
	dir = realPath(dir)
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return true // cannot tell: let Umount decide
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && filepath.Clean(snapshot.Unescape(fields[4])) == dir {
			return true
		}
	}
	return false
}
