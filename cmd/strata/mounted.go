package main

import (
	"github.com/strata-sh/strata/snapshot"
)

// isMountPoint reports whether something is mounted at dir: umount uses
// it to say "not mounted" instead of "Unmounted" a second time. When the
// kernel cannot tell, it says yes, and lets the unmount decide.
func isMountPoint(dir string) bool {
	_, ok, err := snapshot.Mounted(realPath(dir))
	return ok || err != nil
}
