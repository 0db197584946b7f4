// Package memlimit gives strata's processes a soft memory limit.
//
// Layer creation and unpack keep a fixed working set (frames in flight,
// file buffers: about 90 MB live at any layer size), but with Go's default
// GOGC=100 the heap grows to twice what is live before a collection, so
// a 10 GB import peaked at 177 MB RSS with 91 MB live. A soft limit makes
// the collector run before that: the same import peaks at 109 MB. It is
// soft: a command that truly needs more gets it, with the collector's CPU
// capped at half, and GOMEMLIMIT set in the environment wins.
package memlimit

import (
	"os"
	"runtime/debug"
)

// Default is the soft limit when GOMEMLIMIT is not set.
const Default = 128 << 20

// Apply sets Default unless the environment sets GOMEMLIMIT.
func Apply() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(Default)
	}
}
